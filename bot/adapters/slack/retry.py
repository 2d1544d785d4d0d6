"""How a Slack send is retried: a few quick tries in line (slack_sdk's retry handlers), then the outbox.

In line, while the user waits: connection errors, 429 with a short Retry-After, and 500/502/503/504,
each retried twice with backoff. Anything longer (Slack down for seconds or minutes, a long
Retry-After, a hang) is the outbox's job: `RetrySchedule` spaces its tries, and a response_url
reply stops after Slack's 5 uses or 30 minutes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass

import aiohttp
from slack_sdk.http_retry.async_handler import AsyncRetryHandler
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
    AsyncServerErrorRetryHandler,
)
from slack_sdk.http_retry.builtin_interval_calculators import BackoffRetryIntervalCalculator
from slack_sdk.http_retry.jitter import Jitter
from slack_sdk.http_retry.request import HttpRequest
from slack_sdk.http_retry.response import HttpResponse
from slack_sdk.http_retry.state import RetryState

RETRYABLE_STATUS = frozenset({429, 500, 502, 503, 504})
RESPONSE_URL_USES = 5  # Slack: a response_url takes at most 5 posts ...
RESPONSE_URL_TTL = 30 * 60.0  # ... within 30 minutes of the interaction
SEND_TIMEOUT_S = 8.0  # one HTTP try; a hang longer than this goes to the outbox
MAX_INLINE_RETRY_AFTER = 3  # seconds: a longer Retry-After is waited out in the outbox, not in line


def retry_after(headers: object) -> float | None:
    """Retry-After in seconds from response headers (any mapping-like; slack_sdk gives lists)."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    value = get("Retry-After") or get("retry-after")
    if isinstance(value, list | tuple):
        value = value[0] if value else None
    try:
        return max(0.0, float(str(value))) if value is not None else None
    except ValueError:
        return None


class ProportionalJitter(Jitter):
    """Up to +100 % of the interval (slack_sdk's RandomJitter adds up to a whole second)."""

    def recalculate(self, duration: float) -> float:
        return duration * (1.0 + random.random())


class _OnResponse:
    """A slack_sdk retry handler that decides from the HTTP response alone (`retries`); put it
    first among the bases so its `_can_retry_async` is the one used."""

    def retries(self, response: HttpResponse) -> bool:
        raise NotImplementedError

    async def _can_retry_async(
        self,
        *,
        state: RetryState,
        request: HttpRequest,
        response: HttpResponse | None = None,
        error: Exception | None = None,
    ) -> bool:
        return response is not None and self.retries(response)


class ServerErrorRetryHandler(_OnResponse, AsyncServerErrorRetryHandler):
    """slack_sdk's handler retries 500 and 503 only; a gateway error (502, 504) is as transient."""

    def retries(self, response: HttpResponse) -> bool:
        return response.status_code in (500, 502, 503, 504)


class ShortRateLimitRetryHandler(_OnResponse, AsyncRateLimitErrorRetryHandler):
    """429 retried in line only when Slack asks for a short wait; longer ones go to the outbox."""

    def retries(self, response: HttpResponse) -> bool:
        if response.status_code != 429:
            return False
        wait = retry_after(response.headers)
        return wait is None or wait <= MAX_INLINE_RETRY_AFTER


def inline_handlers(backoff: float = 0.5, retries: int = 2) -> list[AsyncRetryHandler]:
    """The in-line retries: connection errors (refused, reset, disconnected), short 429s, 5xx."""
    interval = BackoffRetryIntervalCalculator(backoff, jitter=ProportionalJitter())
    return [
        AsyncConnectionErrorRetryHandler(
            max_retry_count=retries,
            interval_calculator=interval,
            error_types=[aiohttp.ClientConnectionError],
        ),
        ShortRateLimitRetryHandler(max_retry_count=retries),
        ServerErrorRetryHandler(max_retry_count=retries, interval_calculator=interval),
    ]


@dataclass(frozen=True, slots=True)
class RetrySchedule:
    """When the outbox tries a reply again: `base * 2**k` seconds after its k-th outbox try,
    at most `cap`; a response_url reply starts slower, so its 5 uses (2 in line, 3 here at about
    10, 30 and 70 s) outlast a minute-long outage."""

    base: float = 2.0
    response_url_base: float = 10.0
    cap: float = 300.0
    inline_backoff: float = 0.5
    inline_retries: int = 2
    max_age: float = 3600.0  # a message not delivered within an hour is given up (stale)

    def delay(self, method: str, outbox_tries: int, wait: float | None = None) -> float:
        base = self.response_url_base if method == "response_url" else self.base
        backoff: float = base * 2.0 ** max(0, outbox_tries)
        return max(min(self.cap, backoff), wait or 0.0)

    def retries(self, method: str) -> int:
        """In-line retries: one fewer for a response_url, whose 5 uses must last a minute's outage."""
        return max(0, self.inline_retries - 1) if method == "response_url" else self.inline_retries

    def handlers(self, method: str) -> list[AsyncRetryHandler]:
        return inline_handlers(self.inline_backoff, self.retries(method))

    def inline_attempts(self, method: str) -> int:
        """Tries a send may have made before it reaches the outbox (each may use a response_url)."""
        return 1 + self.retries(method)
