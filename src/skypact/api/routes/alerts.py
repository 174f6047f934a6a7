"""``GET /api/v1/alerts`` and ``POST /api/v1/alerts/{alert_id}/ack``."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool

from skypact.api.deps import CurrentPrincipal, ServiceDep
from skypact.api.schemas import AlertOut, ProblemOut
from skypact.service import alert_view

router = APIRouter(tags=["alerts"])


@router.get(
    "/alerts",
    response_model=list[AlertOut],
    responses={401: {"model": ProblemOut}, 403: {"model": ProblemOut}},
)
async def get_alerts(
    principal: CurrentPrincipal, service: ServiceDep
) -> list[AlertOut]:
    """The active alerts involving one of this party's aircraft."""
    alerts = await run_in_threadpool(service.alerts, principal)
    return [
        AlertOut.model_validate(alert_view(a, service.advice_of(a.alert_id)))
        for a in alerts
    ]


@router.post(
    "/alerts/{alert_id}/ack",
    response_model=AlertOut,
    responses={
        401: {"model": ProblemOut},
        403: {"model": ProblemOut},
        404: {"model": ProblemOut},
        409: {"model": ProblemOut},
    },
)
async def acknowledge_alert(
    alert_id: Annotated[str, Path(max_length=64)],
    principal: CurrentPrincipal,
    service: ServiceDep,
) -> AlertOut:
    """Acknowledge an active alert at its current level (committed before the answer)."""
    alert = await run_in_threadpool(service.acknowledge_alert, principal, alert_id)
    return AlertOut.model_validate(alert_view(alert, service.advice_of(alert.alert_id)))
