"""Who may do what: the role policy table, can() and require()."""

from __future__ import annotations

import doctest

import pytest

from skypact.errors import AccessDeniedError
from skypact.parties import access
from skypact.parties.access import POLICY, can, permitted_actions, require
from skypact.parties.model import Action, Principal, Role

Y, N = True, False
# The table in skypact.parties.access's docstring, written out independently:
#                       duty  cmdr  analyst  auditor
EXPECTED = {
    Action.REPORT:          (Y, Y, N, N),
    Action.READ_PICTURE:    (Y, Y, Y, N),
    Action.READ_ALERTS:     (Y, Y, Y, N),
    Action.ACK_ALERT:       (Y, Y, N, N),
    Action.READ_MESSAGES:   (Y, Y, Y, N),
    Action.SEND_MESSAGE:    (Y, Y, N, N),
    Action.ACK_MESSAGE:     (Y, Y, N, N),
    Action.SUSPEND_CHANNEL: (N, Y, N, N),
    Action.RESTORE_CHANNEL: (N, Y, N, N),
    Action.VERIFY_AUDIT:    (N, N, N, Y),
    Action.READ_AUDIT:      (N, N, N, Y),
    Action.EXPORT:          (Y, Y, Y, N),
}  # fmt: skip
ROLES = (Role.DUTY_OFFICER, Role.COMMANDER, Role.ANALYST, Role.AUDITOR)


def test_every_action_of_the_brief_exists_with_its_wire_name():
    assert {a.value for a in Action} == {
        "report", "read-picture", "read-alerts", "ack-alert", "read-messages",
        "send-message", "ack-message", "suspend-channel", "restore-channel",
        "verify-audit", "read-audit", "export",
    }  # fmt: skip
    assert [r.value for r in Role] == [
        "duty-officer",
        "commander",
        "analyst",
        "auditor",
    ]
    assert set(EXPECTED) == set(Action)


@pytest.mark.parametrize("action", list(Action))
@pytest.mark.parametrize("role", ROLES)
def test_can_follows_the_policy_table(role, action):
    principal = Principal("usa", role, "tok-1")
    assert can(principal, action) is EXPECTED[action][ROLES.index(role)]


class TestRolesInAnOperationsCentre:
    def test_suspending_or_restoring_a_channel_is_the_commanders_alone(self):
        for action in (Action.SUSPEND_CHANNEL, Action.RESTORE_CHANNEL):
            allowed = {role for role in Role if can(Principal("rus", role), action)}
            assert allowed == {Role.COMMANDER}

    def test_commander_can_do_everything_the_duty_officer_can(self):
        assert permitted_actions(Role.DUTY_OFFICER) < permitted_actions(Role.COMMANDER)

    def test_analyst_only_reads_and_exports(self):
        assert permitted_actions(Role.ANALYST) == {
            Action.READ_PICTURE, Action.READ_ALERTS, Action.READ_MESSAGES,
            Action.EXPORT,
        }  # fmt: skip

    def test_auditor_sees_the_audit_chain_but_not_the_picture(self):
        auditor = Principal("gbr", Role.AUDITOR)
        assert can(auditor, Action.READ_AUDIT)
        assert can(auditor, Action.VERIFY_AUDIT)
        assert not can(auditor, Action.READ_PICTURE)
        assert not can(auditor, Action.READ_ALERTS)

    def test_the_table_cannot_be_changed_at_run_time(self):
        with pytest.raises(TypeError):
            POLICY[Role.ANALYST] = frozenset(Action)  # type: ignore[index]

    def test_roles_and_actions_come_from_their_wire_names(self):
        principal = Principal("usa", Role("analyst"))
        assert can(principal, Action("read-picture"))
        with pytest.raises(ValueError, match="pilot"):
            Role("pilot")


class TestRequire:
    def test_permitted_action_passes(self):
        require(Principal("usa", Role.DUTY_OFFICER), Action.ACK_ALERT, "alert a-1")

    def test_refusal_names_party_action_and_resource_but_not_the_token(self):
        analyst = Principal("usa", Role.ANALYST, "secret-token-id-42")
        with pytest.raises(AccessDeniedError) as caught:
            require(analyst, Action.SEND_MESSAGE, "channel hmeimim")
        error = caught.value
        assert (error.party_id, error.action, error.resource) == (
            "usa",
            "send-message",
            "channel hmeimim",
        )
        assert "analyst" in str(error)
        assert "secret-token-id-42" not in str(error)

    def test_duty_officer_cannot_suspend_the_line(self):
        with pytest.raises(AccessDeniedError, match="suspend-channel"):
            require(Principal("rus", Role.DUTY_OFFICER), Action.SUSPEND_CHANNEL, "line")


class TestPrincipal:
    def test_fields_by_position_or_keyword(self):
        assert Principal("usa", Role.COMMANDER, "t") == Principal(
            party="usa", role=Role.COMMANDER, token_id="t"
        )
        assert Principal("usa", Role.COMMANDER).token_id is None

    def test_is_immutable(self):
        principal = Principal("usa", Role.COMMANDER)
        with pytest.raises(AttributeError):
            principal.party = "rus"  # type: ignore[misc]

    def test_needs_a_party(self):
        with pytest.raises(ValueError, match="party"):
            Principal("", Role.ANALYST)

    def test_role_must_be_a_role(self):
        with pytest.raises(TypeError, match="Role"):
            Principal("usa", "admin")  # type: ignore[arg-type]


def test_documented_examples_hold():
    result = doctest.testmod(access)
    assert result.attempted > 0
    assert result.failed == 0
