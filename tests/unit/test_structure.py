"""Structural rules of STYLE.md: import layering, unit literals, the public API."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import skypact

SRC = Path(skypact.__file__).parent

LEVELS = {
    "units": 0, "errors": 0, "timeutil": 0,
    "geometry": 1,
    "tracks.model": 2, "tracks.validation": 2, "tracks.store": 2,
    "detection": 2, "alerting": 2, "resolution": 2, "parties": 2,
    "audit.model": 2, "agreement": 2, "messaging": 2,
    "storage": 3, "tracks.ingest": 3, "audit.log": 3,
    "pipeline": 4, "sim": 4, "config": 4, "analysis": 4, "service": 4,
    "runtime": 4, "liaison": 4,
    "api": 5, "web": 5, "cli": 5, "": 5,
}  # fmt: skip


def level_of(module: str) -> int:
    rest = module.removeprefix("skypact").lstrip(".")
    parts = rest.split(".") if rest else []
    for k in range(len(parts), -1, -1):
        key = ".".join(parts[:k])
        if key in LEVELS:
            return LEVELS[key]
    raise AssertionError(f"module {module} has no layer in STYLE.md's layering")


def modules():
    for path in sorted(SRC.rglob("*.py")):
        rel = path.relative_to(SRC.parent).with_suffix("")
        name = ".".join(rel.parts).removesuffix(".__init__")
        yield name, path


def test_imports_respect_the_layering():
    violations = []
    for name, path in modules():
        own = level_of(name)
        for node in ast.walk(ast.parse(path.read_text())):
            targets = []
            if isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                targets = [node.module]
            for target in targets:
                ours = target == "skypact" or target.startswith("skypact.")
                if ours and level_of(target) > own:
                    violations.append(f"{name} (level {own}) imports {target}")
    assert not violations, "\n".join(violations)


def test_conversion_literals_only_in_units():
    pattern = re.compile(
        r"(?<![\d.])(1852(\.0*)?|0\.3048|0\.51444\d*|6378137(\.0*)?)(?![\d])"
    )
    offenders = [
        f"{path.relative_to(SRC)}:{k}"
        for _, path in modules()
        if path.name != "units.py"
        for k, line in enumerate(path.read_text().splitlines(), 1)
        if pattern.search(line)
    ]
    assert not offenders, offenders


def test_public_api_is_explicit_and_sorted():
    assert skypact.__all__ == sorted(skypact.__all__)
    for name in skypact.__all__:
        assert hasattr(skypact, name)
