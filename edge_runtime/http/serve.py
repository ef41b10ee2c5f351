"""The embedded HTTP server as one of the runtime's services. Its libraries (aiohttp, prometheus-client) are
imported in a thread once the runtime runs, so the streams start without waiting for them, and so
`edge_runtime.http` (which the config imports) stays light."""

from __future__ import annotations

import asyncio
import importlib
import logging
from types import TracebackType

from edge_runtime.http._config import HttpConfig
from edge_runtime.http._view import RuntimeView

log = logging.getLogger("edge_runtime.http")


class HttpService:
    """Entered in the runtime's exit stack (after the accelerator and the link, so it is left first): entering
    starts the server in a task (import, bind, serve) and returns at once; leaving stops it (the site and the JPEG
    thread closed). A port already taken is one error line and the streams run without the console."""

    def __init__(self, config: HttpConfig, view: RuntimeView) -> None:
        self.config = config
        self.view = view
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
        server = await asyncio.to_thread(importlib.import_module, "edge_runtime.http._server")
        await server.HttpServer(self.config, self.view).run()
