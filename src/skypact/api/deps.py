"""Dependencies of the routes: the opened runtime and the authenticated principal.

A refused credential is recorded in the audit chain (without the credential itself:
only its public identifier, when it has one) before the 401 goes out.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request, Security
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from starlette.requests import HTTPConnection

from skypact.errors import AuthenticationError
from skypact.parties.model import Principal
from skypact.runtime import Runtime
from skypact.service import Service

__all__ = ["CurrentPrincipal", "RuntimeDep", "ServiceDep", "authenticate", "runtime"]


def runtime(request: HTTPConnection) -> Runtime:
    """The runtime ``create_app`` opened."""
    opened: Runtime = request.app.state.runtime
    return opened


RuntimeDep = Annotated[Runtime, Depends(runtime)]


def _service(request: Request) -> Service:
    return runtime(request).service


ServiceDep = Annotated[Service, Depends(_service)]


def authenticate(opened: Runtime, header: str | None, where: str) -> Principal:
    """The principal a bearer credential names.

    Raises:
        AuthenticationError: missing, malformed, unknown, expired or revoked (audited).
    """
    token = None
    if header is not None:
        scheme, _, value = header.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            token = value.strip()
    try:
        if token is None:
            raise AuthenticationError("missing")
        principal = opened.repository.authenticate(token, opened.service.clock())
    except AuthenticationError as exc:
        token_id = token.split(".", 1)[0][:64] if token and "." in token else None
        opened.repository.append_audit(
            "anonymous",
            "refused",
            {"action": "authenticate", "reason": exc.reason, "where": where,
             "token_id": token_id},
        )  # fmt: skip
        raise
    return principal


_BEARER = HTTPBearer(
    auto_error=False, description="a token from `skypact token create`"
)


def _principal(
    request: Request,
    _credentials: Annotated[HTTPAuthorizationCredentials | None, Security(_BEARER)],
) -> Principal:
    return authenticate(
        runtime(request), request.headers.get("authorization"), request.url.path
    )


CurrentPrincipal = Annotated[Principal, Depends(_principal)]
