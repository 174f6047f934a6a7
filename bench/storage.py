"""Benchmark: report rows and track-history rows stored per second, on SQLite and
PostgreSQL.

Run it with ``.venv/bin/python bench/storage.py`` (``--rows``, ``--repeat``,
``--history-rows``, ``--cycles``).

Report batches. What is timed: ``Repository.store_report_batch`` of one batch of
``--rows`` reports (default 100,000) given as a traffic-convention DataFrame, end to
end: conversion to stored rows, the canonical-JSON SHA-256 of the rows for the audit
record, the batch row, the bulk insert (multi-row INSERTs in one executemany on
SQLite, binary COPY on PostgreSQL), the audit record and the commit. Each run stores
into a freshly migrated database (a new SQLite file in WAL mode with
``synchronous=FULL``; a new PostgreSQL database), after one warm-up run; the table
shows the median. The conversion and hashing alone are timed apart, to show how much
of the time is the database's.

Track history. What is timed: ``Repository.store_track_history`` of one cycle's
states as the live service writes them, a DataFrame of ``--history-rows`` aircraft
(default 10,000, of four parties, 5 % of altitudes missing) at one time, in
``--cycles`` cycles (one second apart) into a freshly migrated database per run; the
table shows the median cycle of the median run. On PostgreSQL the rows are copied
into a temporary table and inserted from there (``ON CONFLICT DO NOTHING``).

PostgreSQL is the server that ``SKYPACT_TEST_POSTGRES_URL`` names or, when unset, one
started with ``scripts/postgres`` for the run (a throwaway local cluster with
``fsync=off``; one batch is one commit, so this hardly matters here). Target: >= 10,000
rows/s. The report is Markdown on stdout.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import platform
import re
import secrets
import statistics
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import numpy as np
import pandas as pd
import sqlalchemy as sa
from sqlalchemy.pool import NullPool

from skypact.audit.model import AuditSigner
from skypact.storage import Repository, default_url, make_engine, migrate
from skypact.storage.repository import _report_columns, _rows_json

SCRIPT = Path(__file__).resolve().parents[1] / "scripts" / "postgres"


def batch(n: int, seed: int = 2024) -> pd.DataFrame:
    """n reports of 500 aircraft, 1 % of them rejected."""
    rng = np.random.default_rng(seed)
    accepted = rng.uniform(size=n) > 0.01
    return pd.DataFrame(
        {
            "timestamp": 1.7e9 + np.arange(n) * 0.1,
            "icao24": [f"{k % 500:06x}" for k in range(n)],
            "latitude": rng.uniform(30.0, 40.0, n),
            "longitude": rng.uniform(30.0, 40.0, n),
            "altitude": rng.uniform(0.0, 40000.0, n),
            "groundspeed": rng.uniform(100.0, 500.0, n),
            "track": rng.uniform(0.0, 360.0, n),
            "vertical_rate": rng.uniform(-2000.0, 2000.0, n),
            "callsign": [f"SKY{k % 500:03d}" for k in range(n)],
            "squawk": ["1234"] * n,
            "source": ["adsb"] * n,
            "accepted": accepted,
            "reason": [None if ok else "position jump" for ok in accepted],
        }
    )


def history(n: int, t_s: float, seed: int = 2024) -> pd.DataFrame:
    """One cycle's track states of n aircraft of four parties, all at t_s."""
    rng = np.random.default_rng(seed)
    altitude_ft = rng.uniform(0.0, 40000.0, n)
    altitude_ft[rng.uniform(size=n) < 0.05] = np.nan
    return pd.DataFrame(
        {
            "party": [("usa", "rus", "chn", "ind")[k % 4] for k in range(n)],
            "icao24": [f"{k:06x}" for k in range(n)],
            "t_s": np.full(n, t_s),
            "latitude": rng.uniform(30.0, 40.0, n),
            "longitude": rng.uniform(30.0, 40.0, n),
            "altitude_ft": altitude_ft,
            "groundspeed_kt": rng.uniform(100.0, 500.0, n),
            "track_deg": rng.uniform(0.0, 360.0, n),
            "vertical_rate_fpm": rng.uniform(-2000.0, 2000.0, n),
        }
    )


@contextmanager
def postgres_server() -> Iterator[str]:
    given = os.environ.get("SKYPACT_TEST_POSTGRES_URL")
    if given:
        yield given
        return
    env = {k: v for k, v in os.environ.items() if k != "SKYPACT_TEST_POSTGRES_DIR"}
    out = subprocess.run(
        ["bash", str(SCRIPT), "start"],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    exports = dict(re.findall(r"^export (\w+)=(\S+)$", out, re.MULTILINE))
    try:
        yield exports["SKYPACT_TEST_POSTGRES_URL"]
    finally:
        env["SKYPACT_TEST_POSTGRES_DIR"] = exports["SKYPACT_TEST_POSTGRES_DIR"]
        subprocess.run(["bash", str(SCRIPT), "stop"], env=env, check=False)


@contextmanager
def fresh_postgres(server: str) -> Iterator[str]:
    url = sa.make_url(server).set(drivername="postgresql+psycopg")
    name = f"bench_{secrets.token_hex(4)}"
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT", poolclass=NullPool)
    try:
        with admin.connect() as connection:
            connection.exec_driver_sql(f'CREATE DATABASE "{name}"')
        yield url.set(database=name).render_as_string(hide_password=False)
        with admin.connect() as connection:
            connection.exec_driver_sql(f'DROP DATABASE "{name}" WITH (FORCE)')
    finally:
        admin.dispose()


@contextmanager
def fresh_sqlite(_server: str) -> Iterator[str]:
    with tempfile.TemporaryDirectory(prefix="skypact-bench-") as tmp:
        yield default_url(tmp)


def store_once(url: str, frame: pd.DataFrame, run: int) -> float:
    engine = make_engine(url)
    try:
        migrate(engine)
        repo = Repository(engine, AuditSigner.generate(), time.time)
        start = time.perf_counter()
        repo.store_report_batch("usa", f"bench-{run}", 1.7e9, frame)
        elapsed = time.perf_counter() - start
        assert repo.count_reports() == len(frame)
        return elapsed
    finally:
        engine.dispose()


def store_history_once(url: str, frames: list[pd.DataFrame]) -> float:
    """The median seconds of storing each frame (one cycle each), fresh database."""
    engine = make_engine(url)
    try:
        migrate(engine)
        repo = Repository(engine, AuditSigner.generate(), time.time)
        cycles_s = []
        for frame in frames:
            start = time.perf_counter()
            repo.store_track_history(frame)
            cycles_s.append(time.perf_counter() - start)
        assert len(repo.track_history(since_s=frames[-1]["t_s"].iloc[0])) == len(
            frames[-1]
        )
        return statistics.median(cycles_s)
    finally:
        engine.dispose()


def median_s(action: Callable[[int], float], repeat: int) -> float:
    action(-1)  # warm-up
    return statistics.median(action(run) for run in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--history-rows", type=int, default=10_000)
    parser.add_argument("--cycles", type=int, default=10)
    args = parser.parse_args()
    frame = batch(args.rows)
    frames = [
        history(args.history_rows, 1.7e9 + cycle, seed=cycle)
        for cycle in range(args.cycles)
    ]

    def prepare(_run: int) -> float:
        start = time.perf_counter()
        columns = _report_columns(frame)
        hashlib.sha256(_rows_json(columns.rows(), columns.floats)).hexdigest()
        return time.perf_counter() - start

    results = {"conversion + SHA-256 only": median_s(prepare, args.repeat)}
    history_results: dict[str, float] = {}
    with postgres_server() as server:
        for backend, fresh in (
            ("SQLite", fresh_sqlite),
            ("PostgreSQL", fresh_postgres),
        ):

            def run(
                k: int, fresh: Callable[[str], AbstractContextManager[str]] = fresh
            ) -> float:
                with fresh(server) as url:
                    return store_once(url, frame, k)

            def run_history(
                _k: int, fresh: Callable[[str], AbstractContextManager[str]] = fresh
            ) -> float:
                with fresh(server) as url:
                    return store_history_once(url, frames)

            results[backend] = median_s(run, args.repeat)
            print(f"{backend}: {args.rows / results[backend]:,.0f} rows/s", flush=True)
            history_results[backend] = median_s(run_history, args.repeat)
            print(
                f"{backend} track history: "
                f"{args.history_rows / history_results[backend]:,.0f} rows/s",
                flush=True,
            )
    print(f"\n## Report batch storage ({args.rows:,} rows, median of {args.repeat})\n")
    print(f"{platform.python_version()}, {platform.machine()}, {os.cpu_count()} CPUs\n")
    print("| path | seconds | rows/s |")
    print("|---|---:|---:|")
    for name, seconds in results.items():
        print(f"| {name} | {seconds:.2f} | {args.rows / seconds:,.0f} |")
    print(
        f"\n## Track history storage ({args.history_rows:,} rows per cycle, median "
        f"cycle of {args.cycles}, median of {args.repeat} runs)\n"
    )
    print("| backend | ms per cycle | rows/s |")
    print("|---|---:|---:|")
    for name, seconds in history_results.items():
        print(f"| {name} | {1000 * seconds:.1f} | {args.history_rows / seconds:,.0f} |")


if __name__ == "__main__":
    main()
