"""Start the embedded HTTP server. Its libraries (aiohttp, prometheus-client) are imported here, in a thread, so
the streams start without waiting for them, and so `edge_runtime.http` (which the config imports) stays light."""

from __future__ import annotations

import asyncio
import importlib

from edge_runtime.http._config import HttpConfig
from edge_runtime.http._view import RuntimeView


async def serve(config: HttpConfig, view: RuntimeView) -> None:
    """Serve until cancelled (a background part of the runtime)."""
    server = await asyncio.to_thread(importlib.import_module, "edge_runtime.http._server")
    await server.HttpServer(config, view).run()
