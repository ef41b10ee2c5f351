"""The embedded HTTP server: metrics, health, JSON status, frames and the console, on one aiohttp site.

`HttpServer` is an async context manager: entering binds the socket (a port in use fails here, in one line),
leaving closes it. Every request carries the bearer token when one is configured (header, or `?token=` for a
browser's page and images); without it: 401.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import logging
from collections.abc import Awaitable, Callable
from types import TracebackType
from typing import TYPE_CHECKING

from aiohttp import web

from edge_runtime.http._console import add_console_routes
from edge_runtime.http._frames import FrameEncoder
from edge_runtime.http._health import Health
from edge_runtime.http._metrics import CONTENT_TYPE, Metrics

if TYPE_CHECKING:
    from edge_runtime.http._config import HttpConfig
    from edge_runtime.http._view import RuntimeView

log = logging.getLogger(__name__)
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]
MJPEG_BOUNDARY = "frame"
HEALTH_EVERY_S = 1.0


class HttpServer:
    def __init__(self, config: HttpConfig, view: RuntimeView) -> None:
        self.config = config
        self.view = view
        self.metrics = Metrics(view)
        self.health = Health(view, config.link_down_s)
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
        self._runner: web.AppRunner | None = None
        self._sampler: asyncio.Task[None] | None = None

    async def __aenter__(self) -> HttpServer:
        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False, shutdown_timeout=1.0)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.config.host, self.config.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise OSError(f"http.listen {self.config.listen}: {exc.strerror or exc}") from None
        self._sampler = asyncio.create_task(self._sample(), name="http:health")
        log.info("console and metrics at %s", self.url)
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        if self._sampler is not None:
            self._sampler.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sampler
        if self._runner is not None:
            await self._runner.cleanup()
        self.frames.close()

    async def run(self) -> None:
        """Serve until cancelled (a background part of the runtime). A port already taken is one error line:
        the streams keep running without the console."""
        try:
            await self.__aenter__()
        except OSError as exc:
            log.error("%s: console and metrics are off", exc)
            return
        try:
            await asyncio.get_running_loop().create_future()
        finally:
            await self.__aexit__(None, None, None)

    @property
    def url(self) -> str:
        host = self.config.host
        shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
        return f"http://{shown}:{self.config.port}/"

    async def _sample(self) -> None:
        while True:
            self.health.sample()
            await asyncio.sleep(HEALTH_EVERY_S)

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
