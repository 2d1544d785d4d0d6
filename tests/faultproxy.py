"""A TCP proxy on loopback that can freeze: the fault injector for "the database stopped answering".

It runs its own event loop in a thread, so it keeps working while the code under test blocks its
own loop (which is exactly the bug such tests look for). While frozen it forwards nothing in
either direction and accepts new connections without ever connecting them upstream: a server
that is up at the TCP level and never answers (a stopped process, a dead network path).
`thaw()` delivers what was held back and connects the waiting clients.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Iterator
from urllib.parse import urlsplit, urlunsplit


class FaultProxy:
    def __init__(self, target_host: str, target_port: int) -> None:
        self.target = (target_host, target_port)
        self.port = 0
        self.connections = 0
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fault-proxy", daemon=True)
        self._open = asyncio.Event()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()  # the connections being served

    def via(self, url: str) -> str:
        """``url`` (a postgresql:// URL) with its port replaced, to go through this proxy."""
        parts = urlsplit(url)
        return urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit(':', 1)[0]}:{self.port}"))

    # -- control, from the test's thread -----------------------------------------------------------
    def start(self) -> FaultProxy:
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    def freeze(self) -> None:
        self._loop.call_soon_threadsafe(self._open.clear)

    def thaw(self) -> None:
        self._loop.call_soon_threadsafe(self._open.set)

    def close(self) -> None:
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
        self._loop.close()

    @contextlib.contextmanager
    def frozen(self) -> Iterator[None]:
        self.freeze()
        try:
            yield
        finally:
            self.thaw()

    # -- the proxy, on its own loop ----------------------------------------------------------------
    async def _start(self) -> None:
        self._open.set()
        self._server = await asyncio.start_server(self._serve, "127.0.0.1", 0)
        self.port = int(self._server.sockets[0].getsockname()[1])

    async def _stop(self) -> None:
        if self._server is not None:
            self._server.close()
        for writer in list(self._writers):
            writer.close()
        # a connection still waiting (frozen, or connecting upstream) ends here, on its own loop,
        # not when it is collected after the loop has closed ("Event loop is closed")
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def _serve(self, client_r: asyncio.StreamReader, client_w: asyncio.StreamWriter) -> None:
        self.connections += 1
        self._writers.add(client_w)
        task = asyncio.current_task()
        if task is not None:
            self._tasks.add(task)
        try:
            await self._open.wait()  # frozen: accepted, never connected upstream
            server_r, server_w = await asyncio.open_connection(*self.target)
            self._writers.add(server_w)
            await asyncio.gather(self._pump(client_r, server_w), self._pump(server_r, client_w))
        except OSError:
            pass
        finally:
            client_w.close()
            if task is not None:
                self._tasks.discard(task)

    async def _pump(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while data := await reader.read(65536):
                await self._open.wait()  # frozen: hold it back
                writer.write(data)
                await writer.drain()
        except OSError:
            pass
        finally:
            writer.close()
