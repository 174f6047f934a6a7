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
from collections.abc import AsyncIterator, Iterator

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


async def _schedule(opened: Runtime, period_s: float, min_gap_s: float) -> None:
    """Run the detection cycle when reports arrive and at least every ``period_s``,
    and the picture updates every ``picture_s``, one at a time in the thread pool.

    A batch of reports wakes the loop (:meth:`~skypact.service.Service.on_reports`), so
    a report does not wait for the next period to be judged; cycles are at least
    ``min_gap_s`` apart, and batches that arrive during a cycle are judged together by
    the next one. A picture update goes in short steps
    (:meth:`~skypact.service.Service.picture_steps`), and a cycle that is wanted runs
    between two of them: drawing ten thousand aircraft's pictures takes a good part of
    a second, and an alert must not wait for it (nor share the interpreter with it).
    """
    service = opened.service
    loop = asyncio.get_running_loop()
    wake = asyncio.Event()

    def arrived() -> None:  # called from the submitting thread
        with contextlib.suppress(RuntimeError):  # the loop has closed: so have we
            loop.call_soon_threadsafe(wake.set)

    def next_step(steps: Iterator[None]) -> bool:
        return next(steps, _DONE) is not _DONE

    service.on_reports(arrived)
    steps: Iterator[None] | None = None
    try:
        last_s = loop.time() - min_gap_s
        while True:
            cycle_in_s = last_s + period_s - loop.time()
            if wake.is_set():
                cycle_in_s = min(cycle_in_s, last_s + min_gap_s - loop.time())
            if steps is None:
                due_s = service.picture_due_s()
                picture_in_s = 0.0 if due_s is None else due_s - service.clock()
                idle_s = max(0.0, min(cycle_in_s, picture_in_s))
                if idle_s > 0 and not wake.is_set():
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(wake.wait(), timeout=idle_s)
                    continue
            if cycle_in_s <= 0 or (wake.is_set() and steps is None):
                await asyncio.sleep(max(0.0, last_s + min_gap_s - loop.time()))
                wake.clear()
                last_s = loop.time()
                try:
                    await run_in_threadpool(service.cycle, pictures=False)
                except Exception:  # an entrypoint's loop: log and go on
                    _log.exception("detection cycle failed")
                continue
            try:
                if steps is None:
                    steps = service.picture_steps()
                if steps is not None and not await run_in_threadpool(next_step, steps):
                    steps = None
            except Exception:  # an entrypoint's loop: log and go on
                _log.exception("picture update failed")
                steps = None
    finally:
        service.on_reports(None)


_DONE = object()


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
                    _schedule(opened, settings.cycle_s, settings.min_cycle_s)
                )
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
