"""Domain errors -> HTTP status and a problem-JSON body (RFC 9457), in one place.

Messages are the errors' own, which never carry another party's data: a missing alert
of another party is reported exactly as one that does not exist.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from skypact.errors import (
    AccessDeniedError,
    AgreementError,
    AlertStateError,
    AuditError,
    AuthenticationError,
    ConfigError,
    ConflictingWriteError,
    IngestError,
    MessageStateError,
    NotFoundError,
    SkyPactError,
    StorageError,
)

__all__ = ["STATUS", "install", "problem"]

STATUS: tuple[tuple[type[SkyPactError], int, str], ...] = (
    (AuthenticationError, 401, "not authenticated"),
    (AccessDeniedError, 403, "access denied"),
    (NotFoundError, 404, "not found"),
    (ConflictingWriteError, 409, "conflicting write"),
    (AlertStateError, 409, "illegal transition"),
    (MessageStateError, 409, "illegal transition"),
    (IngestError, 422, "invalid input"),
    (ConfigError, 422, "invalid parameter"),
    (AgreementError, 422, "agreement unusable"),
    (AuditError, 500, "audit chain broken"),
    (StorageError, 503, "storage unavailable"),
)
"""(error class, HTTP status, title), most specific first."""


def problem(status: int, title: str, detail: str) -> JSONResponse:
    """A problem-JSON response."""
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(
        {"type": "about:blank", "title": title, "status": status, "detail": detail},
        status_code=status,
        media_type="application/problem+json",
        headers=headers,
    )


def _handle(request: Request, exc: Exception) -> JSONResponse:
    for kind, status, title in STATUS:
        if isinstance(exc, kind):
            return problem(status, title, str(exc))
    return problem(500, "internal error", "the server failed; see its log")


def install(app: FastAPI) -> None:
    """Register the translation of every SkyPact error."""
    app.add_exception_handler(SkyPactError, _handle)
