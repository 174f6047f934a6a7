"""The demo's agreement: the model agreement, re-keyed and signed by every party.

``examples/agreements/syria-2015.toml`` lists public keys whose private halves were
discarded, so it can never be in force as it is. The demo does what the parties would
do: every party makes a fresh Ed25519 key (:func:`~skypact.agreement.signing.
generate_private_key`), its public half replaces the party's ``signing_key`` in a copy
of the file, and every party signs the copy. The copy and its signature file are
written into the demo's data directory; the private keys are discarded once they have
signed, like the example's.

The example lives in the repository, not in the installed package. Where it cannot be
found (an installed wheel), :func:`fallback_text` writes an agreement from the same
facts -- parties, blocs, separation minima, alert levels, exemptions, releasability,
ground line and frequencies -- without the example's zones, lines and inhibition zone.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import skypact
from skypact.agreement.document import LoadedAgreement, parse_agreement
from skypact.agreement.signing import (
    add_signature,
    generate_private_key,
    load_private_key,
    public_key_text,
)
from skypact.errors import ConfigError
from skypact.runtime import load_agreement_in_force, signature_path

__all__ = [
    "EXAMPLE",
    "DemoAgreement",
    "fallback_text",
    "find_example",
    "prepare_agreement",
    "with_keys",
]

EXAMPLE = Path("examples") / "agreements" / "syria-2015.toml"
"""The model agreement, relative to the repository's root."""

_SIGNING_KEY = re.compile(r'^(\s*signing_key\s*=\s*)"[^"\n]*"', re.MULTILINE)


@dataclass(frozen=True, slots=True, kw_only=True)
class DemoAgreement:
    """The agreement the demo's service runs, in force.

    Attributes:
        path: the signed copy (its signatures in ``<path>.sig.json``).
        agreement: the copy, parsed.
        source: what it was made from (the example's path, or "built in").
    """

    path: Path
    agreement: LoadedAgreement
    source: str


def find_example(*roots: Path) -> Path | None:
    """The model agreement under the first of ``roots`` that has it, else under the
    checkout this package runs from (an editable install), else None."""
    checkout = Path(skypact.__file__).resolve().parents[2]
    for root in (*roots, checkout):
        candidate = root / EXAMPLE
        if candidate.is_file():
            return candidate
    return None


def with_keys(text: str, keys: Mapping[str, str]) -> str:
    """The agreement text with each party's ``signing_key`` replaced by ``keys[party]``.

    Raises:
        ConfigError: a party has no new key, or the text's keys cannot be matched to
            its parties one by one.
    """
    parties = [str(p["id"]) for p in tomllib.loads(text).get("parties", [])]
    missing = [p for p in parties if p not in keys]
    if missing:
        raise ConfigError("keys", sorted(keys), f"no key for {', '.join(missing)}")
    found = list(_SIGNING_KEY.finditer(text))
    if len(found) != len(parties):
        raise ConfigError(
            "signing_key",
            len(found),
            f"expected one line per party ({len(parties)}), one per [[parties]] table",
        )
    new_keys = iter(keys[p] for p in parties)
    rekeyed = _SIGNING_KEY.sub(lambda m: f'{m.group(1)}"{next(new_keys)}"', text)
    written = {
        str(p["id"]): p.get("signing_key") for p in tomllib.loads(rekeyed)["parties"]
    }
    if any(written[p] != keys[p] for p in parties):
        raise ConfigError(
            "signing_key", None, "each party's key must be inside its [[parties]] table"
        )
    return rekeyed


def prepare_agreement(
    directory: Path, *, now: dt.datetime, template: Path | None = None
) -> DemoAgreement:
    """Write ``directory/agreement.toml`` (the model agreement with fresh keys) and its
    signature file, signed by every party, and check that it is in force.

    Args:
        template: the agreement to copy (default: :func:`find_example`, or
            :func:`fallback_text` if there is none).

    Raises:
        ConfigError: the template cannot be read.
        AgreementError: the copy is invalid or not in force.
    """
    if template is None:
        template = find_example(Path.cwd())
    if template is None:
        original, source = fallback_text(), "built in (the example was not found)"
    else:
        try:
            original = template.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(
                "agreement", str(template), exc.strerror or str(exc)
            ) from exc
        source = str(template)
    parties = [str(p["id"]) for p in tomllib.loads(original).get("parties", [])]
    private = {party: load_private_key(generate_private_key()) for party in parties}
    header = (
        f"# skypact demo, {now.astimezone(dt.UTC):%Y-%m-%d %H:%M}Z: a copy of {source}\n"
        "# with a fresh signing key for every party, signed by all of them (the\n"
        "# private keys were discarded after signing).\n"
    )
    text = header + with_keys(
        original, {p: public_key_text(k) for p, k in private.items()}
    )
    path = directory / "agreement.toml"
    path.write_text(text, encoding="utf-8")
    loaded = parse_agreement(path.read_bytes(), source=str(path))
    signatures: dict[str, object] | None = None
    for party, key in private.items():
        signatures = add_signature(loaded, signatures, party=party, key=key, now=now)
    signature_path(path).write_text(json.dumps(signatures, indent=2) + "\n")
    in_force, _ = load_agreement_in_force(path)
    return DemoAgreement(path=path, agreement=in_force, source=source)


def fallback_text() -> str:
    """The model agreement's facts as an agreement file (placeholder keys)."""
    coalition = "Combined Air Operations Center (CAOC), Al Udeid Air Base, Qatar"
    russian = "Russian Aerospace Forces command post, Hmeimim Air Base, Syria"
    parties = [
        ("usa", "United States", "coalition"),
        ("gbr", "United Kingdom", "coalition"),
        ("fra", "France", "coalition"),
        ("aus", "Australia", "coalition"),
        ("jor", "Jordan", "coalition"),
        ("can", "Canada", "coalition"),
        ("nld", "Netherlands", "coalition"),
        ("rus", "Russian Federation", "russian-side"),
        ("syr", "Syrian Arab Republic", "russian-side"),
    ]
    lines = [
        "# Flight-safety agreement modelled on the 2015 memorandum of understanding",
        "# on air safety over Syria (the facts of examples/agreements/syria-2015.toml,",
        "# without its zones, deconfliction line and inhibition zone).",
        "",
        "[agreement]",
        'id = "syria-2015"',
        "version = 1",
        'title = "Memorandum of understanding on flight safety over Syria (model)"',
        "effective_from = 2015-10-20T00:00:00Z",
        "",
        '[[blocs]]\nid = "coalition"\nname = "Counter-ISIL coalition (CJTF-OIR)"',
        "",
        '[[blocs]]\nid = "russian-side"',
        'name = "Russian Federation and the Syrian Arab Republic"',
        "",
    ]
    for party, name, bloc in parties:
        centre = coalition if bloc == "coalition" else russian
        lines += [
            "[[parties]]",
            f'id = "{party}"',
            f'name = "{name}"',
            f'operations_centre = "{centre}"',
            f'bloc = "{bloc}"',
            'signing_key = "ed25519:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA="',
            "",
        ]
    lines += [
        "[separation]\nhorizontal_nm = 3.0\nvertical_ft = 1000.0",
        "monitor_within_bloc = false",
        "",
        "[nmac]\nhorizontal_ft = 500.0\nvertical_ft = 100.0",
        "",
        "[alerting]\nconfirm_m = 2\nconfirm_n = 3\nhysteresis_s = 10.0",
        "persistence_s = 5.0",
        "",
    ]
    for severity, (level, lookahead_s) in enumerate(
        (("advisory", 300.0), ("caution", 120.0), ("warning", 60.0)), start=1
    ):
        lines += [
            "[[alerting.levels]]",
            f'name = "{level}"\nseverity = {severity}\nlookahead_s = {lookahead_s}',
            "",
        ]
    for side, reason in (
        ("coalition", "coalition aircraft are deconflicted by the CAOC"),
        ("russian-side", "Russian and Syrian aircraft are deconflicted from Hmeimim"),
    ):
        lines += [
            "[[exemptions]]",
            f'kind = "same-party"\nparty = "{side}"\nreason = "{reason}"',
            "",
        ]
    lines += [
        "[ground_line]",
        f'endpoints = ["{coalition}", "{russian}"]',
        "ack_deadline_s = 120.0",
        "",
    ]
    for role, after_s in (
        ("duty-officer", 0.0),
        ("senior-officer", 120.0),
        ("command", 300.0),
    ):
        lines += [f'[[ground_line.escalation]]\nrole = "{role}"\nafter_s = {after_s}']
        lines.append("")
    lines += [
        "[releasability]",
        'fields = ["position", "altitude", "velocity", "affiliation"]',
        "disclosure_radius_nm = 20.0",
        "",
        '[[frequencies]]\nname = "VHF guard"\nmhz = 121.5',
        "",
        '[[frequencies]]\nname = "UHF guard"\nmhz = 243.0',
    ]
    return "\n".join(lines) + "\n"
