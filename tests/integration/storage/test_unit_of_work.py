"""``Repository.transaction()``: a cycle's writes commit together, or not at all."""

from __future__ import annotations

import pytest

from skypact.errors import ConflictingWriteError
from skypact.storage import Repository


def test_writes_inside_commit_together_and_the_chain_verifies(repo: Repository):
    with repo.transaction():
        repo.append_audit("server", "note", {"k": 1})
        issued = repo.create_token("usa", "analyst")
        with repo.transaction():  # nested: the same unit
            repo.append_audit("server", "note", {"k": 2})
    assert repo.authenticate(issued.token, 0.0).party == "usa"
    assert [r.kind for r in repo.audit_records()][-3:] == [
        "note",
        "token-created",
        "note",
    ]
    assert repo.verify_audit().ok


def test_an_error_inside_rolls_every_write_back(repo: Repository):
    repo.store_report_batch("usa", "b1", 0.0, [])
    before = [r.seq for r in repo.audit_records()]

    def cycle() -> None:
        with repo.transaction():
            repo.append_audit("server", "note", {"k": 1})
            repo.store_report_batch("usa", "b1", 1.0, [])  # a replay: refused

    with pytest.raises(ConflictingWriteError):
        cycle()
    assert [r.seq for r in repo.audit_records()] == before
    assert repo.verify_audit().ok
    repo.append_audit("server", "after", {})  # the repository is usable again
    assert repo.verify_audit().ok
