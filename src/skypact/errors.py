"""The SkyPact exception hierarchy.

Every domain condition raises a subclass of :class:`SkyPactError`; programming errors
(misuse of an API) raise Python's built-ins (``TypeError``, ``RuntimeError``).
Exceptions carry structured attributes as well as a readable message, so that each
edge (CLI, HTTP API) can translate them once::

    SkyPactError
    ├── ConfigError (ValueError)          a parameter or setting is invalid
    ├── IngestError (ValueError)          input data could not be used
    │   ├── ParseError                    a file or record could not be read at all
    │   ├── UnsupportedFormatError        the input's format is not one SkyPact reads
    │   ├── MissingColumnError            a required column is absent from a table
    │   └── InvalidStateError             a value in a record is missing, non-numeric
    │                                     or physically impossible
    ├── AgreementError                    an agreement cannot be used
    │   ├── AgreementInvalidError (ValueError)  the file breaks the schema (key, line)
    │   └── SignatureError                a signature file or key is unusable
    ├── AlertStateError                   an alert cannot do what was asked
    │   └── IllegalTransitionError        not from its current state (id, state, event)
    ├── MessageStateError                 a deconfliction-line message or channel cannot
    │                                     do what was asked (id, state, action)
    ├── AuthenticationError               no valid credential (missing, unknown,
    │                                     expired, revoked or forged token)
    ├── AccessDeniedError                 a known party or role may not do this
    │                                     (party, action, resource)
    ├── StorageError                      the database cannot do what was asked
    │   ├── NotFoundError                 no such record (kind, key)
    │   ├── ConflictingWriteError         a write that contradicts a stored one
    │   │                                 (a replayed batch, a duplicate key)
    │   └── MigrationError                the schema cannot be brought up to date
    └── AuditError                        the audit chain cannot be used
        └── AuditIntegrityError           the chain does not verify (seq, problem)
"""

from __future__ import annotations

__all__ = [
    "AccessDeniedError",
    "AgreementError",
    "AgreementInvalidError",
    "AlertStateError",
    "AuditError",
    "AuditIntegrityError",
    "AuthenticationError",
    "ConfigError",
    "ConflictingWriteError",
    "IllegalTransitionError",
    "IngestError",
    "InvalidStateError",
    "MessageStateError",
    "MigrationError",
    "MissingColumnError",
    "NotFoundError",
    "ParseError",
    "SignatureError",
    "SkyPactError",
    "StorageError",
    "UnsupportedFormatError",
]


class SkyPactError(Exception):
    """Base class of every error SkyPact raises for a domain condition."""


class ConfigError(SkyPactError, ValueError):
    """A parameter or setting is invalid.

    Attributes:
        name: the parameter's name (with its unit suffix).
        value: the rejected value.
    """

    def __init__(self, name: str, value: object, reason: str) -> None:
        self.name = name
        self.value = value
        self.reason = reason
        super().__init__(f"{name}={value!r}: {reason}")


class IngestError(SkyPactError, ValueError):
    """Input data could not be used.

    Attributes:
        source: where the data came from (a file name, or ``"<table>"``).
    """

    def __init__(self, message: str, *, source: str = "<table>") -> None:
        self.source = source
        super().__init__(f"{source}: {message}")


class ParseError(IngestError):
    """A file or record could not be read at all.

    Attributes:
        line_no: 1-based line number in the source, if known.
        where: the place in the source as text (``"line 12"``, ``"byte 4096"``,
            ``"packet 3, record 2"``), if known.
        raw: the offending raw text, if known (truncated to 200 characters).
    """

    def __init__(
        self,
        message: str,
        *,
        source: str = "<table>",
        line_no: int | None = None,
        where: str | None = None,
        raw: str | None = None,
    ) -> None:
        self.line_no = line_no
        self.where = (
            where
            if where is not None
            else (None if line_no is None else f"line {line_no}")
        )
        self.raw = None if raw is None else raw[:200]
        prefix = "" if self.where is None else f"{self.where}: "
        super().__init__(f"{prefix}{message}", source=source)


class UnsupportedFormatError(IngestError):
    """The input's format is not one SkyPact reads."""


class MissingColumnError(IngestError):
    """A required column is absent from an input table.

    Attributes:
        column: the missing column's name.
    """

    def __init__(self, column: str, *, source: str = "<table>", hint: str = "") -> None:
        self.column = column
        extra = f" ({hint})" if hint else ""
        super().__init__(f"missing required column {column!r}{extra}", source=source)


class InvalidStateError(IngestError):
    """A value in an input record is missing, non-numeric or physically impossible.

    Attributes:
        column: the column holding the bad value.
        row: the row's label (0-based position for a DataFrame with a default index;
            the data row number, counted from 1 after the header, for a file).
        line_no: the 1-based line number in a text file, if the input was one.
        value: the rejected value.
        reason: why it was rejected.
    """

    def __init__(
        self,
        *,
        column: str,
        row: object,
        value: object,
        reason: str,
        source: str = "<table>",
        line_no: int | None = None,
    ) -> None:
        self.column = column
        self.row = row
        self.value = value
        self.reason = reason
        self.line_no = line_no
        where = f"row {row}" + ("" if line_no is None else f" (line {line_no})")
        super().__init__(
            f"{where}, column {column!r}: {reason} (got {value!r})", source=source
        )


class AgreementError(SkyPactError):
    """An agreement cannot be used."""


class AgreementInvalidError(AgreementError, ValueError):
    """An agreement file breaks the schema.

    Attributes:
        source: the file.
        key: the dotted key path of the offending value (``parties[1].bloc``), or ``""``.
        line: the 1-based line where that key is written, if known.
    """

    def __init__(
        self, message: str, *, source: str, key: str, line: int | None
    ) -> None:
        self.source = source
        self.key = key
        self.line = line
        where = ", ".join(
            part for part in (key and f"key {key}", line and f"line {line}") if part
        )
        super().__init__(f"{source}: {where + ': ' if where else ''}{message}")


class SignatureError(AgreementError):
    """A signature file or a key is unusable (not a signature's *verdict*: see verify)."""


class AlertStateError(SkyPactError):
    """An alert cannot do what was asked."""


class IllegalTransitionError(AlertStateError):
    """An alert was asked for a transition its state does not allow.

    Attributes:
        alert_id: the alert.
        state: its state.
        event: the transition asked for.
    """

    def __init__(self, alert_id: str, state: str, event: str, detail: str = "") -> None:
        self.alert_id = alert_id
        self.state = state
        self.event = event
        extra = f": {detail}" if detail else ""
        super().__init__(f"alert {alert_id} is {state}; cannot {event}{extra}")


class MessageStateError(SkyPactError):
    """A deconfliction-line message or channel was asked for what its state forbids.

    Attributes:
        message_id: the message (or channel) concerned.
        state: its state.
        action: what was asked.
    """

    def __init__(
        self, message_id: str, state: str, action: str, detail: str = ""
    ) -> None:
        self.message_id = message_id
        self.state = state
        self.action = action
        extra = f": {detail}" if detail else ""
        super().__init__(f"{message_id} is {state}; cannot {action}{extra}")


class AuthenticationError(SkyPactError):
    """No valid credential: a token that is missing, unknown, expired, revoked or forged.

    The message never repeats the credential.

    Attributes:
        reason: why it was refused (``"missing"``, ``"malformed"``, ``"unknown"``,
            ``"expired"``, ``"revoked"``).
    """

    def __init__(self, reason: str) -> None:
        self.reason = reason
        super().__init__(f"not authenticated: {reason} token")


class AccessDeniedError(SkyPactError):
    """A known party or role may not do what it asked.

    Attributes:
        party_id: who asked.
        action: what it asked to do.
        resource: on what.
    """

    def __init__(
        self, party_id: str, action: str, resource: str, detail: str = ""
    ) -> None:
        self.party_id = party_id
        self.action = action
        self.resource = resource
        extra = f": {detail}" if detail else ""
        super().__init__(f"{party_id} may not {action} {resource}{extra}")


class StorageError(SkyPactError):
    """The database cannot do what was asked."""


class NotFoundError(StorageError):
    """No such record (or none that the asker may know of).

    Attributes:
        kind: the record's kind (``"alert"``, ``"message"``).
        key: its key.
    """

    def __init__(self, kind: str, key: object) -> None:
        self.kind = kind
        self.key = key
        super().__init__(f"no {kind} {key}")


class ConflictingWriteError(StorageError):
    """A write contradicts one already stored (a replayed batch, a duplicate key)."""


class MigrationError(StorageError):
    """The database schema cannot be brought up to date."""


class AuditError(SkyPactError):
    """The audit chain cannot be used."""


class AuditIntegrityError(AuditError):
    """The audit chain does not verify.

    Attributes:
        seq: the first record that is wrong (or where one is missing).
        problem: ``"changed"``, ``"deleted"``, ``"inserted"``, ``"reordered"`` or
            ``"bad signature"``.
    """

    def __init__(self, seq: int, problem: str, detail: str = "") -> None:
        self.seq = seq
        self.problem = problem
        extra = f": {detail}" if detail else ""
        super().__init__(f"audit record {seq}: {problem}{extra}")
