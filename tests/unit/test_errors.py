"""The service's error branches carry structured attributes and readable messages."""

from __future__ import annotations

import pytest

from skypact.errors import (
    AccessDeniedError,
    AuditIntegrityError,
    AuthenticationError,
    ConflictingWriteError,
    MessageStateError,
    NotFoundError,
    SkyPactError,
    StorageError,
)


@pytest.mark.parametrize(
    ("error", "message", "attributes"),
    [
        (AuthenticationError("expired"), "not authenticated: expired token",
         {"reason": "expired"}),
        (AccessDeniedError("usa", "report", "aircraft of rus", "own only"),
         "usa may not report aircraft of rus: own only",
         {"party_id": "usa", "action": "report", "resource": "aircraft of rus"}),
        (AccessDeniedError("usa", "read", "picture"), "usa may not read picture", {}),
        (NotFoundError("alert", "A1"), "no alert A1", {"kind": "alert", "key": "A1"}),
        (MessageStateError("M1", "acknowledged", "acknowledge", "by rus"),
         "M1 is acknowledged; cannot acknowledge: by rus",
         {"message_id": "M1", "state": "acknowledged", "action": "acknowledge"}),
        (MessageStateError("c", "active", "restore"), "c is active; cannot restore", {}),
        (AuditIntegrityError(7, "deleted", "gone"), "audit record 7: deleted: gone",
         {"seq": 7, "problem": "deleted"}),
        (AuditIntegrityError(3, "changed"), "audit record 3: changed", {}),
    ],
)  # fmt: skip
def test_messages_and_attributes(error, message, attributes):
    assert str(error) == message
    assert isinstance(error, SkyPactError)
    for name, value in attributes.items():
        assert getattr(error, name) == value


def test_storage_errors_are_one_branch():
    assert issubclass(NotFoundError, StorageError)
    assert issubclass(ConflictingWriteError, StorageError)
