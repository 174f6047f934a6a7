"""``GET /api/v1/export/{reports,tracks}.csv``: a party's own records, for analysts.

An export carries only what the party itself reported (every report, accepted or not,
with the reason) and its own track history: another party's data is never exported.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Query
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse

from skypact.api.deps import CurrentPrincipal, RuntimeDep
from skypact.api.schemas import ProblemOut
from skypact.parties.access import require
from skypact.parties.model import Action

router = APIRouter(tags=["export"])

_CSV: dict[int | str, dict[str, Any]] = {
    200: {"content": {"text/csv": {}}, "description": "CSV with a header row"},
    401: {"model": ProblemOut},
    403: {"model": ProblemOut},
}


@router.get("/export/reports.csv", response_class=PlainTextResponse, responses=_CSV)
async def export_reports(
    principal: CurrentPrincipal,
    opened: RuntimeDep,
    since_s: Annotated[float | None, Query(description="epoch seconds")] = None,
) -> PlainTextResponse:
    """This party's stored reports (all of them, with the reason of each rejection)."""
    require(principal, Action.EXPORT, "reports")
    frame = await run_in_threadpool(opened.repository.reports, principal.party, since_s)
    return PlainTextResponse(frame.to_csv(index=False), media_type="text/csv")


@router.get("/export/tracks.csv", response_class=PlainTextResponse, responses=_CSV)
async def export_tracks(
    principal: CurrentPrincipal, opened: RuntimeDep
) -> PlainTextResponse:
    """This party's track history (one row per updated state)."""
    require(principal, Action.EXPORT, "tracks")
    frame = await run_in_threadpool(opened.repository.track_history, principal.party)
    return PlainTextResponse(frame.to_csv(index=False), media_type="text/csv")
