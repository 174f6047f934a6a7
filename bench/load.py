"""Benchmark: the live service under load, end to end, on loopback.

Run it with ``bash bench/run load`` or ``.venv/bin/python bench/load.py`` (options:
``--aircraft``, ``--seconds``, ``--parties``, ``--pairs``, ``--cycle-s``,
``--database``, ``--seed``, ``--keep``, ``--no-save``; ``--profile-cycles N`` profiles
the service in-process instead). bench/README.md ("Load") defines every figure.

What runs: a real ``skypact serve`` subprocess (``tests/integration/service/server.py``:
``db migrate``, ``token create``, ``serve --port 0``) over SQLite in a temporary data
directory, or the PostgreSQL database ``--database`` names. ``--aircraft`` aircraft of
the ``--parties`` report at 1 Hz for ``--seconds`` seconds: one batch of all of a
party's aircraft per party per second (``POST /api/v1/reports``, one keep-alive
HTTP/1.1 connection per party, ``X-Batch-Id: <party>-<second>``), and each party holds
one WebSocket on ``/api/v1/live``. Party k of P sends batch j at
``start + k / P + j * (1 + 1 / seconds)`` s: the parties are spread over the second,
and each one's phase against the server's cycle sweeps once through a whole second
during the run, so that no lucky or unlucky phase decides the delays. A batch that
cannot go on time (the previous one is still being answered) goes as soon as it can.

Traffic. Each party flies its background aircraft in its own strip of airspace
(60 x 300 NM, strips 70 NM apart, so more than the 20 NM disclosure radius), due east
or west at 300-500 kt between FL100 and FL400. ``--pairs`` converging pairs are
planted in the gaps between strips (and beyond the outer two): two aircraft of parties
of different blocs, head-on at 450 kt with a 1 NM lateral offset, each pair at its own
level so that pairs never meet each other. Pair k's closest approach is at
``310 + k * (seconds - 40) / pairs`` s, so that alerts are raised (300 s look-ahead),
escalate and end throughout the run. No other pair of aircraft of different blocs comes
within 30 NM: every alert the service raises must be a planted one.

Checks at the end: the reports stored equal the reports acknowledged (and every
acknowledged batch is stored with all its rows), the audit chain verifies
(``skypact audit verify``), every planted pair raised in the run reached exactly its
two parties' feeds and nobody else's. The result is printed as Markdown and written to
``bench/results/load.json``.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import contextlib
import cProfile
import ctypes
import datetime as dt
import io
import itertools
import json
import math
import os
import platform
import pstats
import shutil
import signal
import sys
import tempfile
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import numpy.typing as npt
from pyproj import Geod
from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # tests/ holds the agreement and server helpers
    sys.path.insert(0, str(ROOT))

from tests.agreements import signed_agreement  # noqa: E402
from tests.integration.service.server import (  # noqa: E402
    SKYPACT,
    Server,
    ServiceHome,
    rss_kib,
)

from skypact.cli import configure_runtime  # noqa: E402
from skypact.units import kt_to_mps, nm_to_m  # noqa: E402

RESULTS = ROOT / "bench" / "results"
DEFAULT_PARTIES = "usa:coalition,gbr:coalition,rus:russian,syr:russian"
WGS84 = Geod(ellps="WGS84")

CENTRE_LAT_DEG = 34.5
CENTRE_LON_DEG = 39.0
STRIP_HEIGHT_NM = 60.0
STRIP_LENGTH_NM = 300.0
GAP_NM = 70.0
PAIR_GS_KT = 450.0
PAIR_OFFSET_NM = 1.0
PAIR_LEVELS_FT = tuple(10_000.0 + 1_500.0 * k for k in range(21))
FIRST_CPA_S = 310.0
"""The first planted pair's closest approach (s after the start): with the default
look-ahead of 300 s its alert is raised a few seconds into the run."""


# ----------------------------------------------------------------------------- traffic


@dataclass(frozen=True, slots=True)
class PartySpec:
    """A party of the agreement and its bloc (None: a bloc of its own)."""

    party: str
    bloc: str | None


def parse_parties(text: str) -> tuple[PartySpec, ...]:
    """``usa:coalition,rus:russian,fra`` -> party specs.

    Raises:
        ValueError: fewer than two parties, a duplicate, or all of one bloc.
    """
    specs = []
    for item in text.split(","):
        party, _, bloc = item.strip().partition(":")
        specs.append(PartySpec(party.strip(), bloc.strip() or None))
    names = [s.party for s in specs]
    if len(names) < 2 or len(set(names)) != len(names) or not all(names):
        raise ValueError(f"--parties needs two or more distinct parties: {text!r}")
    if len({s.bloc or s.party for s in specs}) < 2:
        raise ValueError("--parties: every party is in one bloc, nothing to monitor")
    return tuple(specs)


@dataclass(frozen=True, slots=True, kw_only=True)
class PlantedPair:
    """Two aircraft of different blocs meeting head-on ``cpa_s`` after the start."""

    index: int
    a_party: str
    a_icao24: str
    b_party: str
    b_icao24: str
    cpa_s: float
    level_ft: float


@dataclass(frozen=True, kw_only=True)
class Fleet:
    """Every aircraft of the run (struct of arrays) and the planted pairs.

    Each aircraft flies a geodesic from ``lat0_deg``/``lon0_deg`` (its position at the
    start) with initial track ``trk0_deg`` at ``gs_kt``, level at ``alt_ft``.
    """

    party: npt.NDArray[np.object_]
    icao24: npt.NDArray[np.object_]
    callsign: npt.NDArray[np.object_]
    lat0_deg: npt.NDArray[np.float64]
    lon0_deg: npt.NDArray[np.float64]
    trk0_deg: npt.NDArray[np.float64]
    gs_kt: npt.NDArray[np.float64]
    alt_ft: npt.NDArray[np.float64]
    pairs: tuple[PlantedPair, ...]

    def __len__(self) -> int:
        return len(self.icao24)

    def rows_of(self, party: str) -> npt.NDArray[np.intp]:
        return np.flatnonzero(self.party == party)

    def reports(
        self, rows: npt.NDArray[np.intp], elapsed_s: float, t_s: float
    ) -> list[dict[str, Any]]:
        """The reports of aircraft ``rows`` at ``elapsed_s`` after the start, all
        stamped ``t_s`` (epoch s), in the API's traffic convention."""
        distance_m = kt_to_mps(self.gs_kt[rows]) * elapsed_s
        lon, lat, back_deg = WGS84.fwd(
            self.lon0_deg[rows], self.lat0_deg[rows], self.trk0_deg[rows], distance_m
        )
        track = (np.asarray(back_deg) + 180.0) % 360.0
        return [
            {
                "timestamp": t_s,
                "icao24": icao24,
                "callsign": callsign,
                "latitude": la,
                "longitude": lo,
                "altitude": alt,
                "groundspeed": gs,
                "track": trk,
                "vertical_rate": 0.0,
                "source": "adsb-json",
            }
            for icao24, callsign, la, lo, alt, gs, trk in zip(
                self.icao24[rows].tolist(),
                self.callsign[rows].tolist(),
                np.asarray(lat).tolist(),
                np.asarray(lon).tolist(),
                self.alt_ft[rows].tolist(),
                self.gs_kt[rows].tolist(),
                track.tolist(),
                strict=True,
            )
        ]


def _offset(
    lat_deg: float, lon_deg: float, az_deg: float, distance_m: float
) -> tuple[float, float, float]:
    """The point ``distance_m`` away along ``az_deg`` (geodesic), and the azimuth
    from there back."""
    lon, lat, back = WGS84.fwd(lon_deg, lat_deg, az_deg, distance_m)
    return float(lat), float(lon), float(back)


def _north_lat_deg(north_nm: float) -> float:
    """The latitude ``north_nm`` north (negative: south) of the centre."""
    az_deg = 0.0 if north_nm >= 0.0 else 180.0
    return _offset(CENTRE_LAT_DEG, CENTRE_LON_DEG, az_deg, nm_to_m(abs(north_nm)))[0]


def cross_bloc_combinations(parties: Sequence[PartySpec]) -> list[tuple[str, str]]:
    """Every (a, b) of parties in different blocs, a listed before b."""
    return [
        (a.party, b.party)
        for n, a in enumerate(parties)
        for b in parties[n + 1 :]
        if (a.bloc or a.party) != (b.bloc or b.party)
    ]


def build_fleet(
    n_aircraft: int,
    parties: Sequence[PartySpec],
    *,
    seconds: float,
    pairs: int,
    seed: int,
) -> Fleet:
    """The run's traffic (see the module docstring).

    Raises:
        ValueError: more pairs than slots (``len(PAIR_LEVELS_FT) * (parties + 1)``)
            or than aircraft.
    """
    n_parties = len(parties)
    lines = n_parties + 1
    if pairs > len(PAIR_LEVELS_FT) * lines:
        raise ValueError(
            f"at most {len(PAIR_LEVELS_FT) * lines} planted pairs with {n_parties} "
            "parties"
        )
    if 2 * pairs > n_aircraft:
        raise ValueError("--pairs: two aircraft per pair, more than --aircraft")
    rng = np.random.default_rng(seed)
    pitch_nm = STRIP_HEIGHT_NM + GAP_NM
    # strip k's centre, north to south; line m lies GAP_NM / 2 beyond strip m's
    # northern edge (m < n_parties) or the last strip's southern edge (m = n_parties)
    north_nm = (n_parties - 1) * pitch_nm / 2.0
    strip_nm = [north_nm - k * pitch_nm for k in range(n_parties)]
    line_nm = [y + pitch_nm / 2.0 for y in strip_nm] + [strip_nm[-1] - pitch_nm / 2.0]

    party_col: list[str] = []
    lat0: list[float] = []
    lon0: list[float] = []
    trk0: list[float] = []
    gs: list[float] = []
    alt: list[float] = []
    combos = cross_bloc_combinations(parties)
    planted: list[tuple[str, str, float, float]] = []  # (a, b, cpa_s, level)
    spacing_s = max(0.0, seconds - 40.0) / max(pairs, 1)
    for k in range(pairs):
        a, b = combos[k % len(combos)]
        line = k % lines
        level = PAIR_LEVELS_FT[k // lines]
        cpa_s = FIRST_CPA_S + k * spacing_s
        half_nm = PAIR_OFFSET_NM / 2.0
        travelled_m = kt_to_mps(PAIR_GS_KT) * cpa_s
        for party, side_nm, inbound_deg in ((a, half_nm, 90.0), (b, -half_nm, 270.0)):
            meet_lat = _north_lat_deg(line_nm[line] + side_nm)
            # start where flying back from the meeting point for cpa_s leads; the
            # geodesic from there passes the meeting point on track inbound_deg
            la, lo, back = _offset(
                meet_lat, CENTRE_LON_DEG, inbound_deg + 180.0, travelled_m
            )
            party_col.append(party)
            lat0.append(la)
            lon0.append(lo)
            trk0.append(back % 360.0)
            gs.append(PAIR_GS_KT)
            alt.append(level)
        planted.append((a, b, cpa_s, level))
    background = n_aircraft - 2 * pairs
    per_party = [background // n_parties] * n_parties
    for k in range(background % n_parties):
        per_party[k] += 1
    for k, (spec, count) in enumerate(zip(parties, per_party, strict=True)):
        south = _north_lat_deg(strip_nm[k] - STRIP_HEIGHT_NM / 2.0)
        north = _north_lat_deg(strip_nm[k] + STRIP_HEIGHT_NM / 2.0)
        half_m = nm_to_m(STRIP_LENGTH_NM / 2.0)
        lat_c = _north_lat_deg(strip_nm[k])
        west = _offset(lat_c, CENTRE_LON_DEG, 270.0, half_m)[1]
        east = _offset(lat_c, CENTRE_LON_DEG, 90.0, half_m)[1]
        party_col += [spec.party] * count
        lat0 += rng.uniform(south, north, count).tolist()
        lon0 += rng.uniform(west, east, count).tolist()
        trk0 += rng.choice([90.0, 270.0], count).tolist()
        gs += rng.uniform(300.0, 500.0, count).tolist()
        alt += rng.uniform(10_000.0, 40_000.0, count).tolist()
    n = len(party_col)
    icao = [f"{0x100000 + k * 7 + 3:06x}" for k in range(n)]
    callsign = [f"{p[:3].upper()}{k:05d}" for k, p in enumerate(party_col)]
    pair_rows = tuple(
        PlantedPair(
            index=k,
            a_party=a,
            a_icao24=icao[2 * k],
            b_party=b,
            b_icao24=icao[2 * k + 1],
            cpa_s=cpa_s,
            level_ft=level,
        )
        for k, (a, b, cpa_s, level) in enumerate(planted)
    )
    return Fleet(
        party=np.array(party_col, dtype=object),
        icao24=np.array(icao, dtype=object),
        callsign=np.array(callsign, dtype=object),
        lat0_deg=np.array(lat0),
        lon0_deg=np.array(lon0),
        trk0_deg=np.array(trk0),
        gs_kt=np.array(gs),
        alt_ft=np.array(alt),
        pairs=pair_rows,
    )


# -------------------------------------------------------------------------- the client


@dataclass(slots=True)
class BatchRecord:
    """One posted batch, client-side times in epoch seconds (the server's clock too:
    both run on this machine)."""

    party: str
    second: int
    batch_id: str
    due_s: float
    stamp_s: float
    """Every report of the batch carries this timestamp."""
    sent_s: float
    """Just before the request was handed to the connection."""
    answered_s: float
    status: int
    rows: int
    accepted: int


@dataclass(slots=True)
class FeedMessage:
    """One live-feed message as the party's client received it."""

    received_s: float
    kind: str
    size_bytes: int
    at_s: float | None = None
    own: int = 0
    others: int = 0
    own_newest_s: float | None = None
    """A picture's newest own report timestamp (which batch the picture included), or
    an alert's ``data_at_s`` (the newest position of the party's own aircraft in it
    that the alerting cycle judged: which batch the alert was computed on)."""
    alert: dict[str, Any] | None = None
    update: str | None = None
    """An alert message's ``update``: ``transition`` or ``advice`` (the manoeuvre
    advice worked out after the transition went out)."""


@dataclass
class Feed:
    """A party's live feed: what arrived, and how it ended."""

    party: str
    messages: list[FeedMessage] = field(default_factory=list)
    closed: str | None = None


@dataclass
class Sample:
    """The server process every ``sample_every_s``."""

    elapsed_s: float
    rss_kib: int
    cpu_s: float


@dataclass
class LoadRun:
    """Everything :func:`drive` recorded."""

    start_s: float
    end_s: float
    batches: list[BatchRecord]
    feeds: dict[str, Feed]
    samples: list[Sample]


def _stat_ticks(path: str) -> int | None:
    """User + system clock ticks from a ``/proc/.../stat`` file (None: it is gone)."""
    try:
        text = Path(path).read_text()
    except OSError:
        return None
    fields = text.rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])  # utime, stime (fields 14, 15)


def _cpu_s(pid: int) -> float | None:
    """User + system CPU seconds of a process (``/proc/<pid>/stat``)."""
    ticks = _stat_ticks(f"/proc/{pid}/stat")
    return None if ticks is None else ticks / os.sysconf("SC_CLK_TCK")


async def _listen(ws: ClientConnection, feed: Feed) -> None:
    try:
        async for raw in ws:
            received = time.time()
            text = raw if isinstance(raw, str) else raw.decode()
            data = json.loads(text)
            kind = str(data.get("type"))
            message = FeedMessage(received_s=received, kind=kind, size_bytes=len(text))
            if kind == "picture":
                own = data["own"]
                message.at_s = float(data["at_s"])
                message.own = len(own)
                message.others = len(data["others"])
                stamps = [t["last_update_s"] for t in own if t["last_update_s"]]
                message.own_newest_s = max(stamps) if stamps else None
            elif kind == "alert":
                message.alert = data["alert"]
                message.update = data.get("update")
                message.at_s = data.get("at_s")
                message.own_newest_s = data.get("data_at_s")
            feed.messages.append(message)
    except ConnectionClosed as exc:
        feed.closed = f"closed by the server: {exc}"
        return
    feed.closed = f"closed: {ws.close_code} {ws.close_reason}"


async def _post_batches(
    client: httpx.AsyncClient,
    fleet: Fleet,
    party: str,
    *,
    start_s: float,
    seconds: int,
    offset_s: float,
    out: list[BatchRecord],
) -> None:
    """Batch ``j`` is due at ``start_s + offset_s + j * (1 + 1 / seconds)``: about
    one a second, with a phase against the server's cycle that sweeps once through
    a whole second during the run (a late batch is sent as soon as it can be)."""
    rows = fleet.rows_of(party)
    period_s = 1.0 + 1.0 / seconds
    for second in range(seconds):
        due = start_s + offset_s + second * period_s
        await asyncio.sleep(max(0.0, due - time.time()))
        stamp = time.time()
        body = json.dumps(fleet.reports(rows, stamp - start_s, stamp)).encode()
        batch_id = f"{party}-{second}"
        sent = time.time()
        answer = await client.post(
            "/api/v1/reports",
            content=body,
            headers={"Content-Type": "application/json", "X-Batch-Id": batch_id},
        )
        answered = time.time()
        receipt = answer.json() if answer.status_code == 200 else {}
        out.append(
            BatchRecord(
                party=party,
                second=second,
                batch_id=batch_id,
                due_s=due,
                stamp_s=stamp,
                sent_s=sent,
                answered_s=answered,
                status=answer.status_code,
                rows=int(receipt.get("rows", 0)),
                accepted=int(receipt.get("accepted", 0)),
            )
        )


async def _sample(
    server: Server, start_s: float, every_s: float, out: list[Sample]
) -> None:
    while True:
        rss = server.rss_kib()
        cpu = _cpu_s(server.pid)
        if rss is None or cpu is None:
            return
        out.append(Sample(elapsed_s=time.time() - start_s, rss_kib=rss, cpu_s=cpu))
        await asyncio.sleep(every_s)


async def drive(
    server: Server,
    tokens: dict[str, str],
    fleet: Fleet,
    *,
    seconds: int,
    drain_s: float = 4.0,
    sample_every_s: float = 10.0,
    deflate: bool = True,
) -> LoadRun:
    """Run the load against a started server (see the module docstring).

    Every party's WebSocket is connected (and has said hello) before the first batch.
    After the last batch the feeds stay open ``drain_s`` for the last cycles. The
    WebSocket clients offer permessage-deflate, as browsers do, unless ``deflate`` is
    False.
    """
    feeds = {party: Feed(party) for party in tokens}
    batches: list[BatchRecord] = []
    samples: list[Sample] = []
    async with contextlib.AsyncExitStack() as stack:
        sockets = {}
        for party, token in tokens.items():
            ws = await stack.enter_async_context(
                connect(
                    server.live_url,
                    additional_headers={"Authorization": f"Bearer {token}"},
                    max_size=None,
                    open_timeout=30,
                    compression="deflate" if deflate else None,
                )
            )
            hello = json.loads(await ws.recv())
            if hello.get("type") != "hello":
                raise RuntimeError(f"{party}'s live feed said {hello!r}")
            sockets[party] = ws
        clients = {
            party: await stack.enter_async_context(
                httpx.AsyncClient(
                    base_url=server.base_url,
                    headers={"Authorization": f"Bearer {token}"},
                    timeout=120.0,
                    limits=httpx.Limits(max_connections=1),
                )
            )
            for party, token in tokens.items()
        }
        listeners = [asyncio.create_task(_listen(sockets[p], feeds[p])) for p in tokens]
        start_s = time.time() + 1.0
        sampler = asyncio.create_task(_sample(server, start_s, sample_every_s, samples))
        posters = [
            asyncio.create_task(
                _post_batches(
                    clients[party],
                    fleet,
                    party,
                    start_s=start_s,
                    seconds=seconds,
                    offset_s=k / len(tokens),
                    out=batches,
                )
            )
            for k, party in enumerate(tokens)
        ]
        await asyncio.gather(*posters)
        end_s = time.time()
        await asyncio.sleep(drain_s)
        rss = server.rss_kib()
        cpu = _cpu_s(server.pid)
        if rss is not None and cpu is not None:
            samples.append(
                Sample(elapsed_s=time.time() - start_s, rss_kib=rss, cpu_s=cpu)
            )
        sampler.cancel()
        for ws in sockets.values():
            await ws.close()
        await asyncio.gather(*listeners, return_exceptions=True)
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
    batches.sort(key=lambda b: (b.party, b.second))
    return LoadRun(
        start_s=start_s, end_s=end_s, batches=batches, feeds=feeds, samples=samples
    )


# ---------------------------------------------------------------------------- analysis


def percentiles(values: Sequence[float]) -> dict[str, float | int | None]:
    """n, p50, p95, p99 and max (None without values)."""
    if not values:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}
    array = np.asarray(values, dtype=float)
    p50, p95, p99 = np.percentile(array, [50.0, 95.0, 99.0])
    return {
        "n": len(array),
        "p50": float(p50),
        "p95": float(p95),
        "p99": float(p99),
        "max": float(array.max()),
    }


@dataclass
class Latencies:
    """The run's delays, in seconds (bench/README.md defines each)."""

    report_to_feed_s: list[float] = field(default_factory=list)
    report_to_alert_s: list[float] = field(default_factory=list)
    """From the newest report of the alert's two aircraft (the one that completed
    what the alerting cycle judged) to the alert on each of the two feeds; only
    the transitions a report brings about: raised and level-up."""
    report_to_easing_s: list[float] = field(default_factory=list)
    """The same for level-down and cleared, which the lifecycle decides by time
    (the lower level must hold for its hysteresis), not on the newest report."""
    alert_to_advice_s: list[float] = field(default_factory=list)
    """From a raised/level-up alert on a feed to its advice on the same feed."""
    after_load: int = 0
    """Alert messages of cycles after the last batch was answered: no report made
    them (the positions were only dead-reckoned on), so they are in neither figure."""
    slowest_alerts: list[dict[str, Any]] = field(default_factory=list)
    """The slowest alert messages (report -> feed), with their transition."""
    own_report_to_alert_s: list[float] = field(default_factory=list)
    """From the feed's own party's newest report the cycle judged, to the alert."""
    cycle_to_picture_s: list[float] = field(default_factory=list)
    cycle_to_alert_s: list[float] = field(default_factory=list)
    post_s: list[float] = field(default_factory=list)
    send_lateness_s: list[float] = field(default_factory=list)
    never_on_feed: int = 0
    alerts_unmatched: int = 0
    """Alert messages whose cycle's newest batch could not be told (none expected)."""


STAMP_TOLERANCE_S = 1e-4
"""How close a picture's report time must be to a batch's to be that batch: the
service keeps report times as datetime64[ns] on the way, so they come back within
a microsecond, not bit for bit; a party's batches are milliseconds apart or more."""


def _sent_of(
    stamps: Sequence[float], sent: Sequence[float], stamp: float | None
) -> float | None:
    """The send time of the batch (sorted ``stamps``) whose stamp is ``stamp``."""
    if stamp is None:
        return None
    k = bisect.bisect_left(stamps, stamp - STAMP_TOLERANCE_S)
    if k < len(stamps) and abs(stamps[k] - stamp) <= STAMP_TOLERANCE_S:
        return sent[k]
    return None


def latencies(run: LoadRun) -> Latencies:
    """Match batches to the feed messages that first carried them."""
    out = Latencies()
    by_party: dict[str, list[BatchRecord]] = {}
    for batch in run.batches:
        out.post_s.append(batch.answered_s - batch.sent_s)
        out.send_lateness_s.append(batch.sent_s - batch.due_s)
        if batch.status == 200:
            by_party.setdefault(batch.party, []).append(batch)
    for party, feed in run.feeds.items():
        acked = sorted(by_party.get(party, []), key=lambda b: b.stamp_s)
        stamps = [b.stamp_s for b in acked]
        sent = [b.sent_s for b in acked]
        pictures = [m for m in feed.messages if m.kind == "picture"]
        newest: list[float] = []  # running maximum: the feed's newest batch so far
        for picture in pictures:
            stamp = picture.own_newest_s if picture.own_newest_s is not None else -1.0
            newest.append(max(stamp, newest[-1]) if newest else stamp)
        for batch in acked:
            k = bisect.bisect_left(newest, batch.stamp_s - STAMP_TOLERANCE_S)
            if k == len(pictures):
                out.never_on_feed += 1
                continue
            out.report_to_feed_s.append(pictures[k].received_s - batch.sent_s)
        for message in feed.messages:
            if message.kind == "picture":
                if message.at_s is not None:
                    out.cycle_to_picture_s.append(message.received_s - message.at_s)
            elif message.kind == "alert" and message.update == "advice":
                continue
            elif message.kind == "alert":
                if message.at_s is not None:
                    out.cycle_to_alert_s.append(message.received_s - message.at_s)
                newest_sent = _sent_of(stamps, sent, message.own_newest_s)
                if newest_sent is not None:
                    out.own_report_to_alert_s.append(message.received_s - newest_sent)
                else:
                    out.alerts_unmatched += 1
    # the same alert transition reaches both parties' feeds, each with the time of its
    # own aircraft's data: the newer of the two is the report that made the alert
    sent_by_party = {
        party: (
            [b.stamp_s for b in sorted(batches, key=lambda b: b.stamp_s)],
            [b.sent_s for b in sorted(batches, key=lambda b: b.stamp_s)],
        )
        for party, batches in by_party.items()
    }
    transitions: dict[tuple[str, float], list[tuple[str, FeedMessage]]] = {}
    advice: dict[tuple[str, float], list[tuple[str, FeedMessage]]] = {}
    for party, feed in run.feeds.items():
        for message in feed.messages:
            if message.kind == "alert" and message.alert and message.at_s is not None:
                key = (str(message.alert["alert_id"]), message.at_s)
                if message.update == "advice":
                    advice.setdefault(key, []).append((party, message))
                else:
                    transitions.setdefault(key, []).append((party, message))
    kinds = transition_kinds(transitions)
    timed: list[dict[str, Any]] = []
    load_end_s = max((b.answered_s for b in run.batches), default=math.inf)
    for key, seen in transitions.items():
        if key[1] > load_end_s:
            out.after_load += len(seen)
            continue
        sends = [
            _sent_of(*sent_by_party.get(party, ([], [])), message.own_newest_s)
            for party, message in seen
        ]
        known = [t for t in sends if t is not None]
        if not known:
            continue
        newest_sent = max(known)
        delays = [m.received_s - newest_sent for _, m in seen]
        eased = kinds[key] in ("level-down", "cleared")
        (out.report_to_easing_s if eased else out.report_to_alert_s).extend(delays)
        timed.extend(
            {
                "alert_id": key[0],
                "transition": kinds[key],
                "party": party,
                "cycle_at_s": round(key[1] - run.start_s, 3),
                "report_to_feed_s": round(delay, 3),
                "cycle_to_feed_s": round(message.received_s - key[1], 3),
            }
            for (party, message), delay in zip(seen, delays, strict=True)
        )
    for key, advised in advice.items():
        alerted = dict(transitions.get(key, []))
        for party, message in advised:
            if party in alerted:
                out.alert_to_advice_s.append(
                    message.received_s - alerted[party].received_s
                )
    timed.sort(key=lambda t: -float(t["report_to_feed_s"]))
    out.slowest_alerts = timed[:12]
    return out


def transition_kinds(
    transitions: dict[tuple[str, float], list[tuple[str, FeedMessage]]],
) -> dict[tuple[str, float], str]:
    """Each alert transition (alert id, cycle time) named from the alert's level
    before it: raised, level-up, level-down, cleared (or "same": an update that
    did not change the level, such as an acknowledgement).

    >>> def seen(state: str, level: int) -> list[tuple[str, FeedMessage]]:
    ...     alert = {"state": state, "level": level}
    ...     message = FeedMessage(received_s=0.0, kind="alert", size_bytes=0, alert=alert)
    ...     return [("A", message)]
    >>> kinds = transition_kinds({("x", 1.0): seen("active", 1),
    ...     ("x", 3.0): seen("active", 2), ("x", 5.0): seen("active", 1),
    ...     ("x", 6.0): seen("active", 1), ("x", 9.0): seen("cleared", 0)})
    >>> [kinds[("x", t)] for t in (1.0, 3.0, 5.0, 6.0, 9.0)]
    ['raised', 'level-up', 'level-down', 'same', 'cleared']
    """
    kinds: dict[tuple[str, float], str] = {}
    level: dict[str, int] = {}
    for key in sorted(transitions, key=lambda k: k[1]):
        alert = transitions[key][0][1].alert
        assert alert is not None
        now = int(alert["level"])
        before = level.get(key[0])
        if alert["state"] == "cleared":
            kinds[key] = "cleared"
        elif before is None:
            kinds[key] = "raised"
        elif now > before:
            kinds[key] = "level-up"
        elif now < before:
            kinds[key] = "level-down"
        else:
            kinds[key] = "same"
        level[key[0]] = now
    return kinds


@dataclass
class AlertCheck:
    """What the feeds carried of the planted pairs' alerts."""

    planted: int
    raised: int
    """Planted pairs with an alert on a feed."""
    to_exactly_the_pair: int
    """...whose alert reached both of its parties' feeds and no other feed."""
    unexpected: list[str]
    """Alert ids on a feed that are no planted pair's (or reached a wrong party)."""
    transitions: dict[str, int]
    """Alert messages per state/level, all feeds."""
    first_raised_s: float | None
    last_raised_s: float | None


def check_alerts(run: LoadRun, fleet: Fleet) -> AlertCheck:
    """Which planted pairs' alerts reached which feeds."""
    owner = {}
    for pair in fleet.pairs:
        owner[(pair.a_party, pair.a_icao24)] = pair.index
        owner[(pair.b_party, pair.b_icao24)] = pair.index
    seen: dict[str, set[str]] = {}  # alert id -> parties whose feed carried it
    pair_of: dict[str, set[int | None]] = {}
    raised_at: dict[str, float] = {}
    transitions: Counter[str] = Counter()
    for party, feed in run.feeds.items():
        for message in feed.messages:
            if message.alert is None:
                continue
            alert = message.alert
            alert_id = str(alert["alert_id"])
            seen.setdefault(alert_id, set()).add(party)
            own = [a["icao24"] for a in alert["aircraft"] if a["own"]]
            pair_of.setdefault(alert_id, set()).update(
                owner.get((party, icao24)) for icao24 in own
            )
            advised = " advice" if message.update == "advice" else ""
            transitions[f"{alert['state']}/{alert['level']}{advised}"] += 1
            if alert.get("raised_at_s") is not None:
                raised_at[alert_id] = float(alert["raised_at_s"]) - run.start_s
    unexpected = []
    exact: set[int] = set()
    raised: set[int] = set()
    for alert_id, parties in seen.items():
        indexes = pair_of[alert_id]
        if len(indexes) != 1 or None in indexes:
            unexpected.append(alert_id)
            continue
        (index,) = indexes
        assert index is not None
        raised.add(index)
        pair = fleet.pairs[index]
        if parties == {pair.a_party, pair.b_party}:
            exact.add(index)
        else:
            unexpected.append(alert_id)
    times = sorted(raised_at.values())
    return AlertCheck(
        planted=len(fleet.pairs),
        raised=len(raised),
        to_exactly_the_pair=len(exact),
        unexpected=sorted(unexpected),
        transitions=dict(sorted(transitions.items())),
        first_raised_s=times[0] if times else None,
        last_raised_s=times[-1] if times else None,
    )


WARM_UP_S = 60.0
"""RSS samples from this long after the first batch on are the "warm" ones: the first
minute loads the tracks, caches and compiled kernels."""


def memory(samples: Sequence[Sample]) -> dict[str, Any]:
    """RSS (MiB) before the load, once warm, at the end and at most; least-squares
    slopes (MiB per hour) over the warm samples and over the run's second half; the
    server's CPU use per sampling window (cores)."""
    if not samples:
        return {"samples": 0}
    t = np.array([s.elapsed_s for s in samples])
    mib = np.array([s.rss_kib / 1024.0 for s in samples])

    def slope(mask: npt.NDArray[np.bool_]) -> float | None:
        if mask.sum() < 3 or np.ptp(t[mask]) == 0:
            return None
        return float(np.polyfit(t[mask], mib[mask], 1)[0] * 3600.0)

    warm = t >= WARM_UP_S
    cpu = [
        (b.cpu_s - a.cpu_s) / (b.elapsed_s - a.elapsed_s)
        for a, b in itertools.pairwise(samples)
        if b.elapsed_s > a.elapsed_s and a.elapsed_s >= 0.0
    ]
    return {
        "samples": len(samples),
        "idle_mib": float(mib[0]),
        "warm_first_mib": float(mib[warm][0]) if warm.any() else None,
        "last_mib": float(mib[-1]),
        "max_mib": float(mib.max()),
        "warm_slope_mib_per_h": slope(warm),
        "second_half_slope_mib_per_h": slope(t >= t[-1] / 2.0),
        "server_cpu_cores": {
            "mean": float(np.mean(cpu)) if cpu else None,
            "max": float(np.max(cpu)) if cpu else None,
        },
        "series": [
            {"elapsed_s": round(s.elapsed_s, 1), "rss_mib": round(s.rss_kib / 1024, 1)}
            for s in samples
        ],
    }


def timeline(run: LoadRun, window_s: float = 60.0) -> list[dict[str, Any]]:
    """Per ``window_s`` of the run: reports acknowledged per second, median POST
    time, cycles, median cycle-to-picture delay and the RSS (does it degrade?)."""
    feed = next(iter(run.feeds.values()))
    pictures = [m for m in feed.messages if m.kind == "picture" and m.at_s is not None]
    out = []
    k = 0
    while True:
        lo, hi = run.start_s + k * window_s, run.start_s + (k + 1) * window_s
        batches = [
            b for b in run.batches if lo <= b.answered_s < hi and b.status == 200
        ]
        cycles = [m for m in pictures if m.at_s is not None and lo <= m.at_s < hi]
        if not batches and not cycles:
            break
        rss = [s.rss_kib for s in run.samples if lo <= s.elapsed_s + run.start_s < hi]
        out.append(
            {
                "from_s": k * window_s,
                "reports_per_s": sum(b.rows for b in batches) / window_s,
                "post_p50_ms": 1000.0
                * float(np.median([b.answered_s - b.sent_s for b in batches]))
                if batches
                else None,
                "cycles": len(cycles),
                "cycle_to_picture_p50_ms": 1000.0
                * float(np.median([m.received_s - (m.at_s or 0.0) for m in cycles]))
                if cycles
                else None,
                "rss_mib": max(rss) / 1024.0 if rss else None,
            }
        )
        k += 1
    return out


def cycle_gaps(run: LoadRun) -> dict[str, float | int | None]:
    """Time between successive cycles, from the pictures' ``at_s`` (one feed)."""
    feed = next(iter(run.feeds.values()))
    at = [m.at_s for m in feed.messages if m.kind == "picture" and m.at_s is not None]
    return percentiles(np.diff(np.asarray(at)).tolist() if len(at) > 1 else [])


# ------------------------------------------------------------------------------ a run


@dataclass
class LoadConfig:
    aircraft: int = 10_000
    seconds: int = 600
    parties: tuple[PartySpec, ...] = field(
        default_factory=lambda: parse_parties(DEFAULT_PARTIES)
    )
    pairs: int | None = None
    """None: one per 10 s of run (at least 1, at most the slots: 21 levels on each of
    the parties + 1 lines)."""
    cycle_s: float = 1.0
    picture_s: float = 1.0
    database: str | None = None
    seed: int = 2015
    deflate: bool = True
    """The live feeds' clients offer permessage-deflate (as browsers do)."""
    sample_server: bool = False
    """Run the server under :func:`sampled_serve` (CPU by function)."""
    trace_memory: bool = False
    """Run the server under :func:`traced_serve` (where its memory grows)."""

    def pair_count(self) -> int:
        """``pairs``, or one per 10 s of run up to the slots there are."""
        if self.pairs is not None:
            return self.pairs
        slots = len(PAIR_LEVELS_FT) * (len(self.parties) + 1)
        return min(slots, max(1, self.seconds // 10))


@dataclass
class LoadResult:
    config: LoadConfig
    fleet: Fleet
    run: LoadRun
    latencies: Latencies
    alerts: AlertCheck
    acknowledged_reports: int
    stored_reports: int
    acknowledged_batches: int
    batches_missing_or_short: list[str]
    refused_batches: dict[int, int]
    audit_ok: bool
    audit_exit_code: int
    audit_records: int
    audit_detail: str
    server_exit_code: int
    server_stopped_cleanly: bool
    server_log_tail: str
    feeds_closed: dict[str, str | None]
    code: dict[str, Any]
    server_profile: dict[str, Any] | None = None
    memory_trace: dict[str, Any] | None = None


def prepare(home_dir: Path, config: LoadConfig) -> tuple[ServiceHome, dict[str, str]]:
    """Agreement (every party signs), migrated database, one token per party."""
    agreement = signed_agreement(
        home_dir / "agreement.toml",
        parties={spec.party: spec.bloc for spec in config.parties},
    )
    home = ServiceHome(
        data_dir=home_dir / "data", agreement=agreement, database=config.database
    )
    home.migrate()
    tokens = {spec.party: home.token(spec.party) for spec in config.parties}
    return home, tokens


def run_load(
    home_dir: Path, config: LoadConfig, *, log: Callable[[str], None] = print
) -> LoadResult:
    """The whole benchmark against a fresh server in ``home_dir``."""
    fleet = build_fleet(
        config.aircraft,
        config.parties,
        seconds=config.seconds,
        pairs=config.pair_count(),
        seed=config.seed,
    )
    home, tokens = prepare(home_dir, config)
    code = code_state()
    before = home.count_reports()
    log(f"server starting ({len(fleet)} aircraft, {len(fleet.pairs)} planted pairs)")
    profile_path = home_dir / "server-profile.json"
    trace_path = home_dir / "server-memory.json"
    launcher: tuple[str, ...] = SKYPACT
    if config.sample_server:
        launcher = (sys.executable, str(Path(__file__).resolve()), SAMPLED_SERVE)
        launcher += (str(profile_path),)
    elif config.trace_memory:
        launcher = (sys.executable, str(Path(__file__).resolve()), TRACED_SERVE)
        launcher += (str(trace_path),)
    server = home.start(
        cycle_s=config.cycle_s,
        launcher=launcher,
        extra_args=("--picture-s", repr(float(config.picture_s))),
    )
    try:
        log(
            f"server pid {server.pid} on {server.base_url}; load for {config.seconds} s"
        )
        run = asyncio.run(drive(server, tokens, fleet, seconds=config.seconds))
    finally:
        exit_code = server.stop()
    log("load done; checking storage and the audit chain")
    acked = [b for b in run.batches if b.status == 200]
    stored = home.stored_batches()
    short = []
    for batch in acked:
        found = stored.get((batch.party, batch.batch_id))
        if found is None or found.stored_rows != batch.rows:
            short.append(batch.batch_id)
    verdict = home.audit_verify()
    log_text = server.log()
    return LoadResult(
        config=config,
        fleet=fleet,
        run=run,
        latencies=latencies(run),
        alerts=check_alerts(run, fleet),
        acknowledged_reports=sum(b.rows for b in acked),
        stored_reports=home.count_reports() - before,
        acknowledged_batches=len(acked),
        batches_missing_or_short=short,
        refused_batches=dict(Counter(b.status for b in run.batches if b.status != 200)),
        audit_ok=verdict.ok,
        audit_exit_code=verdict.exit_code,
        audit_records=verdict.records,
        audit_detail=verdict.detail,
        server_exit_code=exit_code,
        server_stopped_cleanly=server.stopped_cleanly(),
        server_log_tail="\n".join(log_text.splitlines()[-20:]),
        feeds_closed={p: f.closed for p, f in run.feeds.items()},
        code=code,
        server_profile=json.loads(profile_path.read_text())
        if config.sample_server and profile_path.exists()
        else None,
        memory_trace=json.loads(trace_path.read_text())
        if config.trace_memory and trace_path.exists()
        else None,
    )


def code_state() -> dict[str, Any]:
    """Which code ran: the commit, and the uncommitted changes under src/ (their
    SHA-256), since the working tree is shared and moves."""
    import hashlib
    import subprocess

    def git(*args: str) -> str:
        done = subprocess.run(
            ["git", *args], cwd=ROOT, capture_output=True, text=True, check=False
        )
        return done.stdout

    diff = git("diff", "HEAD", "--", "src")
    return {
        "head": git("rev-parse", "--short", "HEAD").strip(),
        "src_modified": git("diff", "HEAD", "--name-only", "--", "src").split(),
        "src_diff_sha256": hashlib.sha256(diff.encode()).hexdigest()[:16],
    }


def summary(result: LoadResult) -> dict[str, Any]:
    """The JSON-ready result."""
    config = result.config
    lat = result.latencies
    run = result.run
    pictures = [
        m for f in run.feeds.values() for m in f.messages if m.kind == "picture"
    ]
    return {
        "date": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
        },
        "code": result.code,
        "config": {
            "aircraft": config.aircraft,
            "seconds": config.seconds,
            "parties": [asdict(p) for p in config.parties],
            "pairs": config.pair_count(),
            "cycle_s": config.cycle_s,
            "picture_s": config.picture_s,
            "database": "sqlite (temporary data dir)"
            if config.database is None
            else config.database.split("@")[-1],
            "seed": config.seed,
            "feed_deflate": config.deflate,
            "server_sampled": config.sample_server,
        },
        "wall_s": run.end_s - run.start_s,
        "batches": {
            "posted": len(run.batches),
            "acknowledged": result.acknowledged_batches,
            "refused_by_status": result.refused_batches,
            "post_s": percentiles(lat.post_s),
            "send_lateness_s": percentiles(lat.send_lateness_s),
        },
        "latency_s": {
            "report_to_alert": percentiles(lat.report_to_alert_s),
            "report_to_easing": percentiles(lat.report_to_easing_s),
            "alert_to_advice": percentiles(lat.alert_to_advice_s),
            "own_report_to_alert": percentiles(lat.own_report_to_alert_s),
            "report_to_feed": percentiles(lat.report_to_feed_s),
            "cycle_to_alert": percentiles(lat.cycle_to_alert_s),
            "cycle_to_picture": percentiles(lat.cycle_to_picture_s),
            "batches_never_on_feed": lat.never_on_feed,
            "alerts_unmatched": lat.alerts_unmatched,
            "alerts_after_the_load": lat.after_load,
            "slowest_alerts": lat.slowest_alerts,
        },
        "cycle_gap_s": cycle_gaps(run),
        "timeline": timeline(run),
        "feed": {
            "pictures": len(pictures),
            "picture_bytes": percentiles([m.size_bytes for m in pictures]),
            "others_per_picture": percentiles([m.others for m in pictures]),
            "closed": result.feeds_closed,
        },
        "alerts": asdict(result.alerts),
        "memory": memory(run.samples),
        "storage": {
            "acknowledged_reports": result.acknowledged_reports,
            "stored_reports": result.stored_reports,
            "acknowledged_batches_missing_or_short": len(
                result.batches_missing_or_short
            ),
            "audit_ok": result.audit_ok,
            "audit_verify_exit_code": result.audit_exit_code,
            "audit_records": result.audit_records,
            "audit_detail": result.audit_detail,
        },
        "server_exit_code": result.server_exit_code,
        "server_stopped_cleanly": result.server_stopped_cleanly,
        "server_profile": result.server_profile,
        "memory_trace": result.memory_trace,
    }


def _ms(value: float | int | None) -> str:
    return "-" if value is None else f"{1000.0 * value:,.0f}"


def markdown(report: dict[str, Any]) -> str:
    """The report as Markdown."""
    config = report["config"]
    lines = [
        "### Load: the live service end to end",
        "",
        f"{config['aircraft']:,} aircraft of "
        f"{', '.join(p['party'] for p in config['parties'])} at 1 Hz for "
        f"{config['seconds']} s ({config['pairs']} planted converging pairs), "
        f"cycle {config['cycle_s']} s, pictures every {config.get('picture_s', 1.0)} s, "
        f"{config['database']}, live feeds "
        f"{'with' if config['feed_deflate'] else 'without'} permessage-deflate; "
        f"code {report['code']['head']}"
        f"{' + uncommitted src changes' if report['code']['src_modified'] else ''}; "
        f"{report['machine']['cpus']} CPUs, Python {report['machine']['python']}, "
        f"{report['date']}. Wall time of the posting: {report['wall_s']:.0f} s.",
        "",
        "| delay (ms) | n | p50 | p95 | p99 | max |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    names = {
        "report_to_alert": "report -> alert on the feed (raised, level-up)",
        "report_to_easing": "report -> level-down or cleared on the feed",
        "alert_to_advice": "alert -> its manoeuvre advice on the feed",
        "own_report_to_alert": "own party's report -> alert on its feed",
        "report_to_feed": "report -> first picture carrying it",
        "cycle_to_alert": "cycle start -> alert on the feed",
        "cycle_to_picture": "cycle start -> picture on the feed",
    }
    rows = [
        (names[k], report["latency_s"][k]) for k in names if k in report["latency_s"]
    ]
    rows += [
        ("POST /reports (send -> answer)", report["batches"]["post_s"]),
        ("batch sent after its due time", report["batches"]["send_lateness_s"]),
        ("gap between pictures", report["cycle_gap_s"]),
    ]
    for name, stats in rows:
        lines.append(
            f"| {name} | {stats['n']:,} | {_ms(stats['p50'])} | {_ms(stats['p95'])} "
            f"| {_ms(stats['p99'])} | {_ms(stats['max'])} |"
        )
    mem = report["memory"]
    storage = report["storage"]
    alerts = report["alerts"]
    cpu = mem.get("server_cpu_cores", {})
    lines += [
        "",
        f"- Server RSS (VmRSS every 10 s): {_num(mem.get('idle_mib'), 0)} MiB before "
        f"the load, {_num(mem.get('warm_first_mib'), 0)} MiB at the first sample "
        f"after {WARM_UP_S:.0f} s, {_num(mem.get('last_mib'), 0)} MiB at the end, "
        f"max {_num(mem.get('max_mib'), 0)} MiB; slope "
        f"{_num(mem.get('warm_slope_mib_per_h'))} MiB/h after {WARM_UP_S:.0f} s, "
        f"{_num(mem.get('second_half_slope_mib_per_h'))} MiB/h over the second half "
        f"({mem['samples']} samples). Server CPU: mean {_num(cpu.get('mean'), 2)}, "
        f"max {_num(cpu.get('max'), 2)} cores (10 s windows).",
        f"- Batches: {report['batches']['posted']:,} posted, "
        f"{report['batches']['acknowledged']:,} acknowledged, refused by status: "
        f"{report['batches']['refused_by_status'] or 'none'}; batches never seen on "
        f"the feed: {report['latency_s']['batches_never_on_feed']}; alert messages "
        f"of cycles after the last batch (dead reckoning only, in neither report -> "
        f"figure): {report['latency_s'].get('alerts_after_the_load', 0)}.",
        f"- Storage: {storage['stored_reports']:,} reports stored, "
        f"{storage['acknowledged_reports']:,} acknowledged; acknowledged batches "
        f"missing or short: {storage['acknowledged_batches_missing_or_short']}; "
        f"audit chain: {'verifies' if storage['audit_ok'] else 'BROKEN'} "
        f"(`skypact audit verify` exit {storage['audit_verify_exit_code']}, "
        f"{storage['audit_records']:,} records).",
        f"- Alerts: {alerts['raised']} of {alerts['planted']} planted pairs raised, "
        f"{alerts['to_exactly_the_pair']} delivered to exactly their two parties; "
        f"unexpected alerts: {len(alerts['unexpected'])}; first raised at "
        f"{_num(alerts['first_raised_s'])} s, last at "
        f"{_num(alerts['last_raised_s'])} s; messages by state/level: "
        f"{alerts['transitions']}.",
        f"- Feed: {report['feed']['pictures']:,} pictures, median "
        f"{_num((report['feed']['picture_bytes']['p50'] or 0) / 1e6, 2)} MB; feeds "
        f"closed: {report['feed']['closed']}.",
    ]
    return "\n".join(lines)


def _num(value: float | None, digits: int = 1) -> str:
    return "-" if value is None else f"{value:,.{digits}f}"


# ------------------------------------------------------------------ in-process profile


_INSTRUMENTED = (
    ("skypact.service", "Service", "submit_reports"),
    ("skypact.storage.repository", "Repository", "store_report_batch"),
    ("skypact.tracks.store", "TrackStore", "ingest"),
    ("skypact.tracks.store", "TrackStore", "_merge"),
    ("skypact.service", "Service", "cycle"),
    ("skypact.tracks.store", "TrackStore", "snapshot"),
    ("skypact.tracks.store", "TrackStore", "tracks"),
    ("skypact.tracks.store", "TrackStore", "expire"),
    ("skypact.alerting.monitor", "AlertMonitor", "step"),
    ("skypact.service", "Service", "publish"),
    ("skypact.service", "Service", "_store_history"),
    ("skypact.service", "Service", "_audit_releases"),
    ("skypact.service", None, "visible_picture"),
    ("skypact.service", None, "picture_feed_message"),
    ("skypact.service", None, "alert_message"),
)
"""Functions timed (inclusive wall time, every call) in the in-process profile."""


@contextlib.contextmanager
def _timing(totals: defaultdict[str, float], calls: Counter[str]) -> Iterator[None]:
    """Wrap each function of :data:`_INSTRUMENTED` to add its wall time to
    ``totals[name]`` and count its calls; the originals are put back on exit."""
    import importlib

    undo: list[tuple[object, str, object]] = []

    def timed(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                totals[name] += time.perf_counter() - started
                calls[name] += 1

        return wrapper

    try:
        for module_name, class_name, attr in _INSTRUMENTED:
            module = importlib.import_module(module_name)
            owner = module if class_name is None else getattr(module, class_name)
            original = getattr(owner, attr, None)
            if original is None:  # not (or no longer) there: nothing to time
                continue
            label = attr if class_name is None else f"{class_name}.{attr}"
            undo.append((owner, attr, original))
            setattr(owner, attr, timed(label, original))
        yield
    finally:
        for owner, attr, original in reversed(undo):
            setattr(owner, attr, original)


def profile_in_process(config: LoadConfig, steps: int, top: int = 40) -> str:
    """Where a second of this traffic goes inside the service, without HTTP.

    The service runs in this process on a simulated clock (one second per step).
    Each step does what the server does for one second of traffic: every party's
    batch is validated as FastAPI does (``list[ReportIn]`` from the JSON body) and
    passed to ``Service.submit_reports``, then one ``Service.cycle`` runs with one
    subscriber per party that serialises each message as the WebSocket handler does
    (``json.dumps``). One warm-up step (numba, caches), then ``steps`` steps with
    the functions of :data:`_INSTRUMENTED` timed (``time.perf_counter``, inclusive),
    then ``steps`` more under cProfile, whose overhead inflates call-heavy code (its
    times rank functions; the timed steps give the figures).
    """
    from pydantic import TypeAdapter

    from skypact.api.schemas import ReportIn
    from skypact.config import Settings, StorageSettings
    from skypact.runtime import open_runtime
    from skypact.service import FeedMessage as ServiceFeedMessage

    fleet = build_fleet(
        config.aircraft,
        config.parties,
        seconds=config.seconds,
        pairs=config.pair_count(),
        seed=config.seed,
    )
    adapter = TypeAdapter(list[ReportIn])
    t0 = 1_445_342_400.0
    now = [t0]
    totals: defaultdict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    feed_bytes = [0]
    profiler = cProfile.Profile()
    with tempfile.TemporaryDirectory(prefix="skypact-load-profile-") as tmp:
        home, _ = prepare(Path(tmp), config)
        settings = Settings(
            data_dir=home.data_dir,
            agreement=home.agreement,
            storage=StorageSettings(url=config.database),
            cycle_s=config.cycle_s,
            picture_s=config.picture_s,
        )
        opened = open_runtime(settings, clock=lambda: now[0])
        service = opened.service
        principals = {}
        for spec in config.parties:
            issued = opened.repository.create_token(spec.party, "duty-officer")
            principals[spec.party] = opened.repository.authenticate(
                issued.token, now[0]
            )

        def sink(message: ServiceFeedMessage) -> None:
            feed_bytes[0] += len(message.text)  # encoded by the service

        for spec in config.parties:
            service.subscribe(spec.party, sink)
        rows = {spec.party: fleet.rows_of(spec.party) for spec in config.parties}

        def one_second(step: int) -> None:
            now[0] = t0 + step
            for spec in config.parties:
                body = json.dumps(
                    fleet.reports(rows[spec.party], float(step), now[0])
                ).encode()
                started = time.perf_counter()
                records = adapter.dump_python(  # as routes/reports.py does
                    adapter.validate_json(body), mode="json", exclude_none=True
                )
                totals["pydantic list[ReportIn] (validate_json + dump_python)"] += (
                    time.perf_counter() - started
                )
                calls["pydantic list[ReportIn] (validate_json + dump_python)"] += 1
                service.submit_reports(
                    principals[spec.party], records, client_batch_id=f"p{step}"
                )
            cycles = max(1, round(1.0 / config.cycle_s))
            for k in range(cycles):  # a second's cycles, after the batches
                now[0] = t0 + step + (k + 0.5) / cycles
                service.cycle()

        one_second(0)  # warm-up
        totals.clear()
        calls.clear()
        feed_bytes[0] = 0
        with _timing(totals, calls):
            for step in range(1, 1 + steps):
                one_second(step)
        timed, timed_calls = dict(totals), dict(calls)
        bytes_per_step = feed_bytes[0] / steps
        profiler.enable()
        for step in range(1 + steps, 1 + 2 * steps):
            one_second(step)
        profiler.disable()
        opened.close()
    out = io.StringIO()
    out.write(
        f"In-process profile: {len(fleet):,} aircraft, {len(config.parties)} parties "
        f"({len(fleet.pairs)} planted pairs), {steps} timed steps of 1 s of traffic "
        f"(after one warm-up step), then {steps} under cProfile. Feed bytes per step "
        f"(all parties): {bytes_per_step:,.0f}.\n\n"
        "Inclusive wall time; an indented row is part of the row above it (and "
        "``TrackStore.tracks`` is called by ``snapshot`` and ``expire`` too):\n\n"
        "| function | calls per step | ms per step |\n|---|---:|---:|\n"
    )
    per_step = {name: 1000.0 * total / steps for name, total in timed.items()}
    order = [
        "pydantic list[ReportIn] (validate_json + dump_python)",
        "Service.submit_reports",
        "Repository.store_report_batch",
        "TrackStore.ingest",
        "TrackStore._merge",
        "Service.cycle",
        "TrackStore.snapshot",
        "TrackStore.tracks",
        "AlertMonitor.step",
        "TrackStore.expire",
        "alert_message",
        "Service.publish",
        "Service._store_history",
        "visible_picture",
        "Service._audit_releases",
        "picture_feed_message",
    ]
    for name in order:
        indent = "" if name in order[:2] or name == "Service.cycle" else "- "
        count = timed_calls.get(name, 0) / steps
        shown = f"{count:g}" if name in timed_calls else "-"
        out.write(f"| {indent}{name} | {shown} | {per_step.get(name, 0.0):,.1f} |\n")
    busy = (
        per_step.get("pydantic list[ReportIn] (validate_json + dump_python)", 0.0)
        + per_step.get("Service.submit_reports", 0.0)
        + per_step.get("Service.cycle", 0.0)
    )
    out.write(
        f"| **one second of traffic, one thread** | | **{busy:,.1f}** |\n\n"
        "cProfile, SkyPact functions by cumulative time "
        f"(seconds over {steps} steps):\n"
    )
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("cumulative").print_stats("skypact", top)
    out.write(text.getvalue())
    text = io.StringIO()
    stats = pstats.Stats(profiler, stream=text)
    stats.sort_stats("tottime").print_stats(top // 2)
    out.write(text.getvalue())
    return out.getvalue()


# ------------------------------------------------------------- the server, sampled

SAMPLED_SERVE = "--sampled-serve"
"""``bench/load.py --sampled-serve OUT serve ...`` runs ``skypact serve`` (the CLI's
``main``, unchanged) in this process with :func:`sampled_serve`'s sampler."""


class _Stopped(BaseException):
    """SIGTERM after uvicorn's shutdown (uvicorn re-raises the signal it caught)."""


def _code_name(code: Any) -> str:
    """``package/module.py:Qualified.name`` of a code object."""
    path = Path(code.co_filename)
    parts = path.parts
    for anchor in ("site-packages", "src", "lib"):
        if anchor in parts:
            k = len(parts) - 1 - parts[::-1].index(anchor)
            path = Path(*parts[k + 1 :])
            break
    return f"{path}:{getattr(code, 'co_qualname', code.co_name)}"


def _thread_ticks(native_id: int) -> int | None:
    """User + system clock ticks of one thread of this process."""
    return _stat_ticks(f"/proc/self/task/{native_id}/stat")


_WAITING = (
    "threading.py:Condition.wait",
    "threading.py:Event.wait",
    "queue.py:Queue.get",
    "asyncio/runners.py:Runner.run",
)
"""Innermost functions of a thread that waits: for work (the thread pool) or, for the
event loop, inside uvloop's C loop (which also runs the C parts of HTTP parsing and
socket I/O: those are charged here when no Python frame is above them)."""


def _waiting(names: Sequence[str]) -> bool:
    return bool(names) and names[0].endswith(_WAITING)


def _serve_beside(
    argv: list[str], watch: Callable[[], None], stop: threading.Event
) -> int:
    """``skypact.cli.main(argv)`` in this thread with ``watch`` in another until
    the server stops (SIGTERM included); ``stop`` is set, and ``watch`` joined,
    before this returns."""
    from skypact.cli import main as skypact_main

    def stopped(signum: int, frame: Any) -> None:
        raise _Stopped

    signal.signal(signal.SIGTERM, stopped)
    watcher = threading.Thread(target=watch, name="watcher", daemon=True)
    watcher.start()
    try:
        return skypact_main(argv)
    except _Stopped:
        return 0
    finally:
        stop.set()
        watcher.join()


def sampled_serve(out: Path, argv: list[str], interval_s: float = 0.01) -> int:
    """Run ``skypact.cli.main(argv)`` with a CPU-weighted stack sampler; write the
    result to ``out`` (JSON) when the server stops.

    Every ``interval_s`` the sampler reads each Python thread's CPU clock ticks
    (``/proc/self/task/<tid>/stat``) and its current stack (``sys._current_frames``),
    and charges the ticks the thread used since the last sample to every function on
    that stack (inclusive) and to the innermost one (leaf); when the thread is back
    to waiting (:data:`_WAITING`) at the sample but was working at the one before,
    the ticks go to the stack it was working in. A thread blocked on a lock or waiting
    for work uses no ticks, so it is charged nothing; threads that are not Python's
    (the detector's OpenMP workers) are not sampled and show up as the difference
    between the process's CPU and the sampled total. Ticks are 10 ms: the figures are
    averages over many samples, not per call.
    """
    inclusive: Counter[str] = Counter()
    leaf: Counter[str] = Counter()
    by_thread: Counter[str] = Counter()
    stacks: Counter[str] = Counter()
    stop = threading.Event()

    def sample() -> None:
        me = threading.get_ident()
        last: dict[int, int] = {}
        before: dict[int, list[str]] = {}
        while not stop.wait(interval_s):
            threads = {t.ident: t for t in threading.enumerate()}
            for ident, frame in sys._current_frames().items():
                thread = threads.get(ident)
                if thread is None or thread.native_id is None:
                    continue
                now = _thread_ticks(thread.native_id)
                if now is None:
                    continue
                used = now - last.get(ident, now)
                last[ident] = now
                names = []
                walk: Any = frame
                while walk is not None:
                    names.append(_code_name(walk.f_code))
                    walk = walk.f_back
                earlier = before.get(ident)
                before[ident] = names
                if used <= 0:
                    continue
                if ident == me:
                    by_thread["the sampler itself"] += used
                    continue
                if _waiting(names) and earlier is not None and not _waiting(earlier):
                    names = earlier  # it worked, then went back to waiting
                for name in set(names):
                    inclusive[name] += used
                leaf[names[0]] += used
                main = thread is threading.main_thread()
                stacks[("main: " if main else "") + " < ".join(names[:12])] += used
                by_thread["event loop (main thread)" if main else "worker threads"] += (
                    used
                )

    started = time.monotonic()
    cpu_before = os.times()
    try:
        code = _serve_beside(argv, sample, stop)
    finally:
        cpu_after = os.times()
        tick_s = 1.0 / os.sysconf("SC_CLK_TCK")
        out.write_text(
            json.dumps(
                {
                    "wall_s": time.monotonic() - started,
                    "process_cpu_s": (cpu_after.user + cpu_after.system)
                    - (cpu_before.user + cpu_before.system),
                    "tick_s": tick_s,
                    "interval_s": interval_s,
                    "by_thread_ticks": dict(by_thread),
                    "inclusive_ticks": dict(inclusive.most_common(400)),
                    "leaf_ticks": dict(leaf.most_common(200)),
                    "stack_ticks": dict(stacks.most_common(100)),
                }
            )
        )
    return code


TRACED_SERVE = "--traced-serve"
"""First argument of this script that runs ``skypact serve`` (the rest of the command
line) in this process under :func:`traced_serve`."""


class _MallInfo2(ctypes.Structure):
    _fields_ = [
        (name, ctypes.c_size_t)
        for name in (
            "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks",
            "fsmblks", "uordblks", "fordblks", "keepcost",
        )
    ]  # fmt: skip


def _malloc_mib() -> dict[str, float] | None:
    """glibc's heap (``mallinfo2``): bytes in use by malloc's callers, free bytes
    it holds, and mmapped blocks, in MiB (None: not glibc)."""
    try:
        libc = ctypes.CDLL("libc.so.6")
        call = libc.mallinfo2
    except (OSError, AttributeError):
        return None
    call.restype = _MallInfo2
    info = call()
    mib = 1024.0 * 1024.0
    return {
        "in_use_mib": info.uordblks / mib,
        "free_held_mib": info.fordblks / mib,
        "mmapped_mib": info.hblkhd / mib,
    }


def traced_serve(
    out: Path, argv: list[str], every_s: float = 10.0, warm_s: float = 90.0
) -> int:
    """Run ``skypact.cli.main(argv)`` with :mod:`tracemalloc` on; write to ``out``
    (JSON) when the server stops: every ``every_s``, the memory Python's allocators
    hold (traced), glibc's heap (in use / free but held / mmapped) and RSS; and
    where the traced memory grew between the first snapshot ``warm_s`` after the
    start and the end, by allocation traceback. Tracing slows the server down: its
    latencies are not the benchmark's."""
    import tracemalloc

    tracemalloc.start(8)
    stop = threading.Event()
    series: list[dict[str, float | None]] = []
    warm: list[tracemalloc.Snapshot] = []
    started = time.monotonic()

    def watch() -> None:
        while not stop.wait(every_s):
            elapsed = time.monotonic() - started
            rss = rss_kib(os.getpid())
            point: dict[str, float | None] = {
                "elapsed_s": round(elapsed, 1),
                "traced_mib": tracemalloc.get_traced_memory()[0] / 1048576.0,
                "rss_mib": None if rss is None else rss / 1024.0,
            }
            point.update(_malloc_mib() or {})
            series.append(point)
            if not warm and elapsed >= warm_s:
                warm.append(tracemalloc.take_snapshot())

    try:
        code = _serve_beside(argv, watch, stop)
    finally:
        growth: list[dict[str, Any]] = []
        if warm:
            last = tracemalloc.take_snapshot()
            for stat in last.compare_to(warm[0], "traceback")[:25]:
                growth.append(
                    {
                        "size_diff_kib": stat.size_diff / 1024.0,
                        "size_kib": stat.size / 1024.0,
                        "count_diff": stat.count_diff,
                        "where": [
                            f"{frame.filename.split('site-packages/')[-1]}:"
                            f"{frame.lineno}"
                            for frame in reversed(stat.traceback)
                        ],
                    }
                )
        tracemalloc.stop()
        out.write_text(
            json.dumps({"every_s": every_s, "warm_s": warm_s, "series": series,
                        "growth": growth})
        )  # fmt: skip
    return code


def memory_trace_table(trace: dict[str, Any], top: int = 12) -> str:
    """Where the traced memory grew (Markdown), and how the heap moved."""
    series = trace["series"]
    lines = ["### Server memory, traced", ""]
    if series:
        first = next(
            (p for p in series if p["elapsed_s"] >= trace["warm_s"]), series[0]
        )
        last = series[-1]
        lines.append("| MiB | at " + f"{first['elapsed_s']:.0f} s | at "
                     + f"{last['elapsed_s']:.0f} s |")  # fmt: skip
        lines.append("|---|---:|---:|")
        for key in ("rss_mib", "traced_mib", "in_use_mib", "free_held_mib",
                    "mmapped_mib"):  # fmt: skip
            if first.get(key) is not None and last.get(key) is not None:
                lines.append(f"| {key[:-4]} | {first[key]:,.1f} | {last[key]:,.1f} |")
    lines += ["", "| grew (KiB) | blocks | allocated at (innermost last) |",
              "|---:|---:|---|"]  # fmt: skip
    for stat in trace["growth"][:top]:
        where = " < ".join(reversed(stat["where"][-4:]))
        lines.append(
            f"| {stat['size_diff_kib']:,.0f} | {stat['count_diff']:+,} | {where} |"
        )
    return "\n".join(lines)


def _package(name: str) -> str:
    """The library a function belongs to (``pandas``, ``skypact``, ``json``, ...)."""
    parts = name.split(":", 1)[0].split("/")
    if parts[0].startswith("python3") and len(parts) > 1:
        return parts[1].removesuffix(".py")
    if parts[0].startswith("<frozen"):
        return "importlib"
    return parts[0].removesuffix(".py")


def server_profile_table(profile: dict[str, Any], top: int = 24) -> str:
    """The sampled server's CPU: SkyPact's functions (inclusive) and the innermost
    functions' libraries, in CPU ms per second of wall time."""
    tick_ms = 1000.0 * profile["tick_s"]
    wall_s = profile["wall_s"]

    def rate(ticks: float) -> str:
        return f"{ticks * tick_ms / wall_s:,.0f}"

    sampled = sum(
        v for k, v in profile["by_thread_ticks"].items() if k != "the sampler itself"
    )
    lines = [
        f"Server CPU, sampled every {1000 * profile['interval_s']:.0f} ms over "
        f"{wall_s:,.0f} s: the process used {1000 * profile['process_cpu_s'] / wall_s:,.0f}"
        f" ms/s, its Python threads {rate(sampled)} ms/s ("
        + ", ".join(
            f"{k} {rate(v)}" for k, v in sorted(profile["by_thread_ticks"].items())
        )
        + "); the rest is native threads (the detector's OpenMP workers) and "
        "start-up before the first sample.",
        "",
        "| SkyPact function (inclusive: it and what it calls) | CPU ms per s |",
        "|---|---:|",
    ]
    ours = [(k, v) for k, v in profile["inclusive_ticks"].items() if "skypact/" in k]
    ours = [kv for kv in ours if not kv[0].startswith("skypact/cli/")]
    for name, ticks in sorted(ours, key=lambda kv: -kv[1])[:top]:
        lines.append(f"| `{name}` | {rate(ticks)} |")
    by_package: Counter[str] = Counter()
    for name, ticks in profile["leaf_ticks"].items():
        by_package[_package(name)] += ticks
    lines += [
        "",
        "| library of the innermost Python function | CPU ms per s |",
        "|---|---:|",
    ]
    for package, ticks in by_package.most_common(12):
        lines.append(f"| {package} | {rate(ticks)} |")
    return "\n".join(lines)


# ----------------------------------------------------------------------------- command


def main(argv: list[str] | None = None) -> int:
    given = sys.argv[1:] if argv is None else argv
    if given[:1] == [SAMPLED_SERVE]:
        return sampled_serve(Path(given[1]), given[2:])
    if given[:1] == [TRACED_SERVE]:
        return traced_serve(Path(given[1]), given[2:])
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--aircraft", type=int, default=10_000)
    parser.add_argument("--seconds", type=int, default=600)
    parser.add_argument(
        "--parties",
        default=DEFAULT_PARTIES,
        help="PARTY[:BLOC],... (default %(default)s)",
    )
    parser.add_argument(
        "--pairs",
        type=int,
        default=None,
        help="planted pairs (default seconds/10, at most 21 x (parties + 1))",
    )
    parser.add_argument("--cycle-s", type=float, default=1.0)
    parser.add_argument("--picture-s", type=float, default=1.0)
    parser.add_argument(
        "--database", default=None, help="postgresql://... (default SQLite)"
    )
    parser.add_argument("--seed", type=int, default=2015)
    parser.add_argument(
        "--sample-server",
        action="store_true",
        help="sample the server's CPU by function (bench/README.md, Load)",
    )
    parser.add_argument(
        "--trace-memory",
        action="store_true",
        help="trace the server's memory with tracemalloc (where it grows; slow)",
    )
    parser.add_argument(
        "--no-deflate",
        action="store_true",
        help="live-feed clients do not offer permessage-deflate",
    )
    parser.add_argument("--keep", action="store_true", help="keep the data directory")
    parser.add_argument("--no-save", action="store_true")
    parser.add_argument("--output", type=Path, default=RESULTS / "load.json")
    parser.add_argument(
        "--profile-cycles",
        type=int,
        default=0,
        metavar="N",
        help="profile N seconds of traffic in-process instead (no server, no HTTP)",
    )
    args = parser.parse_args(argv)
    configure_runtime()
    try:
        parties = parse_parties(args.parties)
    except ValueError as exc:
        parser.error(str(exc))
    config = LoadConfig(
        aircraft=args.aircraft,
        seconds=args.seconds,
        parties=parties,
        pairs=args.pairs,
        cycle_s=args.cycle_s,
        picture_s=args.picture_s,
        database=args.database,
        seed=args.seed,
        deflate=not args.no_deflate,
        sample_server=args.sample_server,
        trace_memory=args.trace_memory,
    )
    try:
        build_fleet(
            config.aircraft,
            config.parties,
            seconds=config.seconds,
            pairs=config.pair_count(),
            seed=config.seed,
        )
    except ValueError as exc:
        parser.error(str(exc))
    if args.profile_cycles:
        print(profile_in_process(config, args.profile_cycles))
        return 0
    home_dir = Path(tempfile.mkdtemp(prefix="skypact-load-"))
    try:
        result = run_load(
            home_dir, config, log=lambda text: print(text, file=sys.stderr)
        )
    finally:
        if args.keep:
            print(f"data kept in {home_dir}", file=sys.stderr)
        else:
            shutil.rmtree(home_dir, ignore_errors=True)
    report = summary(result)
    print(markdown(report))
    if result.server_profile is not None:
        print("\n" + server_profile_table(result.server_profile))
    if result.memory_trace is not None:
        print("\n" + memory_trace_table(result.memory_trace))
    if not args.no_save:
        args.output.parent.mkdir(parents=True, exist_ok=True)
        args.output.write_text(json.dumps(report, indent=2) + "\n")
        print(f"\nwritten to {args.output}", file=sys.stderr)
    storage = report["storage"]
    ok = (
        storage["audit_ok"]
        and storage["stored_reports"] == storage["acknowledged_reports"]
        and storage["acknowledged_batches_missing_or_short"] == 0
    )
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
