"""Answer every Slack event once: Slack retries (X-Slack-Retry-Num) carry the same `event_id`, a
replayed slash command carries the same `trigger_id`, and a mention in a channel the bot is in
arrives both as `app_mention` and as `message`.

Bolt does not dedupe; this is a bounded in-memory TTL set, backed by claims shared between
replicas (`bot.ports.Claims`, PostgreSQL) when several HTTP replicas run behind one Service.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable

from slack_bolt.middleware.async_middleware import AsyncMiddleware
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_bolt.response import BoltResponse

from bot.ports import Claims

log = logging.getLogger("kubebot.slack")

DEFAULT_MAX_KEYS = 20_000


class SeenKeys:
    """Keys seen in the last `ttl` seconds, at most `max_keys` of them (oldest dropped first)."""

    def __init__(
        self,
        ttl: float,
        max_keys: int = DEFAULT_MAX_KEYS,
        clock: Callable[[], float] = time.monotonic,
        shared: Claims | None = None,
    ) -> None:
        if ttl <= 0 or max_keys <= 0:
            raise ValueError("ttl and max_keys must be positive")
        self._ttl = ttl
        self._max_keys = max_keys
        self._clock = clock
        self._shared = shared
        self._expiry: OrderedDict[str, float] = OrderedDict()

    async def claim(self, key: str) -> bool:
        """True the first time `key` is seen within the TTL (by any replica); False for a repeat."""
        now = self._clock()
        self._expire(now)
        if key in self._expiry:
            return False
        self._expiry[key] = now + self._ttl  # before awaiting: a concurrent local repeat sees it
        while len(self._expiry) > self._max_keys:
            self._expiry.popitem(last=False)
        # another replica may have it (then remember it here too and never answer)
        return self._shared is None or await self._shared.claim(key, self._ttl)

    def __len__(self) -> int:
        return len(self._expiry)

    def _expire(self, now: float) -> None:
        # Insertion order is expiry order because the TTL is constant.
        while self._expiry:
            key, expires = next(iter(self._expiry.items()))
            if expires > now:
                break
            del self._expiry[key]


def request_key(body: object) -> str | None:
    """What identifies a delivery: an Events API `event_id`, or a slash command's `trigger_id`."""
    if not isinstance(body, dict):
        return None
    event_id = body.get("event_id")
    if isinstance(event_id, str) and event_id:
        return f"event:{event_id}"
    trigger_id = body.get("trigger_id")
    if body.get("command") and isinstance(trigger_id, str) and trigger_id:
        return f"trigger:{trigger_id}"
    return None


class EventDedupe(AsyncMiddleware):
    """Global bolt middleware: a delivery whose `event_id` (or a slash command whose `trigger_id`)
    was seen is acked and dropped."""

    def __init__(self, seen: SeenKeys) -> None:
        self.seen = seen

    async def async_process(
        self,
        *,
        req: AsyncBoltRequest,
        resp: BoltResponse,
        next: Callable[[], Awaitable[BoltResponse]],
    ) -> BoltResponse | None:
        key = request_key(req.body)
        if key is not None and not await self.seen.claim(key):
            retry = req.headers.get("x-slack-retry-num", [""])[0]
            kind, _, value = key.partition(":")
            log.info("event=slack_duplicate_dropped %s_id=%s retry_num=%s", kind, value, retry or "0")
            return BoltResponse(status=200, body="")
        return await next()
