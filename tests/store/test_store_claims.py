"""Once-only claims shared by replicas through PostgreSQL (Slack dedupe across HTTP replicas).

Claims are awaited on the event loop before an ack: against a real PostgreSQL behind a loopback
proxy that freezes, they must answer within their budget (failing open), never block the loop,
log the outage once, count every failed-open claim and recover when the database answers again.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator, Awaitable
from typing import TypeVar

import pytest

from bot.metrics import Metrics
from bot.store.claims import CLAIM_TIMEOUT_S, PostgresClaims, claims_from_env
from tests.faultproxy import FaultProxy
from tests.helpers import sample

T = TypeVar("T")
BUDGET = 0.3


class LoopLag:
    """The longest the event loop went without running a 10 ms ticker: a blocked loop shows here."""

    def __init__(self) -> None:
        self.worst = 0.0
        self._task: asyncio.Task[None] | None = None

    async def _tick(self) -> None:
        last = time.monotonic()
        while True:
            await asyncio.sleep(0.01)
            now = time.monotonic()
            self.worst = max(self.worst, now - last - 0.01)
            last = now

    async def __aenter__(self) -> LoopLag:
        self._task = asyncio.get_running_loop().create_task(self._tick())
        await asyncio.sleep(0)
        return self

    async def __aexit__(self, *exc: object) -> None:
        assert self._task is not None
        self._task.cancel()


async def bounded(awaitable: Awaitable[T], seconds: float = 5.0) -> T:
    """Fail (rather than hang the suite) when a claim does not come back."""
    return await asyncio.wait_for(awaitable, seconds)


async def wait_until_available(claims: PostgresClaims, key: str) -> None:
    """Claim throw-away keys until the background probe has reconnected (or fail after 15 s)."""
    deadline = time.monotonic() + 15
    while not claims.available:
        assert time.monotonic() < deadline, "claims never recovered"
        await claims.claim(f"{key}:{time.monotonic()}", 60)
        await asyncio.sleep(0.05)


@pytest.fixture
async def replicas(pg_url: str, proxy: FaultProxy) -> AsyncIterator[tuple[PostgresClaims, PostgresClaims]]:
    url = proxy.via(pg_url)
    a = PostgresClaims(url, timeout=BUDGET, retry_after=0.2, metrics=Metrics())
    b = PostgresClaims(url, timeout=BUDGET, retry_after=0.2, metrics=Metrics())
    yield a, b
    await a.close()
    await b.close()


async def test_first_claim_wins_across_replicas_and_expires(pg_url: str) -> None:
    replica_a, replica_b = PostgresClaims(pg_url), PostgresClaims(pg_url)
    try:
        assert await replica_a.claim("event:Ev1", 60) is True
        assert await replica_b.claim("event:Ev1", 60) is False  # the other replica already has it
        assert await replica_a.claim("event:Ev1", 60) is False
        assert await replica_b.claim("event:Ev2", 60) is True
        assert await replica_a.claim("msg:C1:1.2", 0.05) is True
        await asyncio.sleep(0.2)
        assert await replica_b.claim("msg:C1:1.2", 60) is True  # expired: can be claimed again
        assert replica_a.failed_open == replica_b.failed_open == 0
    finally:
        await replica_a.close()
        await replica_b.close()


async def test_unreachable_database_fails_open_and_logs_once(
    closed_port: int, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    claims = PostgresClaims(f"postgresql://kubebot:secret@127.0.0.1:{closed_port}/kubebot", metrics=metrics)
    with caplog.at_level(logging.WARNING, logger="kubebot.store"):
        results = [await bounded(claims.claim(f"event:{i}", 60)) for i in range(5)]
    await claims.close()
    assert results == [True] * 5  # answer twice rather than never
    lines = [r.getMessage() for r in caplog.records if "claims_unavailable" in r.getMessage()]
    assert len(lines) == 1 and "secret" not in lines[0]
    assert claims.failed_open == 5 == sample(metrics, "kubebot_claims_failed_open_total")


async def test_a_database_frozen_mid_run_fails_open_within_budget_and_recovers(
    replicas: tuple[PostgresClaims, PostgresClaims], proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    a, b = replicas
    assert await bounded(a.claim("event:before", 60)) is True
    assert await bounded(b.claim("event:before", 60)) is False
    caplog.set_level(logging.INFO, logger="kubebot.store")
    with proxy.frozen():
        async with LoopLag() as lag:
            started = time.monotonic()
            frozen = await bounded(asyncio.gather(*(a.claim(f"event:f{i}", 60) for i in range(20))))
            first_wave = time.monotonic() - started
            # once the outage is known, claims fail open at once (a background probe reconnects)
            later = [await bounded(b.claim("event:before", 60)) for _ in range(2)]
            later += [await bounded(a.claim(f"event:g{i}", 60)) for i in range(20)]
        assert frozen == [True] * 20 and later == [True] * 22
        assert first_wave < BUDGET + 0.5, first_wave  # every claim gave up at its budget, together
        assert lag.worst < BUDGET, lag.worst  # no claim ever held the event loop for its budget
    messages = [r.getMessage() for r in caplog.records]
    assert sum("event=claims_unavailable" in m for m in messages) == 2  # one line per replica and outage
    assert a.failed_open == 40 and b.failed_open == 2

    await wait_until_available(a, "probe-a")
    await wait_until_available(b, "probe-b")
    assert sum("event=claims_recovered" in r.getMessage() for r in caplog.records) == 2
    assert await bounded(a.claim("event:after", 60)) is True
    assert await bounded(b.claim("event:after", 60)) is False  # shared dedupe works again


async def test_a_listener_that_never_answers_never_stalls_a_claim(
    pg_url: str, proxy: FaultProxy, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = Metrics()
    claims = PostgresClaims(proxy.via(pg_url), timeout=BUDGET, retry_after=0.0, metrics=metrics)
    proxy.freeze()  # accepts connections, never answers one
    try:
        with caplog.at_level(logging.WARNING, logger="kubebot.store"):
            async with LoopLag() as lag:
                started = time.monotonic()
                first = await bounded(claims.claim("event:1", 60))
                first_took = time.monotonic() - started
                started = time.monotonic()
                rest = [await bounded(claims.claim(f"event:{i}", 60)) for i in range(2, 52)]
                rest_took = time.monotonic() - started
        assert first and all(rest)
        assert first_took < BUDGET + 0.5, first_took  # the first connect is waited for, within budget
        assert rest_took < 0.5, rest_took  # then 50 claims that never wait on a reconnect
        assert lag.worst < BUDGET, lag.worst
        assert proxy.connections <= 2  # one probe at a time, not one connect per claim
        assert sum("event=claims_unavailable" in r.getMessage() for r in caplog.records) == 1
        assert sample(metrics, "kubebot_claims_failed_open_total") == 51
    finally:
        proxy.thaw()
        await claims.close()


def test_claims_follow_kubebot_db_and_the_budget_setting() -> None:
    assert claims_from_env({}) is None
    assert claims_from_env({"KUBEBOT_DB": "/var/lib/kubebot/kubebot.db"}) is None
    keyword = claims_from_env({"KUBEBOT_DB": "host=db dbname=kubebot user=bot password=hunter2"})
    assert keyword is not None and keyword.timeout == CLAIM_TIMEOUT_S
    assert "hunter2" not in keyword.where
    tuned = claims_from_env({"KUBEBOT_DB": "postgresql://db/kubebot", "KUBEBOT_CLAIM_TIMEOUT": "0.15"})
    assert tuned is not None and tuned.timeout == 0.15
