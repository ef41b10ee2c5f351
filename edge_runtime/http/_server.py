"""The embedded HTTP server: metrics, health, JSON status, frames and the console, on aiohttp.

`HttpServer.serve` answers on sockets the service bound at start (`edge_runtime.http.serve`), until cancelled.
Every request carries the bearer token when one is configured (header, or `?token=` for a browser's page and
images); without it: 401. The latency histogram counts the results since the server started, that is since its
first client.
"""

from __future__ import annotations

import asyncio
import hmac
import socket
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from aiohttp import web

from edge_runtime.http._console import add_console_routes
from edge_runtime.http._frames import FrameEncoder
from edge_runtime.http._metrics import CONTENT_TYPE, Metrics

if TYPE_CHECKING:
    from edge_runtime.http._config import HttpConfig
    from edge_runtime.http._health import Health
    from edge_runtime.http._view import RuntimeView

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MJPEG_BOUNDARY = "frame"


class HttpServer:
    def __init__(self, config: HttpConfig, view: RuntimeView, health: Health) -> None:
        self.config = config
        self.view = view
        self.metrics = Metrics(view)
        self.health = health
        self.frames = FrameEncoder(config.jpeg_fps, config.jpeg_quality)
        self.app = web.Application(middlewares=[self._auth], client_max_size=64 * 1024)
        self.app.add_routes([
            web.get("/metrics", self._metrics),
            web.get("/healthz", self._healthz),
            web.get("/readyz", self._readyz),
            web.get("/api/status", self._status),
            web.get("/streams/{name}/latest.jpg", self._latest_jpg),
            web.get("/streams/{name}/mjpeg", self._mjpeg),
            web.post("/api/reload", self._reload),
        ])  # fmt: skip
        add_console_routes(self.app)

    async def serve(self, sockets: list[socket.socket]) -> None:
        """Answer on `sockets` (bound and listening) until cancelled; then the sites and the JPEG thread close."""
        runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await runner.setup()
        try:
            for sock in sockets:
                await web.SockSite(runner, sock).start()
            await asyncio.get_running_loop().create_future()
        finally:
            await runner.cleanup()
            self.frames.close()

    @web.middleware
    async def _auth(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        token = self.config.token
        if token is not None:
            given = request.headers.get("Authorization", "").removeprefix("Bearer ").strip()
            given = given or request.query.get("token", "")
            if not hmac.compare_digest(given.encode(), token.encode()):
                return web.Response(status=401, text="401: a bearer token is required\n",
                                    headers={"WWW-Authenticate": "Bearer"})  # fmt: skip
        return await handler(request)

    async def _metrics(self, request: web.Request) -> web.Response:
        del request
        return web.Response(body=self.metrics.render(), headers={"Content-Type": CONTENT_TYPE})

    async def _healthz(self, request: web.Request) -> web.Response:
        del request
        causes = self.health.causes()
        if causes:
            return web.Response(status=503, text="".join(f"{c}\n" for c in causes))
        return web.Response(text="ok\n")

    async def _readyz(self, request: web.Request) -> web.Response:
        del request
        if self.view.ready:
            return web.Response(text="ready\n")
        return web.Response(status=503, text="starting: models loading or streams not started\n")

    async def _status(self, request: web.Request) -> web.Response:
        del request
        status = self.view.status()
        status["http"] = {"jpeg_encodes": self.frames.encodes, "jpeg_fps": self.config.jpeg_fps}
        return web.json_response(status)

    async def _reload(self, request: web.Request) -> web.Response:
        del request
        if self.view.reload is None:
            return web.json_response({"ok": False, "errors": ["this runtime has no config file to reload"]}, status=409)
        errors = await self.view.reload()
        return web.json_response({"ok": not errors, "errors": errors}, status=400 if errors else 200)

    async def _latest_jpg(self, request: web.Request) -> web.Response:
        runner = self.view.runner(request.match_info["name"])
        if runner is None:
            raise web.HTTPNotFound(text="no such stream\n")
        jpeg = await self.frames.latest(runner)
        if jpeg is None:
            raise web.HTTPNotFound(text="no frame yet\n")
        return web.Response(body=jpeg, content_type="image/jpeg", headers={"Cache-Control": "no-store"})

    async def _mjpeg(self, request: web.Request) -> web.StreamResponse:
        runner = self.view.runner(request.match_info["name"])
        if runner is None:
            raise web.HTTPNotFound(text="no such stream\n")
        kind = f"multipart/x-mixed-replace; boundary={MJPEG_BOUNDARY}"
        response = web.StreamResponse(headers={"Content-Type": kind, "Cache-Control": "no-store"})
        await response.prepare(request)
        sent = None
        while True:  # until the client goes away (the write raises) or the server stops
            jpeg = await self.frames.latest(runner)
            if jpeg is not None and jpeg is not sent:
                head = f"--{MJPEG_BOUNDARY}\r\nContent-Type: image/jpeg\r\nContent-Length: {len(jpeg)}\r\n\r\n"
                await response.write(head.encode() + jpeg + b"\r\n")
                sent = jpeg
            await asyncio.sleep(self.frames.min_interval)
