"""Run a real ``skypact serve`` on loopback: migrate, tokens, start, readiness, stop.

Everything goes through the ``skypact`` command line in subprocesses, as an operator
runs it: ``skypact db migrate``, ``skypact token create``, ``skypact serve`` and
``skypact audit verify --json``. The server listens on port 0 (the kernel picks a free
port, read back from uvicorn's start-up line in the server's log file), so parallel
runs never collide. Used by the tests in this folder and by ``bench/load.py``.

Abridged contents: :class:`ServiceHome` (a data directory and agreement:
:meth:`~ServiceHome.migrate`, :meth:`~ServiceHome.token`,
:meth:`~ServiceHome.audit_verify`, :meth:`~ServiceHome.start`,
:meth:`~ServiceHome.stored_batches`) and :class:`Server` (one running ``serve``
process: :meth:`~Server.rss_kib`, :meth:`~Server.kill`, :meth:`~Server.stop`).
"""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import sqlalchemy as sa

from skypact.config import Settings, StorageSettings
from skypact.storage import schema
from skypact.storage.engine import make_engine

__all__ = [
    "SKYPACT",
    "AuditVerdict",
    "Server",
    "ServiceHome",
    "StoredBatch",
    "rss_kib",
]

_CONSOLE_SCRIPT = Path(sys.executable).with_name("skypact")
SKYPACT: tuple[str, ...] = (
    (str(_CONSOLE_SCRIPT),)
    if _CONSOLE_SCRIPT.exists()
    else (sys.executable, "-m", "skypact.cli")
)
"""The ``skypact`` command: the console script beside this interpreter (or
``python -m skypact.cli`` where it is not installed)."""

_RUNNING = re.compile(r"Uvicorn running on http://([0-9.]+):(\d+)")


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditVerdict:
    """What ``skypact audit verify --json`` said."""

    exit_code: int
    ok: bool
    records: int
    detail: str


@dataclass(frozen=True, slots=True, kw_only=True)
class StoredBatch:
    """One stored report batch: the rows its batch record declares and those stored."""

    party: str
    client_batch_id: str
    declared_rows: int
    stored_rows: int


def rss_kib(pid: int) -> int | None:
    """A process's resident set size (``VmRSS`` in ``/proc/<pid>/status``), in KiB.

    None when the process is gone (or is a zombie, which has no VmRSS line).
    """
    try:
        text = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return None
    for line in text.splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return None


@dataclass
class Server:
    """One running ``skypact serve`` process (a context manager that stops it)."""

    process: subprocess.Popen[bytes]
    host: str
    port: int
    log_path: Path
    log_offset: int = 0
    """Where this process's output starts in ``log_path`` (restarts append)."""

    @property
    def pid(self) -> int:
        return self.process.pid

    @property
    def base_url(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def live_url(self) -> str:
        """The live feed's WebSocket URL."""
        return f"ws://{self.host}:{self.port}/api/v1/live"

    def alive(self) -> bool:
        return self.process.poll() is None

    def rss_kib(self) -> int | None:
        """The server's resident set size now, in KiB (None if it has exited)."""
        return rss_kib(self.pid) if self.alive() else None

    def log(self) -> str:
        """What this server process wrote on stdout and stderr so far."""
        with self.log_path.open("rb") as log:
            log.seek(self.log_offset)
            return log.read().decode(errors="replace")

    def kill(self) -> None:
        """``kill -9``: no shutdown of any kind; waits until the process is reaped."""
        if self.alive():
            os.kill(self.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self, timeout_s: float = 30.0) -> int:
        """SIGTERM (uvicorn's graceful shutdown); SIGKILL after ``timeout_s``.

        Uvicorn re-raises the signal once it has shut down, so a clean stop exits
        ``-SIGTERM``: see :meth:`stopped_cleanly`.

        Returns:
            The exit code (negative: the signal that ended it).
        """
        if self.alive():
            self.process.send_signal(signal.SIGTERM)
            try:
                return self.process.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                self.process.kill()
        return self.process.wait()

    def stopped_cleanly(self) -> bool:
        """Exited 0 or by SIGTERM after uvicorn's whole shutdown (lifespan included)."""
        return (
            self.process.returncode in (0, -signal.SIGTERM)
            and "Application shutdown complete" in self.log()
        )

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


@dataclass
class ServiceHome:
    """A data directory, an agreement in force and (optionally) a database URL.

    Every method runs the ``skypact`` command line against them.
    """

    data_dir: Path
    agreement: Path
    database: str | None = None
    env: dict[str, str] = field(default_factory=dict)
    _tokens: dict[tuple[str, str], str] = field(default_factory=dict)

    def _storage(self) -> list[str]:
        args = ["--data-dir", str(self.data_dir)]
        if self.database is not None:
            args += ["--database", self.database]
        return args

    def _env(self) -> dict[str, str]:
        return {**os.environ, **self.env}

    def run(
        self, *args: str, check: bool = True, timeout_s: float = 300.0
    ) -> subprocess.CompletedProcess[str]:
        """``skypact ARGS... --data-dir D [--database URL]``; output captured.

        Raises:
            RuntimeError: ``check`` and the command failed (its output in the message).
        """
        done = subprocess.run(
            [*SKYPACT, *args, *self._storage()],
            capture_output=True,
            text=True,
            timeout=timeout_s,
            env=self._env(),
            check=False,
        )
        if check and done.returncode != 0:
            raise RuntimeError(
                f"skypact {' '.join(args)} exited {done.returncode}:\n"
                f"{done.stdout}\n{done.stderr}"
            )
        return done

    def migrate(self) -> None:
        """``skypact db migrate``."""
        self.run("db", "migrate")

    def token(self, party: str, role: str = "duty-officer") -> str:
        """A token for (party, role) from ``skypact token create`` (made once, kept)."""
        key = (party, role)
        if key not in self._tokens:
            done = self.run(
                "token", "create", "--party", party, "--role", role,
                "--agreement", str(self.agreement), "--label", "test",
            )  # fmt: skip
            self._tokens[key] = done.stdout.strip()
        return self._tokens[key]

    def headers(self, party: str, role: str = "duty-officer") -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token(party, role)}"}

    def audit_verify(self) -> AuditVerdict:
        """``skypact audit verify --json``."""
        done = self.run("audit", "verify", "--json", check=False)
        if done.returncode not in (0, 1):
            raise RuntimeError(
                f"skypact audit verify exited {done.returncode}:\n{done.stderr}"
            )
        report: dict[str, Any] = json.loads(done.stdout)
        return AuditVerdict(
            exit_code=done.returncode,
            ok=bool(report["ok"]),
            records=int(report["records"]),
            detail=str(report["detail"]),
        )

    def database_url(self) -> str:
        return Settings(
            data_dir=self.data_dir, storage=StorageSettings(url=self.database)
        ).database_url()

    def stored_batches(self) -> dict[tuple[str, str], StoredBatch]:
        """Every stored report batch by (party, client batch id), read directly."""
        batches, reports = schema.report_batches, schema.reports
        counted = (
            sa.select(reports.c.batch_id, sa.func.count().label("n"))
            .group_by(reports.c.batch_id)
            .subquery()
        )
        query = sa.select(
            batches.c.party,
            batches.c.client_batch_id,
            batches.c.rows,
            sa.func.coalesce(counted.c.n, 0),
        ).select_from(
            batches.outerjoin(counted, counted.c.batch_id == batches.c.batch_id)
        )
        engine = make_engine(self.database_url())
        try:
            with engine.connect() as connection:
                rows = connection.execute(query).all()
        finally:
            engine.dispose()
        return {
            (str(party), str(client)): StoredBatch(
                party=str(party),
                client_batch_id=str(client),
                declared_rows=int(declared),
                stored_rows=int(stored),
            )
            for party, client, declared, stored in rows
        }

    def count_reports(self) -> int:
        """How many reports the database holds."""
        engine = make_engine(self.database_url())
        try:
            with engine.connect() as connection:
                return int(
                    connection.execute(
                        sa.select(sa.func.count()).select_from(schema.reports)
                    ).scalar_one()
                )
        finally:
            engine.dispose()

    def start(
        self,
        *,
        cycle_s: float = 1.0,
        ready_timeout_s: float = 120.0,
        log_name: str = "serve.log",
        extra_args: tuple[str, ...] = (),
        launcher: tuple[str, ...] = SKYPACT,
    ) -> Server:
        """``skypact serve`` on 127.0.0.1, a free port; returns once it answers.

        The server's stdout and stderr go to ``data_dir/log_name`` (appended to, so
        that a restart keeps the earlier log). ``launcher`` is the command that takes
        ``serve ...`` (``bench/load.py`` passes one that profiles the server).

        Raises:
            RuntimeError: it exited, or did not answer within ``ready_timeout_s``
                (its log in the message).
        """
        log_path = self.data_dir / log_name
        log_path.parent.mkdir(parents=True, exist_ok=True)
        offset = log_path.stat().st_size if log_path.exists() else 0
        command = [
            *launcher, "serve", "--agreement", str(self.agreement), *self._storage(),
            "--host", "127.0.0.1", "--port", "0", "--cycle-s", repr(float(cycle_s)),
            *extra_args,
        ]  # fmt: skip
        with log_path.open("ab") as log:
            process = subprocess.Popen(
                command,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=self._env(),
                start_new_session=True,
            )
        try:
            host, port = _wait_for_port(process, log_path, offset, ready_timeout_s)
            server = Server(
                process=process,
                host=host,
                port=port,
                log_path=log_path,
                log_offset=offset,
            )
            _wait_until_answering(server, ready_timeout_s)
        except BaseException:
            if process.poll() is None:
                process.kill()
            process.wait()
            raise
        return server


def _wait_for_port(
    process: subprocess.Popen[bytes], log_path: Path, offset: int, timeout_s: float
) -> tuple[str, int]:
    deadline = time.monotonic() + timeout_s
    while True:
        with log_path.open("rb") as log:
            log.seek(offset)
            text = log.read().decode(errors="replace")
        found = _RUNNING.search(text)
        if found:
            return found.group(1), int(found.group(2))
        if process.poll() is not None:
            raise RuntimeError(
                f"skypact serve exited {process.returncode} before listening:\n{text}"
            )
        if time.monotonic() > deadline:
            raise RuntimeError(
                f"skypact serve not listening after {timeout_s} s:\n{text}"
            )
        time.sleep(0.05)


def _wait_until_answering(server: Server, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    with httpx.Client(base_url=server.base_url, timeout=10.0) as client:
        while True:
            try:
                if client.get("/api/v1/openapi.json").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            if not server.alive():
                raise RuntimeError(f"skypact serve exited:\n{server.log()}")
            if time.monotonic() > deadline:
                raise RuntimeError(f"skypact serve not answering:\n{server.log()}")
            time.sleep(0.05)
