"""Benchmark: ingest throughput, raw frames and table rows into the track store.

Run it with ``bash bench/run ingest`` or ``.venv/bin/python bench/ingest.py``.

Two paths, each timed end to end (median of ``--repeat`` runs after one warm-up):

* **raw**: ``full_flight_short.jsonl.gz`` (57,793 real Mode S frames) read from disk,
  decoded by rs1090 (positions against the CDG reference), validated and folded into a
  fresh :class:`~skypact.tracks.store.TrackStore`; the same for the Beast capture.
  Target (issue 4): >= 50,000 raw messages/s.
* **table**: ``quickstart.json.gz`` (284,505 rows of 213 aircraft) already in memory
  as a traffic-convention DataFrame, validated and folded into a fresh store. Target:
  >= 500,000 rows/s. Reading the gzip JSON from disk is timed separately (it is
  pandas' JSON reader, not SkyPact's).

Stages are timed apart too, to show where the time goes. Data: The OpenSky Network,
https://opensky-network.org (via traffic). The report is Markdown on stdout.
"""

from __future__ import annotations

import argparse
import platform
import statistics
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd

from skypact.tracks.ingest.modes import decode_frames, read_frames
from skypact.tracks.ingest.reader import read_reports
from skypact.tracks.store import TrackStore
from skypact.tracks.validation import validate_reports

REAL = (
    Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "real" / "traffic"
)
CDG = (49.0097, 2.5479)


def timed(action: Callable[[], object], repeat: int) -> float:
    action()  # warm-up (numba compilation, caches)
    runs = []
    for _ in range(repeat):
        start = time.perf_counter()
        action()
        runs.append(time.perf_counter() - start)
    return statistics.median(runs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    flight = REAL / "full_flight_short.jsonl.gz"
    n_frames = len(read_frames(flight).frames)

    def raw_path() -> None:
        batch = read_frames(flight)
        TrackStore().ingest(decode_frames(batch, reference=CDG), party="blue")

    batch = read_frames(flight)
    decoded = decode_frames(batch, reference=CDG)
    stages = {
        "read frames (JSON lines, gzip)": timed(
            lambda: read_frames(flight), args.repeat
        ),
        "decode (rs1090 + local CPR + table)": timed(
            lambda: decode_frames(batch, reference=CDG), args.repeat
        ),
        "validate": timed(lambda: validate_reports(decoded), args.repeat),
        "track store (validate + fold)": timed(
            lambda: TrackStore().ingest(decoded, party="blue"), args.repeat
        ),
    }
    raw_s = timed(raw_path, args.repeat)
    beast = REAL / "sample_dump1090.bin"
    beast_s = timed(
        lambda: TrackStore().ingest(read_reports(beast).table, party="blue"),
        args.repeat,
    )

    start = time.perf_counter()
    quickstart = pd.read_json(REAL / "quickstart.json.gz", dtype={"icao24": str})
    read_json_s = time.perf_counter() - start
    table = quickstart.assign(source="table")
    n_rows = len(table)
    table_s = timed(lambda: TrackStore().ingest(table, party="blue"), args.repeat)
    table_validate_s = timed(lambda: validate_reports(table), args.repeat)

    print(f"# Ingest benchmark ({platform.machine()}, {platform.python_version()})\n")
    print("| path | items | time (s) | items/s | target | ratio to target |")
    print("|---|---:|---:|---:|---:|---:|")
    for name, count, seconds, target in (
        ("raw frames -> track store (full flight)", n_frames, raw_s, 50_000),
        ("table rows -> track store (quickstart)", n_rows, table_s, 500_000),
    ):
        rate = count / seconds
        print(
            f"| {name} | {count:,} | {seconds:.3f} | {rate:,.0f} | {target:,} | "
            f"{rate / target:.2f} |"
        )
    print(f"\nBeast capture (239 frames) -> track store: {beast_s * 1e3:.1f} ms")
    print(f"\n## Stages, raw path ({n_frames:,} frames)\n")
    print("| stage | time (s) | messages/s |")
    print("|---|---:|---:|")
    for name, seconds in stages.items():
        print(f"| {name} | {seconds:.3f} | {n_frames / seconds:,.0f} |")
    print(f"\n## Stages, table path ({n_rows:,} rows)\n")
    print(
        f"- validation alone: {table_validate_s:.3f} s ({n_rows / table_validate_s:,.0f} rows/s)"
    )
    print(
        f"- pandas reading the gzip JSON from disk (not timed above): {read_json_s:.2f} s"
    )


if __name__ == "__main__":
    main()
