"""Agreement files: schema errors name key and line; signatures; in force or not."""

from __future__ import annotations

import datetime as dt
import json
import re
from pathlib import Path
from typing import cast

import pytest

from skypact.agreement.document import locate_key_lines, parse_agreement
from skypact.agreement.signing import (
    SignatureState,
    add_signature,
    generate_private_key,
    load_private_key,
    public_key_text,
    verify_signatures,
)
from skypact.cli import main
from skypact.errors import AgreementInvalidError, SignatureError

EXAMPLE = Path(__file__).resolve().parents[3] / "examples/agreements/syria-2015.toml"
NOW = dt.datetime(2015, 10, 20, 8, 0, tzinfo=dt.UTC)


def two_party(keys) -> str:
    return f"""[agreement]
id = "test"
version = 2
title = "Two-party test agreement"

[[parties]]
id = "blue"
name = "Blue"
operations_centre = "Blue AOC"
signing_key = "{public_key_text(keys["blue"])}"

[[parties]]
id = "red"
name = "Red"
operations_centre = "Red AOC"
signing_key = "{public_key_text(keys["red"])}"

[ground_line]
endpoints = ["Blue AOC", "Red AOC"]
"""


@pytest.fixture
def keys():
    return {p: load_private_key(generate_private_key()) for p in ("blue", "red")}


class TestExample:
    def test_the_syria_2015_example_is_valid(self):
        agreement = parse_agreement(EXAMPLE.read_bytes(), source=str(EXAMPLE))
        content = agreement.content
        assert content.separation.horizontal_nm == 3.0
        assert {p.bloc for p in content.parties} == {"coalition", "russian-side"}
        assert {"usa", "gbr", "fra", "aus", "jor", "rus", "syr"} <= {
            p.id for p in content.parties
        }
        assert content.lines[0].id == "euphrates-2017"
        assert "Al Udeid" in content.ground_line.endpoints[0]
        assert "Hmeimim" in content.ground_line.endpoints[1]
        assert "callsign" not in content.releasability.fields

    def test_defaults_follow_design(self, keys):
        content = parse_agreement(two_party(keys).encode()).content
        assert (content.separation.horizontal_nm, content.separation.vertical_ft) == (
            3,
            1000,
        )
        assert (content.nmac.horizontal_ft, content.nmac.vertical_ft) == (500, 100)
        assert [lv.lookahead_s for lv in content.alerting.levels] == [300, 120, 60]


class TestErrorsNameKeyAndLine:
    def error(self, text: str) -> AgreementInvalidError:
        with pytest.raises(AgreementInvalidError) as info:
            parse_agreement(text.encode(), source="test.toml")
        return info.value

    def test_toml_syntax_error_has_a_line(self, keys):
        text = two_party(keys).replace('title = "Two', "title = Two")
        err = self.error(text)
        assert err.line == 4
        assert "not valid TOML" in str(err)

    def test_bad_value_names_key_and_line(self, keys):
        text = two_party(keys).replace('id = "red"', 'id = "Red Force"')
        err = self.error(text)
        assert err.key == "parties[1].id"
        assert err.line == text.splitlines().index('id = "Red Force"') + 1
        assert f"line {err.line}" in str(err)

    def test_misspelt_key(self, keys):
        text = two_party(keys) + "\n[separation]\nhorizontal_nmi = 5.0\n"
        err = self.error(text)
        assert err.key == "separation.horizontal_nmi"
        assert "unknown key" in str(err)
        assert err.line == len(text.splitlines())

    def test_missing_required_key(self, keys):
        text = two_party(keys).replace('operations_centre = "Red AOC"\n', "")
        err = self.error(text)
        assert err.key == "parties[1].operations_centre"
        assert "required" in str(err)
        # The key is absent: the line is that of the table it belongs to.
        assert err.line == text.splitlines().index("[[parties]]", 8) + 1

    @pytest.mark.parametrize(
        ("addition", "key", "message"),
        [
            (
                "[separation]\nvertical_ft = -1000\n",
                "separation.vertical_ft",
                "greater than 0",
            ),
            ("[alerting]\nconfirm_m = 4\nconfirm_n = 3\n", "alerting", "confirm_m"),
            ('[[frequencies]]\nname = "x"\nmhz = 5000\n', "frequencies[0].mhz", "400"),
            (
                '[[zones]]\nid = "z"\nname = "Z"\npolygon = [[1, 1], [2, 2]]\n',
                "zones[0]",
                "three",
            ),
            (
                '[[zones]]\nid = "z"\nname = "Z"\nowner = "green"\n'
                "polygon = [[1, 1], [2, 2], [1, 2]]\n",
                "zones[0].owner",
                "neither a party nor a bloc",
            ),
        ],
    )
    def test_semantic_errors(self, keys, addition, key, message):
        err = self.error(two_party(keys) + "\n" + addition)
        assert err.key == key
        assert message in str(err)
        assert err.line is not None

    def test_unknown_bloc_and_duplicate_party(self, keys):
        err = self.error(
            two_party(keys).replace('id = "red"', 'id = "red"\nbloc = "east"')
        )
        assert (err.key, "unknown bloc") == ("parties[1].bloc", "unknown bloc")
        err = self.error(two_party(keys).replace('id = "red"', 'id = "blue"'))
        assert err.key == "parties[1].id"
        assert "twice" in str(err)

    def test_bad_signing_key(self, keys):
        text = re.sub(
            r'(signing_key = ")ed25519:[^"]+', r"\1ed25519:AAAA", two_party(keys)
        )
        err = self.error(text)
        assert err.key == "parties[0].signing_key"
        assert "32 bytes" in str(err)

    def test_key_line_locator(self):
        text = '[a]\nx = 1\n[[b]]\ny = 2\n[[b]]\ny = 3\n"q.r" = 4\n[b.c]\nz = 5\n'
        lines = locate_key_lines(text)
        assert lines[("a", "x")] == 2
        assert lines[("b", 0, "y")] == 4
        assert lines[("b", 1, "y")] == 6
        assert lines[("b", 1, "q.r")] == 7
        assert lines[("b", 1, "c", "z")] == 9


class TestSignatures:
    def test_in_force_only_when_every_party_signed(self, keys):
        agreement = parse_agreement(two_party(keys).encode())
        sigs = add_signature(agreement, None, party="blue", key=keys["blue"], now=NOW)
        check = verify_signatures(agreement, sigs)
        assert not check.in_force
        states = {p.party: p.state for p in check.parties}
        assert states == {"blue": SignatureState.VALID, "red": SignatureState.MISSING}
        sigs = add_signature(agreement, sigs, party="red", key=keys["red"], now=NOW)
        assert verify_signatures(agreement, sigs).in_force

    def test_one_changed_byte_invalidates_every_signature(self, keys):
        raw = two_party(keys).encode()
        agreement = parse_agreement(raw)
        sigs = None
        for party in ("blue", "red"):
            sigs = add_signature(agreement, sigs, party=party, key=keys[party], now=NOW)
        # A change in a comment only: the meaning is the same, the bytes are not.
        tampered = parse_agreement(raw + b"# amended\n")
        check = verify_signatures(tampered, sigs)
        assert not check.in_force
        assert all(p.state is SignatureState.INVALID for p in check.parties)
        # And a change of meaning.
        changed = parse_agreement(raw.replace(b"version = 2", b"version = 3"))
        assert all(
            p.state is SignatureState.INVALID
            for p in verify_signatures(changed, sigs).parties
        )

    def test_a_forged_signature_is_invalid(self, keys):
        agreement = parse_agreement(two_party(keys).encode())
        sigs = add_signature(agreement, None, party="blue", key=keys["blue"], now=NOW)
        entry = cast(list, sigs["signatures"])[0]
        entry["signature"] = entry["signature"][:-4] + "AAA="
        states = {p.party: p.state for p in verify_signatures(agreement, sigs).parties}
        assert states["blue"] is SignatureState.INVALID

    def test_signing_with_the_wrong_key_or_as_a_stranger_is_refused(self, keys):
        agreement = parse_agreement(two_party(keys).encode())
        with pytest.raises(SignatureError, match="not the signing key"):
            add_signature(agreement, None, party="blue", key=keys["red"], now=NOW)
        with pytest.raises(SignatureError, match="not a party"):
            add_signature(agreement, None, party="green", key=keys["red"], now=NOW)

    def test_signature_file_of_another_version_is_refused(self, keys):
        raw = two_party(keys).encode()
        old = parse_agreement(raw)
        sigs = add_signature(old, None, party="blue", key=keys["blue"], now=NOW)
        new = parse_agreement(raw.replace(b"version = 2", b"version = 3"))
        with pytest.raises(SignatureError, match="another version"):
            add_signature(new, sigs, party="red", key=keys["red"], now=NOW)

    def test_the_agreement_holds_no_private_key(self, keys, tmp_path):
        text = two_party(keys)
        assert "PRIVATE KEY" not in text
        assert "PRIVATE KEY" not in EXAMPLE.read_text()


class TestCommandLine:
    def test_keygen_sign_verify(self, tmp_path, capsys):
        key_files = {}
        for party in ("blue", "red"):
            key_files[party] = tmp_path / f"{party}.pem"
            assert main(["agreement", "keygen", "--out", str(key_files[party])]) == 0
            assert (key_files[party].stat().st_mode & 0o777) == 0o600
        public = {p: load_private_key(f.read_bytes()) for p, f in key_files.items()}
        path = tmp_path / "agreement.toml"
        path.write_text(two_party(public))
        capsys.readouterr()
        assert main(["agreement", "validate", str(path)]) == 0
        assert main(["agreement", "verify", str(path)]) == 1
        assert "NOT in force" in capsys.readouterr().err
        for party in ("blue", "red"):
            argv = ["agreement", "sign", str(path), "--party", party]
            assert main([*argv, "--key", str(key_files[party])]) == 0
        assert main(["agreement", "verify", str(path)]) == 0
        out, err = capsys.readouterr()
        assert "blue     valid" in out
        assert "is in force" in err
        sigs = json.loads((tmp_path / "agreement.toml.sig.json").read_text())
        assert [s["party"] for s in sigs["signatures"]] == ["blue", "red"]
        path.write_bytes(path.read_bytes().replace(b"Blue AOC", b"Blue  AOC", 1))
        assert main(["agreement", "verify", str(path)]) == 1
        assert "invalid" in capsys.readouterr().out

    def test_keygen_does_not_overwrite(self, tmp_path, capsys):
        key = tmp_path / "k.pem"
        assert main(["agreement", "keygen", "--out", str(key)]) == 0
        assert main(["agreement", "keygen", "--out", str(key)]) == 1
        assert "--force" in capsys.readouterr().err

    def test_show_and_errors(self, tmp_path, capsys):
        assert main(["agreement", "show", str(EXAMPLE)]) == 0
        assert "euphrates-2017" in capsys.readouterr().out
        assert main(["agreement", "show", "--json", str(EXAMPLE)]) == 0
        assert json.loads(capsys.readouterr().out)["agreement"]["id"] == "syria-2015"
        bad = tmp_path / "bad.toml"
        bad.write_text(
            EXAMPLE.read_text().replace("horizontal_nm = 3.0", "horizontal_nm = 0")
        )
        assert main(["agreement", "validate", str(bad)]) == 1
        err = capsys.readouterr().err
        assert "key separation.horizontal_nm" in err
        assert "line " in err
        assert main(["agreement", "validate", str(tmp_path / "none.toml")]) == 1
