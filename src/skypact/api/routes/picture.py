"""``GET /api/v1/picture``: the tracks this party may see now."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.concurrency import run_in_threadpool

from skypact.api.deps import CurrentPrincipal, ServiceDep
from skypact.api.schemas import PictureOut, ProblemOut
from skypact.service import picture_message

router = APIRouter(tags=["picture"])


@router.get(
    "/picture",
    response_model=PictureOut,
    response_model_exclude_unset=True,
    responses={401: {"model": ProblemOut}, 403: {"model": ProblemOut}},
)
async def get_picture(principal: CurrentPrincipal, service: ServiceDep) -> PictureOut:
    """All of this party's tracks, and the others' aircraft it needs to know of.

    Another party's aircraft carries only the fields its owner releases: the others
    are absent, not null.
    """
    released = await run_in_threadpool(service.picture, principal)
    message = picture_message(released)
    return PictureOut.model_validate(
        {"at_s": message["at_s"], "own": message["own"], "others": message["others"]}
    )
