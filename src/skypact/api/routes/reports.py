"""``POST /api/v1/reports``: a party's own reports in; counts back once committed."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Header
from fastapi.concurrency import run_in_threadpool

from skypact.api.deps import CurrentPrincipal, ServiceDep
from skypact.api.schemas import BatchReceiptOut, ProblemOut, ReportIn

router = APIRouter(tags=["reports"])


@router.post(
    "/reports",
    response_model=BatchReceiptOut,
    responses={
        401: {"model": ProblemOut},
        403: {"model": ProblemOut, "description": "another party's aircraft"},
        409: {"model": ProblemOut, "description": "a batch posted before"},
        422: {"model": ProblemOut},
    },
)
async def post_reports(
    reports: list[ReportIn],
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
    records = [r.model_dump(mode="json", exclude_none=True) for r in reports]
    receipt = await run_in_threadpool(
        service.submit_reports, principal, records, client_batch_id=batch_id
    )
    return BatchReceiptOut(
        batch_id=receipt.batch_id,
        rows=receipt.rows,
        accepted=receipt.accepted,
        rejected=dict(receipt.rejected),
    )
