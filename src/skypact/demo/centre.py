"""One party's operations centre in the demo, and the transcript of what it sees.

An :class:`OperationsCentre` holds its party's HTTP client (the duty officer's token)
and reads its party's live feed. It narrates what arrives -- alerts, the line's
messages, other parties' aircraft appearing in or leaving its picture -- and reacts as
a duty officer does: every alert is acknowledged at every level it reaches, every
message received is acknowledged. It also carries out the timeline's actions
(:mod:`skypact.demo.driver` says when) and checks what it receives against need to
know: another party's address or callsign on its feed, an alert or a message that does
not concern it, or a field of another party's aircraft beyond the releasable ones is a
problem (:meth:`Story.fail`).

Everything it saw goes into the shared :class:`Story`, from which the driver draws the
final checks and the summary.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TextIO

from pyproj import Geod

from skypact.demo.scenario import Theatre, foreign_within, query_position, report
from skypact.messaging.templates import format_position
from skypact.units import m_to_nm

if TYPE_CHECKING:
    import httpx
    from websockets.asyncio.client import ClientConnection

__all__ = ["RELEASABLE_KEYS", "OperationsCentre", "Story", "Transcript"]

_WGS84 = Geod(ellps="WGS84")
_COMPASS = ("N", "NE", "E", "SE", "S", "SW", "W", "NW")

RELEASABLE_KEYS = frozenset(
    {
        "track_id", "latitude", "longitude", "last_update_s", "altitude",
        "groundspeed", "track", "vertical_rate", "party", "bloc",
    }
)  # fmt: skip
"""What the model agreement releases of another party's aircraft: its per-viewer
handle, position (with the time it was measured), altitude, velocity, affiliation."""


class Transcript:
    """The narrated transcript: one line per event, with the seconds since the start."""

    def __init__(
        self, out: TextIO, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._out = out
        self._clock = clock
        self._start_s = clock()

    def say(self, who: str, text: str) -> None:
        """Write one event: ``<seconds> s  <who>  <text>``."""
        elapsed_s = self._clock() - self._start_s
        print(f"{elapsed_s:6.1f} s  {who:<7} {text}", file=self._out, flush=True)


@dataclass
class Story:
    """What the operations centres saw and did, for the final checks and the summary."""

    transcript: Transcript
    theatre: Theatre
    level_names: Mapping[int, str]
    side_of: Mapping[str, str]
    """Party -> its side on the line (its bloc, or itself)."""
    radius_nm: float
    """The agreement's disclosure radius."""
    failures: list[str] = field(default_factory=list)
    planted: str | None = None
    """The planted pair's alert."""
    alert_feeds: dict[str, set[str]] = field(default_factory=dict)
    """Alert id -> the parties whose live feed carried it."""
    alert_levels: dict[str, list[int]] = field(default_factory=dict)
    """Alert id -> the levels it was active at, in order."""
    alert_ends: dict[str, str] = field(default_factory=dict)
    """Alert id -> how it ended (cleared, expired)."""
    advised: dict[str, set[str]] = field(default_factory=dict)
    """Alert id -> the parties whose feed carried SkyPact's manoeuvre advice for it."""
    alert_acks: dict[str, set[tuple[str, int]]] = field(default_factory=dict)
    """Alert id -> the (party, level) acknowledgements made."""
    line: dict[str, dict[str, Any]] = field(default_factory=dict)
    """Message id -> the message as sent or received."""
    line_acks: dict[str, set[str]] = field(default_factory=dict)
    """Message id -> the parties that acknowledged it."""
    answers: list[dict[str, Any]] = field(default_factory=list)
    """The identification answers received."""
    pictures: dict[str, tuple[int, list[str]]] = field(default_factory=dict)
    """Party -> (its own aircraft, the parties of the others) in its checked picture."""
    posted: dict[str, int] = field(default_factory=dict)
    accepted: dict[str, int] = field(default_factory=dict)
    audited: dict[str, Any] | None = None
    """The auditor's answer from ``GET /api/v1/audit/verify``."""

    def say(self, who: str, text: str) -> None:
        self.transcript.say(who, text)

    def fail(self, who: str, problem: str) -> None:
        """A problem seen live: narrated, and counted against the run."""
        self.failures.append(f"{who}: {problem}")
        self.say(who, f"PROBLEM: {problem}")

    def level(self, level: int) -> str:
        """``level 2 (caution)``."""
        name = self.level_names.get(level)
        return f"level {level}" + ("" if name is None else f" ({name})")


def flight_level(alt_ft: float) -> str:
    """``FL255``."""
    return f"FL{round(alt_ft / 100.0):03d}"


def clock_time(t_s: float) -> str:
    """Epoch seconds as ``HH:MM:SSZ``."""
    return time.strftime("%H:%M:%SZ", time.gmtime(t_s))


class OperationsCentre:
    """One party's operations centre (see the module docstring)."""

    def __init__(self, party: str, http: httpx.AsyncClient, story: Story) -> None:
        self.party = party
        self.http = http
        self.story = story
        self.fleet = story.theatre.of(party)
        self.closing = False
        """Set when the driver closes the feed (its end is then no problem)."""
        self.counts: dict[str, int] = {}
        """Feed messages received, by type."""
        self._own = {a.icao24: a for a in self.fleet}
        self._alerts: dict[str, dict[str, Any]] = {}
        self._acked: set[tuple[str, int]] = set()
        self._shown: dict[str, dict[str, Any]] = {}
        self._own_rows: list[dict[str, Any]] = []
        self._fields_told = False
        others = [a for a in story.theatre.aircraft if a.party != party]
        self._leak = re.compile(
            "|".join(
                [f"(?<![0-9a-f]){re.escape(a.icao24)}(?![0-9a-f])" for a in others]
                + [re.escape(a.callsign) for a in others]
            )
        )

    def say(self, text: str) -> None:
        self.story.say(self.party, text)

    def fail(self, problem: str) -> None:
        self.story.fail(self.party, problem)

    def _name(self, icao24: str | None) -> str:
        aircraft = self._own.get(icao24 or "")
        return f"{icao24}" if aircraft is None else f"{aircraft.callsign} ({icao24})"

    # -- reports ------------------------------------------------------------------------

    async def post_reports(self, k: int, epoch_s: float, batch_id: str) -> None:
        """Post the party's aircraft's reports of second ``k``."""
        body = [report(a, float(k), epoch_s=epoch_s) for a in self.fleet]
        answer = await self.http.post(
            "/api/v1/reports", json=body, headers={"X-Batch-Id": batch_id}
        )
        if answer.status_code != 200:
            self.fail(f"reports of second {k}: {answer.status_code} {answer.text}")
            return
        receipt = answer.json()
        story = self.story
        first = self.party not in story.posted
        story.posted[self.party] = story.posted.get(self.party, 0) + len(body)
        story.accepted[self.party] = story.accepted.get(self.party, 0) + int(
            receipt["accepted"]
        )
        if receipt["rejected"]:
            self.fail(f"reports rejected: {receipt['rejected']}")
        if first:
            fleet = ", ".join(f"{a.callsign} {a.type_name}" for a in self.fleet)
            self.say(
                f"posts its own aircraft once a second ({fleet}): first batch "
                f"accepted, {receipt['accepted']} of {receipt['rows']} reports"
            )

    # -- the live feed --------------------------------------------------------------------

    async def listen(self, feed: ClientConnection) -> None:
        """Read the feed until it closes (:meth:`receive` each message)."""
        from websockets.exceptions import ConnectionClosed

        try:
            async for raw in feed:
                await self.receive(raw if isinstance(raw, str) else raw.decode())
        except ConnectionClosed as exc:
            if not self.closing:
                self.fail(f"its live feed closed: {exc}")

    async def receive(self, text: str) -> None:
        """Take one message of the live feed: check it for another party's address
        or callsign, narrate it, act on it."""
        found = self._leak.search(text)
        if found:
            self.fail(
                f"its feed carried {found.group(0)!r}, another party's address or "
                f"callsign: {text[:300]}"
            )
        data = json.loads(text)
        kind = str(data.get("type"))
        self.counts[kind] = self.counts.get(kind, 0) + 1
        if kind == "picture":
            self._on_picture(data)
        elif kind == "alert":
            await self._on_alert(data)
        elif kind == "message":
            await self._on_message(data["message"])
        elif kind == "ack":
            self._on_ack(data)
        elif kind in ("escalation", "channel"):
            self.say(f"line: {kind}: {data}")
        else:
            self.fail(f"unexpected on its live feed: {str(data)[:300]}")

    def _on_picture(self, data: dict[str, Any]) -> None:
        self._own_rows = list(data["own"])
        others = {str(r["track_id"]): r for r in data["others"]}
        for track_id, row in others.items():
            extra = set(row) - RELEASABLE_KEYS
            if extra:
                self.fail(
                    f"its picture shows {sorted(extra)} of a {row.get('party')} aircraft"
                )
            if track_id not in self._shown:
                self.say(f"picture: {self._describe(row)} appears{self._fields(row)}")
        for track_id, row in self._shown.items():
            if track_id not in others:
                self.say(
                    f"picture: the {row.get('party')} aircraft {track_id[:8]} is no "
                    "longer shown"
                )
        self._shown = others

    def _fields(self, row: Mapping[str, Any]) -> str:
        """The released fields, the first time another party's aircraft is shown."""
        if self._fields_told:
            return ""
        self._fields_told = True
        return (
            f"; all the picture holds of it: {', '.join(sorted(row))} (no address, "
            "callsign, type or mission)"
        )

    def _describe(self, row: Mapping[str, Any]) -> str:
        """Another party's aircraft as released, placed from the nearest own one."""
        where = ""
        lat, lon = row.get("latitude"), row.get("longitude")
        mine = [r for r in self._own_rows if r.get("latitude") is not None]
        if lat is not None and lon is not None and mine:
            places = []
            for own in mine:
                az, _, dist_m = _WGS84.inv(own["longitude"], own["latitude"], lon, lat)
                places.append((float(dist_m), float(az), str(own.get("callsign"))))
            dist_m, az, callsign = min(places)
            point = _COMPASS[round((az % 360.0) / 45.0) % 8]
            where = f", {m_to_nm(dist_m):.1f} NM {point} of {callsign}"
        moving = ""
        if row.get("altitude") is not None:
            moving += f", {flight_level(float(row['altitude']))}"
        if row.get("groundspeed") is not None and row.get("track") is not None:
            moving += f", {row['groundspeed']:.0f} kt, track {row['track']:03.0f}"
        return (
            f"a {row.get('party')} aircraft ({row.get('bloc')}, handle "
            f"{str(row['track_id'])[:8]}){where}{moving}"
        )

    async def _on_alert(self, data: dict[str, Any]) -> None:
        view = data["alert"]
        alert_id = str(view["alert_id"])
        story = self.story
        story.alert_feeds.setdefault(alert_id, set()).add(self.party)
        own = [a for a in view["aircraft"] if a["own"]]
        other = [a for a in view["aircraft"] if not a["own"]]
        if not own:
            self.fail(f"alert {alert_id} reached it, but none of its aircraft is in it")
            return
        if story.planted is None and {a["icao24"] for a in own} <= set(
            story.theatre.encounter
        ):
            story.planted = alert_id
        before = self._alerts.get(alert_id)
        self._alerts[alert_id] = view
        if data.get("update") == "advice":
            self._on_advice(alert_id, view)
            return
        level, state = int(view["level"]), str(view["state"])
        levels = story.alert_levels.setdefault(alert_id, [])
        if state == "active" and (not levels or levels[-1] != level):
            levels.append(level)
        acked = ""
        if state == "active" and (alert_id, level) not in self._acked:
            self._acked.add((alert_id, level))
            if await self._acknowledge_alert(alert_id, level):
                acked = "; the duty officer acknowledges it"
        if before is None or (state == "active" and level > int(before["level"])):
            pair = f"own {self._name(own[0]['icao24'])} and " + (
                f"a {other[0]['party']} aircraft ({other[0]['bloc']}, handle "
                f"{str(other[0]['track_id'])[:8]})"
                if other
                else f"own {self._name(own[-1]['icao24'])}"
            )
            los = view.get("predicted_los_at_s")
            when = ""
            if los is not None:
                when = (
                    f"; loss of separation predicted in {los - data['at_s']:.0f} s "
                    f"({clock_time(los)})"
                )
            event = "raised at" if before is None else "up to"
            self.say(
                f"ALERT {alert_id} {event} {story.level(level)}: {pair}{when}{acked}"
            )
        elif state != "active" and before["state"] == "active":
            story.alert_ends[alert_id] = state
            warning = view.get("warning_time_s")
            self.say(
                f"ALERT {alert_id} {state}: separation assured again (highest "
                f"{story.level(int(view['highest_level']))}"
                + ("" if warning is None else f", warning time {warning:.0f} s")
                + ")"
            )
        else:
            newly = set(view["acknowledged_by"]) - set(before["acknowledged_by"])
            for party in sorted(newly - {self.party}):
                self.say(
                    f"alert {alert_id}: {party} has acknowledged it too, at "
                    f"{story.level(level)}"
                )

    def _on_advice(self, alert_id: str, view: Mapping[str, Any]) -> None:
        """SkyPact's coordinated advice for the alert's two aircraft."""
        parts = []
        names = {a["track_id"]: a for a in view["aircraft"]}
        for advisory in view["advisories"]:
            aircraft = names.get(advisory["track_id"], {})
            if advisory["own"]:
                parts.append(
                    f"own {self._name(aircraft.get('icao24'))}: {advisory['text']}"
                )
            else:
                parts.append(
                    f"the {aircraft.get('party')} aircraft: {advisory['text']}"
                )
        self.story.advised.setdefault(alert_id, set()).add(self.party)
        self.say(f"advice for alert {alert_id}: " + "; ".join(parts))

    async def _acknowledge_alert(self, alert_id: str, level: int) -> bool:
        answer = await self.http.post(f"/api/v1/alerts/{alert_id}/ack")
        if answer.status_code != 200:
            self.fail(
                f"acknowledging alert {alert_id}: {answer.status_code} {answer.text}"
            )
            return False
        self.story.alert_acks.setdefault(alert_id, set()).add((self.party, level))
        return True

    async def _on_message(self, message: dict[str, Any]) -> None:
        message_id = str(message["message_id"])
        sender, recipients = str(message["sender"]), list(message["recipients"])
        self.story.line.setdefault(message_id, message)
        if self.party == sender:
            return  # its own message, echoed to its feed
        if self.party not in recipients:
            self.fail(
                f"message {message_id} from {sender} to {', '.join(recipients)} "
                "reached its feed"
            )
            return
        acked = "; acknowledged" if await self._acknowledge(message_id) else ""
        self.say(f"line: {self._told(message)}{acked}")
        if message["kind"] == "free-text" and message.get("in_reply_to") is None:
            await self._answer(message)

    def _told(self, message: Mapping[str, Any]) -> str:
        """A message of the line in one line, from its body's fields."""
        kind, body = str(message["kind"]), message["body"]
        head = (
            f"{kind.replace('-', ' ').upper()} {message['message_id']} from "
            f"{message['sender']}"
        )
        if kind == "alert-notice":
            los = body.get("los_at_s")
            return (
                f"{head} to {', '.join(message['recipients'])}: alert "
                f"{body['alert_id']}, {self.story.level(int(body['level']))}"
                + (
                    ""
                    if los is None
                    else f", predicted loss of separation {clock_time(los)}"
                )
            )
        if kind == "identification-answer":
            self.story.answers.append(dict(message))
            matches = body.get("matches", [])
            found = "; ".join(
                f"party {m.get('party')} ({m.get('bloc')}), {m.get('distance_nm')} NM "
                "from the position"
                for m in matches
            )
            return (
                f"{head} to query {body.get('query_id')}: {len(matches)} aircraft: "
                f"{found or 'none'} -- the affiliation only, no address, callsign, "
                "type or mission"
            )
        if kind == "identification-query":
            return (
                f"{head}: whose aircraft is at "
                f"{format_position(body['lat_deg'], body['lon_deg'])}, "
                f"{flight_level(body['altitude_ft'])}?"
            )
        if kind == "notification":
            return (
                f"{head}: planned operations ({body['description']}), "
                f"{len(body['area'])}-corner area from "
                f"{format_position(*body['area'][0])}, "
                f"{flight_level(body['floor_ft'])}-{flight_level(body['ceiling_ft'])}, "
                f"{clock_time(body['starts_at_s'])} to {clock_time(body['ends_at_s'])}"
            )
        if kind == "free-text":
            return f'{head}: "{body["text"]}"'
        return f"{head}: {message['text']}"

    async def _acknowledge(self, message_id: str) -> bool:
        answer = await self.http.post(f"/api/v1/messages/{message_id}/ack")
        if answer.status_code != 200:
            self.fail(f"acknowledging {message_id}: {answer.status_code} {answer.text}")
            return False
        self.story.line_acks.setdefault(message_id, set()).add(self.party)
        return True

    def _on_ack(self, data: Mapping[str, Any]) -> None:
        """Another party acknowledged a message this party sent."""
        message = self.story.line.get(str(data["message_id"]))
        if message is None or message["sender"] != self.party:
            return  # a notice from the service, acknowledged by its recipients
        if data["party"] != self.party:
            self.say(
                f"line: {data['party']} acknowledged its {message['kind']} "
                f"{data['message_id']}"
            )

    # -- the timeline's actions ----------------------------------------------------------

    async def _send(
        self,
        kind: str,
        body: Mapping[str, Any],
        recipients: list[str] | None = None,
        in_reply_to: str | None = None,
    ) -> None:
        request: dict[str, Any] = {"kind": kind, "body": dict(body)}
        if recipients is not None:
            request["recipients"] = recipients
        if in_reply_to is not None:
            request["in_reply_to"] = in_reply_to
        answer = await self.http.post("/api/v1/messages", json=request)
        if answer.status_code != 200:
            self.fail(f"sending its {kind}: {answer.status_code} {answer.text}")
            return
        sent: dict[str, Any] = answer.json()
        self.story.line.setdefault(str(sent["message_id"]), sent)

    async def ask_identification(self, t_s: float, epoch_s: float) -> None:
        """Ask the other side whose aircraft the radar contact of ``t_s`` is."""
        theatre = self.story.theatre
        lat, lon, alt_ft = query_position(theatre, t_s)
        radar = next((a.callsign for a in self.fleet if "warning" in a.role), "its")
        self.say(
            f"{radar}'s radar holds an unidentified contact at "
            f"{format_position(lat, lon)}, {flight_level(alt_ft)}: the duty officer "
            "asks the other side on the line whose aircraft it is (search radius "
            f"{theatre.query_radius_nm:.0f} NM)"
        )
        await self._send(
            "identification-query",
            {"lat_deg": lat, "lon_deg": lon, "altitude_ft": alt_ft,
             "observed_at_s": epoch_s + t_s, "radius_nm": theatre.query_radius_nm},
        )  # fmt: skip

    async def notify_area(self, t_s: float, epoch_s: float, to: list[str]) -> None:
        """Notify ``to`` of the theatre's planned operating area, from ``t_s`` on."""
        area = self.story.theatre.notified_area
        self.say(
            f"notifies {', '.join(to)} on the line of planned operations "
            f"({area.description}), {flight_level(area.floor_ft)}-"
            f"{flight_level(area.ceiling_ft)}, for the next "
            f"{area.duration_s / 3600.0:.0f} h"
        )
        await self._send(
            "notification",
            {"area": [list(c) for c in area.corners], "floor_ft": area.floor_ft,
             "ceiling_ft": area.ceiling_ft, "starts_at_s": epoch_s + t_s,
             "ends_at_s": epoch_s + t_s + area.duration_s,
             "description": area.description},
            recipients=to,
        )  # fmt: skip

    def _encounter_aircraft(self, party: str) -> tuple[str, float] | None:
        """The party's aircraft in the planted encounter: callsign, target altitude."""
        for aircraft in self.story.theatre.of(party):
            if aircraft.icao24 in self.story.theatre.encounter and aircraft.manoeuvre:
                return aircraft.callsign, aircraft.manoeuvre.target_ft
        return None

    async def coordinate(self, to: str) -> None:
        """Agree the manoeuvre of the planted pair with ``to`` on the line (without
        naming its own aircraft: the alert names it)."""
        alert_id = self.story.planted
        mine, theirs = (
            self._encounter_aircraft(self.party),
            self._encounter_aircraft(to),
        )
        if alert_id is None or mine is None or theirs is None:
            self.fail("no alert to coordinate a manoeuvre for")
            return
        plan = (
            f"our aircraft descends to {flight_level(mine[1])} now. "
            f"Request your aircraft climb to {flight_level(theirs[1])}."
        )
        advised = self._alerts.get(alert_id, {}).get("advisories", [])
        own = [a["text"] for a in advised if a["own"]]
        other = [a["text"] for a in advised if not a["own"]]
        if (
            own
            and other
            and own[0].startswith("descend")
            and other[0].startswith("climb")
        ):
            text = f"Alert {alert_id}: as SkyPact advises, {plan}"
        elif own and other:
            # the advice is advisory: the duty officers may agree another manoeuvre
            text = (
                f"Alert {alert_id}: SkyPact advises ours {own[0]}, yours {other[0]}; "
                f"we prefer a vertical split: {plan}"
            )
        else:
            text = f"Alert {alert_id}: {plan}"
        self.say(f'tells {to} on the line: "{text}"')
        await self._send("free-text", {"text": text, "language": "en"}, [to])

    async def _answer(self, message: Mapping[str, Any]) -> None:
        """Answer a coordination request about the planted encounter."""
        mine = self._encounter_aircraft(self.party)
        if mine is None:
            return
        text = f"Copied. Our aircraft climbs to {flight_level(mine[1])} now."
        self.say(f'answers {message["sender"]} on the line: "{text}"')
        await self._send(
            "free-text",
            {"text": text, "language": "en"},
            [str(message["sender"])],
            in_reply_to=str(message["message_id"]),
        )

    async def check_picture(self, t_s: float) -> None:
        """Read the picture and hold it to need to know at second ``t_s``."""
        answer = await self.http.get("/api/v1/picture")
        if answer.status_code != 200:
            self.fail(f"GET /api/v1/picture: {answer.status_code} {answer.text}")
            return
        picture = answer.json()
        own, others = picture["own"], picture["others"]
        story = self.story
        theatre = story.theatre
        allowed = {
            a.icao24: a.party
            for a in foreign_within(theatre, self.party, t_s, story.radius_nm)
        }
        if any(
            view["state"] == "active" and alert_id == story.planted
            for alert_id, view in self._alerts.items()
        ):
            for icao24 in theatre.encounter:  # the other aircraft of the planted pair
                aircraft = theatre.aircraft_by_icao24(icao24)
                if aircraft.party != self.party:
                    allowed[icao24] = aircraft.party
        expected = sorted(allowed.values())
        seen = sorted(str(r.get("party")) for r in others)
        story.pictures[self.party] = (len(own), seen)
        total = len(story.theatre.aircraft) - len(self.fleet)
        callsigns = ", ".join(sorted(str(r.get("callsign")) for r in own))
        if seen:
            shown = (
                f"{len(seen)} of the other parties' {total} aircraft ("
                + ", ".join(f"a {p} aircraft" for p in seen)
                + f": in an alert with, or within {story.radius_nm:.0f} NM of, one of "
                "its own)"
            )
        else:
            shown = (
                f"none of the other parties' {total} aircraft (none is within "
                f"{story.radius_nm:.0f} NM of its own or in an alert with one)"
            )
        self.say(
            f"picture (GET /api/v1/picture): its own {len(own)} ({callsigns}) and "
            f"{shown}"
        )
        if len(own) != len(self.fleet):
            self.fail(
                f"its picture holds {len(own)} own aircraft, not {len(self.fleet)}"
            )
        if seen != expected:
            self.fail(
                f"its picture shows {seen or 'no'} other aircraft; need to know allows "
                f"{expected or 'none'} (within {story.radius_nm:.0f} NM of its own "
                "aircraft, or in an alert with one)"
            )
        for row in others:
            extra = set(row) - RELEASABLE_KEYS
            if extra:
                self.fail(f"its picture shows {sorted(extra)} of another's aircraft")
