"""The live multi-party service: reports in -> track store -> alerts -> per-party delivery.

:class:`Service` is the one place the live parts are wired together, as
:mod:`skypact.pipeline` is for a snapshot. It holds no thread or event loop of its own:
the API calls :meth:`Service.submit_reports` and the read methods from request
handlers, a background task calls :meth:`Service.cycle` every ``cycle_s``, and
subscribers (the WebSocket feed, the CoT output) receive per-party updates
(:class:`FeedMessage`, encoded once per party) through the callbacks they register. A
lock serialises access to the in-memory state.

A cycle alerts first and draws pictures second: detection, alert transitions, the
line's automatic notices and deadlines are committed and delivered before anything
else, so that a report's way to an alert on the feed does not wait for the pictures.
Pictures (with the track history and the release records) follow every ``picture_s``,
which may be longer than the cycle: detection can run several times a second while
each party's picture, its largest message, goes out once a second.

Durability: a report batch is committed to storage (with its audit record) before it
is acknowledged and before it reaches the track store, so a crash loses nothing that was
acknowledged. After a restart the track store is rebuilt from the reports of the last
``rebuild_s`` seconds, and alerts that were active when the service stopped are ended
(``expired``, audited); a conflict that persists is raised again by the next cycles.

Need to know: every read goes through :mod:`skypact.parties.releasability`; releases of
other parties' aircraft are audited when they start and when they end (one record per
viewer and cycle in which its set of released aircraft changed).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd

from skypact.agreement.document import LoadedAgreement
from skypact.alerting.events import ZoneSpec, ZoneWatch, lines_and_zones
from skypact.alerting.levels import profile_from_agreement
from skypact.alerting.lifecycle import Alert, AlertEvent, AlertEventKind, AlertState
from skypact.alerting.monitor import AlertMonitor
from skypact.alerting.suppression import suppression_from_agreement
from skypact.audit.model import canonical_json
from skypact.errors import (
    AccessDeniedError,
    ConfigError,
    ConflictingWriteError,
    NotFoundError,
)
from skypact.liaison import Liaison, Outgoing, body_from_json, message_view
from skypact.messaging import Channel
from skypact.parties.access import require
from skypact.parties.model import Action, Principal
from skypact.parties.releasability import (
    AlertAircraft,
    NeedToKnow,
    RedactedAlert,
    ReleasedPicture,
    aircraft_key,
    redact_alert,
    visible_alerts,
    visible_picture,
)
from skypact.resolution.advice import Advisory, resolve_nearby
from skypact.storage.repository import (
    AlertEventRow,
    AlertRow,
    BatchReceipt,
    Repository,
)
from skypact.tracks.ingest.base import report_table
from skypact.tracks.model import StateArrays
from skypact.tracks.store import TrackStore
from skypact.tracks.validation import epoch_seconds, validate_reports
from skypact.units import m_to_ft, mps_to_fpm, mps_to_kt

__all__ = [
    "REPORT_FIELDS",
    "Delivery",
    "FeedMessage",
    "Service",
    "ServiceConfig",
    "alert_message",
    "alert_view",
    "channel_view",
    "picture_feed_message",
    "picture_message",
]

_log = logging.getLogger(__name__)

REPORT_FIELDS = (
    "timestamp",
    "icao24",
    "callsign",
    "latitude",
    "longitude",
    "altitude",
    "geoaltitude",
    "groundspeed",
    "track",
    "vertical_rate",
    "squawk",
    "onground",
    "source",
)
"""Fields a posted report may carry (the traffic convention; aviation units)."""


@dataclass(frozen=True, slots=True)
class FeedMessage:
    """One update for a party's live clients, encoded once for all of them.

    Attributes:
        kind: the message's ``type`` (``picture``, ``alert``, ``message``, ``channel``).
        text: the message as JSON text.
    """

    kind: str
    text: str

    @classmethod
    def of(cls, message: Mapping[str, Any]) -> FeedMessage:
        """A JSON-ready message, encoded."""
        return cls(kind=str(message["type"]), text=json.dumps(message, allow_nan=False))

    def data(self) -> dict[str, Any]:
        """The message as JSON-ready data (decoded from the text)."""
        decoded: dict[str, Any] = json.loads(self.text)
        return decoded


Delivery = Callable[[FeedMessage], None]
"""A subscriber's callback: receives one message for its party."""


@dataclass(frozen=True, slots=True, kw_only=True)
class ServiceConfig:
    """How the live service runs.

    Attributes:
        cycle_s: seconds between detection cycles.
        picture_s: seconds between picture updates, on a fixed schedule: a picture
            goes out with the first cycle at (or a tenth of a period before) each due
            time; one that falls a whole period behind starts the schedule again.
        rebuild_s: on start, reports this recent rebuild the track store.
        max_batch_rows: the most reports one batch may carry.
    """

    cycle_s: float = 1.0
    picture_s: float = 1.0
    rebuild_s: float = 120.0
    max_batch_rows: int = 100_000

    def __post_init__(self) -> None:
        if not self.cycle_s > 0:
            raise ConfigError("cycle_s", self.cycle_s, "must be greater than 0")
        if not self.picture_s > 0:
            raise ConfigError("picture_s", self.picture_s, "must be greater than 0")
        if self.max_batch_rows < 1:
            raise ConfigError("max_batch_rows", self.max_batch_rows, "must be >= 1")


@dataclass
class _Subscriber:
    party: str
    deliver: Delivery


@dataclass
class Service:
    """The live service (see the module docstring).

    Key methods: :meth:`submit_reports`, :meth:`cycle`, :meth:`picture`,
    :meth:`alerts`, :meth:`acknowledge_alert`, :meth:`subscribe`.
    """

    agreement: LoadedAgreement
    repository: Repository
    need: NeedToKnow
    clock: Callable[[], float] = time.time
    config: ServiceConfig = field(default_factory=ServiceConfig)
    store: TrackStore = field(default_factory=TrackStore)
    _lock: threading.RLock = field(default_factory=threading.RLock)
    _monitor: AlertMonitor | None = None
    _subscribers: dict[int, _Subscriber] = field(default_factory=dict)
    _released: dict[str, dict[str, tuple[str, ...]]] = field(default_factory=dict)
    _last_cycle_s: float | None = None
    _last_picture_s: float | None = None
    _next_picture_s: float | None = None
    _on_reports: Callable[[], None] | None = None
    _history_s: dict[str, float] = field(default_factory=dict)
    _serial: int = 0
    _zones: tuple[ZoneSpec, ...] = ()
    _advice: dict[str, tuple[Advisory | None, Advisory | None]] = field(
        default_factory=dict
    )

    def __post_init__(self) -> None:
        content = self.agreement.content
        sep = content.separation
        groups = None
        if not sep.monitor_same_party:
            groups = {
                p.id: (p.bloc if p.bloc and not sep.monitor_within_bloc else p.id)
                for p in content.parties
            }
        self._monitor = AlertMonitor(
            profile=profile_from_agreement(content),
            new_id=self._new_alert_id,
            groups=groups,
            suppression=suppression_from_agreement(content),
        )
        self._parties = frozenset(p.id for p in content.parties)
        self._level_names = {lv.severity: lv.name for lv in content.alerting.levels}
        self.liaison = Liaison(content, self.repository, clock=self.clock)
        self._zone_watch = ZoneWatch(
            side_of={p.id: (p.bloc or p.id) for p in content.parties}
        )
        self._need_now = self.need
        self._refresh_zones()

    def _refresh_zones(self) -> None:
        """The zones watched for entries (the agreement's and the notified operating
        areas), and the need-to-know rules with the notified areas shared."""
        content = self.agreement.content
        notified = lines_and_zones(
            content.model_copy(update={"zones": self.liaison.zones})
        )[1]
        self._zones = lines_and_zones(content)[1] + notified
        self._need_now = replace(
            self.need, shared_zones=self.need.shared_zones + notified
        )

    # -- parties -------------------------------------------------------------------

    @property
    def parties(self) -> frozenset[str]:
        """The parties of the agreement in force."""
        return self._parties

    def _new_alert_id(self) -> str:
        self._serial += 1
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.clock()))
        return f"A{stamp}-{self._serial:04d}"

    # -- reports in -----------------------------------------------------------------

    def submit_reports(
        self,
        principal: Principal,
        records: Sequence[Mapping[str, Any]],
        *,
        client_batch_id: str | None = None,
    ) -> BatchReceipt:
        """Validate, store (committed) and ingest one batch of a party's own reports.

        Args:
            principal: who posts; its party owns every report.
            records: reports in the traffic convention (:data:`REPORT_FIELDS`; a
                ``party`` field, if given, must be the principal's party).
            client_batch_id: the client's identifier for the batch; without one, the
                batch's content identifies it. A batch already stored is refused.

        Raises:
            AccessDeniedError: the role may not report, or a report names another
                party (refused whole, and audited).
            ConflictingWriteError: the batch was posted before (audited).
            ConfigError: too many reports in one batch.
        """
        require(principal, Action.REPORT, "reports")
        actor = _actor(principal)
        if len(records) > self.config.max_batch_rows:
            raise ConfigError(
                "reports",
                f"<{len(records)} reports>",
                f"a batch carries at most {self.config.max_batch_rows} reports",
            )
        others = sorted(
            {
                str(r["party"])
                for r in records
                if r.get("party") not in (None, principal.party)
            }
        )
        if others:
            self.repository.append_audit(
                actor,
                "refused",
                {"action": "report", "reason": "reports for another party",
                 "claimed": others, "rows": len(records)},
            )  # fmt: skip
            raise AccessDeniedError(
                principal.party,
                "report",
                f"aircraft of {', '.join(others)}",
                "a party reports only its own aircraft",
            )
        batch_key = (
            client_batch_id
            or "sha256:"
            + hashlib.sha256(
                canonical_json([dict(r) for r in records]).encode()
            ).hexdigest()
        )
        table = _reports_table(records, principal.party)
        verdicts = validate_reports(table)
        table["accepted"] = verdicts.accepted
        table["reason"] = verdicts.reasons()
        received_s = self.clock()
        with self._lock:
            try:
                receipt = self.repository.store_report_batch(
                    principal.party, batch_key, received_s, table
                )
            except ConflictingWriteError:
                self.repository.append_audit(
                    actor,
                    "refused",
                    {"action": "report", "reason": "batch replayed",
                     "client_batch_id": batch_key, "rows": len(records)},
                )  # fmt: skip
                raise
            accepted = table[table["accepted"]].drop(columns=["accepted", "reason"])
            if len(accepted):
                self.store.ingest(accepted, party=principal.party)
        if len(accepted) and self._on_reports is not None:
            self._on_reports()
        _log.info(
            "batch %s from %s: %d reports, %d accepted",
            receipt.batch_id,
            principal.party,
            receipt.rows,
            receipt.accepted,
        )
        return receipt

    # -- the cycle ------------------------------------------------------------------

    def on_reports(self, callback: Callable[[], None] | None) -> None:
        """Call ``callback`` (from the submitting thread) after each batch that added
        reports to the tracks: the cycle's driver runs a cycle at once instead of
        waiting for the next period. None removes it."""
        self._on_reports = callback

    def cycle(
        self, now_s: float | None = None, *, pictures: bool = True
    ) -> tuple[AlertEvent, ...]:
        """One detection and alerting cycle at ``now_s`` (default: the clock), then
        (``pictures``) a picture update if one is due.

        The alerting part stores alert transitions (audited), sends the line's
        automatic notices and escalations, expires dropped tracks and delivers each
        subscriber its party's alert changes; it is committed before anything is
        delivered. The picture part (:meth:`publish_if_due`) follows; the live
        service runs it on its own schedule instead (``pictures=False``), so that
        drawing the pictures never holds up the next cycle.
        """
        now = self.clock() if now_s is None else float(now_s)
        assert self._monitor is not None
        with self._lock, self.repository.transaction():
            states = self.store.snapshot(now)
            keys = np.array(
                [
                    aircraft_key(str(p), str(a))
                    for p, a in zip(
                        (states.party if states.party is not None else []),
                        states.aircraft_id,
                        strict=True,
                    )
                ],
                dtype=object,
            )
            outcome = self._monitor.step(states, keys, now)
            for alert in outcome.changed:
                events = [
                    AlertEventRow.from_event(e)
                    for e in outcome.events
                    if e.alert_id == alert.alert_id
                ]
                self.repository.upsert_alert(
                    AlertRow.from_alert(alert, updated_at_s=now), events
                )
            risen = {
                e.alert_id
                for e in outcome.events
                if e.kind in (AlertEventKind.RAISED, AlertEventKind.LEVEL_UP)
            }
            line_out = self.liaison.alert_notices(
                [a for a in outcome.changed if a.alert_id in risen], self._level_names
            )
            line_out.extend(self.liaison.tick(now))
            line_out.extend(self._zone_entries(states, keys, now))
            self.store.expire(now)
            self._last_cycle_s = now
            subscribers = list(self._subscribers.values())
            alert_out = self._alert_messages(outcome.changed, subscribers, now)
        for subscriber, message in alert_out:
            subscriber.deliver(message)
        self._push(line_out)
        self._advise(
            [a for a in outcome.changed if a.alert_id in risen], states, keys, now
        )
        if pictures:
            self.publish_if_due(now)
        return outcome.events

    def publish_if_due(self, now_s: float | None = None) -> float:
        """A picture update (:meth:`publish`) if one is due; returns when the next
        one is due (clock seconds)."""
        steps = self.picture_steps(now_s)
        if steps is not None:
            for _ in steps:
                pass
        assert self._next_picture_s is not None
        return self._next_picture_s

    def picture_due_s(self) -> float | None:
        """When the next picture update is due (None: at once, none has been)."""
        return self._next_picture_s

    def picture_steps(self, now_s: float | None = None) -> Iterator[None] | None:
        """The picture update at ``now_s`` as steps, or None if it is not due yet.

        Pictures keep a steady rhythm: the next is due one period after the last was
        due, not after it was drawn, unless it is a whole period late. Each step is
        a short part of :meth:`publish` (one party's picture drawn, the records
        stored, one party's picture sent): the live service runs a detection cycle
        between two steps when reports have arrived, so that a report never waits for
        all the pictures to be drawn.
        """
        now = self.clock() if now_s is None else float(now_s)
        due = self._next_picture_s
        slack_s = 0.1 * min(self.config.picture_s, self.config.cycle_s)
        if due is not None and now < due - slack_s:
            return None
        on_time = due is not None and now <= due + self.config.picture_s
        start_s = due if due is not None and on_time else now
        self._next_picture_s = start_s + self.config.picture_s
        return self._publish_steps(now)

    def publish(self, now_s: float | None = None) -> None:
        """A picture update at ``now_s``: the track history, the release records
        (audited when what a party is shown of the others changes) and each
        subscriber's picture, committed before it is delivered.

        The pictures are drawn outside the lock, from a copy of the tracks and the
        alerts taken under it, so that reports are taken in the meantime.
        """
        for _ in self._publish_steps(self.clock() if now_s is None else float(now_s)):
            pass

    def _publish_steps(self, now: float) -> Iterator[None]:
        assert self._monitor is not None
        with self._lock:
            tracks = self.store.tracks(now)
            current = self._monitor.alerts
            need = self._need_now
        pictures: dict[str, ReleasedPicture] = {}
        for party in self._parties:
            yield
            pictures[party] = visible_picture(
                tracks, party, alerts=current, now_s=now, need=need
            )
        yield
        with self._lock, self.repository.transaction():
            self._store_history(tracks)
            self._audit_releases(pictures)
            self._last_picture_s = now
        for party, released in pictures.items():
            with self._lock:
                subscribers = [
                    s for s in self._subscribers.values() if s.party == party
                ]
            if not subscribers:
                continue
            yield
            message = picture_feed_message(released)
            for subscriber in subscribers:
                subscriber.deliver(message)

    def _advise(
        self,
        risen: Sequence[Alert],
        states: StateArrays,
        keys: npt.NDArray[np.object_],
        now: float,
    ) -> None:
        """Coordinated manoeuvre advice for the alerts raised or risen this cycle,
        worked out after their messages went out (it takes longer than the alert) and
        sent as an update of each alert (``"update": "advice"``) to its two parties.

        The advice clears the pair at the alert's level (its separation and
        look-ahead), from the picture the cycle judged; it is kept with the alert
        until the alert ends, and shown on :meth:`alerts` too."""
        assert self._monitor is not None
        with self._lock:
            for key in [k for k in self._advice if self._monitor.alert(k) is None]:
                del self._advice[key]
        if not risen:
            return
        row = {str(k): n for n, k in enumerate(keys.tolist())}
        levels = {level.severity: level for level in self._monitor.profile.levels}
        advice: dict[str, tuple[Advisory | None, Advisory | None]] = {}
        for alert in risen:
            level = levels.get(alert.level)
            i, j = (row.get(key) for key in alert.aircraft)
            if level is None or i is None or j is None:
                continue
            found = resolve_nearby(
                states,
                i,
                j,
                horizontal_m=level.horizontal_m,
                vertical_m=level.vertical_m,
                lookahead_s=level.lookahead_s,
            )
            by_row = {a.aircraft_index: a for a in found.advisories}
            advice[alert.alert_id] = (by_row.get(i), by_row.get(j))
        with self._lock:
            current = []
            for alert_id, pair in advice.items():
                now_alert = self._monitor.alert(alert_id)
                if now_alert is not None and now_alert.state is AlertState.ACTIVE:
                    self._advice[alert_id] = pair
                    current.append(now_alert)
            subscribers = list(self._subscribers.values())
            out = self._alert_messages(current, subscribers, now, update="advice")
        for subscriber, message in out:
            subscriber.deliver(message)

    def advice_of(self, alert_id: str) -> tuple[Advisory | None, Advisory | None]:
        """The advice for an alert's two aircraft (in the alert's order; None: none)."""
        with self._lock:
            return self._advice.get(alert_id, (None, None))

    def _alert_messages(
        self,
        changed: Sequence[Alert],
        subscribers: Sequence[_Subscriber],
        now: float,
        update: str = "transition",
    ) -> list[tuple[_Subscriber, FeedMessage]]:
        """Each subscriber's alert changes, with the time of the party's own data the
        cycle judged them on (``data_at_s``: its aircraft's newest position)."""
        if not changed or not subscribers:
            return []
        out: list[tuple[_Subscriber, FeedMessage]] = []
        by_party: dict[str, list[FeedMessage]] = {}
        for party in {s.party for s in subscribers}:
            messages = []
            for alert in changed:
                shown = redact_alert(alert, party, need=self.need)
                if shown is None:
                    continue
                times = [
                    self.store.position_time_s(*key.split(":", 1))
                    for key in alert.aircraft
                    if key.split(":", 1)[0] == party
                ]
                known = [t for t in times if t is not None]
                message = alert_message(
                    shown, self._advice.get(alert.alert_id, (None, None))
                )
                message["update"] = update
                message["at_s"] = now
                message["data_at_s"] = max(known) if known else None
                messages.append(FeedMessage.of(message))
            by_party[party] = messages
        for subscriber in subscribers:
            out.extend((subscriber, m) for m in by_party.get(subscriber.party, []))
        return out

    def _zone_entries(
        self,
        states: StateArrays,
        keys: npt.NDArray[np.object_],
        now: float,
    ) -> list[Outgoing]:
        """Notices of other sides' aircraft entering owned zones this cycle."""
        entries = self._zone_watch.step(states, keys, now, self._zones)
        if not entries:
            return []
        tracks = self.store.tracks(now)
        callsigns = dict(
            zip(
                tracks["party"].astype(str) + ":" + tracks["icao24"].astype(str),
                tracks["callsign"],
                strict=True,
            )
        )
        out: list[Outgoing] = []
        for entry in entries:
            k = entry.index
            callsign = callsigns.get(entry.key)
            out.extend(
                self.liaison.zone_notices(
                    entry,
                    party=entry.key.split(":", 1)[0],
                    icao24=str(states.aircraft_id[k]),
                    callsign=callsign if isinstance(callsign, str) else None,
                    lat_deg=float(states.lat_deg[k]),
                    lon_deg=float(states.lon_deg[k]),
                    altitude_ft=float(m_to_ft(states.alt_m[k])),
                )
            )
        return out

    def _push(self, outgoing: Sequence[Outgoing]) -> None:
        """Deliver line traffic to each party's live clients; pushed counts as delivered."""
        if not outgoing:
            return
        with self._lock:
            subscribers = list(self._subscribers.values())
            reached = {s.party for s in subscribers}
            now = self.clock()
            for item in outgoing:
                message_id = item.message.get("message", {}).get("message_id")
                if item.message.get("type") == "message" and item.party in reached:
                    self.liaison.delivered(str(message_id), item.party, now)
        for item in outgoing:
            encoded = FeedMessage.of(item.message)
            for subscriber in subscribers:
                if subscriber.party == item.party:
                    subscriber.deliver(encoded)

    def _store_history(self, tracks: pd.DataFrame) -> None:
        """Add each track's state to the history when its position was updated."""
        keys = tracks["party"].astype(str) + ":" + tracks["icao24"].astype(str)
        stamps = tracks["last_update_s"]
        before = keys.map(self._history_s).astype("float64")
        updated = stamps.notna() & tracks["latitude"].notna()
        updated &= before.isna() | (stamps > before)
        self._history_s = dict(zip(keys, stamps, strict=True))
        if not updated.any():
            return
        rows = tracks[updated]
        self.repository.store_track_history(
            pd.DataFrame(
                {
                    "party": rows["party"].astype(str).to_numpy(),
                    "icao24": rows["icao24"].astype(str).to_numpy(),
                    "t_s": rows["last_update_s"].to_numpy(float),
                    "latitude": rows["latitude"].to_numpy(float),
                    "longitude": rows["longitude"].to_numpy(float),
                    "altitude_ft": rows["altitude"].to_numpy(float),
                    "groundspeed_kt": rows["groundspeed"].to_numpy(float),
                    "track_deg": rows["track"].to_numpy(float),
                    "vertical_rate_fpm": rows["vertical_rate"].to_numpy(float),
                }
            )
        )

    def _audit_releases(self, pictures: Mapping[str, ReleasedPicture]) -> None:
        for party, released in pictures.items():
            now = {r.track_id: r.reasons for r in released.releases}
            owners = {r.track_id: r.party for r in released.releases}
            before = self._released.get(party, {})
            started = sorted(set(now) - set(before))
            ended = sorted(set(before) - set(now))
            if started or ended:
                self.repository.append_audit(
                    "server",
                    "release",
                    {
                        "viewer": party,
                        "started": [
                            {"track_id": t, "party": owners[t], "reasons": list(now[t])}
                            for t in started
                        ],
                        "ended": ended,
                    },
                )
            self._released[party] = now

    # -- reads --------------------------------------------------------------------

    def picture(
        self, principal: Principal, now_s: float | None = None
    ) -> ReleasedPicture:
        """What the principal's party may see now."""
        require(principal, Action.READ_PICTURE, "picture")
        now = self.clock() if now_s is None else float(now_s)
        assert self._monitor is not None
        with self._lock:
            tracks = self.store.tracks(now)
            alerts = self._monitor.alerts
        return visible_picture(
            tracks, principal.party, alerts=alerts, now_s=now, need=self._need_now
        )

    def alerts(self, principal: Principal) -> list[RedactedAlert]:
        """The current alerts that involve one of the principal's party's aircraft."""
        require(principal, Action.READ_ALERTS, "alerts")
        assert self._monitor is not None
        with self._lock:
            current = [
                a
                for a in self._monitor.alerts
                if a.state is AlertState.ACTIVE and principal.party in a.parties
            ]
        return visible_alerts(current, principal.party, need=self.need)

    def acknowledge_alert(self, principal: Principal, alert_id: str) -> RedactedAlert:
        """The principal's party acknowledges an active alert it is involved in.

        Raises:
            NotFoundError: no current alert the party is involved in has that id (an
                alert of other parties is not found either: its existence is not
                released).
            IllegalTransitionError: the alert is not active.
        """
        require(principal, Action.ACK_ALERT, f"alert {alert_id}")
        assert self._monitor is not None
        now = self.clock()
        with self._lock:
            alert = self._monitor.alert(alert_id)
            if alert is None or principal.party not in alert.parties:
                raise NotFoundError("alert", alert_id)
            acked, events = self._monitor.acknowledge(alert_id, principal.party, now)
            if events:
                self.repository.upsert_alert(
                    AlertRow.from_alert(acked, updated_at_s=now),
                    [
                        AlertEventRow.from_event(e, role=principal.role.value)
                        for e in events
                    ],
                    actor=_actor(principal),
                )
            subscribers = [
                s for s in self._subscribers.values() if s.party in acked.parties
            ]
            advice = self._advice.get(acked.alert_id, (None, None))
        for subscriber in subscribers:
            for shown in visible_alerts([acked], subscriber.party, need=self.need):
                message = alert_message(shown, advice)
                message["update"] = "acknowledgement"
                subscriber.deliver(FeedMessage.of(message))
        (mine,) = visible_alerts([acked], principal.party, need=self.need)
        return mine

    # -- the deconfliction line ------------------------------------------------------

    def send_message(
        self,
        principal: Principal,
        kind: str,
        body: Mapping[str, Any],
        *,
        recipients: Sequence[str] | None = None,
        language: str = "en",
        in_reply_to: str | None = None,
    ) -> dict[str, Any]:
        """Send a message on the line from the principal's party (stored, audited).

        A notification of planned operations becomes a zone: aircraft inside it are
        shown to every party while it is in force. An identification query is answered
        at once from the picture, with the owner's affiliation only.

        Raises:
            AccessDeniedError: the role may not send.
            ConfigError: a bad kind, body, recipient or language.
            MessageStateError: the channel is suspended and refuses this kind.
        """
        require(principal, Action.SEND_MESSAGE, "the deconfliction line")
        typed = body_from_json(kind, body)
        with self._lock:
            tracks = self.store.tracks(self.clock())
            message, outgoing = self.liaison.send(
                principal.party,
                principal.role.value,
                typed,
                recipients=recipients,
                language=language,
                in_reply_to=in_reply_to,
                picture=tracks,
            )
            if message.kind.value == "notification":
                self._refresh_zones()
        self._push(outgoing)
        return message_view(message, "sent")

    def messages(self, principal: Principal) -> list[dict[str, Any]]:
        """The messages sent by or to the principal's party; reading delivers them."""
        require(principal, Action.READ_MESSAGES, "the deconfliction line")
        with self._lock:
            rows, outgoing = self.liaison.read(principal.party, self.clock())
            views = []
            for row in rows:
                view = message_view(row)
                status = self.liaison.status(row.message_id)
                view["state"] = None if status is None else status.state.value
                views.append(view)
        self._push(outgoing)
        return views

    def acknowledge_message(
        self, principal: Principal, message_id: str
    ) -> dict[str, Any]:
        """The principal's party acknowledges a message it received (audited).

        Raises:
            NotFoundError: not a message this party received.
            MessageStateError: already acknowledged by this party.
        """
        require(principal, Action.ACK_MESSAGE, f"message {message_id}")
        with self._lock:
            status, outgoing = self.liaison.acknowledge(
                message_id, principal.party, principal.role.value
            )
        self._push(outgoing)
        return {"message_id": message_id, "state": status.state.value}

    def channels(self, principal: Principal) -> list[dict[str, Any]]:
        """The line's channels the principal's party is on."""
        require(principal, Action.READ_MESSAGES, "the deconfliction line")
        with self._lock:
            return [
                channel_view(c)
                for c in self.liaison.channels()
                if self.liaison.side_of(principal.party) in c.parties
            ]

    def set_channel(
        self, principal: Principal, channel_id: str, *, suspend: bool, reason: str = ""
    ) -> dict[str, Any]:
        """Suspend or restore a channel (commanders only; audited)."""
        action = Action.SUSPEND_CHANNEL if suspend else Action.RESTORE_CHANNEL
        require(principal, action, f"channel {channel_id}")
        with self._lock:
            if suspend:
                channel = self.liaison.suspend(
                    channel_id, principal.party, principal.role.value, reason
                )
            else:
                channel = self.liaison.restore(
                    channel_id, principal.party, principal.role.value
                )
            view = channel_view(channel)
            subscribers = [
                s
                for s in self._subscribers.values()
                if self.liaison.side_of(s.party) in channel.parties
            ]
        encoded = FeedMessage.of({"type": "channel", "channel": view})
        for subscriber in subscribers:
            subscriber.deliver(encoded)
        return view

    # -- subscribers -------------------------------------------------------------------

    def subscribe(self, party: str, deliver: Delivery) -> int:
        """Register a callback for one party's updates; returns a handle."""
        with self._lock:
            handle = id(deliver) ^ len(self._subscribers) << 48
            while handle in self._subscribers:
                handle += 1
            self._subscribers[handle] = _Subscriber(party=party, deliver=deliver)
        return handle

    def unsubscribe(self, handle: int) -> None:
        """Stop delivering to a callback."""
        with self._lock:
            self._subscribers.pop(handle, None)

    # -- start-up ------------------------------------------------------------------

    def recover(self) -> None:
        """After a (re)start: rebuild tracks from recent reports; end stale alerts."""
        now = self.clock()
        recent = self.repository.reports(since_s=now - self.config.rebuild_s)
        with self._lock:
            accepted = recent[recent["accepted"]]
            for party, rows in accepted.groupby("party", sort=True):
                table = rows.rename(columns=_STORED_TO_REPORT).drop(
                    columns=["batch_id", "party", "accepted", "reason"]
                )
                self.store.ingest(table.reset_index(drop=True), party=str(party))
            for row in self.repository.alerts(active_only=True):
                ended = AlertRow(
                    alert_id=row.alert_id,
                    aircraft_a=row.aircraft_a,
                    aircraft_b=row.aircraft_b,
                    parties=row.parties,
                    state=AlertState.EXPIRED.value,
                    level=0,
                    highest_level=row.highest_level,
                    raised_at_s=row.raised_at_s,
                    ended_at_s=now,
                    updated_at_s=now,
                )
                event = AlertEventRow(
                    alert_id=row.alert_id, kind="expired", at_s=now, level=0
                )
                self.repository.upsert_alert(ended, [event])


_STORED_TO_REPORT = {
    "timestamp_s": "timestamp",
    "altitude_ft": "altitude",
    "groundspeed_kt": "groundspeed",
    "track_deg": "track",
    "vertical_rate_fpm": "vertical_rate",
}


def _actor(principal: Principal) -> str:
    return f"{principal.party}/{principal.role.value}"


def _reports_table(records: Sequence[Mapping[str, Any]], party: str) -> pd.DataFrame:
    frame = pd.DataFrame(
        {name: [r.get(name) for r in records] for name in REPORT_FIELDS},
        columns=list(REPORT_FIELDS),
    )
    # epoch seconds as numbers, or ISO 8601 text; anything else is "no timestamp"
    stamp_s = pd.to_numeric(frame["timestamp"], errors="coerce").to_numpy(
        dtype=np.float64, na_value=np.nan, copy=True
    )
    text = np.isnan(stamp_s) & frame["timestamp"].map(lambda v: isinstance(v, str))
    if text.any():
        parsed = epoch_seconds(frame.loc[text, ["timestamp"]].astype(str))
        stamp_s[text.to_numpy()] = parsed
    typed = report_table(frame.assign(timestamp=stamp_s), source="api")
    typed["source"] = frame["source"].fillna("api").astype(str).to_numpy()
    typed["party"] = party
    return typed


def channel_view(channel: Channel) -> dict[str, Any]:
    """A channel as its parties see it (JSON-ready)."""
    return {
        "channel_id": channel.channel_id,
        "parties": sorted(channel.parties),
        "state": channel.state.value,
        "since_s": channel.since_s,
        "suspended_by": channel.suspended_by,
        "reason": channel.reason,
    }


def picture_message(released: ReleasedPicture) -> dict[str, Any]:
    """The live feed's picture update for one party (JSON-ready)."""
    return {
        "type": "picture",
        "at_s": released.now_s,
        "own": _records(released.own),
        "others": [_clean(r) for r in released.foreign_records()],
    }


def picture_feed_message(released: ReleasedPicture) -> FeedMessage:
    """:func:`picture_message`, encoded: the own rows go straight from pandas' JSON
    writer into the text (the largest part of the feed, never decoded and re-encoded)."""
    own = (
        released.own.to_json(orient="records", double_precision=15)
        if len(released.own)
        else "[]"
    )
    others = json.dumps(
        [_clean(r) for r in released.foreign_records()], allow_nan=False
    )
    at_s = json.dumps(released.now_s, allow_nan=False)
    text = f'{{"type": "picture", "at_s": {at_s}, "own": {own}, "others": {others}}}'
    return FeedMessage(kind="picture", text=text)


def alert_message(
    alert: RedactedAlert,
    advice: tuple[Advisory | None, Advisory | None] = (None, None),
) -> dict[str, Any]:
    """The live feed's alert update (JSON-ready)."""
    return {"type": "alert", "alert": alert_view(alert, advice)}


def advisory_view(advisory: Advisory, aircraft: AlertAircraft) -> dict[str, Any]:
    """One aircraft's advised manoeuvre as a party sees it: for its own aircraft the
    manoeuvre and the velocity it leads to; for the other party's, only what it will
    do (its velocity is released no further than the picture releases it)."""
    view: dict[str, Any] = {
        "track_id": aircraft.track_id,
        "own": aircraft.own,
        "kind": advisory.kind.value,
        "text": advisory.text,
    }
    if aircraft.own:
        view["track_deg"] = round(advisory.trk_deg, 1)
        view["groundspeed_kt"] = round(float(mps_to_kt(advisory.gs_mps)), 1)
        view["vertical_rate_fpm"] = round(float(mps_to_fpm(advisory.vs_mps)), 0)
    return view


def alert_view(
    alert: RedactedAlert,
    advice: tuple[Advisory | None, Advisory | None] = (None, None),
) -> dict[str, Any]:
    """An alert as a party sees it (JSON-ready), with the coordinated advice for its
    two aircraft when there is one (own aircraft first)."""
    advisories = [
        advisory_view(advisory, aircraft)
        for advisory, aircraft in zip(advice, alert.aircraft, strict=True)
        if advisory is not None
    ]
    advisories.sort(key=lambda a: not a["own"])
    return {
        "alert_id": alert.alert_id,
        "state": alert.state.value,
        "level": alert.level,
        "highest_level": alert.highest_level,
        "aircraft": [
            {
                "track_id": a.track_id,
                "own": a.own,
                "icao24": a.icao24,
                "party": a.party,
                "bloc": a.bloc,
            }
            for a in alert.aircraft
        ],
        "acknowledged_by": sorted(alert.acknowledged_by),
        "raised_at_s": alert.raised_at_s,
        "predicted_los_at_s": alert.predicted_los_at_s,
        "los_at_s": alert.los_at_s,
        "ended_at_s": alert.ended_at_s,
        "warning_time_s": alert.warning_time_s,
        "advisories": advisories,
    }


def _records(frame: pd.DataFrame) -> list[dict[str, Any]]:
    """Rows as JSON-ready dicts (missing values None), built by pandas' JSON writer."""
    if not len(frame):
        return []
    records: list[dict[str, Any]] = json.loads(
        frame.to_json(orient="records", double_precision=15)
    )
    return records


def _clean(row: Mapping[Any, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in row.items():
        if isinstance(value, (np.floating, float)):
            number = float(value)
            out[str(key)] = number if np.isfinite(number) else None
        elif isinstance(value, np.integer):
            out[str(key)] = int(value)
        elif isinstance(value, np.bool_):
            out[str(key)] = bool(value)
        elif value is None or value is pd.NA or value is pd.NaT:
            out[str(key)] = None
        elif isinstance(value, (list, tuple, frozenset, set)):
            out[str(key)] = sorted(str(v) for v in value)
        else:
            out[str(key)] = value if isinstance(value, (str, int, bool)) else str(value)
    return out
