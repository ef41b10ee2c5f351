"""The embedded HTTP server as one of the runtime's services. Its port is bound when the runtime starts; its
libraries (aiohttp, prometheus-client) are imported in a thread once the first client connects (`_listen`), so
the streams start without waiting for them, a runtime nobody looks at never loads them, and `edge_runtime.http`
(which the config imports) stays light. The health samples run from the start all the same."""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import logging
from types import TracebackType

from edge_runtime.http._config import HttpConfig
from edge_runtime.http._health import Health
from edge_runtime.http._listen import close, first_client, listen
from edge_runtime.http._view import RuntimeView

log = logging.getLogger("edge_runtime.http")
HEALTH_EVERY_S = 1.0


class HttpService:
    """Entered in the runtime's exit stack (after the accelerator and the link, so it is left first): entering
    starts the server in a task (bind, wait for a client, import, serve) and returns at once; leaving stops it
    (the sockets and the JPEG thread closed). A port already taken is one error line and the streams run without
    the console."""

    def __init__(self, config: HttpConfig, view: RuntimeView) -> None:
        self.config = config
        self.view = view
        self.health = Health(view, config.link_down_s)
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> HttpService:
        self._task = asyncio.create_task(self._serve(), name="http")
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._task is None:
            return
        self._task.cancel()
        await asyncio.gather(self._task, return_exceptions=True)
        if not self._task.cancelled() and (failure := self._task.exception()) is not None:
            log.error("http server stopped: %s: %s", type(failure).__name__, failure)

    async def _serve(self) -> None:
        try:
            sockets = await listen(self.config.host, self.config.port)
        except OSError as exc:
            log.error("http.listen %s: %s: console and metrics are off", self.config.listen, exc.strerror or exc)
            return
        log.info("console and metrics at %s", self.config.url)
        sampler = asyncio.create_task(self._sample(), name="http:health")
        try:
            await first_client(sockets)
            server = await asyncio.to_thread(importlib.import_module, "edge_runtime.http._server")
            await server.HttpServer(self.config, self.view, self.health).serve(sockets)
        finally:
            sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await sampler
            close(sockets)

    async def _sample(self) -> None:
        while True:
            self.health.sample()
            await asyncio.sleep(HEALTH_EVERY_S)
