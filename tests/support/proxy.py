"""A pausable TCP proxy on loopback, for link-cut tests: `blackhole()` stops every byte both ways while keeping
the sockets open (like a dead route: nothing is refused, nothing arrives), `restore()` lets the held bytes go on,
`drop()` closes every connection (like a reset). Runs its own event loop in a thread, so synchronous tests and
tests with their own loop can both use it. Nothing is lost or reordered inside the proxy."""

from __future__ import annotations

import asyncio
import threading

from tests.support.ports import free_port

CHUNK = 65536


class TcpProxy:
    def __init__(self, target_port: int, host: str = "127.0.0.1") -> None:
        self.host = host
        self.target_port = target_port
        self.port = free_port()
        self.accepted = 0
        self._loop = asyncio.new_event_loop()
        self._flowing = asyncio.Event()
        self._writers: set[asyncio.StreamWriter] = set()
        self._server: asyncio.Server | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, name=f"proxy-{self.port}", daemon=True)

    def start(self) -> TcpProxy:
        self._thread.start()
        self._call(self._open())
        return self

    def stop(self) -> None:
        self._call(self._close())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5)
        self._loop.close()

    def blackhole(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.clear)

    def restore(self) -> None:
        self._loop.call_soon_threadsafe(self._flowing.set)

    def drop(self) -> None:
        self._call(self._drop_all())

    def _call(self, coro: object) -> None:
        asyncio.run_coroutine_threadsafe(coro, self._loop).result(timeout=10)  # type: ignore[arg-type]

    async def _open(self) -> None:
        self._flowing.set()
        self._server = await asyncio.start_server(self._client, self.host, self.port)

    async def _close(self) -> None:
        if self._server is not None:
            self._server.close()
        await self._drop_all()

    async def _drop_all(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        self._writers.add(writer)
        await self._flowing.wait()  # a blackholed route: the connection attempt gets no answer
        try:
            up_reader, up_writer = await asyncio.open_connection(self.host, self.target_port)
        except OSError:
            writer.transport.abort()
            self._writers.discard(writer)
            return
        self._writers.add(up_writer)
        try:
            await asyncio.gather(self._pump(reader, up_writer), self._pump(up_reader, writer), return_exceptions=True)
        finally:
            for end in (writer, up_writer):
                end.transport.abort()
                self._writers.discard(end)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        while True:
            await self._flowing.wait()
            data = await reader.read(CHUNK)
            await self._flowing.wait()  # bytes read just before a blackhole are held, not dropped
            if not data:
                break
            writer.write(data)
            await writer.drain()
        writer.transport.abort()
