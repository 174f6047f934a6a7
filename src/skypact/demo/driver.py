"""``skypact demo``: the shared theatre run live, as the operations centres see it.

Everything is real and runs on this machine:

- **the service**: the app of ``skypact serve`` (:func:`~skypact.api.app.create_app`
  over :func:`~skypact.runtime.open_runtime`) under uvicorn, in a thread of this
  process, on loopback (a free port unless ``--port``), over SQLite (WAL) in the data
  directory or ``--database``, with its audit chain. The database is migrated by the
  code of ``skypact db migrate``; the agreement is the model agreement re-keyed and
  signed by every party (:mod:`skypact.demo.agreement`).
- **one operations centre per party of the theatre** (:mod:`skypact.demo.scenario`,
  :mod:`skypact.demo.centre`): its duty officer's token, its own HTTP client posting
  only its own aircraft's reports once a second, its own live feed.
- **an auditor** of the Russian side, who verifies the audit chain through the API.

The timeline (seconds of traffic, :class:`~skypact.demo.scenario.Theatre`): the
planted alert at once and a level up some 4 s later, both acknowledged by both duty
officers; an identification query; a notification of a planned operating area; the
manoeuvre agreed on the line and flown; the alert cleared; each party's picture read
two seconds before the end; the audit chain verified after it.

The transcript goes to stdout. The run fails (exit 1, the reasons on stderr) when
something expected did not happen, or something happened that must not (see
:func:`verdict`).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import itertools
import json
import shutil
import socket
import tempfile
import threading
import time
from collections.abc import Callable, Coroutine, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, TextIO

from skypact.demo.agreement import prepare_agreement
from skypact.demo.centre import OperationsCentre, Story, Transcript, flight_level
from skypact.demo.scenario import Theatre, report, syria
from skypact.errors import ConfigError

if TYPE_CHECKING:
    import uvicorn
    from fastapi import FastAPI
    from websockets.asyncio.client import ClientConnection

    from skypact.config import Settings

__all__ = ["DemoOptions", "run_demo", "verdict"]

_SETTLE_S = 1.5
"""After the last reports: time for the last cycle and pictures to reach the feeds."""
_AUDITOR = "rus"
"""The party whose auditor verifies the chain (the other side of the first query)."""


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoOptions:
    """What ``skypact demo`` was asked for.

    Attributes:
        data_dir: where to keep everything (None: a temporary directory, removed).
        database: a database URL instead of SQLite in the data directory.
        seconds: how long the traffic runs.
        port: the service's port on loopback (0: a free one).
    """

    data_dir: Path | None = None
    database: str | None = None
    seconds: int = 40
    port: int = 0


class _DemoFailure(Exception):
    """The demo cannot go on (the message says why)."""


def run_demo(options: DemoOptions, out: TextIO, err: TextIO) -> int:
    """Run the demo (see the module docstring); the transcript on ``out``, the
    problems on ``err``; returns the exit code.

    Raises:
        ConfigError: a bad option (duration, data directory, port).
    """
    theatre = syria()
    if not theatre.min_seconds <= options.seconds <= theatre.max_seconds:
        raise ConfigError(
            "--seconds",
            options.seconds,
            f"the demo's theatre runs {theatre.min_seconds:.0f} to "
            f"{theatre.max_seconds:.0f} s",
        )
    keep = options.data_dir is not None
    if options.data_dir is not None:
        data_dir = options.data_dir.resolve()
        if data_dir.exists() and (not data_dir.is_dir() or any(data_dir.iterdir())):
            raise ConfigError(
                "--data-dir",
                str(options.data_dir),
                "must be a new or empty directory (the demo keeps one run there)",
            )
        data_dir.mkdir(parents=True, exist_ok=True)
    else:
        data_dir = Path(tempfile.mkdtemp(prefix="skypact-demo-"))
    transcript = Transcript(out)
    transcript.say(
        "setup",
        f"skypact demo: {options.seconds} s of shared airspace over Syria, working in "
        f"{data_dir}"
        + ("" if keep else " (a temporary directory, removed at the end)"),
    )
    try:
        failures = _run_in(data_dir, options, theatre, transcript)
    except _DemoFailure as exc:
        failures = [str(exc)]
    finally:
        if not keep:
            shutil.rmtree(data_dir, ignore_errors=True)
            transcript.say("setup", f"removed {data_dir}")
    if failures:
        print("skypact demo: FAILED:", file=err)
        for failure in failures:
            print(f"  - {failure}", file=err)
        return 1
    return 0


def _run_in(
    data_dir: Path, options: DemoOptions, theatre: Theatre, transcript: Transcript
) -> list[str]:
    """Set up, run the service and the operations centres, check: the failures."""
    from sqlalchemy.engine import make_url

    from skypact.api.app import create_app
    from skypact.config import Settings, StorageSettings
    from skypact.runtime import open_repository, open_runtime
    from skypact.storage.engine import make_engine, migrate

    made = prepare_agreement(data_dir, now=dt.datetime.now(dt.UTC))
    content = made.agreement.content
    sides = "; ".join(
        f"{bloc.id}: {', '.join(p.id for p in content.parties if p.bloc == bloc.id)}"
        for bloc in content.blocs
    )
    transcript.say(
        "setup",
        f"agreement {content.agreement.id} v{content.agreement.version} in force: "
        f"signed by all {len(content.parties)} parties with fresh keys ({sides}); "
        f"{made.path.name} copied from {made.source}",
    )
    settings = Settings(
        data_dir=data_dir,
        storage=StorageSettings(url=options.database),
        agreement=made.path,
        host="127.0.0.1",
        port=options.port,
    )
    url = settings.database_url()
    engine = make_engine(url)
    try:
        revision = migrate(engine)
    finally:
        engine.dispose()
    storage = "SQLite (WAL)" if url.startswith("sqlite") else "database"
    shown = make_url(url).render_as_string(hide_password=True)
    transcript.say("setup", f"{storage} at {shown}: migrated to revision {revision}")
    compile_s = _warm_up_detector(theatre)
    if compile_s > 1.0:
        transcript.say(
            "setup",
            f"detector compiled for this machine in {compile_s:.0f} s (kept for the "
            "next runs)",
        )
    story = Story(
        transcript=transcript,
        theatre=theatre,
        level_names={lv.severity: lv.name for lv in content.alerting.levels},
        side_of={p.id: p.bloc or p.id for p in content.parties},
        radius_nm=content.releasability.disclosure_radius_nm,
    )
    opened = open_runtime(settings)
    try:
        tokens = {
            party: opened.repository.create_token(
                party, "duty-officer", label="skypact demo"
            ).token
            for party in theatre.parties
        }
        auditor = opened.repository.create_token(
            _AUDITOR, "auditor", label="skypact demo"
        ).token
        service = _ServiceThread(create_app(opened), settings)
        service.start()
        transcript.say(
            "server",
            f"skypact service up at {service.base_url} (HTTP API /api/v1, live feed "
            f"{service.live_url}), detection and alerting every second",
        )
        try:
            asyncio.run(_operate(service, tokens, auditor, story, options.seconds))
        finally:
            clean = service.stop()
            transcript.say("server", "stopped" if clean else "did not stop in time")
    finally:
        opened.close()
    repository = open_repository(settings)
    try:
        chain = repository.verify_audit()
    finally:
        repository.engine.dispose()
    command = f"skypact audit verify --data-dir {data_dir}"
    if options.database is not None:
        command += f" --database {shown}"
    checked = (
        f"{command}:"
        if options.data_dir is not None
        else "the chain re-checked after the service stopped (as skypact audit "
        "verify does):"
    )
    transcript.say(
        "audit",
        f"{checked} "
        + (
            f"the chain verifies, {chain.records:,} records"
            if chain.ok
            else f"the chain is BROKEN at record {chain.seq}: {chain.problem}"
        ),
    )
    failures = verdict(story, options.seconds)
    if not chain.ok:
        failures.append(f"the audit chain does not verify: {chain.detail}")
    _summarise(story, options.seconds, chain.records, chain.ok, failures)
    if options.data_dir is not None and not failures:
        transcript.say("summary", f"everything is kept in {data_dir}: try {command}")
    return failures


def _warm_up_detector(theatre: Theatre) -> float:
    """Compile the detection and validation kernels (once per machine: numba keeps
    them) before the clock starts; the seconds it took."""
    import pandas as pd

    from skypact.pipeline import detect
    from skypact.tracks.ingest.base import report_table
    from skypact.tracks.validation import validate_reports

    started_s = time.monotonic()
    table = pd.DataFrame(
        [
            {**report(a, 0.0, epoch_s=time.time()), "party": a.party}
            for a in theatre.aircraft
        ]
    )
    detect(table, horizontal_nm=3.0, vertical_ft=1000.0, pairs="inter-party")
    validate_reports(report_table(table, source="demo"))
    return time.monotonic() - started_s


class _ServiceThread:
    """The app under uvicorn in a thread of its own, on a socket bound here: a port
    that is taken is refused at once, and port 0's choice is known before serving."""

    def __init__(self, app: FastAPI, settings: Settings) -> None:
        import uvicorn

        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self._socket.bind((settings.host, settings.port))
        except OSError as exc:
            self._socket.close()
            raise ConfigError(
                "--port", settings.port, exc.strerror or str(exc)
            ) from exc
        self.host, self.port = self._socket.getsockname()[:2]
        config = uvicorn.Config(
            app,
            log_config=None,
            log_level="warning",
            access_log=False,
            timeout_graceful_shutdown=5,
        )
        self._server: uvicorn.Server = uvicorn.Server(config)
        self._thread = threading.Thread(
            target=self._serve, name="skypact-demo-service", daemon=True
        )
        self._error: BaseException | None = None

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def live_url(self) -> str:
        return f"ws://{self.host}:{self.port}/api/v1/live"

    def _serve(self) -> None:
        try:
            self._server.run(sockets=[self._socket])
        except BaseException as exc:  # uvicorn exits on a failed start-up: say why
            self._error = exc

    def start(self, timeout_s: float = 60.0) -> None:
        """Serve; returns once the app has started.

        Raises:
            _DemoFailure: it stopped, or did not start within ``timeout_s``.
        """
        self._thread.start()
        deadline_s = time.monotonic() + timeout_s
        while not self._server.started:
            if not self._thread.is_alive():
                raise _DemoFailure(f"the service did not start ({self._error!r})")
            if time.monotonic() > deadline_s:
                self.stop()
                raise _DemoFailure(f"the service did not start in {timeout_s:.0f} s")
            time.sleep(0.02)

    def stop(self, timeout_s: float = 15.0) -> bool:
        """Shut down as uvicorn does on SIGTERM (connections, then the lifespan);
        forced after ``timeout_s``. Whether it stopped cleanly."""
        self._server.should_exit = True
        self._thread.join(timeout_s)
        if self._thread.is_alive():
            self._server.force_exit = True
            self._thread.join(timeout_s)
        self._socket.close()
        return not self._thread.is_alive() and self._error is None


async def _operate(
    service: _ServiceThread,
    tokens: Mapping[str, str],
    auditor: str,
    story: Story,
    seconds: int,
) -> None:
    """Open the operations centres, fly the theatre, audit; close everything."""
    import httpx
    from websockets.asyncio.client import connect
    from websockets.exceptions import WebSocketException

    clients = {
        party: httpx.AsyncClient(
            base_url=service.base_url,
            headers={"Authorization": f"Bearer {token}"},
            timeout=30.0,
        )
        for party, token in tokens.items()
    }
    centres = {p: OperationsCentre(p, http, story) for p, http in clients.items()}
    feeds: dict[str, ClientConnection] = {}
    tasks: list[asyncio.Task[None]] = []
    try:
        for party, token in tokens.items():
            feed = await connect(
                service.live_url,
                additional_headers={"Authorization": f"Bearer {token}"},
            )
            feeds[party] = feed
            hello = json.loads(await feed.recv())
            if hello.get("party") != party:
                raise _DemoFailure(f"the live feed of {party} said {hello}")
        story.say(
            "demo",
            f"live feeds open for {', '.join(tokens)}: each operations centre signed "
            "in with its duty officer's token",
        )
        tasks += [asyncio.create_task(centres[p].listen(f)) for p, f in feeds.items()]
        actions = await _fly(centres, story, seconds)
        await asyncio.sleep(_SETTLE_S)
        await asyncio.gather(*actions)
        await _audit(service.base_url, auditor, story)
        for centre in centres.values():
            centre.closing = True
        for feed in feeds.values():
            await feed.close()
        await asyncio.gather(*tasks)
        _tell_feeds(centres, story)
    except (httpx.HTTPError, WebSocketException, OSError) as exc:
        raise _DemoFailure(f"the service stopped answering: {exc!r}") from exc
    finally:
        for task in tasks:
            task.cancel()
        for feed in feeds.values():
            with contextlib.suppress(Exception):
                await feed.close()
        for http in clients.values():
            await http.aclose()


async def _fly(
    centres: Mapping[str, OperationsCentre], story: Story, seconds: int
) -> list[asyncio.Task[None]]:
    """Every party posts its aircraft once a second, and the timeline's actions start
    on time; returns the actions' tasks (the caller awaits them)."""
    theatre = story.theatre
    epoch_s = time.time() + 0.2
    coalition, russian = (theatre.aircraft_by_icao24(i) for i in theatre.encounter)
    own_side = [
        p for p in centres if story.side_of[p] == story.side_of[coalition.party]
    ]
    notifier = centres[theatre.notified_area.party]
    timeline: dict[int, Callable[[], Coroutine[Any, Any, None]]] = {
        round(theatre.identification_at_s): lambda: centres[
            theatre.query_party
        ].ask_identification(theatre.identification_at_s, epoch_s),
        round(theatre.notification_at_s): lambda: notifier.notify_area(
            theatre.notification_at_s, epoch_s, own_side
        ),
        round(theatre.coordination_at_s): lambda: centres[coalition.party].coordinate(
            russian.party
        ),
        seconds - 2: lambda: _check_pictures(centres, seconds - 2.0),
    }
    story.say(
        "demo",
        f"traffic starts: {len(theatre.aircraft)} aircraft of {len(centres)} parties; "
        f"a {coalition.party} and a {russian.party} fighter converge head-on, "
        "everything else flies far from the other side",
    )
    actions: list[asyncio.Task[None]] = []
    for k in range(seconds + 1):
        await asyncio.sleep(max(0.0, epoch_s + k - time.time()))
        await asyncio.gather(
            *(
                centre.post_reports(k, epoch_s, f"demo-{epoch_s:.0f}-{party}-{k}")
                for party, centre in centres.items()
            )
        )
        action = timeline.get(k)
        if action is not None:
            actions.append(asyncio.create_task(action()))
        if k == round(theatre.manoeuvre_at_s):
            story.say(
                "demo",
                "as agreed on the line: "
                + "; ".join(
                    f"{a.party} {a.callsign} "
                    f"{'climbs' if a.manoeuvre.rate_fpm > 0 else 'descends'} to "
                    f"{flight_level(a.manoeuvre.target_ft)} at "
                    f"{abs(a.manoeuvre.rate_fpm):,.0f} ft/min"
                    for a in (coalition, russian)
                    if a.manoeuvre is not None
                ),
            )
        if k and k % 10 == 0:
            story.say(
                "demo",
                f"{k} s of traffic: {sum(story.posted.values()):,} reports posted, "
                f"{sum(story.accepted.values()):,} accepted",
            )
    story.say("demo", f"traffic ends after {seconds} s")
    return actions


async def _check_pictures(centres: Mapping[str, OperationsCentre], t_s: float) -> None:
    for centre in centres.values():
        await centre.check_picture(t_s)


async def _audit(base_url: str, token: str, story: Story) -> None:
    """The auditor verifies the chain through the API."""
    import httpx

    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, timeout=60.0
    ) as http:
        answer = await http.get("/api/v1/audit/verify")
    if answer.status_code != 200:
        story.fail(
            _AUDITOR, f"GET /api/v1/audit/verify: {answer.status_code} {answer.text}"
        )
        return
    chain: dict[str, Any] = answer.json()
    story.audited = chain
    if not chain["ok"]:
        story.fail(
            _AUDITOR,
            f"the auditor finds the chain broken at record {chain['seq']}: "
            f"{chain['detail']}",
        )
        return
    story.say(
        _AUDITOR,
        f"auditor: GET /api/v1/audit/verify: the chain verifies, {chain['records']:,} "
        f"records up to #{chain['head_seq']} ({str(chain['head_hash'])[:16]}...), "
        f"each signed by the server key {str(chain['public_key'])[:20]}...",
    )


def _tell_feeds(centres: Mapping[str, OperationsCentre], story: Story) -> None:
    """Which feeds carried which alert: exactly the two parties involved."""
    for alert_id, parties in sorted(story.alert_feeds.items()):
        others = [p for p in centres if p not in parties]
        carried = ", ".join(
            f"{p} {_count(centres[p].counts.get('picture', 0), 'picture')} and "
            f"{_count(centres[p].counts.get('message', 0), 'line message')}"
            for p in others
        )
        story.say(
            "demo",
            f"alert {alert_id} reached the live feeds of {', '.join(sorted(parties))} "
            f"and no other: the feeds of {', '.join(others)} carried no alert "
            f"({carried})",
        )


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def verdict(story: Story, seconds: int) -> list[str]:
    """What went wrong: the problems seen live, and what should have happened and did
    not -- the planted pair's alert raised, raised a level and cleared, on exactly its
    two parties' feeds with SkyPact's manoeuvre advice, acknowledged by both at each
    level, and its notices on the line too; no other alert; the identification query
    answered with the affiliation only; every message acknowledged by its recipients;
    every picture checked; every report accepted; the chain verified by the auditor."""
    failures = list(story.failures)
    theatre = story.theatre
    pair = {theatre.aircraft_by_icao24(i).party for i in theatre.encounter}
    planted = story.planted
    if planted is None:
        failures.append("no alert was raised for the planted encounter")
    else:
        feeds = story.alert_feeds.get(planted, set())
        if feeds != pair:
            failures.append(
                f"alert {planted} reached {sorted(feeds)}, not {sorted(pair)}"
            )
        levels = story.alert_levels.get(planted, [])
        if not any(b > a for a, b in itertools.pairwise(levels)):
            failures.append(f"alert {planted} was never raised a level ({levels})")
        advised = story.advised.get(planted, set())
        if advised != pair:
            failures.append(
                f"the advice for alert {planted} reached {sorted(advised)}, "
                f"not {sorted(pair)}"
            )
        if story.alert_ends.get(planted) != "cleared":
            failures.append(f"alert {planted} was not cleared after the manoeuvre")
        acks = story.alert_acks.get(planted, set())
        missing = [(p, v) for v in levels for p in sorted(pair) if (p, v) not in acks]
        if missing:
            failures.append(f"alert {planted} not acknowledged by {missing}")
        notices = [
            m
            for m in story.line.values()
            if m["kind"] == "alert-notice" and m["body"]["alert_id"] == planted
        ]
        if not notices or any(set(m["recipients"]) != pair for m in notices):
            failures.append(f"the line's notices of {planted} did not go to {pair}")
    for alert_id in sorted(set(story.alert_feeds) - {planted}):
        failures.append(f"unexpected alert {alert_id} on {story.alert_feeds[alert_id]}")
    target = theatre.aircraft_by_icao24(theatre.query_target)
    if not story.answers:
        failures.append("the identification query was not answered")
    for answer in story.answers:
        matches = answer["body"].get("matches", [])
        if [m.get("party") for m in matches] != [target.party] or any(
            set(m) != {"party", "bloc", "distance_nm"} for m in matches
        ):
            failures.append(f"the identification answer was {matches}")
    kinds = {m["kind"] for m in story.line.values()}
    for kind in ("identification-query", "notification", "free-text"):
        if kind not in kinds:
            failures.append(f"no {kind} went over the line")
    for message_id, message in story.line.items():
        waiting = set(message["recipients"]) & set(theatre.parties)
        waiting -= story.line_acks.get(message_id, set())
        if waiting:
            failures.append(
                f"{message['kind']} {message_id} not acknowledged by {sorted(waiting)}"
            )
    if set(story.pictures) != set(theatre.parties):
        failures.append("not every party's picture was checked")
    if story.audited is None or not story.audited.get("ok"):
        failures.append("the auditor did not verify the audit chain through the API")
    expected = {p: len(theatre.of(p)) * (seconds + 1) for p in theatre.parties}
    if story.accepted != expected:
        failures.append(f"reports accepted {story.accepted}; expected {expected}")
    return failures


def _summarise(
    story: Story, seconds: int, records: int, chain_ok: bool, failures: list[str]
) -> None:
    theatre = story.theatre
    say = story.transcript.say
    say(
        "summary",
        f"{seconds} s, {len(theatre.aircraft)} aircraft of {len(theatre.parties)} "
        f"parties: {sum(story.accepted.values()):,} of "
        f"{sum(story.posted.values()):,} reports accepted",
    )
    planted = story.planted
    if planted is not None:
        levels = " -> ".join(
            story.level(v) for v in story.alert_levels.get(planted, [])
        )
        feeds = sorted(story.alert_feeds.get(planted, set()))
        acks = story.alert_acks.get(planted, set())
        everyone = all(
            (p, v) in acks for p in feeds for v in story.alert_levels.get(planted, [])
        )
        how = (
            "acknowledged by both duty officers at each level"
            if everyone
            else f"acknowledged: {sorted(acks)}"
        )
        say(
            "summary",
            f"alert {planted}: {levels}, then "
            f"{story.alert_ends.get(planted, 'still active')}; on the feeds of "
            f"{' and '.join(feeds)} only, {how}",
        )
    answered = sum(1 for m in story.line if story.line_acks.get(m))
    say(
        "summary",
        f"deconfliction line: {len(story.line)} messages, {answered} acknowledged by "
        "their recipients",
    )
    say(
        "summary",
        "need to know: "
        + "; ".join(
            f"{party} saw its own {own} and {len(others)} of the others'"
            for party, (own, others) in story.pictures.items()
        ),
    )
    say(
        "summary",
        f"audit chain: {records:,} records, "
        + (
            "verified by the auditor and again after the service stopped"
            if chain_ok and story.audited is not None and story.audited["ok"]
            else "NOT verified"
        ),
    )
    say(
        "summary",
        "demo complete: everything expected happened"
        if not failures
        else f"demo FAILED: {len(failures)} problem(s), listed on stderr",
    )
