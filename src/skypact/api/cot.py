"""Cursor on Target output for TAK clients (ATAK, WinTAK): ``skypact serve --cot-port``.

:class:`CotServer` is a TCP (or TLS) server that streams each connected party's live
picture as CoT XML events, one ``<event>...</event>`` after another with a newline
between them, as a TAK server streams them. One connection is one party's TAK client;
it receives exactly what the service delivers to that party (the same messages as the
WebSocket feed, :mod:`skypact.api.routes.live`) and nothing else. What the client sends
is read and discarded: reports reach SkyPact through the API, with its validation and
its audit, never through this feed. Once admitted, a client is sent the party's current
alerts and picture at once, then every update as the cycles deliver them.

**Authentication**, one of:

- **client certificates** (``ssl_context.verify_mode == ssl.CERT_REQUIRED``, a CA the
  operator gives; see :func:`ssl_context_for`): the party is the **Organization (O)**
  of the certificate's subject, which must be exactly one party of the agreement (a
  certificate with no O, several, or one naming no party is refused). A certificate
  admits the party's TAK clients to this feed only, read-only: the connection acts as
  the party's ``analyst``.
- **a token line** (plain TCP, or TLS without client certificates): the client's
  first line, within :data:`AUTH_TIMEOUT_S`, is ``SKYPACT-TOKEN <token>`` (a token of
  ``skypact token create``; a TAK client fronted by a small proxy, or pytak's TX queue,
  can send it). The token is checked as the API checks a bearer token, and its role
  must be allowed to read the picture (an auditor's is not).

Every refusal (failed TLS handshake, certificate naming no party, missing, malformed,
unknown, expired or revoked token, a role without the picture) closes the connection
and is recorded in the audit chain (``refused``, with ``"where": "cot"``; never the
token itself).

**Mapping** of a picture update (every cycle), one event per aircraft:

=================== ==============================================================
CoT                 value
=================== ==============================================================
``uid``             ``SKYPACT-<track_id>``: the viewer's handle, never the icao24
``type``            by affiliation relative to the viewer: its own aircraft
                    ``a-f-A-M-F`` (friend, air, military fixed wing: the parties
                    are air forces); a bloc partner's ``a-f-A`` (friend); another
                    party's ``a-n-A`` (neutral: the signatories of the agreement
                    are not hostile to one another); a foreign aircraft whose
                    affiliation its owner does not release ``a-u-A`` (unknown)
``how``             ``m-f`` (machine, fused: a track fuses its party's sources)
``time``, ``start`` the picture's time; ``stale`` that plus :data:`STALE_CYCLES`
                    picture periods, so an aircraft no longer shown soon fades
``point``           ``lat``/``lon``; ``hae`` in metres from the track's geometric
                    altitude if it has one, else from its barometric altitude (an
                    approximation a map can draw; ``<_skypact_ hae_source>`` says
                    which); ``ce``/``le`` the track's own errors, else 9999999
                    (unknown)
``track``           ``course`` (deg true) and ``speed`` (m/s), when known
``contact``         ``callsign``: own aircraft only, or a foreign one whose owner
                    releases its callsign
``remarks``         own: the track's status; foreign: the owner if released, why
                    it is shown (``released: alert <id>, level N (name)`` for each
                    active alert the viewer received naming it, else the
                    proximity/shared-zone rule) and when its position was measured
``_skypact_``       SkyPact's own detail (other consumers ignore it):
                    ``track_id``, ``altitude_ft``, ``vertical_rate_fpm``,
                    ``position_at`` and what the service gave of ``party``,
                    ``bloc`` and (own aircraft only) ``icao24`` and ``status``
=================== ==============================================================

An aircraft shown by the previous update and absent from this one (its release ended,
its track dropped) is removed at once with a ``t-x-d-d`` delete event (TAK's
``<link>`` + ``<__forcedelete/>``), rather than left on the map until stale.

**Alerts.** An active alert is a TAK alert marker of type ``b-a-o-c`` (ATAK's *custom*
alert, shown with the alert icon and listed among alerts), uid ``SKYPACT-ALERT-<id>``,
at the midpoint of the pair (the viewer's aircraft alone when the other's position is
not known), with ``<emergency type="Custom">``, a ``<link relation="p-p">`` to the
viewer's aircraft and remarks such as ``SkyPact alert <id> active: conflict level 2
(caution) with a neutral (rus) aircraft SKYPACT-... (own aircraft VIPER11); predicted
loss of separation at ...``. It is sent after the aircraft of each update, so it
follows the pair and its position is that of the same update, and it is refreshed
every update while active (an alert message is held until the next picture). When the
alert ends (cleared, expired) a ``b-a-o-can`` (alert cancelled) event with the same
uid and ``<emergency cancel="true">`` removes it. An alert names the other aircraft
only by the viewer's handle and the affiliation the service released.

**Slow clients.** Each connection has a bounded queue of :data:`QUEUE_SIZE` service
messages; a client that falls that far behind (it does not read, its link is too slow)
is disconnected, logged and audited (``disconnected``, ``"reason": "client too slow"``)
rather than slowing the service or growing memory.

Units: CoT speaks SI (``hae``, ``ce``, ``le`` in m, ``speed`` in m/s); the picture is
in aviation units and is converted with :mod:`skypact.units`. Times are UTC, written to
the millisecond.

References: MITRE's Cursor-on-Target event schema 2.0; the TAK conventions for
``t-x-d-d`` deletion and ``b-a-o-*`` alerts as ATAK implements them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import re
import ssl
import xml.etree.ElementTree as ET
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, NoReturn

from pyproj import Geod

from skypact.api.deps import authenticate
from skypact.errors import AccessDeniedError, AuthenticationError, ConfigError
from skypact.parties.access import require
from skypact.parties.model import Action, Principal, Role
from skypact.runtime import Runtime
from skypact.service import FeedMessage, alert_message, picture_message
from skypact.units import ft_to_m, kt_to_mps

__all__ = [
    "ALERT_CANCEL_TYPE",
    "ALERT_TYPE",
    "AUTH_TIMEOUT_S",
    "BLOC_TYPE",
    "DELETE_TYPE",
    "OWN_TYPE",
    "PARTY_TYPE",
    "QUEUE_SIZE",
    "STALE_CYCLES",
    "TOKEN_PREFIX",
    "UNKNOWN_TYPE",
    "CotFeed",
    "CotServer",
    "serve_cot",
    "ssl_context_for",
]

_log = logging.getLogger(__name__)

AUTH_TIMEOUT_S = 10.0
"""Seconds a client has to complete the TLS handshake, then to send its token line."""
QUEUE_SIZE = 256
"""Service messages a connection may hold unsent before it is disconnected."""
STALE_CYCLES = 3.0
"""An event goes stale this many detection cycles after it was sent."""
TOKEN_PREFIX = "SKYPACT-TOKEN"
"""The first word of the token line: ``SKYPACT-TOKEN <token>``."""

OWN_TYPE = "a-f-A-M-F"
"""The viewer's own aircraft: friend, air, military, fixed wing."""
BLOC_TYPE = "a-f-A"
"""A bloc partner's aircraft: friend, air."""
PARTY_TYPE = "a-n-A"
"""Another party's aircraft: neutral, air (the agreement's parties are not hostile)."""
UNKNOWN_TYPE = "a-u-A"
"""A foreign aircraft whose affiliation is not released: unknown, air."""
ALERT_TYPE = "b-a-o-c"
"""An active conflict alert: TAK's custom alert marker."""
ALERT_CANCEL_TYPE = "b-a-o-can"
"""An alert that ended: TAK's alert cancellation."""
DELETE_TYPE = "t-x-d-d"
"""An aircraft no longer shown: TAK's delete event."""

UID_PREFIX = "SKYPACT-"
_ALERT_UID_PREFIX = "SKYPACT-ALERT-"
_HOW = "m-f"
_UNKNOWN_M = 9_999_999.0  # CoT's "unknown" for hae, ce and le
_WHERE = "cot"
_XML_UNSAFE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_WGS84 = Geod(ellps="WGS84")
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


# --------------------------------------------------------------------------- TLS


def ssl_context_for(
    cert: str | Path, key: str | Path, client_ca: str | Path | None = None
) -> ssl.SSLContext:
    """The server side of TLS 1.2+ for the CoT feed.

    Args:
        cert: the server's certificate chain (PEM).
        key: its private key (PEM).
        client_ca: the CA (PEM) that signs the parties' client certificates; given,
            clients must present one (``CERT_REQUIRED``) and its subject's
            Organization names their party.

    Raises:
        ConfigError: a file cannot be read or does not hold what it should.
    """
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    try:
        context.load_cert_chain(str(cert), str(key))
    except (OSError, ssl.SSLError) as exc:
        raise ConfigError(
            "--tls-cert/--tls-key", str(cert), f"unusable: {_why(exc)}"
        ) from exc
    if client_ca is not None:
        try:
            context.load_verify_locations(cafile=str(client_ca))
        except (OSError, ssl.SSLError) as exc:
            raise ConfigError(
                "--client-ca", str(client_ca), f"unusable: {_why(exc)}"
            ) from exc
        context.verify_mode = ssl.CERT_REQUIRED
    return context


def _why(exc: BaseException) -> str:
    if isinstance(exc, ssl.SSLError) and exc.reason:
        return str(exc.reason)
    if isinstance(exc, OSError) and exc.strerror:
        return exc.strerror
    return str(exc) or type(exc).__name__


# --------------------------------------------------------------------------- mapping


@dataclass(frozen=True, slots=True)
class _Placed:
    """Where an aircraft was drawn in the last update, for alerts and deletion."""

    lat_deg: float
    lon_deg: float
    cot_type: str
    label: str


@dataclass
class CotFeed:
    """One party's service messages turned into CoT events (no I/O; see module doc).

    Attributes:
        party: the viewing party.
        bloc: its bloc (``None``: none); a foreign aircraft of the same bloc is a
            friend.
        stale_s: how long after its time an event goes stale.
        level_names: alert severity -> the agreement's name for it.

    Key methods: :meth:`translate` (a service message -> CoT events, UTF-8 XML, each
    ending with a newline).
    """

    party: str
    bloc: str | None
    stale_s: float
    level_names: Mapping[int, str] = field(default_factory=dict)
    _shown: dict[str, _Placed] = field(default_factory=dict)
    _alerts: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    _pending: dict[str, Mapping[str, Any]] = field(default_factory=dict)
    _alert_points: dict[str, tuple[float, float]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not (math.isfinite(self.stale_s) and self.stale_s > 0.0):
            raise ValueError(f"stale_s must be positive, not {self.stale_s}")

    def translate(self, message: Mapping[str, Any]) -> list[bytes]:
        """The CoT events one service message gives (possibly none).

        An ``alert`` message gives nothing at once: alerts are written after the
        aircraft of the next ``picture``, with that picture's positions. Other
        messages (the deconfliction line, channels) have no CoT form here.
        """
        kind = message.get("type")
        if kind == "alert":
            view = message.get("alert")
            if isinstance(view, Mapping) and isinstance(view.get("alert_id"), str):
                self._pending[view["alert_id"]] = view
            return []
        if kind == "picture":
            return self._picture(message)
        return []

    # -- pictures ----------------------------------------------------------------

    def _picture(self, message: Mapping[str, Any]) -> list[bytes]:
        now_s = float(message["at_s"])
        ended = self._take_pending()
        events: list[bytes] = []
        shown: dict[str, _Placed] = {}
        for row in message.get("own", ()):
            placed = self._aircraft(row, now_s, own=True, out=events)
            if placed is not None:
                shown[str(row["track_id"])] = placed
        for row in message.get("others", ()):
            placed = self._aircraft(row, now_s, own=False, out=events)
            if placed is not None:
                shown[str(row["track_id"])] = placed
        for track_id, gone in self._shown.items():
            if track_id not in shown:
                events.append(_delete_event(_uid(track_id), gone, now_s, self.stale_s))
        self._shown = shown
        for view in self._alerts.values():
            event = self._alert_event(view, now_s, cancel=False)
            if event is not None:
                events.append(event)
        for view in ended:  # cancel what this client was shown
            if str(view["alert_id"]) in self._alert_points:
                event = self._alert_event(view, now_s, cancel=True)
                if event is not None:
                    events.append(event)
                self._alert_points.pop(str(view["alert_id"]))
        return events

    def _take_pending(self) -> list[Mapping[str, Any]]:
        """Apply the alerts received since the last picture; return those that ended."""
        ended = []
        for alert_id, view in self._pending.items():
            if view.get("state") == "active":
                self._alerts[alert_id] = view
            elif view.get("state") in ("cleared", "expired"):
                self._alerts.pop(alert_id, None)
                ended.append(view)
        self._pending.clear()
        return ended

    def _aircraft(
        self, row: Mapping[str, Any], now_s: float, *, own: bool, out: list[bytes]
    ) -> _Placed | None:
        lat_deg, lon_deg = _number(row, "latitude"), _number(row, "longitude")
        if lat_deg is None or lon_deg is None:
            _log.debug("track %s has no position: not sent", row.get("track_id"))
            return None
        track_id = str(row["track_id"])
        uid = _uid(track_id)
        cot_type = OWN_TYPE if own else self._foreign_type(row)
        geo_ft = _number(row, "geoaltitude") if own else None
        baro_ft = _number(row, "altitude")
        hae_ft = geo_ft if geo_ft is not None else baro_ft
        event = _event(
            uid=uid,
            cot_type=cot_type,
            time_s=now_s,
            stale_s=self.stale_s,
            lat_deg=lat_deg,
            lon_deg=lon_deg,
            hae_m=None if hae_ft is None else ft_to_m(hae_ft),
            ce_m=_number(row, "ce_m") if own else None,
            le_m=_number(row, "le_m") if own else None,
        )
        detail = ET.SubElement(event, "detail")
        motion = {}
        course_deg, speed_kt = _number(row, "track"), _number(row, "groundspeed")
        if course_deg is not None:
            motion["course"] = _format(course_deg % 360.0, 2)
        if speed_kt is not None:
            motion["speed"] = _format(kt_to_mps(speed_kt), 2)
        if motion:
            ET.SubElement(detail, "track", motion)
        callsign = _text(row.get("callsign"))
        if callsign is not None:  # own rows carry it; foreign ones only if released
            ET.SubElement(detail, "contact", {"callsign": callsign})
        ET.SubElement(detail, "remarks").text = (
            self._own_remarks(row) if own else self._foreign_remarks(row, track_id)
        )
        skypact = {"track_id": track_id}
        for key in ("party", "bloc") + (("icao24", "status") if own else ()):
            value = _text(row.get(key))
            if value is not None:
                skypact[key] = value
        if baro_ft is not None:
            skypact["altitude_ft"] = _format(baro_ft, 1)
        rate_fpm = _number(row, "vertical_rate")
        if rate_fpm is not None:
            skypact["vertical_rate_fpm"] = _format(rate_fpm, 1)
        measured_s = _number(row, "last_update_s")
        if measured_s is not None:
            skypact["position_at"] = _iso(measured_s)
        if hae_ft is not None:
            skypact["hae_source"] = "geoaltitude" if geo_ft is not None else "altitude"
        ET.SubElement(detail, "_skypact_", skypact)
        out.append(_serialise(event))
        return _Placed(lat_deg, lon_deg, cot_type, callsign or uid)

    def _foreign_type(self, row: Mapping[str, Any]) -> str:
        party, bloc = _text(row.get("party")), _text(row.get("bloc"))
        if party is None and bloc is None:
            return UNKNOWN_TYPE
        if self.bloc is not None and bloc == self.bloc:
            return BLOC_TYPE
        return PARTY_TYPE

    def _own_remarks(self, row: Mapping[str, Any]) -> str:
        status = _text(row.get("status"))
        parts = [f"own aircraft ({self.party})" + (f", {status}" if status else "")]
        measured_s = _number(row, "last_update_s")
        if measured_s is not None:
            parts.append(f"position at {_iso(measured_s)}")
        return "; ".join(parts)

    def _foreign_remarks(self, row: Mapping[str, Any], track_id: str) -> str:
        owner = _text(row.get("party"))
        bloc = _text(row.get("bloc"))
        if owner is None and bloc is None:
            who = "aircraft of unreleased affiliation"
        else:
            who = f"{owner or 'a party'} aircraft" + (f" (bloc {bloc})" if bloc else "")
        reasons = [
            f"alert {alert_id}, {_level_text(view.get('level'), self.level_names)}"
            for alert_id, view in sorted(self._alerts.items())
            if any(a.get("track_id") == track_id for a in view.get("aircraft", ()))
        ]
        why = ", ".join(reasons) or "within the disclosure radius or a shared zone"
        parts = [who, f"released: {why}"]
        measured_s = _number(row, "last_update_s")
        if measured_s is not None:
            parts.append(f"position at {_iso(measured_s)}")
        return "; ".join(parts)

    # -- alerts ------------------------------------------------------------------

    def _alert_event(
        self, view: Mapping[str, Any], now_s: float, *, cancel: bool
    ) -> bytes | None:
        alert_id = str(view["alert_id"])
        aircraft = [a for a in view.get("aircraft", ()) if isinstance(a, Mapping)]
        mine = [a for a in aircraft if a.get("own")]
        theirs = [a for a in aircraft if not a.get("own")]
        points = [
            self._shown[str(a.get("track_id"))]
            for a in mine + theirs
            if str(a.get("track_id")) in self._shown
        ]
        if len(points) >= 2:
            point = _midpoint(points[0], points[1])
        elif points:
            point = (points[0].lat_deg, points[0].lon_deg)
        elif alert_id in self._alert_points:
            point = self._alert_points[alert_id]
        else:
            _log.debug("alert %s: no position of its aircraft yet", alert_id)
            return None
        self._alert_points[alert_id] = point
        own_label = next(
            (
                self._shown[str(a.get("track_id"))].label
                for a in mine
                if str(a.get("track_id")) in self._shown
            ),
            _uid(str(mine[0].get("track_id"))) if mine else "own aircraft",
        )
        level_text = _level_text(
            view.get("highest_level" if cancel else "level"), self.level_names
        )
        others = " and ".join(
            f"{self._affiliation_words(a)} aircraft {_uid(str(a.get('track_id')))}"
            for a in theirs
        )
        remarks = [
            f"SkyPact alert {alert_id} {view.get('state')}: conflict {level_text}"
            + (f" with {others}" if others else "")
            + f" (own aircraft {own_label})"
        ]
        los_s = view.get("predicted_los_at_s")
        if isinstance(los_s, int | float) and not cancel:
            remarks.append(f"predicted loss of separation at {_iso(float(los_s))}")
        acked = view.get("acknowledged_by") or []
        if acked:
            remarks.append("acknowledged by " + ", ".join(str(p) for p in acked))
        event = _event(
            uid=_ALERT_UID_PREFIX + alert_id,
            cot_type=ALERT_CANCEL_TYPE if cancel else ALERT_TYPE,
            time_s=now_s,
            stale_s=self.stale_s,
            lat_deg=point[0],
            lon_deg=point[1],
            hae_m=None,
            ce_m=None,
            le_m=None,
        )
        detail = ET.SubElement(event, "detail")
        ET.SubElement(
            detail, "contact", {"callsign": f"SkyPact {level_text}: {own_label}"}
        )
        for a in mine:
            ET.SubElement(
                detail,
                "link",
                {
                    "uid": _uid(str(a.get("track_id"))),
                    "type": OWN_TYPE,
                    "relation": "p-p",
                },
            )
        emergency = ET.SubElement(
            detail,
            "emergency",
            {"cancel": "true"} if cancel else {"type": "Custom"},
        )
        emergency.text = f"SkyPact conflict {level_text}"
        ET.SubElement(detail, "remarks").text = "; ".join(remarks)
        return _serialise(event)

    def _affiliation_words(self, aircraft: Mapping[str, Any]) -> str:
        party, bloc = _text(aircraft.get("party")), _text(aircraft.get("bloc"))
        if party is None and bloc is None:
            return "an unknown (affiliation not released)"
        if self.bloc is not None and bloc == self.bloc:
            return f"a friendly bloc partner's ({party})"
        return f"a neutral ({party})"


def _event(
    *,
    uid: str,
    cot_type: str,
    time_s: float,
    stale_s: float,
    lat_deg: float,
    lon_deg: float,
    hae_m: float | None,
    ce_m: float | None,
    le_m: float | None,
) -> ET.Element:
    event = ET.Element(
        "event",
        {
            "version": "2.0",
            "uid": uid,
            "type": cot_type,
            "how": _HOW,
            "time": _iso(time_s),
            "start": _iso(time_s),
            "stale": _iso(time_s + stale_s),
        },
    )
    ET.SubElement(
        event,
        "point",
        {
            "lat": _format(lat_deg, 7),
            "lon": _format(lon_deg, 7),
            "hae": _format(_UNKNOWN_M if hae_m is None else hae_m, 1),
            "ce": _format(_UNKNOWN_M if ce_m is None or ce_m < 0 else ce_m, 1),
            "le": _format(_UNKNOWN_M if le_m is None or le_m < 0 else le_m, 1),
        },
    )
    return event


def _delete_event(uid: str, gone: _Placed, now_s: float, stale_s: float) -> bytes:
    event = _event(
        uid=uid,
        cot_type=DELETE_TYPE,
        time_s=now_s,
        stale_s=stale_s,
        lat_deg=gone.lat_deg,
        lon_deg=gone.lon_deg,
        hae_m=None,
        ce_m=None,
        le_m=None,
    )
    detail = ET.SubElement(event, "detail")
    ET.SubElement(
        detail, "link", {"uid": uid, "type": gone.cot_type, "relation": "none"}
    )
    ET.SubElement(detail, "__forcedelete")
    return _serialise(event)


def _serialise(event: ET.Element) -> bytes:
    return bytes(ET.tostring(event, encoding="utf-8")) + b"\n"


def _level_text(level: object, names: Mapping[int, str]) -> str:
    name = names.get(level) if isinstance(level, int) else None
    return f"level {level}" + (f" ({name})" if name else "")


def _uid(track_id: str) -> str:
    return UID_PREFIX + track_id


def _midpoint(a: _Placed, b: _Placed) -> tuple[float, float]:
    azimuth_deg, _, distance_m = _WGS84.inv(a.lon_deg, a.lat_deg, b.lon_deg, b.lat_deg)
    lon_deg, lat_deg, _ = _WGS84.fwd(a.lon_deg, a.lat_deg, azimuth_deg, distance_m / 2)
    return float(lat_deg), float(lon_deg)


def _number(row: Mapping[str, Any], key: str) -> float | None:
    value = row.get(key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) else None


def _text(value: object) -> str | None:
    if not isinstance(value, str):
        return None
    text = _XML_UNSAFE.sub("?", value).strip()
    return text or None


def _format(value: float, digits: int) -> str:
    text = f"{value:.{digits}f}"
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


def _iso(t_s: float) -> str:
    at = _EPOCH + timedelta(milliseconds=round(t_s * 1000.0))
    return f"{at:%Y-%m-%dT%H:%M:%S}.{at.microsecond // 1000:03d}Z"


# --------------------------------------------------------------------------- server


class _Refused(Exception):
    """A connection is refused (already audited); internal control flow only."""


class CotServer:
    """The CoT feed's TCP/TLS server (see the module docstring).

    Args:
        runtime: the opened service.
        host, port: where to listen (port 0: any free port).
        ssl_context: TLS (see :func:`ssl_context_for`); ``None``: plain TCP. With
            ``verify_mode == CERT_REQUIRED`` clients are authenticated by their
            certificate, otherwise by a token line.
        queue_size: service messages a client may fall behind before it is cut.
        stale_s: how long events stay valid (default :data:`STALE_CYCLES` cycles).
        auth_timeout_s: the time for the TLS handshake, then for the token line.

    Key methods: :meth:`start`, :meth:`stop`; :attr:`address`, :attr:`clients`
    (connections being served).
    """

    def __init__(
        self,
        runtime: Runtime,
        host: str,
        port: int,
        ssl_context: ssl.SSLContext | None = None,
        *,
        queue_size: int = QUEUE_SIZE,
        stale_s: float | None = None,
        auth_timeout_s: float = AUTH_TIMEOUT_S,
    ) -> None:
        if queue_size < 1:
            raise ValueError(f"queue_size must be >= 1, not {queue_size}")
        self._runtime = runtime
        self._host = host
        self._port = port
        self._ssl = ssl_context
        self._queue_size = queue_size
        self._stale_s = (
            STALE_CYCLES * max(runtime.settings.cycle_s, runtime.settings.picture_s)
            if stale_s is None
            else stale_s
        )
        self._auth_timeout_s = auth_timeout_s
        content = runtime.service.agreement.content
        self._blocs = {p.id: p.bloc for p in content.parties}
        self._level_names = {lv.severity: lv.name for lv in content.alerting.levels}
        self._server: asyncio.Server | None = None
        self._tasks: set[asyncio.Task[None]] = set()
        self._clients = 0

    @property
    def clients(self) -> int:
        """How many authenticated clients are being served now."""
        return self._clients

    @property
    def address(self) -> tuple[str, int]:
        """The address listened on (host, port).

        Raises:
            RuntimeError: the server is not started.
        """
        if self._server is None:
            raise RuntimeError("the CoT server is not started")
        host, port = self._server.sockets[0].getsockname()[:2]
        return str(host), int(port)

    async def start(self) -> tuple[str, int]:
        """Listen; returns the address actually bound (host, port)."""
        if self._server is not None:
            raise RuntimeError("the CoT server is already started")
        self._server = await asyncio.start_server(
            self._accepted, self._host, self._port
        )
        host, port = self.address
        _log.info(
            "CoT feed on %s:%d (%s)",
            host,
            port,
            "plain TCP" if self._ssl is None else "TLS",
        )
        return host, port

    async def stop(self) -> None:
        """Stop listening and close every connection."""
        server, self._server = self._server, None
        if server is None:
            return
        server.close()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()

    # -- one connection ----------------------------------------------------------

    def _accepted(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        # Called from connection_made: pausing now keeps the client's first TLS bytes
        # on the socket for the handshake, instead of in the plain-text reader.
        transport = writer.transport
        if self._ssl is not None and isinstance(transport, asyncio.ReadTransport):
            transport.pause_reading()
        task = asyncio.get_running_loop().create_task(self._serve(reader, writer))
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _serve(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        peer = _peer(writer)
        try:
            await self._session(reader, writer, peer)
        except _Refused:
            pass
        except Exception:  # a connection's entrypoint: log it; the others go on
            _log.exception("CoT feed to %s failed", peer)
        finally:
            await _close(writer)

    async def _session(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> None:
        principal = await self._admit(reader, writer, peer)
        self._clients += 1
        _log.info("CoT client of %s connected from %s", principal.party, peer)
        try:
            overflowed = await self._stream(principal, reader, writer)
        finally:
            self._clients -= 1
        if not overflowed:
            _log.info("CoT client of %s at %s disconnected", principal.party, peer)
            return
        _log.warning(
            "CoT client of %s at %s fell %d updates behind: disconnected",
            principal.party,
            peer,
            self._queue_size,
        )
        await asyncio.to_thread(
            self._runtime.repository.append_audit,
            "server",
            "disconnected",
            {"party": principal.party, "reason": "client too slow",
             "where": _WHERE, "peer": peer, "queue_size": self._queue_size},
        )  # fmt: skip

    async def _admit(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, peer: str
    ) -> Principal:
        if self._ssl is not None:
            try:
                await writer.start_tls(
                    self._ssl, ssl_handshake_timeout=self._auth_timeout_s
                )
            except (OSError, TimeoutError) as exc:  # ssl.SSLError is an OSError
                await self._refuse(
                    "anonymous",
                    {"action": "authenticate",
                     "reason": f"TLS handshake failed: {_why(exc)}"},
                    peer,
                )  # fmt: skip
            if self._ssl.verify_mode == ssl.CERT_REQUIRED:
                return await self._certificate_principal(writer, peer)
        return await self._token_principal(reader, peer)

    async def _certificate_principal(
        self, writer: asyncio.StreamWriter, peer: str
    ) -> Principal:
        certificate = writer.get_extra_info("peercert") or {}
        names = sorted(
            {
                str(value)
                for rdn in certificate.get("subject", ())
                for key, value in rdn
                if key == "organizationName"
            }
        )
        parties = self._runtime.service.parties
        if len(names) != 1 or names[0] not in parties:
            await self._refuse(
                "anonymous",
                {"action": "authenticate",
                 "reason": "certificate names no party of the agreement",
                 "organization": names,
                 "serial": str(certificate.get("serialNumber", ""))},
                peer,
            )  # fmt: skip
        return Principal(names[0], Role.ANALYST)

    async def _token_principal(
        self, reader: asyncio.StreamReader, peer: str
    ) -> Principal:
        try:
            line = await asyncio.wait_for(reader.readline(), self._auth_timeout_s)
        except (TimeoutError, ValueError, OSError):  # slow, too long, or gone
            line = b""
        word, _, token = line.decode("utf-8", "replace").strip().partition(" ")
        header = f"Bearer {token.strip()}" if word == TOKEN_PREFIX else None
        try:
            principal = await asyncio.to_thread(
                authenticate, self._runtime, header, _WHERE
            )
        except AuthenticationError as exc:
            _log.info("CoT client at %s refused: %s", peer, exc)
            raise _Refused from exc
        try:
            require(principal, Action.READ_PICTURE, "the CoT feed")
        except AccessDeniedError as exc:
            await self._refuse(
                f"{principal.party}/{principal.role.value}",
                {"action": str(Action.READ_PICTURE), "reason": str(exc),
                 "token_id": principal.token_id},
                peer,
            )  # fmt: skip
        return principal

    async def _refuse(self, actor: str, payload: dict[str, Any], peer: str) -> NoReturn:
        _log.info("CoT client at %s refused: %s", peer, payload["reason"])
        await asyncio.to_thread(
            self._runtime.repository.append_audit,
            actor,
            "refused",
            {**payload, "where": _WHERE, "peer": peer},
        )
        raise _Refused

    async def _stream(
        self,
        principal: Principal,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
    ) -> bool:
        """Serve one admitted client until it leaves; whether it fell behind."""
        service = self._runtime.service
        loop = asyncio.get_running_loop()
        queue: asyncio.Queue[Mapping[str, Any] | FeedMessage] = asyncio.Queue(
            self._queue_size
        )
        overflowed = False

        def put(message: Mapping[str, Any] | FeedMessage) -> None:
            nonlocal overflowed
            if overflowed:
                return
            try:
                queue.put_nowait(message)
            except asyncio.QueueFull:
                overflowed = True
                writer.transport.abort()  # also frees a sender stuck in drain()

        def deliver(message: FeedMessage) -> None:  # called from the cycle's thread
            with contextlib.suppress(
                RuntimeError
            ):  # the loop is gone: so is the client
                loop.call_soon_threadsafe(put, message)

        feed = CotFeed(
            party=principal.party,
            bloc=self._blocs.get(principal.party),
            stale_s=self._stale_s,
            level_names=self._level_names,
        )
        handle = service.subscribe(principal.party, deliver)
        try:
            for message in await asyncio.to_thread(self._current, principal):
                put(message)
            sender = asyncio.create_task(self._send(queue, feed, writer))
            receiver = asyncio.create_task(_discard(reader))
            try:
                await asyncio.wait(
                    {sender, receiver}, return_when=asyncio.FIRST_COMPLETED
                )
            finally:
                for task in (sender, receiver):
                    task.cancel()
                await asyncio.gather(sender, receiver, return_exceptions=True)
        finally:
            service.unsubscribe(handle)
        return overflowed

    def _current(self, principal: Principal) -> list[dict[str, Any]]:
        """What a new client is sent at once: the current alerts, then the picture."""
        service = self._runtime.service
        alerts = [
            alert_message(a, service.advice_of(a.alert_id))
            for a in service.alerts(principal)
        ]
        return [*alerts, picture_message(service.picture(principal))]

    @staticmethod
    async def _send(
        queue: asyncio.Queue[Mapping[str, Any] | FeedMessage],
        feed: CotFeed,
        writer: asyncio.StreamWriter,
    ) -> None:
        try:
            while True:
                item = await queue.get()
                if isinstance(item, FeedMessage):
                    if item.kind not in ("alert", "picture"):
                        continue  # no CoT form: not worth decoding
                    item = item.data()
                events = feed.translate(item)
                if events:
                    writer.write(b"".join(events))
                    await writer.drain()
        except OSError:  # reset, aborted for falling behind, TLS failure
            return


async def _discard(reader: asyncio.StreamReader) -> None:
    """Read and drop what the client sends (its own PLI, pings) until it leaves."""
    try:
        while await reader.read(1 << 16):
            pass
    except OSError:
        return


async def _close(writer: asyncio.StreamWriter) -> None:
    writer.close()
    with contextlib.suppress(OSError, TimeoutError):
        await asyncio.wait_for(writer.wait_closed(), AUTH_TIMEOUT_S)


def _peer(writer: asyncio.StreamWriter) -> str:
    address = writer.get_extra_info("peername") or ("unknown", 0)
    return f"{address[0]}:{address[1]}"


async def serve_cot(
    runtime: Runtime, host: str, port: int, ssl_context: ssl.SSLContext | None
) -> CotServer:
    """Start the CoT feed for ``skypact serve --cot-port`` (stop it with ``stop()``)."""
    server = CotServer(runtime, host, port, ssl_context)
    await server.start()
    return server
