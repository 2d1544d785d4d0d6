"""The outbox worker: sends again what Slack did not take, until it does or the reply is stale.

Every `interval` seconds it takes the due replies (`ReplyOutbox.due`, oldest first; replicas
sharing a store each get different ones) and tries each once, without in-line retries:
- delivered → `done`;
- refused for good (channel_not_found, a 404 response_url...) → given up;
- transient → tried again after `RetrySchedule.delay` (longer each time, Retry-After honoured),
  unless it is past `expires_at` (a response_url lives 30 minutes) or a response_url has had
  its 5 uses, which gives it up.
What is given up is logged (`event=slack_reply_given_up`) and counted
(`kubebot_replies_given_up_total{platform,reason}`); the row stays in the store, marked.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
from collections.abc import Callable

from bot.adapters.slack.outbox import RESPONSE_URL, Outbox
from bot.adapters.slack.retry import RESPONSE_URL_USES
from bot.ports import PendingReply

log = logging.getLogger("kubebot.slack")

DEFAULT_INTERVAL_S = 1.0
DEFAULT_BATCH = 50


class Redelivery:
    """`run_once()` is one pass (tests drive it with a simulated clock); `run(stop)` loops."""

    def __init__(
        self,
        outbox: Outbox,
        *,
        clock: Callable[[], float] | None = None,
        interval: float = DEFAULT_INTERVAL_S,
        batch: int = DEFAULT_BATCH,
    ) -> None:
        self.outbox = outbox
        self.pending = outbox.pending
        self.schedule = outbox.schedule
        self.metrics = outbox.metrics
        self.clock = clock or outbox.clock
        self.interval = interval
        self.batch = batch
        self._store_failing = False

    async def run(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            try:
                await self.run_once()
            except Exception as exc:  # the store is down: say so once, keep trying
                if not self._store_failing:
                    log.warning("event=slack_outbox_unavailable error=%s", type(exc).__name__)
                self._store_failing = True
            else:
                if self._store_failing:
                    log.info("event=slack_outbox_available")
                self._store_failing = False
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), self.interval)

    async def run_once(self) -> int:
        """Try every due reply once; returns how many were delivered."""
        now = self.clock()
        due = await asyncio.to_thread(self.pending.due, now, self.batch)
        delivered = 0
        held: dict[str, float] = {}  # a later part of a reply waits for its earlier part
        for reply in due:
            group = reply.key.rsplit("#", 1)[0]
            if group in held:
                held[group] += 1e-3
                await asyncio.to_thread(self.pending.retry_at, reply.key, held[group], reply.attempts)
                continue
            retry_at = await self._one(reply, now)
            if retry_at is None:
                delivered += 1
            else:
                held[group] = retry_at
        return delivered

    async def _one(self, reply: PendingReply, now: float) -> float | None:
        """None when delivered; otherwise when the reply's later parts may be tried."""
        if reply.expires_at is not None and now >= reply.expires_at:
            await self._give_up(reply, "expired", now)
            return now
        if reply.method == RESPONSE_URL and reply.attempts >= RESPONSE_URL_USES:
            await self._give_up(reply, "response_url_uses", now)
            return now
        try:
            body = json.loads(reply.body)
        except ValueError:
            body = None
        if not isinstance(body, dict):
            await self._give_up(reply, "bad_body", now)
            return now
        result = await self.outbox.attempt(reply.method, reply.target, body, inline=False)
        attempts = reply.attempts + 1
        if result.ok:
            await asyncio.to_thread(self.pending.done, reply.key)
            self.metrics.replies_redelivered.labels(reply.platform).inc()
            log.info(
                "event=slack_reply_redelivered method=%s attempts=%d age_s=%.0f key=%s",
                reply.method,
                attempts,
                now - reply.created_at,
                reply.key,
            )
            return None
        if not result.transient:
            await self._give_up(reply, "rejected", now, result.code)
            return now
        if reply.method == RESPONSE_URL and attempts >= RESPONSE_URL_USES:
            await self._give_up(reply, "response_url_uses", now, result.code)
            return now
        tries = attempts - self.schedule.inline_attempts(reply.method)
        next_at = now + self.schedule.delay(reply.method, tries, result.wait)
        await asyncio.to_thread(self.pending.retry_at, reply.key, next_at, attempts)
        log.info(
            "event=slack_reply_retry_later method=%s error=%s attempts=%d in_s=%.0f key=%s",
            reply.method,
            result.code,
            attempts,
            next_at - now,
            reply.key,
        )
        return next_at

    async def _give_up(self, reply: PendingReply, reason: str, now: float, error: str = "") -> None:
        await asyncio.to_thread(self.pending.give_up, reply.key, reason)
        self.metrics.replies_given_up.labels(reply.platform, reason).inc()
        log.warning(
            "event=slack_reply_given_up method=%s reason=%s error=%s attempts=%d age_s=%.0f key=%s",
            reply.method,
            reason,
            error or "-",
            reply.attempts,
            now - reply.created_at,
            reply.key,
        )
