"""Work started after the ack: tracked, logged when it fails, drained on shutdown and in tests.

`turn()` is how a reply waits before its CPU-heavy step (matching, rendering): replies take
turns, one per pass of the event loop, behind whatever acks are ready. Slack gives an ack
3 seconds and an answer minutes, so under a burst the acks stay fast and the answers queue
(nothing is held across I/O: a cluster lookup waiting on the API blocks no one).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Coroutine
from typing import Any

log = logging.getLogger("kubebot.slack")


class PostAckTasks:
    """Work started after the ack: tracked (so it is not garbage-collected), logged when it fails,
    and drained on shutdown and in tests."""

    def __init__(self) -> None:
        self._tasks: set[asyncio.Task[None]] = set()
        self._turns: deque[asyncio.Future[None]] = deque()

    async def turn(self) -> None:
        """Wait for this reply's turn: one reply is let through per pass of the event loop."""
        loop = asyncio.get_running_loop()
        waiter: asyncio.Future[None] = loop.create_future()
        self._turns.append(waiter)
        if len(self._turns) == 1:
            loop.call_soon(self._next_turn)
        await waiter

    def _next_turn(self) -> None:
        while self._turns:
            waiter = self._turns.popleft()
            if not waiter.done():  # a cancelled waiter gives its turn to the next one
                waiter.set_result(None)
                break
        if self._turns:
            asyncio.get_running_loop().call_soon(self._next_turn)  # behind what is ready now

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
