"""``create_app(runtime)``: the FastAPI application, and the cycle that drives it.

The app is built from an opened :class:`~skypact.runtime.Runtime` (no import-time app
or settings). Its lifespan runs the detection cycle every ``cycle_s`` in a worker
thread, so requests are served while a cycle computes.
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


async def _cycles(opened: Runtime, period_s: float) -> None:
    service = opened.service
    loop = asyncio.get_running_loop()
    next_s = loop.time()
    while True:
        next_s += period_s
        try:
            await run_in_threadpool(service.cycle)
        except Exception:  # an entrypoint's loop: log and carry on with the next cycle
            _log.exception("detection cycle failed")
        await asyncio.sleep(max(0.0, next_s - loop.time()))
        if loop.time() - next_s > period_s:  # fell behind: do not try to catch up
            next_s = loop.time()


def create_app(opened: Runtime, *, run_cycles: bool = True) -> FastAPI:
    """The application over an opened runtime.

    Args:
        run_cycles: run the detection cycle in the background (tests that drive
            :meth:`~skypact.service.Service.cycle` themselves turn it off).
    """

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        task = None
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
        if run_cycles:
            task = asyncio.create_task(_cycles(opened, settings.cycle_s))
        try:
            yield
        finally:
            if task is not None:
                task.cancel()
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
