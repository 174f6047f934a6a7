"""``WS /api/v1/live``: picture updates, alerts, messages and acknowledgements.

Authentication: an ``Authorization: Bearer`` header on the upgrade request, or (for
browsers, which cannot set it) a first message ``{"type": "auth", "token": "..."}``
within :data:`AUTH_TIMEOUT_S`. The server then says ``{"type": "hello", "party", "role"}``
and sends only this party's updates: ``picture`` every picture period (``picture_s``),
``alert`` on every change of an alert (``update``: ``transition``, then ``advice``
when its coordinated manoeuvre advice is worked out, or ``acknowledgement``; with
``at_s``, the cycle's time, and ``data_at_s``, the newest position of the party's own
aircraft in it that the cycle judged; the alert's ``advisories``), ``message``
on the deconfliction line, ``channel`` when a channel is suspended or restored. Each
update is encoded once per party and sent as it is to every client of that party;
alerts and the line's messages go before any picture still waiting to be sent. A
client that falls :data:`QUEUE_SIZE` updates behind is disconnected (code 1013, try
again later) rather than slowing the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import json

from fastapi import APIRouter, WebSocket, WebSocketDisconnect

from skypact.api.deps import authenticate, runtime
from skypact.errors import AccessDeniedError, AuthenticationError
from skypact.parties.access import require
from skypact.parties.model import Action, Principal
from skypact.service import FeedMessage

router = APIRouter(tags=["live"])

AUTH_TIMEOUT_S = 10.0
QUEUE_SIZE = 256
_OVERFLOW = FeedMessage(kind="overflow", text='{"type": "overflow"}')


@router.websocket("/live")
async def live(websocket: WebSocket) -> None:
    """The party's live feed (see the module docstring)."""
    opened = runtime(websocket)
    await websocket.accept()
    try:
        principal = await _authenticate(websocket)
    except (AuthenticationError, AccessDeniedError) as exc:
        await websocket.send_json({"type": "error", "detail": str(exc)})
        await websocket.close(code=1008)
        return
    except (WebSocketDisconnect, TimeoutError, ValueError):
        with contextlib.suppress(RuntimeError):
            await websocket.close(code=1008)
        return
    loop = asyncio.get_running_loop()
    # (rank, arrival, message): alerts and line traffic before pictures still waiting,
    # each kind in its order of arrival; a client too slow is told so at once
    queue: asyncio.PriorityQueue[tuple[int, int, FeedMessage]] = asyncio.PriorityQueue(
        maxsize=QUEUE_SIZE
    )
    arrivals = itertools.count()

    def put(message: FeedMessage) -> None:
        rank = 1 if message.kind == "picture" else 0
        if queue.full():
            with contextlib.suppress(asyncio.QueueEmpty):
                queue.get_nowait()
            message, rank = _OVERFLOW, -1
        queue.put_nowait((rank, next(arrivals), message))

    def deliver(message: FeedMessage) -> None:
        loop.call_soon_threadsafe(put, message)

    handle = opened.service.subscribe(principal.party, deliver)
    try:
        await websocket.send_json(
            {"type": "hello", "party": principal.party, "role": principal.role.value}
        )
        receiver = asyncio.create_task(_drain(websocket))
        while not receiver.done():
            getter = asyncio.create_task(queue.get())
            done, _ = await asyncio.wait(
                {getter, receiver}, return_when=asyncio.FIRST_COMPLETED
            )
            if getter not in done:
                getter.cancel()
                break
            message = getter.result()[2]
            if message is _OVERFLOW:
                await websocket.close(code=1013, reason="client too slow")
                break
            await websocket.send_text(message.text)
        receiver.cancel()
    except WebSocketDisconnect:
        pass
    finally:
        opened.service.unsubscribe(handle)


async def _authenticate(websocket: WebSocket) -> Principal:
    opened = runtime(websocket)
    header = websocket.headers.get("authorization")
    if header is None:
        first = await asyncio.wait_for(websocket.receive_text(), AUTH_TIMEOUT_S)
        data = json.loads(first)
        if not isinstance(data, dict) or data.get("type") != "auth":
            raise AuthenticationError("missing")
        header = f"Bearer {data.get('token', '')}"
    principal = authenticate(opened, header, "/api/v1/live")
    require(principal, Action.READ_PICTURE, "the live feed")
    return principal


async def _drain(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
