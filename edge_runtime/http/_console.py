"""The live console: one static page, a script and a style sheet shipped in the package (no build step, no
CDN). The page polls /api/status once a second and reloads each tile's frame from /streams/NAME/latest.jpg."""

from __future__ import annotations

from importlib import resources

from aiohttp import web

STATIC = {
    "console.js": "text/javascript",
    "console.css": "text/css",
}


def _read(name: str) -> bytes:
    return resources.files("edge_runtime.http").joinpath("static", name).read_bytes()


def add_console_routes(app: web.Application) -> None:
    files = {name: (_read(name), kind) for name, kind in STATIC.items()}
    page = _read("index.html")

    async def index(request: web.Request) -> web.Response:
        del request
        return web.Response(body=page, content_type="text/html", charset="utf-8")

    async def static(request: web.Request) -> web.Response:
        found = files.get(request.match_info["name"])
        if found is None:
            raise web.HTTPNotFound()
        body, kind = found
        return web.Response(body=body, content_type=kind, charset="utf-8")

    app.add_routes([web.get("/", index), web.get("/static/{name}", static)])
