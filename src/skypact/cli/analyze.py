"""``skypact analyze``: replay a recording through detection and alerting."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from skypact.errors import ConfigError

__all__ = ["PROFILES", "add_parser", "run"]

PROFILES = ("default", "do365b")
"""Built-in alert profiles: ``default`` (DESIGN.md's 3 NM / 1,000 ft, 300/120/60 s) and
``do365b`` (RTCA DO-365B Phase I drone alerting as DAIDALUS configures it; encounters
are losses of well clear, 0.66 NM / 450 ft)."""


def add_parser(subparsers: Any) -> None:
    """Register the subcommand."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "analyze",
        help="replay a recording through detection and alerting",
        description=(
            "Replay a recording (traffic columns, several aircraft over time; CSV, "
            "Parquet or JSON, gzip too) through detection and alerting at each time "
            "of the input. Writes DIR/alert_levels.csv, DIR/alerts.csv, "
            "DIR/encounters.csv and DIR/events.csv."
        ),
    )
    parser.add_argument("input", metavar="INPUT", type=Path)
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--agreement", type=Path, help="agreement file (TOML)")
    source.add_argument(
        "--profile", choices=PROFILES, default=None, help="built-in profile"
    )
    parser.add_argument("--output", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--stale-s",
        type=float,
        default=60.0,
        help="reports older than this leave the picture",
    )
    parser.add_argument(
        "--skip-invalid",
        action="store_true",
        help="drop reports that fail validation (empty or impossible values), counted "
        "by reason on stderr, instead of refusing the recording",
    )
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Replay and write the three tables."""
    import numpy as np
    import pandas as pd

    from skypact.agreement.document import parse_agreement
    from skypact.agreement.schema import SeparationSpec
    from skypact.alerting.events import lines_and_zones
    from skypact.alerting.levels import (
        default_profile,
        do365b_profile,
        profile_from_agreement,
    )
    from skypact.alerting.suppression import suppression_from_agreement
    from skypact.analysis import emergency_alerts, events_table, replay
    from skypact.tracks.ingest.table import (
        invalid_rows,
        read_table,
        report_order,
        reports_from_table,
    )
    from skypact.units import ft_to_m, nm_to_m

    if args.stale_s <= 0:
        raise ConfigError("--stale-s", args.stale_s, "must be greater than 0")
    started = time.perf_counter()
    groups = None
    suppression = None
    lines: tuple[Any, ...] = ()
    zones: tuple[Any, ...] = ()
    if args.agreement is not None:
        try:
            raw = args.agreement.read_bytes()
        except OSError as exc:
            raise ConfigError(
                "--agreement", str(args.agreement), exc.strerror or ""
            ) from exc
        content = parse_agreement(raw, source=str(args.agreement)).content
        profile = profile_from_agreement(content)
        suppression = suppression_from_agreement(content)
        lines, zones = lines_and_zones(content)
        horizontal_m = nm_to_m(content.separation.horizontal_nm)
        vertical_m = ft_to_m(content.separation.vertical_ft)
        sep = content.separation
        if not sep.monitor_same_party:
            groups = {
                p.id: (p.bloc if p.bloc and not sep.monitor_within_bloc else p.id)
                for p in content.parties
            }
    elif args.profile == "do365b":
        profile = do365b_profile()
        corrective = profile.levels[1]
        horizontal_m, vertical_m = corrective.horizontal_m, corrective.vertical_m
    else:
        defaults = SeparationSpec()
        horizontal_m = nm_to_m(defaults.horizontal_nm)
        vertical_m = ft_to_m(defaults.vertical_ft)
        profile = default_profile()
    table = read_table(args.input)
    if args.skip_invalid:
        problems = invalid_rows(table)
        if problems:
            dropped = np.logical_or.reduce(list(problems.values()))
            detail = "; ".join(f"{k}: {int(m.sum())}" for k, m in problems.items())
            print(
                f"skipped {int(dropped.sum())} of {len(table)} reports ({detail})",
                file=sys.stderr,
            )
            table = _without(table, dropped)
    if "onground" in table.columns:
        surface = table["onground"].fillna(False).astype(bool).to_numpy()
        if surface.any():
            print(
                f"{int(surface.sum())} surface reports (onground) are not part of the "
                "airborne picture",
                file=sys.stderr,
            )
            table = _without(table, surface)
    reports = reports_from_table(table)
    squawk = None
    if "squawk" in table.columns and len(table):
        squawk = table["squawk"].to_numpy(dtype=object)[report_order(table)]
    if reports.party is None and groups is not None:
        print(
            f"{args.input} has no party column: every pair is monitored",
            file=sys.stderr,
        )
        groups = None
    if reports.party is not None and groups is not None:
        unknown = sorted(set(reports.party.astype(str)) - set(groups))
        if unknown:
            raise ConfigError(
                "party",
                unknown[0],
                f"{args.input} has a party the agreement does not name",
            )
    result = replay(
        reports,
        profile,
        horizontal_m=horizontal_m,
        vertical_m=vertical_m,
        groups=groups,
        suppression=suppression,
        stale_s=args.stale_s,
    )
    alerts = result.alerts
    if squawk is not None:
        emergencies = emergency_alerts(reports, squawk, level=profile.top)
        if len(emergencies):
            alerts = pd.concat([alerts, emergencies], ignore_index=True)
    args.output.mkdir(parents=True, exist_ok=True)
    result.alert_levels.to_csv(args.output / "alert_levels.csv", index=False)
    alerts.to_csv(args.output / "alerts.csv", index=False)
    result.encounters.to_csv(args.output / "encounters.csv", index=False)
    events = events_table(reports, lines=lines, zones=zones, squawk=squawk)
    events.to_csv(args.output / "events.csv", index=False)
    by_level = alerts["highest_level"].value_counts().sort_index()
    levels = ", ".join(f"level {k}: {v}" for k, v in by_level.items()) or "none"
    print(
        f"{result.steps} time steps, {len(alerts)} alert(s) ({levels}), "
        f"{len(result.encounters)} encounter(s) within the minima, {len(events)} "
        "event(s) (line crossings, zone entries and exits, emergencies); written to "
        f"{args.output} in {time.perf_counter() - started:.1f} s",
        file=sys.stderr,
    )
    return 0


def _without(table: Any, rows: Any) -> Any:
    """The table without the masked rows, keeping where it was read from."""
    attrs = dict(table.attrs)
    kept = table[~rows]
    kept.attrs.update(attrs)
    return kept
