"""``skypact detect``: conflicts in one snapshot (DESIGN.md "Interfaces")."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from skypact.errors import ConfigError

__all__ = ["add_parser", "run"]

_FORMATS = {".csv": "csv", ".json": "json", ".parquet": "parquet", ".pq": "parquet"}


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "detect",
        help="predicted losses of separation in a snapshot",
        description=(
            "Find every pair of aircraft predicted to lose separation within the "
            "look-ahead. INPUT is a CSV or Parquet table in the traffic column "
            "convention (icao24, latitude, longitude, altitude [ft], groundspeed "
            "[kt], track [deg], vertical_rate [ft/min]; optional party, timestamp). "
            "An aircraft with several rows is taken at its latest."
        ),
    )
    parser.add_argument("input", metavar="INPUT", type=Path, help="CSV or Parquet file")
    parser.add_argument("--lookahead-s", type=float, default=300.0, help="default 300")
    parser.add_argument("--horizontal-nm", type=float, default=5.0, help="default 5")
    parser.add_argument(
        "--vertical-ft", type=float, default=1000.0, help="default 1000"
    )
    parser.add_argument(
        "--pairs",
        choices=("all", "inter-party"),
        default="all",
        help="monitor all pairs, or only pairs of different parties (default all)",
    )
    parser.add_argument(
        "--detector",
        choices=("cylinder", "exhaustive"),
        default="cylinder",
        help="fast detector, or the all-pairs reference (same results; default cylinder)",
    )
    parser.add_argument(
        "--output",
        type=Path,
        metavar="FILE",
        help="write the pairs to FILE (.csv, .json or .parquet) instead of a table on stdout",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the detection and write its result."""
    import skypact  # heavy (numba, pandas): imported only when the command runs

    out_format = None
    if args.output is not None:
        out_format = _FORMATS.get(args.output.suffix.lower())
        if out_format is None:
            raise ConfigError(
                "--output",
                str(args.output),
                "the file must end in .csv, .json or .parquet",
            )
    started = time.perf_counter()
    table = skypact.read_table(args.input)
    result = skypact.detect(
        table,
        lookahead_s=args.lookahead_s,
        horizontal_nm=args.horizontal_nm,
        vertical_ft=args.vertical_ft,
        pairs=args.pairs,
        detector=args.detector,
    )
    elapsed_s = time.perf_counter() - started
    n_aircraft = table["icao24"].nunique()
    summary = (
        f"{len(result)} conflicting pair(s) among {n_aircraft} aircraft "
        f"(minima {args.horizontal_nm:g} NM / {args.vertical_ft:g} ft, "
        f"look-ahead {args.lookahead_s:g} s, pairs: {args.pairs}) in {elapsed_s:.2f} s"
    )
    if out_format is None:
        if len(result):
            print(_readable(result))
        print(summary, file=sys.stderr)
        return 0
    result = result.sort_values(["aircraft_a", "aircraft_b"]).reset_index(drop=True)
    if out_format == "csv":
        result.to_csv(args.output, index=False)
    elif out_format == "json":
        result.to_json(args.output, orient="records", indent=1)
    else:
        result.to_parquet(args.output, index=False)
    print(f"{summary}; written to {args.output}", file=sys.stderr)
    return 0


def _readable(result: Any) -> str:
    """The pairs as a fixed-width table, most urgent (earliest t_in) first."""
    shown = result.sort_values(
        ["t_in_s", "aircraft_a", "aircraft_b"], kind="stable"
    ).reset_index(drop=True)
    for column, digits in (
        ("t_in_s", 1),
        ("t_out_s", 1),
        ("t_cpa_s", 1),
        ("h_cpa_nm", 2),
        ("v_cpa_ft", 0),
    ):
        shown[column] = shown[column].round(digits)
    text: str = shown.to_string(index=False)
    return text
