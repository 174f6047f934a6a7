"""``GET /api/v1/audit/verify``: the auditor checks the chain."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from skypact.api.deps import CurrentPrincipal, RuntimeDep
from skypact.api.schemas import ChainReportOut, ProblemOut
from skypact.parties.access import require
from skypact.parties.model import Action

router = APIRouter(tags=["audit"])


@router.get(
    "/audit/verify",
    response_model=ChainReportOut,
    responses={401: {"model": ProblemOut}, 403: {"model": ProblemOut}},
)
async def verify_audit(
    principal: CurrentPrincipal, opened: RuntimeDep
) -> ChainReportOut:
    """Re-check every record's hash, link and signature; name the first broken one."""
    require(principal, Action.VERIFY_AUDIT, "the audit chain")
    report = await run_in_threadpool(opened.repository.verify_audit)
    head = report.head
    return ChainReportOut(
        ok=report.ok,
        records=report.records,
        seq=report.seq,
        problem=report.problem,
        detail=report.detail,
        head_seq=None if head is None else head[0],
        head_hash=None if head is None else head[1],
        public_key=opened.signer.public_key,
    )
