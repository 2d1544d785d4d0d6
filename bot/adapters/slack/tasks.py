"""Work started after the ack: tracked, logged when it fails, drained on shutdown and in tests.

`turn()` is how a reply waits before its CPU-heavy step (matching, rendering, sending): replies
take turns, one per pass of the event loop, and only in a pass where no new request began
(`ack_started()`, called for every request that reaches the app): while requests keep arriving,
every CPU slice goes to acking them. Slack gives an ack 3 seconds and an answer minutes, so
under a burst the acks stay fast and the answers queue; a reply that has waited `max_defer`
seconds goes anyway, one per pass, so a flood never starves the answers. Nothing is held across
I/O: a cluster lookup waiting on the API blocks no one.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine
from typing import Any

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

log = logging.getLogger("kubebot.slack")

MAX_DEFER_S = 2.0  # longest a reply waits for a pass of the event loop without a new request


class PostAckTasks:
    """Work started after the ack: tracked (so it is not garbage-collected), logged when it fails,
    and drained on shutdown and in tests."""

    def __init__(self, *, max_defer: float = MAX_DEFER_S) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._turns: deque[tuple[asyncio.Future[None], float]] = deque()  # (waiter, since)
        self._max_defer = max_defer
        self._acks = 0  # requests begun since the last pass that considered a turn
        self._scheduled = False

    def ack_started(self) -> None:
        """A request reached the app: the next turn waits for a pass without one."""
        self._acks += 1

    async def turn(self) -> None:
        """Wait for this reply's turn: one reply per pass of the event loop in which no request
        began, or (after `max_defer` seconds of waiting) one per pass regardless."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._turns.append((waiter, loop.time()))
        if not self._scheduled:
            self._scheduled = True
            loop.call_soon(self._next_turn)
        await waiter

    def _next_turn(self) -> None:
        loop = asyncio.get_running_loop()
        busy, self._acks = self._acks > 0, 0
        while self._turns and self._turns[0][0].done():  # a cancelled waiter gives up its turn
            self._turns.popleft()
        if self._turns:
            waiter, since = self._turns[0]
            if not busy or loop.time() - since >= self._max_defer:
                self._turns.popleft()
                waiter.set_result(None)
        if self._turns:
            loop.call_soon(self._next_turn)  # behind what is ready now
        else:
            self._scheduled = False

    def spawn(self, work: Coroutine[Any, Any, None], name: str) -> None:
        task = asyncio.get_running_loop().create_task(self._guard(work, name), name=f"kubebot-slack-{name}")
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def drain(self, timeout: float | None = None) -> bool:
        """Wait for the running tasks (and any they start); False if some were still running at timeout."""
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while self._tasks:
            remaining = None if deadline is None else deadline - loop.time()
            if remaining is not None and remaining <= 0:
                return False
            await asyncio.wait(set(self._tasks), timeout=remaining)
        return True

    def cancel(self) -> None:
        for task in list(self._tasks):
            task.cancel()

    async def cancel_and_wait(self, timeout: float = 2.0) -> None:
        """Cancel what is left and give it `timeout` seconds to clean up (a reply being sent
        moves itself to the outbox when cancelled)."""
        tasks = set(self._tasks)
        for task in tasks:
            task.cancel()
        if tasks:
            await asyncio.wait(tasks, timeout=timeout)

    def __len__(self) -> int:
        return len(self._tasks)

    @staticmethod
    async def _guard(work: Coroutine[Any, Any, None], name: str) -> None:
        try:
            await work
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("event=slack_task_failed task=%s", name)


class AcksFirst(AsyncMiddleware):
    """Global bolt middleware (HTTP and Socket Mode): tells `PostAckTasks` that a request is being
    acked, so the replies wait for a quieter pass of the event loop (see `PostAckTasks.turn`)."""

    def __init__(self, background: PostAckTasks) -> None:
        self.background = background

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        self.background.ack_started()
        return await next()
