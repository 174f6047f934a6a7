"""An operations centre's checks of its live feed, and the demo's verdict.

No server: the centre's HTTP client answers from :class:`httpx.MockTransport`, which
records the acknowledgements it is sent; feed messages are given as the service would
send them. These are the checks that make ``skypact demo`` exit 1.
"""

from __future__ import annotations

import asyncio
import io
import json

import httpx
import pytest

from skypact.demo.centre import OperationsCentre, Story, Transcript
from skypact.demo.driver import verdict
from skypact.demo.scenario import syria

THEATRE = syria()
USA_FIGHTER, RUS_FIGHTER = (THEATRE.aircraft_by_icao24(i) for i in THEATRE.encounter)
SYR_TRANSPORT = THEATRE.aircraft_by_icao24(THEATRE.query_target)
SIDE = {"usa": "coalition", "gbr": "coalition", "rus": "russian-side",
        "syr": "russian-side"}  # fmt: skip


def story() -> Story:
    return Story(
        transcript=Transcript(io.StringIO()),
        theatre=THEATRE,
        level_names={1: "advisory", 2: "caution", 3: "warning"},
        side_of=SIDE,
        radius_nm=20.0,
    )


class Recorder:
    """A mock service: 200 to every request, with the paths posted kept."""

    def __init__(self) -> None:
        self.posted: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.posted.append(request.url.path)
        return httpx.Response(200, json={"state": "acknowledged"})


def centre(
    party: str, shared: Story | None = None
) -> tuple[OperationsCentre, Recorder]:
    recorder = Recorder()
    http = httpx.AsyncClient(
        base_url="http://service", transport=httpx.MockTransport(recorder)
    )
    return OperationsCentre(party, http, shared or story()), recorder


def feed(ops: OperationsCentre, *messages: dict) -> None:
    async def receive_all() -> None:
        for message in messages:
            await ops.receive(json.dumps(message))
        await ops.http.aclose()

    asyncio.run(receive_all())


def alert(level: int, *, own: str = "usa", acknowledged_by=(), state="active") -> dict:
    usa = {
        "track_id": "1" * 16,
        "own": own == "usa",
        "party": "usa",
        "bloc": "coalition",
        "icao24": USA_FIGHTER.icao24 if own == "usa" else None,
    }
    rus = {"track_id": "2" * 16, "own": own == "rus", "party": "rus",
           "bloc": "russian-side",
           "icao24": RUS_FIGHTER.icao24 if own == "rus" else None}  # fmt: skip
    return {
        "type": "alert", "at_s": 1000.0, "data_at_s": 999.0,
        "alert": {"alert_id": "A1", "state": state, "level": level,
                  "highest_level": level, "aircraft": [usa, rus],
                  "acknowledged_by": list(acknowledged_by), "raised_at_s": 1000.0,
                  "predicted_los_at_s": 1064.0, "los_at_s": None, "ended_at_s": None,
                  "warning_time_s": 64.0},
    }  # fmt: skip


class TestTheFeedIsHeldToNeedToKnow:
    def test_another_partys_callsign_on_the_feed_is_a_problem(self):
        ops, _ = centre("gbr")
        feed(ops, {"type": "picture", "at_s": 1.0, "own": [], "others": [],
                   "note": f"seen {RUS_FIGHTER.callsign}"})  # fmt: skip
        (problem,) = ops.story.failures
        assert RUS_FIGHTER.callsign in problem

    def test_an_address_inside_a_handle_is_not_mistaken_for_a_leak(self):
        ops, _ = centre("gbr")
        handle = f"00{RUS_FIGHTER.icao24}00000000"
        feed(ops, {"type": "picture", "at_s": 1.0, "own": [], "others": [
            {"track_id": handle, "latitude": 34.8, "longitude": 39.4, "party": "rus",
             "bloc": "russian-side"}]})  # fmt: skip
        assert ops.story.failures == []

    def test_a_field_beyond_the_releasable_ones_is_a_problem(self):
        ops, _ = centre("usa")
        feed(ops, {"type": "picture", "at_s": 1.0, "own": [], "others": [
            {"track_id": "2" * 16, "latitude": 34.8, "longitude": 39.4,
             "party": "rus", "bloc": "russian-side", "mission": "strike"}]})  # fmt: skip
        (problem,) = ops.story.failures
        assert "mission" in problem

    def test_an_alert_without_an_own_aircraft_is_a_problem(self):
        ops, recorder = centre("gbr")
        feed(ops, alert(2, own="none"))
        (problem,) = ops.story.failures
        assert "none of its aircraft is in it" in problem
        assert recorder.posted == []

    def test_a_message_for_others_is_a_problem(self):
        ops, recorder = centre("gbr")
        feed(ops, {"type": "message", "message": {
            "message_id": "M1", "kind": "free-text", "sender": "usa",
            "recipients": ["rus"], "body": {"text": "hello", "language": "en"},
            "text": "hello", "in_reply_to": None}})  # fmt: skip
        (problem,) = ops.story.failures
        assert "M1 from usa to rus reached its feed" in problem
        assert recorder.posted == []


class TestTheDutyOfficer:
    def test_acknowledges_an_alert_once_at_each_level(self):
        ops, recorder = centre("usa")
        feed(
            ops,
            alert(2),
            alert(2, acknowledged_by=["rus"]),  # sent before its own ack was taken
            alert(2, acknowledged_by=["rus", "usa"]),
            alert(3),
            alert(3, acknowledged_by=["usa"]),
        )
        assert recorder.posted == ["/api/v1/alerts/A1/ack"] * 2
        assert ops.story.alert_acks == {"A1": {("usa", 2), ("usa", 3)}}
        assert ops.story.alert_levels == {"A1": [2, 3]}
        assert ops.story.planted == "A1"
        assert ops.story.failures == []

    def test_acknowledges_every_message_it_receives(self):
        ops, recorder = centre("usa")
        feed(ops, {"type": "message", "message": {
            "message_id": "M2", "kind": "identification-answer", "sender": "skypact",
            "recipients": ["usa"], "text": "...", "in_reply_to": "M1",
            "body": {"query_id": "M1", "matches": [
                {"party": "syr", "bloc": "russian-side", "distance_nm": 0.4}]}}})  # fmt: skip
        assert recorder.posted == ["/api/v1/messages/M2/ack"]
        assert ops.story.line_acks == {"M2": {"usa"}}
        assert len(ops.story.answers) == 1


def good_story() -> Story:
    """What a run in which everything expected happened leaves behind."""
    done = story()
    done.planted = "A1"
    done.alert_feeds = {"A1": {"usa", "rus"}}
    done.alert_levels = {"A1": [2, 3]}
    done.alert_ends = {"A1": "cleared"}
    done.advised = {"A1": {"usa", "rus"}}
    done.alert_acks = {"A1": {("usa", 2), ("rus", 2), ("usa", 3), ("rus", 3)}}
    answer = {"party": "syr", "bloc": "russian-side", "distance_nm": 0.4}
    done.line = {
        "M1": {"message_id": "M1", "kind": "alert-notice", "sender": "skypact",
               "recipients": ["rus", "usa"], "body": {"alert_id": "A1"}},
        "M2": {"message_id": "M2", "kind": "identification-query", "sender": "usa",
               "recipients": ["rus", "syr"], "body": {}},
        "M3": {"message_id": "M3", "kind": "identification-answer",
               "sender": "skypact", "recipients": ["usa"],
               "body": {"matches": [answer]}},
        "M4": {"message_id": "M4", "kind": "notification", "sender": "rus",
               "recipients": ["gbr", "usa"], "body": {}},
        "M5": {"message_id": "M5", "kind": "free-text", "sender": "usa",
               "recipients": ["rus"], "body": {}},
    }  # fmt: skip
    done.line_acks = {
        "M1": {"usa", "rus"}, "M2": {"rus", "syr"}, "M3": {"usa"},
        "M4": {"usa", "gbr"}, "M5": {"rus"},
    }  # fmt: skip
    done.answers = [done.line["M3"]]
    done.pictures = {"usa": (3, ["rus"]), "gbr": (2, []), "rus": (2, ["usa"]),
                     "syr": (1, [])}  # fmt: skip
    done.accepted = {p: len(THEATRE.of(p)) * 31 for p in THEATRE.parties}
    done.audited = {"ok": True}
    return done


class TestVerdict:
    def test_a_good_run_passes(self):
        assert verdict(good_story(), 30) == []

    @pytest.mark.parametrize(
        ("spoil", "problem"),
        [
            (lambda s: setattr(s, "planted", None), "no alert was raised"),
            (lambda s: s.alert_feeds["A1"].add("gbr"), "reached ['gbr', 'rus', 'usa']"),
            (lambda s: s.alert_feeds.update(A2={"gbr", "rus"}), "unexpected alert A2"),
            (lambda s: s.alert_levels.update(A1=[2]), "never raised a level"),
            (lambda s: s.alert_ends.clear(), "not cleared"),
            (lambda s: s.advised["A1"].discard("rus"), "the advice for alert A1"),
            (lambda s: s.alert_acks["A1"].discard(("rus", 3)), "not acknowledged by"),
            (lambda s: s.answers[0]["body"]["matches"][0].update(callsign="SYR502"),
             "identification answer"),
            (lambda s: s.line_acks["M4"].discard("gbr"), "not acknowledged by ['gbr']"),
            (lambda s: setattr(s, "audited", {"ok": False}), "audit chain"),
            (lambda s: s.accepted.update(syr=30), "reports accepted"),
            (lambda s: s.failures.append("usa: a problem seen live"), "seen live"),
        ],
    )  # fmt: skip
    def test_each_thing_missing_or_wrong_fails_the_run(self, spoil, problem):
        spoiled = good_story()
        spoil(spoiled)
        failures = verdict(spoiled, 30)
        assert any(problem in f for f in failures), failures
