"""Rewrite the golden detection results (review every diff before committing).

.venv/bin/python scripts/regen_golden.py
"""

from __future__ import annotations

from pathlib import Path

import skypact

ROOT = Path(__file__).resolve().parent.parent
CASES = {
    "levant_5nm_1000ft_300s.csv": {"horizontal_nm": 5.0, "vertical_ft": 1000.0},
    "levant_3nm_inter_party.csv": {"horizontal_nm": 3.0, "pairs": "inter-party"},
}


def main() -> None:
    table = skypact.read_table(ROOT / "examples/snapshots/levant.csv")
    out_dir = ROOT / "tests/golden/expected"
    out_dir.mkdir(parents=True, exist_ok=True)
    for name, kwargs in CASES.items():
        result = skypact.detect(table, **kwargs)  # type: ignore[arg-type]
        result = result.sort_values(["aircraft_a", "aircraft_b"])
        result.to_csv(out_dir / name, index=False, float_format="%.6f")
        print(f"{name}: {len(result)} pairs")


if __name__ == "__main__":
    main()
