"""The deconfliction line: ``/api/v1/messages`` and ``/api/v1/channels``."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, ConfigDict, Field

from skypact.api.deps import CurrentPrincipal, ServiceDep
from skypact.api.schemas import ProblemOut

router = APIRouter(tags=["deconfliction line"])

_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"model": ProblemOut},
    403: {"model": ProblemOut},
    404: {"model": ProblemOut},
    409: {"model": ProblemOut},
    422: {"model": ProblemOut},
}


class MessageIn(BaseModel):
    """A message to send.

    ``kind`` and ``body``:

    - ``free-text``: ``{"text", "language"}``;
    - ``notification`` (planned operations; becomes a shared zone): ``{"area": [[lat,
      lon], ...], "floor_ft", "ceiling_ft", "starts_at_s", "ends_at_s", "description"}``;
    - ``identification-query`` ("whose aircraft is at this position?", answered at
      once): ``{"lat_deg", "lon_deg", "altitude_ft", "observed_at_s", "radius_nm"}``;
    - ``link-test`` (drill): ``{"nonce"}``.
    """

    model_config = ConfigDict(extra="forbid")

    kind: str = Field(max_length=32)
    body: dict[str, Any]
    recipients: list[str] | None = Field(
        default=None, description="parties; default: every party of another side"
    )
    language: str = Field(default="en", description="en or ru")
    in_reply_to: str | None = Field(default=None, max_length=64)


class MessageOut(BaseModel):
    """A message as its parties see it: the original text and its translation."""

    model_config = ConfigDict(extra="allow")

    message_id: str
    kind: str
    sender: str
    recipients: list[str]
    body: dict[str, Any]
    language: str
    text: str
    translation: str | None
    sent_at_s: float
    deadline_s: float | None
    in_reply_to: str | None


class AckOut(BaseModel):
    message_id: str
    state: str


class ChannelOut(BaseModel):
    channel_id: str
    parties: list[str]
    state: str
    since_s: float
    suspended_by: str | None
    reason: str | None


class SuspendIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    reason: str = Field(min_length=1, max_length=500)


@router.get("/messages", response_model=list[MessageOut], responses=_ERRORS)
async def get_messages(
    principal: CurrentPrincipal, service: ServiceDep
) -> list[MessageOut]:
    """Messages sent by or to this party (reading them counts as delivery)."""
    views = await run_in_threadpool(service.messages, principal)
    return [MessageOut.model_validate(v) for v in views]


@router.post("/messages", response_model=MessageOut, responses=_ERRORS)
async def post_message(
    message: MessageIn, principal: CurrentPrincipal, service: ServiceDep
) -> MessageOut:
    """Send a message on the line (stored and audited before the answer)."""
    view = await run_in_threadpool(
        lambda: service.send_message(
            principal,
            message.kind,
            message.body,
            recipients=message.recipients,
            language=message.language,
            in_reply_to=message.in_reply_to,
        )
    )
    return MessageOut.model_validate(view)


@router.post("/messages/{message_id}/ack", response_model=AckOut, responses=_ERRORS)
async def acknowledge_message(
    message_id: Annotated[str, Path(max_length=64)],
    principal: CurrentPrincipal,
    service: ServiceDep,
) -> AckOut:
    """Acknowledge a message this party received (stops its escalation)."""
    result = await run_in_threadpool(service.acknowledge_message, principal, message_id)
    return AckOut.model_validate(result)


@router.get("/channels", response_model=list[ChannelOut], responses=_ERRORS)
async def get_channels(
    principal: CurrentPrincipal, service: ServiceDep
) -> list[ChannelOut]:
    """The line's channels this party is on, and their states."""
    views = await run_in_threadpool(service.channels, principal)
    return [ChannelOut.model_validate(v) for v in views]


@router.post(
    "/channels/{channel_id}/suspend", response_model=ChannelOut, responses=_ERRORS
)
async def suspend_channel(
    channel_id: Annotated[str, Path(max_length=128)],
    request: SuspendIn,
    principal: CurrentPrincipal,
    service: ServiceDep,
) -> ChannelOut:
    """Suspend a channel (commander): messages are recorded, not delivered."""
    view = await run_in_threadpool(
        lambda: service.set_channel(
            principal, channel_id, suspend=True, reason=request.reason
        )
    )
    return ChannelOut.model_validate(view)


@router.post(
    "/channels/{channel_id}/restore", response_model=ChannelOut, responses=_ERRORS
)
async def restore_channel(
    channel_id: Annotated[str, Path(max_length=128)],
    principal: CurrentPrincipal,
    service: ServiceDep,
) -> ChannelOut:
    """Restore a channel this party suspended (commander)."""
    view = await run_in_threadpool(
        lambda: service.set_channel(principal, channel_id, suspend=False)
    )
    return ChannelOut.model_validate(view)
