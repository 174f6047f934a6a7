"""``skypact agreement``: keygen, validate, show, sign and verify agreement files."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import sys
from pathlib import Path
from typing import Any

from skypact.agreement.document import LoadedAgreement, parse_agreement
from skypact.agreement.signing import (
    SignatureState,
    add_signature,
    generate_private_key,
    load_private_key,
    public_key_text,
    read_signature_file,
    verify_signatures,
)
from skypact.errors import AgreementInvalidError, SignatureError

__all__ = ["add_parser", "run"]


def add_parser(subparsers: Any) -> None:
    """Register the subcommand and its actions."""
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "agreement",
        help="validate, show, sign and verify agreement files",
        description="Agreement files (TOML; schema in docs/agreement.md) and their "
        "detached Ed25519 signatures (FILE.sig.json unless --signatures says otherwise). "
        "A version is in force only when every party has signed its exact bytes.",
    )
    actions = parser.add_subparsers(dest="action", metavar="ACTION", required=True)

    keygen = actions.add_parser("keygen", help="create a party's private signing key")
    keygen.add_argument(
        "--out", type=Path, required=True, help="private key file (PEM)"
    )
    keygen.add_argument(
        "--force", action="store_true", help="overwrite an existing file"
    )

    validate = actions.add_parser("validate", help="check a file against the schema")
    validate.add_argument("file", type=Path)

    show = actions.add_parser("show", help="print an agreement's content")
    show.add_argument("file", type=Path)
    show.add_argument("--json", action="store_true", help="the canonical JSON form")

    sign = actions.add_parser("sign", help="add a party's signature")
    sign.add_argument("file", type=Path)
    sign.add_argument("--party", required=True)
    sign.add_argument("--key", type=Path, required=True, help="the party's private key")
    sign.add_argument("--signatures", type=Path, help="signature file")

    verify = actions.add_parser("verify", help="check every party's signature")
    verify.add_argument("file", type=Path)
    verify.add_argument("--signatures", type=Path, help="signature file")
    parser.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    """Dispatch to the action."""
    action = {
        "keygen": _keygen,
        "validate": _validate,
        "show": _show,
        "sign": _sign,
        "verify": _verify,
    }[args.action]
    code: int = action(args)
    return code


def _load(path: Path) -> LoadedAgreement:
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise AgreementInvalidError(
            f"cannot read: {exc.strerror}", source=str(path), key="", line=None
        ) from exc
    return parse_agreement(raw, source=str(path))


def _signature_path(args: argparse.Namespace) -> Path:
    given: Path | None = args.signatures
    return (
        given
        if given is not None
        else args.file.with_name(args.file.name + ".sig.json")
    )


def _keygen(args: argparse.Namespace) -> int:
    out: Path = args.out
    if out.exists() and not args.force:
        raise SignatureError(f"{out} exists; use --force to replace it")
    pem = generate_private_key()
    fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(pem)
    print(public_key_text(load_private_key(pem)))
    print(f"private key written to {out} (keep it; put the public key above in the "
          "agreement as the party's signing_key)", file=sys.stderr)  # fmt: skip
    return 0


def _validate(args: argparse.Namespace) -> int:
    agreement = _load(args.file)
    head = agreement.content.agreement
    print(
        f"{args.file}: valid — {head.id} version {head.version}, "
        f"{len(agreement.content.parties)} parties",
        file=sys.stderr,
    )
    return 0


def _show(args: argparse.Namespace) -> int:
    agreement = _load(args.file)
    if args.json:
        print(agreement.canonical.decode())
        return 0
    c = agreement.content
    print(f"{c.agreement.title}")
    print(f"  id {c.agreement.id}, version {c.agreement.version}"
          + (f", effective from {c.agreement.effective_from.isoformat()}"
             if c.agreement.effective_from else ""))  # fmt: skip
    blocs = {b.id: b.name for b in c.blocs}
    print("parties:")
    for p in c.parties:
        bloc = f" [{blocs[p.bloc]}]" if p.bloc else ""
        print(f"  {p.id:<6} {p.name}{bloc} — {p.operations_centre}")
    s = c.separation
    print(f"separation: {s.horizontal_nm:g} NM / {s.vertical_ft:g} ft; "
          f"within blocs {'monitored' if s.monitor_within_bloc else 'not monitored'}")  # fmt: skip
    print(f"NMAC: {c.nmac.horizontal_ft:g} ft / {c.nmac.vertical_ft:g} ft")
    a = c.alerting
    print(f"alerting: {a.confirm_m}-of-{a.confirm_n} confirmation, hysteresis "
          f"{a.hysteresis_s:g} s, persistence {a.persistence_s:g} s")  # fmt: skip
    for level in a.levels:
        print(f"  {level.severity} {level.name}: {level.lookahead_s:g} s ahead")
    for line in c.lines:
        print(f"line {line.id}: {line.name}, {len(line.points)} points")
    for zone in c.zones:
        print(f"zone {zone.id}: {zone.name}{' (shared)' if zone.shared else ''}")
    for inhibition in c.inhibition_zones:
        print(f"inhibition zone {inhibition.id}: {inhibition.name}")
    g = c.ground_line
    print(f"ground line: {' <-> '.join(g.endpoints)}; acknowledge within "
          f"{g.ack_deadline_s:g} s, then "
          + ", ".join(f"{step.role} at {step.after_s:g} s" for step in g.escalation))  # fmt: skip
    print(f"releasable to other parties: {', '.join(c.releasability.fields)} "
          f"(disclosure radius {c.releasability.disclosure_radius_nm:g} NM)")  # fmt: skip
    for f in c.frequencies:
        print(f"frequency {f.name}: {f.mhz:.3f} MHz")
    return 0


def _sign(args: argparse.Namespace) -> int:
    agreement = _load(args.file)
    try:
        pem = args.key.read_bytes()
    except OSError as exc:
        raise SignatureError(f"cannot read {args.key}: {exc.strerror}") from exc
    path = _signature_path(args)
    existing = read_signature_file(path.read_text()) if path.exists() else None
    updated = add_signature(
        agreement,
        existing,
        party=args.party,
        key=load_private_key(pem),
        now=dt.datetime.now(dt.UTC),
    )
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(updated, indent=1) + "\n")
    tmp.replace(path)
    check = verify_signatures(agreement, updated)
    missing = [p.party for p in check.parties if p.state is not SignatureState.VALID]
    state = (
        "in force" if check.in_force else f"not in force; awaiting {', '.join(missing)}"
    )
    print(f"signed by {args.party} into {path}; {state}", file=sys.stderr)
    return 0


def _verify(args: argparse.Namespace) -> int:
    agreement = _load(args.file)
    path = _signature_path(args)
    signatures = read_signature_file(path.read_text()) if path.exists() else None
    check = verify_signatures(agreement, signatures)
    for status in check.parties:
        when = f"  signed {status.signed_at}" if status.signed_at else ""
        print(f"{status.party:<8} {status.state}{when}")
    for signer in check.unknown_signers:
        print(f"{signer:<8} ignored: not a party to this agreement")
    head = agreement.content.agreement
    if check.in_force:
        print(f"{head.id} version {head.version} is in force", file=sys.stderr)
        return 0
    bad = [p.party for p in check.parties if p.state is not SignatureState.VALID]
    print(f"{head.id} version {head.version} is NOT in force: no valid signature from "
          f"{', '.join(bad)}", file=sys.stderr)  # fmt: skip
    return 1
