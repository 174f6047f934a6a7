"""``skypact demo`` as a user runs it: a subprocess, a data directory kept afterwards.

The demo starts the real service and the parties' real clients itself; this test holds
its transcript and what it leaves in the data directory to what a user relies on: it
exits 0; the planted alert reached exactly the two parties involved; the identification
query was answered with the affiliation only (in the transcript and in the stored
answer); each party's picture held what need to know allows; and afterwards
``skypact audit verify --data-dir`` verifies the chain and the agreement is in force.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from skypact.cli import main
from skypact.config import Settings
from skypact.demo.scenario import syria
from skypact.runtime import open_repository
from tests.integration.service.server import SKYPACT, ServiceHome

pytestmark = pytest.mark.slow

SECONDS = 30  # the shortest run the demo's theatre allows
THEATRE = syria()
LINE = re.compile(r"^\s*(\d+\.\d) s  (\S+)\s+(.*)$")


@dataclass(frozen=True)
class Run:
    data_dir: Path
    done: subprocess.CompletedProcess[str]

    def events(self) -> list[tuple[float, str, str]]:
        """The transcript as (seconds, who, text)."""
        out = []
        for line in self.done.stdout.splitlines():
            found = LINE.match(line)
            assert found, f"not a transcript line: {line!r}"
            out.append((float(found[1]), found[2], found[3]))
        return out

    def said(self, who: str, pattern: str) -> list[str]:
        return [
            text
            for _, w, text in self.events()
            if w == who and re.search(pattern, text)
        ]


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> Run:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    done = subprocess.run(
        [*SKYPACT, "demo", "--seconds", str(SECONDS), "--data-dir", str(data_dir)],
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    return Run(data_dir=data_dir, done=done)


def test_it_exits_0_having_seen_everything_expected(run):
    assert run.done.returncode == 0, run.done.stdout + run.done.stderr
    assert run.done.stderr == ""
    assert run.said("summary", "demo complete: everything expected happened")
    assert not [e for e in run.events() if "PROBLEM" in e[2]]


def test_the_alert_reaches_exactly_the_two_parties_involved(run):
    raised = {
        who for _, who, text in run.events() if re.match(r"ALERT \S+ raised", text)
    }
    assert raised == {"usa", "rus"}
    (alert_id,) = {
        text.split()[1] for _, _, text in run.events() if text.startswith("ALERT")
    }
    for party in ("usa", "rus"):
        (up,) = run.said(party, rf"ALERT {alert_id} up to level 3 \(warning\)")
        assert up.endswith("the duty officer acknowledges it")
        assert run.said(party, rf"ALERT {alert_id} cleared")
    assert run.said(
        "demo",
        rf"alert {alert_id} reached the live feeds of rus, usa and no other: the "
        "feeds of gbr, syr carried no alert",
    )
    for party in ("gbr", "syr"):
        assert not run.said(party, r"^ALERT |^alert ")
    # the other side's aircraft is named by a handle, never by its address or callsign
    (usa_alert,) = run.said("usa", rf"ALERT {alert_id} raised")
    assert "a rus aircraft (russian-side, handle " in usa_alert
    rus_fighter = THEATRE.aircraft_by_icao24(THEATRE.encounter[1])
    assert rus_fighter.icao24 not in usa_alert
    assert rus_fighter.callsign not in usa_alert


def test_the_identification_answer_names_the_affiliation_only(run):
    target = THEATRE.aircraft_by_icao24(THEATRE.query_target)
    (answer,) = run.said("usa", "IDENTIFICATION ANSWER")
    assert f"1 aircraft: party {target.party} (russian-side)" in answer
    usa_lines = " ".join(run.said("usa", ""))
    assert target.icao24 not in usa_lines
    assert target.callsign not in usa_lines
    # and as stored by the service (what the API served to usa)
    repository = open_repository(Settings(data_dir=run.data_dir))
    try:
        answers = [
            m for m in repository.messages("usa") if m.kind == "identification-answer"
        ]
    finally:
        repository.engine.dispose()
    (stored,) = answers
    assert stored.recipients == ("usa",)
    assert [sorted(m) for m in stored.body["matches"]] == [
        ["bloc", "distance_nm", "party"]
    ]
    assert stored.body["matches"][0]["party"] == target.party
    assert target.icao24 not in json.dumps(stored.body) + stored.text
    assert target.callsign not in json.dumps(stored.body) + stored.text


def test_each_picture_holds_what_need_to_know_allows(run):
    pictures = {
        who: text for _, who, text in run.events() if text.startswith("picture (GET")
    }
    assert set(pictures) == set(THEATRE.parties)
    assert "its own 3 " in pictures["usa"]
    assert "1 of the other parties' 5 aircraft (a rus aircraft" in pictures["usa"]
    assert "1 of the other parties' 6 aircraft (a usa aircraft" in pictures["rus"]
    assert "none of the other parties'" in pictures["gbr"]
    assert "none of the other parties'" in pictures["syr"]


def test_audit_verify_afterwards_and_the_agreement_in_force(run, capsys):
    home = ServiceHome(data_dir=run.data_dir, agreement=run.data_dir / "agreement.toml")
    verdict = home.audit_verify()
    assert (verdict.exit_code, verdict.ok) == (0, True)
    assert verdict.records > (SECONDS + 1) * len(THEATRE.parties)
    (said,) = run.said("audit", "the chain verifies")
    assert f"{verdict.records:,} records" in said
    capsys.readouterr()
    assert main(["agreement", "verify", str(home.agreement)]) == 0, capsys.readouterr()


def test_a_duration_the_theatre_is_not_made_for_is_refused(capsys):
    assert main(["demo", "--seconds", "5"]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "--seconds=5: the demo's theatre runs 30 to 150 s" in err


def test_a_data_dir_in_use_is_refused_untouched(tmp_path, capsys):
    (tmp_path / "skypact.db").write_text("someone else's")
    assert main(["demo", "--data-dir", str(tmp_path)]) == 1
    out, err = capsys.readouterr()
    assert out == ""
    assert "must be a new or empty directory" in err
    assert [p.name for p in tmp_path.iterdir()] == ["skypact.db"]
