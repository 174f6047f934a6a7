"""The line between two sides: suspension, restoration, and what gets through."""

from __future__ import annotations

import pytest

from skypact.errors import ConfigError, MessageStateError
from skypact.messaging.channel import (
    Channel,
    ChannelChange,
    ChannelState,
    Disposition,
    accepts,
    open_channel,
    restore,
    suspend,
)
from skypact.messaging.model import MessageKind

T0 = 1491523200.0  # 2017-04-07 00:00Z, the day the memorandum was suspended
SIDES = frozenset({"coalition", "russian-side"})


def line() -> Channel:
    return open_channel(channel_id="caoc-hmeimim", parties=SIDES, now_s=T0)


def suspended() -> Channel:
    return suspend(line(), "russian-side", "Shayrat strike", T0 + 3600.0)


class TestOpen:
    def test_a_new_channel_is_active(self):
        channel = line()
        assert channel.state is ChannelState.ACTIVE
        assert channel.history == (ChannelChange(at_s=T0, state=ChannelState.ACTIVE),)
        assert (channel.suspended_by, channel.reason) == (None, None)

    @pytest.mark.parametrize(
        ("changes", "field"),
        [
            ({"channel_id": " "}, "channel_id"),
            ({"parties": frozenset({"usa"})}, "parties"),
            ({"parties": frozenset({"usa", "rus", "syr"})}, "parties"),
            ({"parties": frozenset({"usa", ""})}, "parties"),
            ({"now_s": float("inf")}, "now_s"),
        ],
    )
    def test_refused(self, changes, field):
        fields = {"channel_id": "c", "parties": SIDES, "now_s": T0}
        with pytest.raises(ConfigError) as info:
            open_channel(**(fields | changes))
        assert info.value.name == field


class TestSuspend:
    def test_who_and_why_are_recorded(self):
        channel = suspended()
        assert channel.state is ChannelState.SUSPENDED
        assert (channel.suspended_by, channel.reason) == (
            "russian-side",
            "Shayrat strike",
        )
        assert channel.since_s == T0 + 3600.0
        assert channel.history[-1] == ChannelChange(
            at_s=T0 + 3600.0,
            state=ChannelState.SUSPENDED,
            party="russian-side",
            reason="Shayrat strike",
        )

    def test_a_suspension_says_why(self):
        with pytest.raises(ConfigError, match="says why"):
            suspend(line(), "coalition", "  ", T0 + 1.0)

    def test_one_suspension_at_a_time(self):
        with pytest.raises(MessageStateError, match="already") as info:
            suspend(suspended(), "coalition", "in return", T0 + 7200.0)
        assert (info.value.message_id, info.value.state, info.value.action) == (
            "caoc-hmeimim",
            "suspended",
            "suspend",
        )

    def test_only_a_side_may_act(self):
        with pytest.raises(MessageStateError, match="'usa' is not a side"):
            suspend(line(), "usa", "no reason", T0 + 1.0)

    def test_time_may_not_run_backwards(self):
        with pytest.raises(ConfigError, match="now_s"):
            suspend(line(), "coalition", "test", T0 - 1.0)
        with pytest.raises(ConfigError, match="now_s"):
            restore(suspended(), "russian-side", T0)


class TestRestore:
    def test_the_suspending_side_restores_and_history_is_kept(self):
        channel = restore(suspended(), "russian-side", T0 + 86400.0)
        assert channel.state is ChannelState.RESTORED
        assert (channel.suspended_by, channel.reason) == (None, None)
        assert [c.state for c in channel.history] == [
            ChannelState.ACTIVE,
            ChannelState.SUSPENDED,
            ChannelState.RESTORED,
        ]
        assert channel.history[-1].party == "russian-side"
        # Restored is active again: it can be suspended anew, by either side.
        again = suspend(channel, "coalition", "exercise", T0 + 90000.0)
        assert again.suspended_by == "coalition"
        assert len(again.history) == 4

    def test_the_other_side_cannot_restore(self):
        with pytest.raises(MessageStateError, match="only 'russian-side'"):
            restore(suspended(), "coalition", T0 + 7200.0)

    @pytest.mark.parametrize(
        "channel",
        [line(), restore(suspended(), "russian-side", T0 + 7200.0)],
        ids=["active", "restored"],
    )
    def test_only_a_suspended_channel_is_restored(self, channel):
        with pytest.raises(MessageStateError, match="not suspended"):
            restore(channel, "coalition", T0 + 9000.0)

    def test_only_a_side_may_restore(self):
        with pytest.raises(MessageStateError, match="not a side"):
            restore(suspended(), "rus", T0 + 7200.0)


class TestAccepts:
    @pytest.mark.parametrize("kind", list(MessageKind))
    def test_an_open_channel_delivers_everything(self, kind):
        assert accepts(line(), kind) is Disposition.DELIVERED
        restored = restore(suspended(), "russian-side", T0 + 7200.0)
        assert accepts(restored, kind) is Disposition.DELIVERED

    @pytest.mark.parametrize(
        ("kind", "disposition"),
        [
            (MessageKind.ALERT_NOTICE, Disposition.DELIVERED),
            (MessageKind.ZONE_ENTRY_NOTICE, Disposition.DELIVERED),
            (MessageKind.LINK_TEST, Disposition.REFUSED),
            (MessageKind.FREE_TEXT, Disposition.RECORDED_UNDELIVERED),
            (MessageKind.NOTIFICATION, Disposition.RECORDED_UNDELIVERED),
            (MessageKind.IDENTIFICATION_QUERY, Disposition.RECORDED_UNDELIVERED),
            (MessageKind.IDENTIFICATION_ANSWER, Disposition.RECORDED_UNDELIVERED),
        ],
    )
    def test_a_suspended_channel_keeps_recording(self, kind, disposition):
        assert accepts(suspended(), kind) is disposition

    def test_wire_names(self):
        assert [str(d) for d in Disposition] == [
            "delivered",
            "recorded-undelivered",
            "refused",
        ]
        assert accepts(suspended(), "alert-notice") is Disposition.DELIVERED  # type: ignore[arg-type]
