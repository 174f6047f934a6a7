"""``skypact db migrate``, ``token create``, ``audit verify`` and ``serve``'s refusals."""

from __future__ import annotations

import json
import sqlite3

from skypact.cli import main
from tests.agreements import signed_agreement, write_agreement


def test_migrate_token_and_verify(tmp_path, capsys):
    data = tmp_path / "data"
    assert main(["db", "migrate", "--data-dir", str(data)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("database at revision ")
    assert (data / "skypact.db").exists()
    assert main(["db", "migrate", "--data-dir", str(data)]) == 0  # idempotent
    capsys.readouterr()
    agreement = signed_agreement(tmp_path / "agreement.toml")
    args = ["token", "create", "--data-dir", str(data), "--party", "usa",
            "--role", "analyst", "--agreement", str(agreement), "--expires-in-h", "8"]  # fmt: skip
    assert main(args) == 0
    captured = capsys.readouterr()
    token = captured.out.strip()
    token_id, _, secret = token.partition(".")
    assert token_id
    assert len(secret) >= 40
    assert "shown only once" in captured.err
    database = sqlite3.connect(data / "skypact.db")
    stored = " ".join(
        str(v) for row in database.execute("select * from tokens") for v in row
    )
    assert secret not in stored
    assert (data / "audit-key.pem").stat().st_mode & 0o077 == 0
    assert main(["audit", "verify", "--data-dir", str(data), "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] is True
    assert report["records"] >= 1
    assert report["public_key"].startswith("ed25519:")
    database.execute("update audit set payload = '{}' where seq = 1")
    database.commit()
    assert main(["audit", "verify", "--data-dir", str(data)]) == 1
    assert "BROKEN at record 1: changed" in capsys.readouterr().out


def test_a_token_for_a_party_the_agreement_does_not_name(tmp_path, capsys):
    data = tmp_path / "data"
    main(["db", "migrate", "--data-dir", str(data)])
    agreement = signed_agreement(tmp_path / "agreement.toml")
    args = ["token", "create", "--data-dir", str(data), "--party", "fra",
            "--agreement", str(agreement)]  # fmt: skip
    assert main(args) == 1
    assert "not a party of" in capsys.readouterr().err


def test_serve_refuses_an_agreement_not_in_force(tmp_path, capsys):
    data = tmp_path / "data"
    main(["db", "migrate", "--data-dir", str(data)])
    unsigned = write_agreement(tmp_path / "unsigned.toml")
    assert main(["serve", "--data-dir", str(data), "--agreement", str(unsigned)]) == 1
    err = capsys.readouterr().err
    assert "not in force" in err
    assert "blue" in err


def test_serve_refuses_an_unmigrated_database(tmp_path, capsys):
    agreement = signed_agreement(tmp_path / "agreement.toml")
    args = [
        "serve",
        "--data-dir",
        str(tmp_path / "empty"),
        "--agreement",
        str(agreement),
    ]
    assert main(args) == 1
    assert "skypact db migrate" in capsys.readouterr().err


def test_tls_options_come_in_pairs(tmp_path, capsys):
    agreement = signed_agreement(tmp_path / "agreement.toml")
    args = ["serve", "--agreement", str(agreement), "--tls-cert", "cert.pem"]
    assert main(args) == 1
    assert "give both or neither" in capsys.readouterr().err
