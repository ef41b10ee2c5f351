"""The embedded HTTP server: Prometheus `/metrics`, `/healthz`, `/readyz`, `/api/status`, frames, the console.

This package's top level stays light (the config imports it): the server and its libraries (aiohttp,
prometheus-client) are imported by `serve`, in a thread, so the streams start without waiting for them.
"""

from __future__ import annotations

import asyncio
import importlib
from typing import TYPE_CHECKING

from edge_runtime.http._config import HttpConfig

if TYPE_CHECKING:
    from edge_runtime.http._view import RuntimeView

__all__ = ["HttpConfig", "serve"]


async def serve(config: HttpConfig, view: RuntimeView) -> None:
    """Serve until cancelled (a background part of the runtime)."""
    server = await asyncio.to_thread(importlib.import_module, "edge_runtime.http._server")
    await server.HttpServer(config, view).run()
