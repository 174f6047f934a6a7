"""Agreement files for tests: two parties with fresh keys, plus any extra TOML."""

from __future__ import annotations

from pathlib import Path

from skypact.agreement.signing import (
    generate_private_key,
    load_private_key,
    public_key_text,
)


def circle(lat: float, lon: float, radius_nm: float, points: int = 24) -> str:
    """A TOML polygon approximating a circle (geodesic offsets)."""
    from pyproj import Geod

    from skypact.units import nm_to_m

    geod = Geod(ellps="WGS84")
    lons, lats, _ = geod.fwd(
        [lon] * points, [lat] * points, [k * 360.0 / points for k in range(points)],
        [nm_to_m(radius_nm)] * points,
    )  # fmt: skip
    return (
        "["
        + ", ".join(f"[{a:.5f}, {o:.5f}]" for a, o in zip(lats, lons, strict=True))
        + "]"
    )


def write_agreement(path: Path, extra: str = "", *, parties=("blue", "red")) -> Path:
    keys = [public_key_text(load_private_key(generate_private_key())) for _ in parties]
    text = '[agreement]\nid = "test"\nversion = 1\ntitle = "Test"\n\n'
    for party, key in zip(parties, keys, strict=True):
        text += (
            f'[[parties]]\nid = "{party}"\nname = "{party.title()}"\n'
            f'operations_centre = "{party.title()} AOC"\nsigning_key = "{key}"\n\n'
        )
    endpoints = ", ".join(f'"{p.title()} AOC"' for p in parties)
    text += f"[ground_line]\nendpoints = [{endpoints}]\n\n" + extra
    path.write_text(text)
    return path


def signed_agreement(
    path: Path,
    extra: str = "",
    *,
    parties: dict[str, str | None] | None = None,
) -> Path:
    """An agreement in force: ``parties`` (id -> bloc) each sign it with a fresh key.

    The signatures are written beside it, in ``<file>.sig.json``.
    """
    import datetime as dt
    import json

    from skypact.agreement.document import parse_agreement
    from skypact.agreement.signing import add_signature

    if parties is None:
        parties = {"usa": "coalition", "gbr": "coalition", "rus": "russian"}
    keys = {party: load_private_key(generate_private_key()) for party in parties}
    blocs = sorted({b for b in parties.values() if b})
    text = '[agreement]\nid = "test"\nversion = 1\ntitle = "Test"\n\n'
    for name in blocs:
        text += f'[[blocs]]\nid = "{name}"\nname = "{name.title()}"\n\n'
    for party, bloc in parties.items():
        text += (
            f'[[parties]]\nid = "{party}"\nname = "{party.upper()}"\n'
            f'operations_centre = "{party.upper()} AOC"\n'
            f'signing_key = "{public_key_text(keys[party])}"\n'
        )
        text += f'bloc = "{bloc}"\n\n' if bloc else "\n"
    endpoints = ", ".join(f'"{p.upper()} AOC"' for p in parties)
    text += f"[ground_line]\nendpoints = [{endpoints}]\n\n" + extra
    path.write_text(text)
    agreement = parse_agreement(path.read_bytes(), source=str(path))
    signatures: dict[str, object] | None = None
    when = dt.datetime(2015, 10, 20, tzinfo=dt.UTC)
    for party, key in keys.items():
        signatures = add_signature(
            agreement, signatures, party=party, key=key, now=when
        )
    path.with_name(path.name + ".sig.json").write_text(json.dumps(signatures))
    return path
