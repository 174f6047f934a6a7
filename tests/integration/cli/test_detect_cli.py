"""``skypact detect`` in-process through ``main(argv)``."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from skypact import CONFLICT_COLUMNS
from skypact.cli import main
from tests.factories import Plane, make_table


@pytest.fixture
def snapshot(tmp_path):
    table = make_table(
        [
            Plane("aaaaaa", 34.0, 36.0, party="usa"),
            Plane("bbbbbb", 34.0, 36.0, alt_ft=30500, party="rus"),
            Plane("cccccc", 34.0, 36.0, alt_ft=30200, party="usa"),
            Plane("dddddd", 20.0, 20.0, party="gbr"),
        ]
    )
    path = tmp_path / "snap.csv"
    table.to_csv(path, index=False)
    return path


def test_table_on_stdout_summary_on_stderr(snapshot, capsys):
    assert main(["detect", str(snapshot)]) == 0
    out, err = capsys.readouterr()
    assert "aircraft_a" in out
    assert "aaaaaa" in out
    assert "3 conflicting pair(s) among 4 aircraft" in err


@pytest.mark.parametrize("suffix", [".csv", ".json", ".parquet"])
def test_output_formats(snapshot, tmp_path, suffix, capsys):
    out = tmp_path / f"result{suffix}"
    assert main(["detect", str(snapshot), "--output", str(out)]) == 0
    if suffix == ".csv":
        frame = pd.read_csv(out)
    elif suffix == ".json":
        frame = pd.DataFrame(json.loads(out.read_text()))
    else:
        frame = pd.read_parquet(out)
    assert tuple(frame.columns) == CONFLICT_COLUMNS
    assert len(frame) == 3
    assert capsys.readouterr().out == ""


def test_inter_party_and_parameters(snapshot, tmp_path):
    out = tmp_path / "r.csv"
    argv = ["detect", str(snapshot), "--pairs", "inter-party", "--vertical-ft", "400"]
    assert main([*argv, "--output", str(out)]) == 0
    frame = pd.read_csv(out)
    # usa-usa (aaaaaa, cccccc) is skipped; usa-rus at 500 ft apart is outside 400 ft,
    # rus-usa (bbbbbb, cccccc) at 300 ft is a conflict.
    assert list(zip(frame.aircraft_a, frame.aircraft_b, strict=True)) == [
        ("bbbbbb", "cccccc")
    ]


def test_parquet_input(snapshot, tmp_path, capsys):
    path = tmp_path / "snap.bin"  # the format is recognised from content, not name
    pd.read_csv(snapshot, dtype={"icao24": str}).to_parquet(path)
    assert main(["detect", str(path)]) == 0
    assert "3 conflicting pair(s)" in capsys.readouterr().err


def test_bad_input_is_a_clear_message_and_exit_1(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    table = make_table([Plane("aaaaaa", 34.0, 36.0), Plane("bbbbbb", 34.0, 36.0)])
    table.loc[1, "groundspeed"] = -5
    table.to_csv(path, index=False)
    assert main(["detect", str(path)]) == 1
    err = capsys.readouterr().err
    assert "row 2 (line 3), column 'groundspeed'" in err
    assert "Traceback" not in err


def test_missing_column_and_missing_file(tmp_path, capsys):
    path = tmp_path / "x.csv"
    path.write_text("icao24,latitude\naaaaaa,1.0\n")
    assert main(["detect", str(path)]) == 1
    assert "missing required column 'longitude'" in capsys.readouterr().err
    assert main(["detect", str(tmp_path / "nope.csv")]) == 1
    assert "cannot open" in capsys.readouterr().err


def test_usage_errors_exit_2(snapshot, capsys):
    assert main(["detect"]) == 2
    assert main(["detect", str(snapshot), "--pairs", "bogus"]) == 2
    assert main(["bogus"]) == 2


def test_bad_output_suffix_and_parameter(snapshot, tmp_path, capsys):
    assert main(["detect", str(snapshot), "--output", str(tmp_path / "x.txt")]) == 1
    assert main(["detect", str(snapshot), "--lookahead-s", "-1"]) == 1
    assert "lookahead_s" in capsys.readouterr().err


def test_the_bundled_example_runs(capsys):
    assert (
        main(["detect", "examples/snapshots/levant.csv", "--horizontal-nm", "3"]) == 0
    )
    assert "among 1500 aircraft" in capsys.readouterr().err
