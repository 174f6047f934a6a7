"""``skypact demo``: the multi-party service at work, end to end, narrated.

A real service on loopback over SQLite (WAL) in a data directory, the model agreement
re-keyed and signed by every party, and four parties' operations centres feeding their
aircraft, receiving alerts and talking over the deconfliction line; see
:mod:`skypact.demo.driver`.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register ``demo``."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "demo",
        help="run the multi-party service on a simulated theatre over Syria, narrated",
        description="Start a real SkyPact service on loopback (SQLite in a data "
        "directory, the model agreement signed by every party) and four parties' "
        "operations centres (usa, gbr, rus, syr) that feed their aircraft once a "
        "second over HTTP and listen on their live feeds. A planted encounter raises "
        "an alert for exactly the two parties involved; the parties acknowledge it, "
        "coordinate over the deconfliction line, ask whose aircraft a radar contact "
        "is, notify a planned operating area, read their need-to-know pictures; an "
        "auditor verifies the audit chain. The transcript goes to stdout; exit 1 if "
        "anything expected did not happen.",
    )
    parser.add_argument(
        "--data-dir",
        type=Path,
        help="keep everything in this new (or empty) directory, e.g. for "
        "'skypact audit verify --data-dir DIR' afterwards (default: a temporary "
        "directory, removed at the end)",
    )
    parser.add_argument(
        "--database",
        metavar="URL",
        help="an empty database (sqlite:///FILE or postgresql://...) instead of "
        "SQLite in the data directory",
    )
    parser.add_argument(
        "--seconds",
        type=int,
        default=40,
        help="how long the traffic runs, in real time (30 to 150; default 40)",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=0,
        help="the service's port on 127.0.0.1 (default 0: a free port)",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Run the demo; its transcript on stdout, its problems on stderr."""
    from skypact.demo.driver import DemoOptions, run_demo

    options = DemoOptions(
        data_dir=args.data_dir,
        database=args.database,
        seconds=args.seconds,
        port=args.port,
    )
    return run_demo(options, sys.stdout, sys.stderr)
