"""The fake Slack's fault tools that benchmarks/bench_faults.py relies on (the tests use the others):
outages limited to some methods and some seconds, hangs that end by themselves, refused
connections (`down` / `up` on the same port) and the per-reply `answers` of an unrecorded fake."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from .slack_fakes import BOT_TOKEN, FakeSlack

AUTH = {"Authorization": f"Bearer {BOT_TOKEN}"}


@pytest.fixture
async def unrecorded() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack(record=False)
    await fake.start()
    yield fake
    await fake.stop()


async def post_message(session: aiohttp.ClientSession, fake: FakeSlack, thread_ts: str) -> int:
    body = {"channel": "C1", "thread_ts": thread_ts, "text": "hi"}
    async with session.post(fake.api_url + "chat.postMessage", json=body, headers=AUTH) as resp:
        await resp.read()
        return resp.status


async def respond(session: aiohttp.ClientSession, fake: FakeSlack, rid: str) -> int:
    async with session.post(fake.response_url(rid), json={"text": "hi"}) as resp:
        await resp.read()
        return resp.status


async def test_an_outage_of_some_methods_ends_after_its_seconds(unrecorded: FakeSlack) -> None:
    unrecorded.outage(429, "chat.postMessage", seconds=0.3, headers={"Retry-After": "1"})
    async with aiohttp.ClientSession() as session:
        async with session.post(unrecorded.api_url + "chat.postMessage", json={}, headers=AUTH) as resp:
            assert resp.status == 429 and resp.headers["Retry-After"] == "1"
            assert (await resp.json())["error"] == "ratelimited"
        assert await respond(session, unrecorded, "r1") == 200  # another method: not in the outage
        await asyncio.sleep(0.35)
        assert await post_message(session, unrecorded, "1.000001") == 200
    assert unrecorded.answers == {"c:r1": 1, "m:1.000001": 1}
    assert unrecorded.calls == [] and unrecorded.violations == []  # counted, not recorded


async def test_a_hang_with_seconds_is_answered_when_they_are_up(unrecorded: FakeSlack) -> None:
    unrecorded.hang("response_url", seconds=0.3)
    started, sent = time.monotonic(), time.perf_counter()
    async with aiohttp.ClientSession() as session:
        assert await respond(session, unrecorded, "r1") == 200
        first = unrecorded.answered_at["c:r1"]
        assert await respond(session, unrecorded, "r1") == 200  # a long reply's second part
    assert time.monotonic() - started >= 0.25
    assert unrecorded.answers == {"c:r1": 2}
    assert unrecorded.answered_at == {"c:r1": first} and first - sent >= 0.25  # when it first arrived


async def test_down_refuses_connections_until_up_on_the_same_port(unrecorded: FakeSlack) -> None:
    port = unrecorded.port
    async with aiohttp.ClientSession() as session:
        assert await respond(session, unrecorded, "r1") == 200  # a kept-alive connection, closed by down()
        await unrecorded.down()
        with pytest.raises(aiohttp.ClientConnectionError):
            await respond(session, unrecorded, "r2")
        await unrecorded.up()
        assert unrecorded.port == port
        assert await respond(session, unrecorded, "r3") == 200
    assert unrecorded.answers == {"c:r1": 1, "c:r3": 1}
