"""The server's listening sockets: bound when the runtime starts, served once a first client is waiting.

Binding here (as asyncio's `create_server` would: every address the host resolves to, `SO_REUSEADDR`, IPv6
sockets v6-only) keeps a port in use an error at start; waiting for the first client lets the runtime leave
aiohttp and prometheus-client unimported (about 11 MiB on a device) while nobody asks for a page, a metric or a
health check. That client waits in the listen backlog while they load, then aiohttp accepts it.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from typing import Any

BACKLOG = 128  # aiohttp's default for its sites


async def listen(host: str, port: int) -> list[socket.socket]:
    """Listening, non-blocking sockets on `host:port`; an OSError (one line) when an address cannot be bound."""
    sockets: list[socket.socket] = []
    try:
        for family, address in _numeric(host, port) or await _resolved(host, port):
            sock = socket.socket(family, socket.SOCK_STREAM)
            sockets.append(sock)
            _bind(sock, address)
    except BaseException:
        close(sockets)
        raise
    return sockets


def _numeric(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    """An IP address needs no resolver (nor the idna codec it loads)."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return []
    return [(socket.AF_INET6, (host, port, 0, 0)) if ip.version == 6 else (socket.AF_INET, (host, port))]


async def _resolved(host: str, port: int) -> list[tuple[int, tuple[Any, ...]]]:
    infos = await asyncio.get_running_loop().getaddrinfo(
        host, port, family=socket.AF_UNSPEC, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE
    )
    return list(dict.fromkeys((family, address) for family, _, _, _, address in infos))  # each once, in order


def _bind(sock: socket.socket, address: tuple[Any, ...]) -> None:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    if sock.family == socket.AF_INET6:
        sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
    try:
        sock.bind(address)
    except OSError as exc:
        reason = (exc.strerror or str(exc)).lower()
        raise OSError(exc.errno, f"error while attempting to bind on address {address[:2]!r}: {reason}") from None
    sock.listen(BACKLOG)
    sock.setblocking(False)


async def first_client(sockets: list[socket.socket]) -> None:
    """Return once a client is waiting to be accepted on one of `sockets` (it is left in the backlog)."""
    loop = asyncio.get_running_loop()
    waiting: asyncio.Future[None] = loop.create_future()

    def wake() -> None:
        if not waiting.done():
            waiting.set_result(None)

    for sock in sockets:
        loop.add_reader(sock.fileno(), wake)
    try:
        await waiting
    finally:
        for sock in sockets:
            loop.remove_reader(sock.fileno())


def close(sockets: list[socket.socket]) -> None:
    for sock in sockets:
        sock.close()
