"""The demo's agreement: the model agreement with fresh keys, in force, and the
built-in copy of its facts for installs without the example."""

from __future__ import annotations

import datetime as dt
import tomllib
from pathlib import Path

import pytest

from skypact.agreement.document import parse_agreement
from skypact.demo.agreement import (
    EXAMPLE,
    fallback_text,
    find_example,
    prepare_agreement,
    with_keys,
)
from skypact.errors import ConfigError
from skypact.runtime import load_agreement_in_force

ROOT = Path(__file__).resolve().parents[3]
NOW = dt.datetime(2026, 11, 25, 4, 0, tzinfo=dt.UTC)


def example_text() -> str:
    return (ROOT / EXAMPLE).read_text()


def keys_of(text: str) -> dict[str, str]:
    return {p["id"]: p["signing_key"] for p in tomllib.loads(text)["parties"]}


def test_the_example_is_found_in_the_checkout(tmp_path):
    assert find_example(tmp_path) == ROOT / EXAMPLE
    assert find_example() == ROOT / EXAMPLE


class TestWithKeys:
    def test_each_party_gets_its_own_key_and_nothing_else_changes(self):
        original = example_text()
        new = {party: f"ed25519:{party}" for party in keys_of(original)}
        rekeyed = with_keys(original, new)
        assert keys_of(rekeyed) == new
        changed = [
            (a, b)
            for a, b in zip(original.splitlines(), rekeyed.splitlines(), strict=True)
            if a != b
        ]
        assert len(changed) == len(new)
        assert all(a.startswith("signing_key") for a, _ in changed)

    def test_a_party_without_a_key_is_refused(self):
        original = example_text()
        keys = {party: "ed25519:x" for party in keys_of(original)}
        del keys["syr"]
        with pytest.raises(ConfigError, match="no key for syr"):
            with_keys(original, keys)


class TestPrepareAgreement:
    def test_the_copy_is_in_force_with_fresh_keys(self, tmp_path):
        made = prepare_agreement(tmp_path, now=NOW)
        assert made.path == tmp_path / "agreement.toml"
        assert made.source == str(ROOT / EXAMPLE)
        agreement, signatures = load_agreement_in_force(made.path)
        fresh = {p.id: p.signing_key for p in agreement.content.parties}
        old = keys_of(example_text())
        assert set(fresh) == set(old)
        assert all(fresh[p] != old[p] for p in fresh)
        assert len(set(fresh.values())) == len(fresh)
        assert signatures.count('"party"') == len(fresh)

    def test_two_runs_make_two_sets_of_keys(self, tmp_path):
        (tmp_path / "a").mkdir()
        (tmp_path / "b").mkdir()
        first = prepare_agreement(tmp_path / "a", now=NOW)
        second = prepare_agreement(tmp_path / "b", now=NOW)
        assert keys_of(first.path.read_text()) != keys_of(second.path.read_text())

    def test_the_built_in_facts_make_an_agreement_in_force(self, tmp_path):
        template = tmp_path / "facts.toml"
        template.write_text(fallback_text())
        made = prepare_agreement(tmp_path, now=NOW, template=template)
        load_agreement_in_force(made.path)


def test_the_built_in_facts_are_the_examples():
    example = parse_agreement(example_text().encode()).content
    keys = {p.id: p.signing_key for p in example.parties}
    built = parse_agreement(with_keys(fallback_text(), keys).encode()).content
    for part in (
        "agreement", "parties", "blocs", "separation", "nmac", "alerting",
        "exemptions", "ground_line", "releasability", "frequencies",
    ):  # fmt: skip
        assert getattr(built, part) == getattr(example, part), part
    assert built.zones == ()  # the polygons stay in the example
