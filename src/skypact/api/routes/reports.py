"""``POST /api/v1/reports``: a party's own reports in; counts back once committed.

The body is parsed and validated in one pass by pydantic-core straight from the request
bytes (a :class:`~pydantic.TypeAdapter` over ``list[ReportIn]``), not decoded to Python
objects first and validated after: a party posts thousands of reports a second. The
OpenAPI document describes the same body, and a malformed one gets the same 422 answer
(``detail``: the errors, located in ``body``).
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.exceptions import RequestValidationError
from pydantic import TypeAdapter, ValidationError

from skypact.api.deps import CurrentPrincipal, ServiceDep
from skypact.api.schemas import BatchReceiptOut, ProblemOut, ReportIn

router = APIRouter(tags=["reports"])

_REPORTS: TypeAdapter[list[ReportIn]] = TypeAdapter(list[ReportIn])

_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "type": "array",
                    "title": "Reports",
                    "items": ReportIn.model_json_schema(),
                }
            }
        },
    }
}
"""The body as FastAPI would have described ``reports: list[ReportIn]``."""


@router.post(
    "/reports",
    response_model=BatchReceiptOut,
    responses={
        401: {"model": ProblemOut},
        403: {"model": ProblemOut, "description": "another party's aircraft"},
        409: {"model": ProblemOut, "description": "a batch posted before"},
        422: {"model": ProblemOut},
    },
    openapi_extra=_BODY,
)
async def post_reports(
    request: Request,
    principal: CurrentPrincipal,
    service: ServiceDep,
    batch_id: Annotated[
        str | None,
        Header(
            alias="X-Batch-Id",
            max_length=128,
            description="the client's batch identifier (a batch is taken once)",
        ),
    ] = None,
) -> BatchReceiptOut:
    """Validate, store and ingest a batch of the token's party's reports.

    The answer comes after the batch is committed; impossible values are counted per
    reason in ``rejected``, never silently dropped.
    """
    body = await request.body()
    try:
        reports = _REPORTS.validate_json(body)
    except ValidationError as exc:
        errors = [_located(e) for e in exc.errors(include_url=False)]
        raise RequestValidationError(errors) from None
    records: list[dict[str, Any]] = _REPORTS.dump_python(
        reports, mode="json", exclude_none=True
    )
    receipt = await run_in_threadpool(
        service.submit_reports, principal, records, client_batch_id=batch_id
    )
    return BatchReceiptOut(
        batch_id=receipt.batch_id,
        rows=receipt.rows,
        accepted=receipt.accepted,
        rejected=dict(receipt.rejected),
    )


def _located(error: Any) -> dict[str, Any]:
    """A pydantic error as FastAPI reports a body's: located in ``body``, and its input
    shown as text (a body that is not JSON, or not UTF-8, is given back as bytes)."""
    out = {**error, "loc": ("body", *error["loc"])}
    if isinstance(out.get("input"), bytes):
        out["input"] = out["input"].decode("utf-8", errors="replace")
    return out
