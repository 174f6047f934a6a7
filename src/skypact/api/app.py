"""``create_app(runtime)``: the FastAPI application, and the cycle that drives it.

The app is built from an opened :class:`~skypact.runtime.Runtime` (no import-time app
or settings). Its lifespan runs the detection cycle in a worker thread, so requests are
served while a cycle computes: as soon as a batch of reports is in (at most every
``min_cycle_s``), and at least every ``cycle_s``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator

from fastapi import FastAPI
from fastapi.concurrency import run_in_threadpool

from skypact import __version__
from skypact.api import errors
from skypact.api.cot import CotServer, serve_cot, ssl_context_for
from skypact.api.routes import (
    alerts,
    audit,
    export,
    live,
    messages,
    picture,
    reports,
)
from skypact.runtime import Runtime

__all__ = ["create_app"]

_log = logging.getLogger(__name__)


async def _cycles(opened: Runtime, period_s: float, min_gap_s: float) -> None:
    """Run the detection cycle when reports arrive, and at least every ``period_s``.

    A batch of reports wakes the loop (:meth:`~skypact.service.Service.on_reports`), so
    a report does not wait for the next period to be judged; cycles are at least
    ``min_gap_s`` apart, and batches that arrive during a cycle are judged together by
    the next one.
    """
    service = opened.service
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def arrived() -> None:  # called from the submitting thread
        with contextlib.suppress(RuntimeError):  # the loop has closed: so have we
            loop.call_soon_threadsafe(wake.set)

    service.on_reports(arrived)
    try:
        last_s = loop.time() - min_gap_s
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(
                    wake.wait(), timeout=max(0.0, last_s + period_s - loop.time())
                )
            wake.clear()
            await asyncio.sleep(max(0.0, last_s + min_gap_s - loop.time()))
            last_s = loop.time()
            try:
                await run_in_threadpool(service.cycle, pictures=False)
            except Exception:  # an entrypoint's loop: log and go on with the next
                _log.exception("detection cycle failed")
    finally:
        service.on_reports(None)


async def _pictures(opened: Runtime) -> None:
    """Publish the pictures every ``picture_s``, beside the cycles: drawing them
    takes a good part of a second at ten thousand aircraft, and a report that
    arrives meanwhile is judged by a cycle at once, not after them."""
    service = opened.service
    while True:
        try:
            due_s = await run_in_threadpool(service.publish_if_due)
        except Exception:  # an entrypoint's loop: log and go on with the next
            _log.exception("picture update failed")
            due_s = service.clock() + opened.settings.picture_s
        await asyncio.sleep(max(0.0, due_s - service.clock()))


def create_app(opened: Runtime, *, run_cycles: bool = True) -> FastAPI:
    """The application over an opened runtime.

    Args:
        run_cycles: run the detection cycle in the background (tests that drive
            :meth:`~skypact.service.Service.cycle` themselves turn it off).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        cot: CotServer | None = None
        settings = opened.settings
        if settings.cot_port is not None:
            context = None
            if settings.tls_cert is not None and settings.tls_key is not None:
                context = ssl_context_for(
                    settings.tls_cert, settings.tls_key, settings.client_ca
                )
            cot = await serve_cot(opened, settings.host, settings.cot_port, context)
            app.state.cot = cot
        tasks = []
        if run_cycles:
            tasks = [
                asyncio.create_task(
                    _cycles(opened, settings.cycle_s, settings.min_cycle_s)
                ),
                asyncio.create_task(_pictures(opened)),
            ]
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            if cot is not None:
                await cot.stop()

    app = FastAPI(
        title="SkyPact",
        version=__version__,
        description="Flight-safety deconfliction between parties that share airspace: "
        "a shared picture on a need-to-know basis, alerts, the deconfliction line and "
        "a tamper-evident record.",
        openapi_url="/api/v1/openapi.json",
        docs_url="/api/v1/docs",
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.runtime = opened
    errors.install(app)
    for module in (reports, picture, alerts, messages, export, audit, live):
        app.include_router(module.router, prefix="/api/v1")
    return app
