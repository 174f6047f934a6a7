"""``skypact convert``: any supported input to a traffic-convention table."""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path
from typing import Any

from skypact.errors import ConfigError, ParseError

__all__ = ["add_parser", "run"]


def _floats(text: str, count: int, name: str) -> tuple[float, ...]:
    try:
        values = tuple(float(part) for part in text.split(","))
    except ValueError:
        values = ()
    if len(values) != count:
        raise argparse.ArgumentTypeError(
            f"{name} must be {count} comma-separated numbers, not {text!r}"
        )
    return values


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "convert",
        help="convert any supported surveillance input to a traffic-convention table",
        description=(
            "Read INPUT (raw Mode S frames as JSON lines or CSV, Beast, AVR, SBS-1, "
            "ASTERIX CAT021/048/062 raw or pcap, Cursor on Target XML, TAK protobuf, "
            "OpenSky state vectors, or a traffic-convention CSV/Parquet/JSON table; the "
            "format is told from the content) and write OUTPUT (.csv or .parquet): one "
            "row per decoded message or report, in the traffic columns with a 'source' "
            "column and a 'problem' column naming why validation rejected the row "
            "(empty when accepted). Records that could not be decoded at all are "
            "counted by reason in the ingest report printed on stdout."
        ),
    )
    parser.add_argument("input", metavar="INPUT", type=Path)
    parser.add_argument("--output", type=Path, required=True, metavar="OUT")
    parser.add_argument(
        "--party", help="the reporting party, written to a 'party' column"
    )
    parser.add_argument(
        "--reference",
        metavar="LAT,LON",
        type=lambda text: _floats(text, 2, "--reference"),
        help="the receiver's position, for Mode S positions decoded locally",
    )
    parser.add_argument(
        "--radar-site",
        metavar="LAT,LON,ALT_FT",
        type=lambda text: _floats(text, 3, "--radar-site"),
        help="the radar's position, for ASTERIX CAT048 polar plots",
    )
    parser.add_argument(
        "--start",
        metavar="ISO_TIME",
        type=dt.datetime.fromisoformat,
        help="UTC time of the first frame of a Beast/AVR feed (default: the file's "
        "last frame at its modification time)",
    )
    parser.add_argument(
        "--date",
        metavar="YYYY-MM-DD",
        type=dt.date.fromisoformat,
        help="UTC date of an ASTERIX recording that has no capture times",
    )
    parser.add_argument(
        "--utc-offset",
        metavar="HOURS",
        type=float,
        default=0.0,
        help="an SBS-1 receiver clock's offset from UTC, e.g. 2 for CEST (default 0)",
    )
    parser.add_argument(
        "--strict",
        action="store_true",
        help="fail on the first record that cannot be decoded or is rejected",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Convert, validate, write, and print the ingest report."""
    from skypact.tracks.ingest.reader import ReadOptions, read_reports
    from skypact.tracks.validation import validate_reports

    suffix = args.output.suffix.lower()
    if suffix not in (".csv", ".parquet"):
        raise ConfigError("--output", str(args.output), "must end in .csv or .parquet")
    start_s = None
    if args.start is not None:
        start = args.start
        if start.tzinfo is None:
            start = start.replace(tzinfo=dt.UTC)
        start_s = start.timestamp()
    options = ReadOptions(
        reference=args.reference,
        radar_site=args.radar_site,
        start_s=start_s,
        date=args.date,
        strict=args.strict,
        utc_offset_h=args.utc_offset,
    )
    decoded = read_reports(args.input, options)
    table = decoded.table
    if args.party is not None:
        table = table.assign(party=args.party)
    verdicts = validate_reports(table)
    reasons = verdicts.reasons()
    if args.strict and not verdicts.accepted.all():
        first = int((~verdicts.accepted).argmax())
        raise ParseError(
            str(reasons[first]), source=str(args.input), where=f"report {first + 1}"
        )
    table = table.assign(problem=reasons)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    if suffix == ".csv":
        table.to_csv(args.output, index=False, date_format="%Y-%m-%dT%H:%M:%S.%fZ")
    else:
        table.to_parquet(args.output, index=False)
    lines = [
        f"input: {args.input} ({decoded.format})",
        f"reports: {len(table)} decoded, {int(verdicts.accepted.sum())} accepted",
    ]
    for reason, count in sorted(decoded.problems.counts.items()):
        where = decoded.problems.first_where[reason]
        lines.append(f"not decoded: {count} {reason} (first at {where})")
    for reason, count in sorted(verdicts.counts().items()):
        first = int((reasons == reason).argmax())
        lines.append(f"rejected: {count} {reason} (first: report {first + 1})")
    lines.append(f"output: {args.output}")
    print("\n".join(lines), file=sys.stdout)
    return 0
