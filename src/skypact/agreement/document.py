"""Reading an agreement: TOML text -> validated :class:`AgreementFile`.

Errors name the key and the line (``parties[2].signing_key, line 14: ...``): TOML syntax
errors come from :mod:`tomllib` with their position; schema errors from pydantic with
their key path, which :func:`locate_key_lines` maps back to the line where the key is
written (no TOML library keeps key positions, so a small scanner does that).

The canonical form of an agreement is the JSON of its validated content with sorted
keys and no insignificant whitespace: two files that mean the same thing have the same
canonical form. Signatures cover both it and the file's exact bytes (see
:mod:`skypact.agreement.signing`).
"""

from __future__ import annotations

import json
import re
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass

import pydantic

from skypact.agreement.schema import AgreementFile
from skypact.errors import AgreementInvalidError

__all__ = ["LoadedAgreement", "canonical_json", "locate_key_lines", "parse_agreement"]

KeyPath = tuple[str | int, ...]

_HEADER = re.compile(r"^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$")
_ASSIGN = re.compile(
    r"""^\s*((?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*')(?:\s*\.\s*(?:[A-Za-z0-9_-]+|"[^"]*"|'[^']*'))*)\s*="""
)


@dataclass(frozen=True, slots=True)
class LoadedAgreement:
    """A validated agreement with the exact bytes it was read from."""

    content: AgreementFile
    raw: bytes
    source: str

    @property
    def canonical(self) -> bytes:
        """The canonical JSON form of the content (UTF-8)."""
        return canonical_json(self.content)


def canonical_json(content: AgreementFile) -> bytes:
    """Sorted-key, compact JSON of the validated content."""
    data = content.model_dump(mode="json")
    return json.dumps(
        data, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def parse_agreement(raw: bytes, *, source: str = "<agreement>") -> LoadedAgreement:
    """Parse and validate an agreement file's bytes.

    Raises:
        AgreementInvalidError: the text is not TOML, breaks the schema, or refers to
            something it does not define; the error names the key and line.
    """
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise AgreementInvalidError(
            "the file is not UTF-8 text", source=source, key="", line=None
        ) from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        raise AgreementInvalidError(
            f"not valid TOML: {exc}",
            source=source,
            key="",
            line=int(match.group(1)) if match else None,
        ) from exc
    lines = locate_key_lines(text)
    try:
        content = AgreementFile.model_validate(data)
    except pydantic.ValidationError as exc:
        first = exc.errors()[0]
        path = tuple(first["loc"])
        message = first["msg"].removeprefix("Value error, ")
        if first["type"] == "missing":
            message = "this key is required"
        elif first["type"] == "extra_forbidden":
            message = "unknown key (misspelt?)"
        raise AgreementInvalidError(
            message, source=source, key=_dotted(path), line=_line_of(path, lines)
        ) from exc
    for path, message in _reference_problems(content):
        raise AgreementInvalidError(
            message, source=source, key=_dotted(path), line=_line_of(path, lines)
        )
    return LoadedAgreement(content=content, raw=raw, source=source)


def _reference_problems(content: AgreementFile) -> Iterator[tuple[KeyPath, str]]:
    """Identifiers defined twice, or used without being defined."""
    party_ids = [p.id for p in content.parties]
    bloc_ids = [b.id for b in content.blocs]
    if len(party_ids) < 2:
        yield ("parties",), "an agreement has at least two parties"
    for what, items in (
        ("parties", party_ids),
        ("blocs", bloc_ids),
        ("zones", [z.id for z in content.zones]),
        ("inhibition_zones", [z.id for z in content.inhibition_zones]),
        ("lines", [line.id for line in content.lines]),
    ):
        seen: set[str] = set()
        for k, item in enumerate(items):
            if item in seen:
                yield (what, k, "id"), f"id {item!r} is defined twice"
            seen.add(item)
    keys: dict[str, int] = {}
    for k, party in enumerate(content.parties):
        if party.bloc is not None and party.bloc not in bloc_ids:
            yield ("parties", k, "bloc"), f"unknown bloc {party.bloc!r}"
        if party.signing_key in keys:
            yield ("parties", k, "signing_key"), "two parties share one signing key"
        keys[party.signing_key] = k
    known = set(party_ids) | set(bloc_ids)
    refs: list[tuple[KeyPath, str | None]] = []
    refs += [
        (("exemptions", k, "party"), e.party) for k, e in enumerate(content.exemptions)
    ]
    refs += [(("zones", k, "owner"), z.owner) for k, z in enumerate(content.zones)]
    refs += [
        (("releasability", "overrides", k, "party"), o.party)
        for k, o in enumerate(content.releasability.overrides)
    ]
    for k, line in enumerate(content.lines):
        refs += [(("lines", k, "left_side"), line.left_side)]
        refs += [(("lines", k, "right_side"), line.right_side)]
    for path, ref in refs:
        if ref is not None and ref not in known:
            yield path, f"{ref!r} is neither a party nor a bloc of this agreement"


def _dotted(path: KeyPath) -> str:
    out = ""
    for part in path:
        out += (
            f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
        )
    return out


def _line_of(path: KeyPath, lines: dict[KeyPath, int]) -> int | None:
    for end in range(len(path), 0, -1):
        if path[:end] in lines:
            return lines[path[:end]]
    return None


def locate_key_lines(text: str) -> dict[KeyPath, int]:
    """Where each key path is written: ``{("parties", 1, "id"): 12, ...}`` (1-based).

    Understands table headers, arrays of tables (counted per path) and dotted keys;
    lines inside multi-line strings are skipped. Keys inside inline tables or arrays
    map to the line of the key that holds them.
    """
    found: dict[KeyPath, int] = {}
    counts: dict[tuple[str, ...], int] = {}
    current: KeyPath = ()
    in_multiline: str | None = None
    for line_no, line in enumerate(text.splitlines(), start=1):
        if in_multiline is not None:
            if line.count(in_multiline) % 2 == 1:
                in_multiline = None
            continue
        header = _HEADER.match(line)
        if header:
            names = tuple(_split_key(header.group(2)))
            if header.group(1) == "[[":
                counts[names] = counts.get(names, -1) + 1
                current = (*_indexed(names[:-1], counts), names[-1], counts[names])
            else:
                current = _indexed(names, counts)
            found.setdefault(current, line_no)
            if header.group(1) == "[[":
                found.setdefault(current[:-1], line_no)
            continue
        assign = _ASSIGN.match(line)
        if assign:
            path = (*current, *_split_key(assign.group(1)))
            found.setdefault(path, line_no)
            for quote in ('"""', "'''"):
                if line.count(quote) % 2 == 1:
                    in_multiline = quote
    return found


def _split_key(key: str) -> list[str]:
    parts = re.findall(r'"[^"]*"|\'[^\']*\'|[^.\s]+', key)
    return [p.strip("\"'") for p in parts]


def _indexed(names: tuple[str, ...], counts: dict[tuple[str, ...], int]) -> KeyPath:
    """A header path with the current index inserted after each array-of-tables name."""
    out: list[str | int] = []
    for k, name in enumerate(names):
        out.append(name)
        prefix = names[: k + 1]
        if prefix in counts and k < len(names) - 1:
            out.append(counts[prefix])
    return tuple(out)
