"""The repository's contract, on a real SQLite file and a real PostgreSQL database."""

from __future__ import annotations

import hashlib
import json
import math

import numpy as np
import pandas as pd
import pytest
import sqlalchemy as sa

from skypact.alerting.lifecycle import Alert, AlertEvent, AlertEventKind, AlertState
from skypact.errors import (
    AuthenticationError,
    ConflictingWriteError,
    InvalidStateError,
    MissingColumnError,
    NotFoundError,
    StorageError,
)
from skypact.parties.model import Principal, Role
from skypact.storage import (
    REPORT_COLUMNS,
    TRACK_HISTORY_COLUMNS,
    AlertEventRow,
    AlertRow,
    ChannelRow,
    MessageEventRow,
    MessageRow,
    TrackPoint,
)
from skypact.storage.schema import metadata

T0_S = 1_700_000_000.0


def audit_kinds(repo) -> list[str]:
    return [record.kind for record in repo.audit_records()]


def audit_payloads(repo, kind: str) -> list[dict]:
    return [json.loads(r.payload) for r in repo.audit_records() if r.kind == kind]


# --------------------------------------------------------------------------- tokens


class TestTokens:
    def test_a_token_authenticates_as_its_party_and_role(self, repo):
        issued = repo.create_token("usa", Role.DUTY_OFFICER, label="ops desk")
        principal = repo.authenticate(issued.token, now_s=T0_S)
        assert principal == Principal("usa", Role.DUTY_OFFICER, issued.token_id)
        assert issued.token == f"{issued.token_id}.{issued.secret}"
        assert issued.secret not in repr(issued)

    def test_roles_may_be_given_as_text(self, repo):
        issued = repo.create_token("rus", "auditor")
        assert repo.authenticate(issued.token, now_s=T0_S).role is Role.AUDITOR

    def test_unknown_roles_and_empty_parties_are_refused(self, repo):
        with pytest.raises(ValueError, match="pilot"):
            repo.create_token("usa", "pilot")
        with pytest.raises(ValueError, match="party is empty"):
            repo.create_token("", Role.ANALYST)
        assert repo.tokens() == []
        assert repo.audit_head() is None

    def test_listing_shows_no_secret(self, repo):
        issued = repo.create_token("usa", Role.ANALYST, label="a", expires_at_s=T0_S)
        repo.create_token("rus", Role.COMMANDER, label="b")
        (info,) = repo.tokens("usa")
        assert info.token_id == issued.token_id
        assert (info.party, info.role, info.label) == ("usa", Role.ANALYST, "a")
        assert info.expires_at_s == T0_S
        assert info.revoked_at_s is None
        assert [t.party for t in repo.tokens()] == ["usa", "rus"]

    def test_expired(self, repo):
        issued = repo.create_token("usa", Role.ANALYST, expires_at_s=T0_S + 60.0)
        assert repo.authenticate(issued.token, now_s=T0_S + 59.9).party == "usa"
        with pytest.raises(AuthenticationError) as caught:
            repo.authenticate(issued.token, now_s=T0_S + 60.0)
        assert caught.value.reason == "expired"

    def test_revoked(self, repo):
        issued = repo.create_token("usa", Role.ANALYST)
        repo.revoke_token(issued.token_id, at_s=T0_S + 5.0)
        with pytest.raises(AuthenticationError) as caught:
            repo.authenticate(issued.token, now_s=T0_S)
        assert caught.value.reason == "revoked"
        assert repo.tokens()[0].revoked_at_s == T0_S + 5.0

    def test_revoking_again_changes_nothing(self, repo):
        issued = repo.create_token("usa", Role.ANALYST)
        repo.revoke_token(issued.token_id)
        head = repo.audit_head()
        repo.revoke_token(issued.token_id, at_s=T0_S + 99.0)
        assert repo.audit_head() == head
        assert repo.tokens()[0].revoked_at_s != T0_S + 99.0

    def test_revoking_an_unknown_token(self, repo):
        with pytest.raises(NotFoundError) as caught:
            repo.revoke_token("0123456789abcdef")
        assert (caught.value.kind, caught.value.key) == ("token", "0123456789abcdef")

    def test_unknown_token_and_wrong_secret_look_the_same(self, repo):
        issued = repo.create_token("usa", Role.ANALYST)
        other_secret = "A" * 43
        for token in (
            f"0123456789abcdef.{issued.secret}",
            f"{issued.token_id}.{other_secret}",
        ):
            with pytest.raises(AuthenticationError) as caught:
                repo.authenticate(token, now_s=T0_S)
            assert caught.value.reason == "unknown"
            assert issued.secret not in str(caught.value)

    @pytest.mark.parametrize(
        ("token", "reason"),
        [
            (None, "missing"),
            ("", "missing"),
            ("no-dot-at-all", "malformed"),
            ("0123456789abcdef.", "malformed"),
            (".AAAAAAAAAAAAAAAAAAAAAAAAA", "malformed"),
            ("0123456789ABCDEF.AAAAAAAAAAAAAAAAAAAAAAAAA", "malformed"),
            ("0123456789abcdef.short", "malformed"),
            ("0123456789abcdef.AAAAAAAAAAAAAAAA AAAAAAAA", "malformed"),
            ("0123456789abcdef.AAAAAAAAAAAAAAAAAAAAAAAAA.extra", "malformed"),
        ],
    )
    def test_missing_and_malformed(self, repo, token, reason):
        with pytest.raises(AuthenticationError) as caught:
            repo.authenticate(token, now_s=T0_S)
        assert caught.value.reason == reason

    def test_the_secret_is_stored_nowhere(self, repo):
        issued = repo.create_token("usa", Role.COMMANDER, label="watch")
        repo.revoke_token(issued.token_id)
        needles = [issued.secret, issued.secret[:20], issued.token]
        found = []
        with repo.engine.connect() as connection:
            for table in metadata.sorted_tables:
                text_columns = [
                    column
                    for column in table.columns
                    if isinstance(column.type, sa.Text | sa.LargeBinary)
                ]
                for row in connection.execute(sa.select(*text_columns)):
                    for column, value in zip(text_columns, row, strict=True):
                        text = (
                            value.decode("latin-1")
                            if isinstance(value, bytes)
                            else value
                        )
                        if text and any(needle in text for needle in needles):
                            found.append(f"{table.name}.{column.name}")
        assert found == []
        digest = hashlib.sha256(issued.secret.encode()).hexdigest()
        assert all(digest not in r.payload for r in repo.audit_records())

    def test_creation_and_revocation_are_audited(self, repo):
        issued = repo.create_token("usa", Role.ANALYST, actor="admin")
        repo.revoke_token(issued.token_id, actor="admin")
        records = list(repo.audit_records())
        assert [(r.kind, r.actor) for r in records] == [
            ("token-created", "admin"),
            ("token-revoked", "admin"),
        ]
        assert json.loads(records[0].payload)["token_id"] == issued.token_id


# -------------------------------------------------------------------------- reports


def report(k: int, **overrides: object) -> dict[str, object]:
    row: dict[str, object] = {
        "timestamp": T0_S + k,
        "icao24": f"a{k % 3:05x}",
        "latitude": 48.0 + k * 1e-3,
        "longitude": 2.0 + k * 1e-3,
        "altitude": 30000.0 + k,
        "groundspeed": 450.0,
        "track": 90.0,
        "vertical_rate": 0.0,
        "callsign": f"AF{k:03d}",
        "squawk": "1234",
        "source": "adsb",
        "accepted": True,
        "reason": None,
    }
    row.update(overrides)
    return row


class TestReportBatches:
    def test_every_row_is_stored_in_order(self, repo):
        rows = [report(k) for k in range(10)]
        rows[3] = report(3, accepted=False, reason="position jump")
        rows[7] = report(7, accepted=False, reason="time backwards", latitude=None)
        rows[8] = report(8, accepted=False, reason="position jump")
        receipt = repo.store_report_batch("usa", "batch-1", T0_S + 20.0, rows)
        assert receipt.rows == 10
        assert receipt.accepted == 7
        assert receipt.rejected == {"position jump": 2, "time backwards": 1}
        stored = repo.reports()
        assert list(stored.columns) == list(REPORT_COLUMNS)
        assert stored["timestamp_s"].tolist() == [T0_S + k for k in range(10)]
        assert stored["callsign"].tolist() == [f"AF{k:03d}" for k in range(10)]
        assert set(stored["batch_id"]) == {receipt.batch_id}
        assert set(stored["party"]) == {"usa"}
        assert stored["accepted"].tolist() == [k not in (3, 7, 8) for k in range(10)]
        assert math.isnan(stored["latitude"][7])
        assert stored["altitude_ft"][9] == 30009.0
        assert stored["reason"][3] == "position jump"
        assert pd.isna(stored["reason"][0])

    def test_values_round_trip_exactly(self, repo):
        rng = np.random.default_rng(7)
        rows = [
            report(
                k,
                latitude=float(rng.uniform(-90, 90)),
                track=float(rng.uniform(0, 360)),
            )
            for k in range(50)
        ]
        repo.store_report_batch("usa", "b", T0_S, rows)
        stored = repo.reports()
        assert stored["latitude"].tolist() == [r["latitude"] for r in rows]
        assert stored["track_deg"].tolist() == [r["track"] for r in rows]

    def test_a_replayed_batch_is_refused_and_changes_nothing(self, repo):
        repo.store_report_batch("usa", "batch-1", T0_S, [report(0), report(1)])
        head = repo.audit_head()
        with pytest.raises(ConflictingWriteError, match="batch-1"):
            repo.store_report_batch("usa", "batch-1", T0_S + 1.0, [report(2)])
        assert repo.count_reports() == 2
        assert repo.audit_head() == head

    def test_client_batch_ids_are_per_party(self, repo):
        repo.store_report_batch("usa", "batch-1", T0_S, [report(0)])
        repo.store_report_batch("rus", "batch-1", T0_S, [report(1), report(2)])
        assert repo.count_reports() == 3
        assert repo.count_reports("usa") == 1
        assert repo.count_reports("rus") == 2
        assert repo.reports(party="rus")["timestamp_s"].tolist() == [T0_S + 1, T0_S + 2]

    def test_reports_since(self, repo):
        repo.store_report_batch("usa", "b", T0_S, [report(k) for k in range(5)])
        assert repo.reports(since_s=T0_S + 3)["timestamp_s"].tolist() == [
            T0_S + 3,
            T0_S + 4,
        ]

    def test_one_audit_record_per_batch_with_the_rows_hash(self, repo):
        receipt = repo.store_report_batch(
            "usa",
            "b-7",
            T0_S + 9.0,
            [report(0), report(1, accepted=False)],
            actor="usa/x",
        )
        (record,) = repo.audit_records()
        assert (record.kind, record.actor) == ("reports", "usa/x")
        payload = json.loads(record.payload)
        assert payload == {
            "batch_id": receipt.batch_id,
            "party": "usa",
            "client_batch_id": "b-7",
            "received_at_s": T0_S + 9.0,
            "rows": 2,
            "accepted": 1,
            "rejected": {"unspecified": 1},
            "sha256": repo.report_batch_sha256(receipt.batch_id),
        }

    def test_the_rows_hash_is_of_the_stored_rows(self, repo, engine):
        receipt = repo.store_report_batch(
            "usa", "b", T0_S, [report(k) for k in range(4)]
        )
        before = repo.report_batch_sha256(receipt.batch_id)
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "UPDATE reports SET altitude_ft = altitude_ft + 100 WHERE id = "
                "(SELECT MIN(id) FROM reports)"
            )
        assert repo.report_batch_sha256(receipt.batch_id) != before

    def test_the_rows_hash_of_an_unknown_batch(self, repo):
        with pytest.raises(NotFoundError):
            repo.report_batch_sha256("nope")

    def test_a_dataframe_with_utc_datetimes(self, repo):
        frame = pd.DataFrame([report(k) for k in range(3)])
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s", utc=True)
        frame = frame.drop(columns=["accepted", "reason", "squawk"])
        receipt = repo.store_report_batch("usa", "df", T0_S, frame)
        assert receipt.accepted == 3
        stored = repo.reports()
        assert stored["timestamp_s"].tolist() == [T0_S, T0_S + 1, T0_S + 2]
        assert stored["accepted"].all()
        assert stored["squawk"].isna().all()

    def test_naive_datetimes_are_refused(self, repo):
        frame = pd.DataFrame([report(0)])
        frame["timestamp"] = pd.to_datetime(frame["timestamp"], unit="s")
        with pytest.raises(TypeError, match="timezone-aware"):
            repo.store_report_batch("usa", "naive", T0_S, frame)

    def test_accepted_missing_means_accepted(self, repo):
        rows = [report(0, accepted=None), report(1, accepted=False, reason="x")]
        assert repo.store_report_batch("usa", "b", T0_S, rows).accepted == 1

    def test_an_empty_batch(self, repo):
        receipt = repo.store_report_batch("usa", "empty", T0_S, [])
        assert (receipt.rows, receipt.accepted, receipt.rejected) == (0, 0, {})
        assert repo.count_reports() == 0
        assert audit_kinds(repo) == ["reports"]
        assert len(repo.reports()) == 0

    def test_required_columns_and_values(self, repo):
        with pytest.raises(MissingColumnError, match="icao24"):
            repo.store_report_batch("usa", "b", T0_S, [{"timestamp": T0_S}])
        with pytest.raises(InvalidStateError, match="timestamp"):
            repo.store_report_batch(
                "usa", "b", T0_S, [report(0), report(1, timestamp=None)]
            )
        with pytest.raises(ValueError, match="client batch id"):
            repo.store_report_batch("usa", "", T0_S, [report(0)])
        assert repo.count_reports() == 0
        assert repo.audit_head() is None


# -------------------------------------------------------------------- track history


class TestTrackHistory:
    def test_points_are_stored_and_read_back(self, repo):
        repo.store_track_history(
            [
                TrackPoint(
                    party="usa", icao24="a1", t_s=T0_S + 1, latitude=48.0, longitude=2.0
                ),
                TrackPoint(
                    party="usa",
                    icao24="a1",
                    t_s=T0_S,
                    latitude=47.9,
                    longitude=2.0,
                    altitude_ft=30000.0,
                    groundspeed_kt=450.0,
                    track_deg=10.0,
                    vertical_rate_fpm=-500.0,
                ),
                TrackPoint(
                    party="rus", icao24="b2", t_s=T0_S, latitude=50.0, longitude=3.0
                ),
            ]
        )
        history = repo.track_history()
        assert list(history.columns) == list(TRACK_HISTORY_COLUMNS)
        assert history[["party", "icao24", "t_s"]].values.tolist() == [
            ["rus", "b2", T0_S],
            ["usa", "a1", T0_S],
            ["usa", "a1", T0_S + 1],
        ]
        assert history["vertical_rate_fpm"][1] == -500.0
        assert math.isnan(history["altitude_ft"][0])
        assert (
            len(repo.track_history(party="usa", icao24="a1", since_s=T0_S + 0.5)) == 1
        )

    def test_a_state_already_stored_is_kept(self, repo):
        point = TrackPoint(
            party="usa", icao24="a1", t_s=T0_S, latitude=48.0, longitude=2.0
        )
        repo.store_track_history([point])
        repo.store_track_history(
            [
                TrackPoint(
                    party="usa", icao24="a1", t_s=T0_S, latitude=1.0, longitude=1.0
                ),
                TrackPoint(
                    party="usa", icao24="a1", t_s=T0_S + 4, latitude=1.0, longitude=1.0
                ),
            ]
        )
        history = repo.track_history()
        assert history["latitude"].tolist() == [48.0, 1.0]

    def test_a_dataframe(self, repo):
        frame = pd.DataFrame(
            {
                "party": ["usa", "usa"],
                "icao24": ["a1", "a1"],
                "t_s": [T0_S, T0_S + 1],
                "latitude": [48.0, 48.1],
                "longitude": [2.0, 2.1],
                "altitude_ft": [30000.0, np.nan],
            }
        )
        repo.store_track_history(frame)
        history = repo.track_history()
        assert history["latitude"].tolist() == [48.0, 48.1]
        assert math.isnan(history["altitude_ft"][1])
        assert history["groundspeed_kt"].isna().all()
        with pytest.raises(MissingColumnError, match="longitude"):
            repo.store_track_history(frame.drop(columns=["longitude"]))

    def test_nothing_to_store(self, repo):
        repo.store_track_history([])
        assert len(repo.track_history()) == 0

    def test_history_is_not_audited(self, repo):
        repo.store_track_history(
            [
                TrackPoint(
                    party="usa", icao24="a1", t_s=T0_S, latitude=48.0, longitude=2.0
                )
            ]
        )
        assert repo.audit_head() is None


# --------------------------------------------------------------------------- alerts


def alert_row(state: str = "active", level: int = 1, **overrides: object) -> AlertRow:
    values: dict[str, object] = {
        "alert_id": "al-1",
        "aircraft_a": "a00001",
        "aircraft_b": "b00002",
        "parties": frozenset({"usa", "rus"}),
        "state": state,
        "level": level,
        "highest_level": level,
        "raised_at_s": T0_S,
        "ended_at_s": None,
        "updated_at_s": T0_S,
    }
    values.update(overrides)
    return AlertRow(**values)  # type: ignore[arg-type]


class TestAlerts:
    def test_an_alert_and_its_events(self, repo):
        raised = AlertEventRow(alert_id="al-1", kind="raised", at_s=T0_S, level=1)
        repo.upsert_alert(alert_row(), [raised])
        up = AlertEventRow(alert_id="al-1", kind="level-up", at_s=T0_S + 10, level=2)
        repo.upsert_alert(alert_row(level=2, updated_at_s=T0_S + 10), [up])
        stored = repo.alert("al-1")
        assert stored == alert_row(level=2, updated_at_s=T0_S + 10)
        assert repo.alert_events("al-1") == [raised, up]
        payloads = audit_payloads(repo, "alert")
        assert [p["event"] for p in payloads] == ["raised", "level-up"]
        assert payloads[1]["parties"] == ["rus", "usa"]
        assert payloads[1]["aircraft"] == ["a00001", "b00002"]

    def test_an_upsert_without_events_is_not_audited(self, repo):
        repo.upsert_alert(alert_row(state="pending", level=0, raised_at_s=None))
        assert repo.alert("al-1").state == "pending"
        assert repo.alert("al-1").raised_at_s is None
        assert repo.audit_head() is None

    def test_events_of_another_alert_are_refused(self, repo):
        other = AlertEventRow(alert_id="al-2", kind="raised", at_s=T0_S, level=1)
        with pytest.raises(ValueError, match="al-2"):
            repo.upsert_alert(alert_row(), [other])

    def test_listing_and_filters(self, repo):
        repo.upsert_alert(alert_row())
        repo.upsert_alert(
            alert_row(
                alert_id="al-2",
                state="cleared",
                parties=frozenset({"usa", "gbr"}),
                ended_at_s=T0_S + 30,
                updated_at_s=T0_S + 30,
            )
        )
        assert [a.alert_id for a in repo.alerts()] == ["al-1", "al-2"]
        assert [a.alert_id for a in repo.alerts(active_only=True)] == ["al-1"]
        assert [a.alert_id for a in repo.alerts(party="gbr")] == ["al-2"]
        assert repo.alert("al-2").ended_at_s == T0_S + 30

    def test_acknowledgement(self, repo):
        repo.upsert_alert(alert_row(level=3))
        event = repo.record_alert_ack("al-1", "usa", Role.DUTY_OFFICER, T0_S + 5)
        assert event == AlertEventRow(
            alert_id="al-1",
            kind="acknowledged",
            at_s=T0_S + 5,
            level=3,
            party="usa",
            role="duty-officer",
        )
        assert repo.alert_events("al-1") == [event]
        assert repo.alert("al-1").updated_at_s == T0_S + 5
        (record,) = repo.audit_records()
        assert (record.kind, record.actor) == ("alert", "usa/duty-officer")

    def test_unknown_alerts(self, repo):
        with pytest.raises(NotFoundError):
            repo.alert("nope")
        with pytest.raises(NotFoundError):
            repo.alert_events("nope")
        with pytest.raises(NotFoundError):
            repo.record_alert_ack("nope", "usa", "commander", T0_S)
        assert repo.audit_head() is None

    def test_rows_from_the_alert_lifecycle(self, repo):
        alert = Alert(
            alert_id="al-9",
            aircraft=("a1", "b2"),
            parties=frozenset({"usa"}),
            state=AlertState.ACTIVE,
            level=2,
            recent=(2, 2),
            last_seen_s=T0_S,
            raised_at_s=T0_S,
            highest_level=2,
        )
        event = AlertEvent(
            alert_id="al-9", kind=AlertEventKind.RAISED, at_s=T0_S, level=2
        )
        row = AlertRow.from_alert(alert, updated_at_s=T0_S)
        repo.upsert_alert(row, [AlertEventRow.from_event(event)])
        assert repo.alert("al-9") == row
        assert repo.alert("al-9").state == "active"
        assert repo.alert_events("al-9")[0].kind == "raised"


# ------------------------------------------------------------------------- messages


def message_row(message_id: str = "m-1", **overrides: object) -> MessageRow:
    values: dict[str, object] = {
        "message_id": message_id,
        "kind": "free-text",
        "sender": "usa",
        "recipients": ("rus",),
        "body": {"text": "Hello", "language": "en", "nested": {"n": 1.5}},
        "language": "en",
        "text": "Hello",
        "translation": "Привет",
        "sent_at_s": T0_S,
        "deadline_s": T0_S + 120,
        "in_reply_to": None,
        "channel_id": "line-1",
    }
    values.update(overrides)
    return MessageRow(**values)  # type: ignore[arg-type]


class TestMessages:
    def test_a_message_round_trips(self, repo):
        repo.store_message(message_row())
        assert repo.message("m-1") == message_row()
        (record,) = repo.audit_records()
        assert (record.kind, record.actor) == ("message", "usa")
        assert json.loads(record.payload)["translation"] == "Привет"

    def test_a_message_id_is_stored_once(self, repo):
        repo.store_message(message_row())
        with pytest.raises(ConflictingWriteError, match="m-1"):
            repo.store_message(message_row(text="changed"))
        assert repo.message("m-1").text == "Hello"
        assert len(list(repo.audit_records())) == 1

    def test_messages_of_a_party(self, repo):
        repo.store_message(message_row("m-1"))
        repo.store_message(
            message_row(
                "m-2", sender="rus", recipients=("usa", "gbr"), sent_at_s=T0_S + 1
            )
        )
        repo.store_message(
            message_row("m-3", sender="gbr", recipients=("rus",), sent_at_s=T0_S + 2)
        )
        assert [m.message_id for m in repo.messages()] == ["m-1", "m-2", "m-3"]
        assert [m.message_id for m in repo.messages("usa")] == ["m-1", "m-2"]
        assert [m.message_id for m in repo.messages("gbr")] == ["m-2", "m-3"]
        assert repo.messages("chn") == []

    def test_events(self, repo):
        repo.store_message(message_row())
        delivered = MessageEventRow(
            message_id="m-1", kind="delivered", at_s=T0_S + 1, party="rus"
        )
        acked = MessageEventRow(
            message_id="m-1",
            kind="acknowledged",
            at_s=T0_S + 9,
            party="rus",
            role="commander",
        )
        escalated = MessageEventRow(
            message_id="m-1", kind="escalated", at_s=T0_S + 60, party="rus", step=2
        )
        for event in (delivered, acked, escalated):
            repo.record_message_event(event)
        assert repo.message_events("m-1") == [delivered, acked, escalated]
        records = [r for r in repo.audit_records() if r.kind == "message-event"]
        assert [r.actor for r in records] == ["rus", "rus/commander", "rus"]
        assert json.loads(records[2].payload)["step"] == 2

    def test_unknown_messages(self, repo):
        with pytest.raises(NotFoundError):
            repo.message("nope")
        with pytest.raises(NotFoundError):
            repo.message_events("nope")
        with pytest.raises(NotFoundError):
            repo.record_message_event(
                MessageEventRow(
                    message_id="nope", kind="delivered", at_s=T0_S, party="rus"
                )
            )
        assert repo.audit_head() is None

    def test_a_body_that_is_not_json_is_refused(self, repo):
        with pytest.raises(ValueError, match="not JSON compliant"):
            repo.store_message(message_row(body={"x": math.nan}))
        with pytest.raises(NotFoundError):
            repo.message("m-1")


class TestChannels:
    def test_state_changes(self, repo):
        first = ChannelRow(
            channel_id="line-1",
            parties=frozenset({"usa", "rus"}),
            state="open",
            changed_at_s=T0_S,
            changed_by="usa/commander",
        )
        suspended = ChannelRow(
            channel_id="line-1",
            parties=frozenset({"usa", "rus"}),
            state="suspended",
            changed_at_s=T0_S + 60,
            changed_by="rus/commander",
            reason="drill",
        )
        repo.store_channel_state(first)
        repo.store_channel_state(suspended)
        assert repo.channels() == [suspended]
        events = repo.channel_events("line-1")
        assert [(e.state, e.changed_by, e.reason) for e in events] == [
            ("open", "usa/commander", None),
            ("suspended", "rus/commander", "drill"),
        ]
        records = list(repo.audit_records())
        assert [(r.kind, r.actor) for r in records] == [
            ("channel", "usa/commander"),
            ("channel", "rus/commander"),
        ]
        assert repo.channel_events("other") == []


# ----------------------------------------------------------------------- agreements


class TestAgreements:
    RAW = b'[agreement]\nid = "blue-red"\nversion = 1\n'
    SHA = hashlib.sha256(RAW).hexdigest()

    def test_store_and_read(self, repo):
        repo.store_agreement("blue-red", 1, self.SHA, self.RAW, '[{"party": "usa"}]')
        (stored,) = repo.agreements()
        assert (stored.agreement_id, stored.version, stored.raw) == (
            "blue-red",
            1,
            self.RAW,
        )
        assert stored.signatures_json == '[{"party":"usa"}]'
        assert audit_kinds(repo) == ["agreement"]

    def test_identical_content_is_idempotent(self, repo):
        repo.store_agreement("blue-red", 1, self.SHA, self.RAW, "[]")
        repo.store_agreement("blue-red", 1, self.SHA, self.RAW, " [ ] ")
        assert len(repo.agreements()) == 1
        assert audit_kinds(repo) == ["agreement"]

    def test_new_signatures_replace_the_old(self, repo):
        repo.store_agreement("blue-red", 1, self.SHA, self.RAW, "[]")
        repo.store_agreement("blue-red", 1, self.SHA, self.RAW, '["usa"]')
        assert repo.agreements()[0].signatures_json == '["usa"]'
        assert audit_kinds(repo) == ["agreement", "agreement-signatures"]

    def test_other_bytes_for_a_stored_version_are_refused(self, repo):
        repo.store_agreement("blue-red", 1, self.SHA, self.RAW, "[]")
        other = self.RAW + b"# changed\n"
        with pytest.raises(ConflictingWriteError, match="other content"):
            repo.store_agreement(
                "blue-red", 1, hashlib.sha256(other).hexdigest(), other, "[]"
            )
        repo.store_agreement(
            "blue-red", 2, hashlib.sha256(other).hexdigest(), other, "[]"
        )
        assert [a.version for a in repo.agreements()] == [1, 2]

    def test_a_wrong_hash_is_refused(self, repo):
        with pytest.raises(ValueError, match="SHA-256"):
            repo.store_agreement("blue-red", 1, "0" * 64, self.RAW, "[]")
        assert repo.agreements() == []


# ----------------------------------------------------------------- database errors


class TestDatabaseErrors:
    def test_a_failing_write_is_a_storage_error_and_rolls_back(self, repo, engine):
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE channel_events")
        channel = ChannelRow(
            channel_id="line-1",
            parties=frozenset({"usa"}),
            state="open",
            changed_at_s=T0_S,
            changed_by="usa",
        )
        with pytest.raises(StorageError, match="store channel line-1") as caught:
            repo.store_channel_state(channel)
        assert not isinstance(caught.value, ConflictingWriteError)
        assert isinstance(caught.value.__cause__, sa.exc.SQLAlchemyError)
        assert repo.channels() == []
        assert repo.audit_head() is None

    def test_a_failing_read_is_a_storage_error(self, repo, engine):
        with engine.begin() as connection:
            connection.exec_driver_sql("DROP TABLE tokens")
        with pytest.raises(StorageError, match="read tokens"):
            repo.tokens()

    def test_a_constraint_violation_is_a_conflicting_write(self, repo, engine):
        with engine.begin() as connection:
            connection.exec_driver_sql(
                "CREATE UNIQUE INDEX one_event_per_kind ON alert_events (alert_id, kind)"
            )
        raised = AlertEventRow(alert_id="al-1", kind="raised", at_s=T0_S, level=1)
        repo.upsert_alert(alert_row(), [raised])
        with pytest.raises(ConflictingWriteError):
            repo.upsert_alert(alert_row(), [raised])
        assert len(list(repo.audit_records())) == 1
