"""Durable replies: what Slack does not take at once is retried in line (502/504/connection errors
too), then kept in the outbox and sent again by the worker, so a minute-long Slack outage loses no
answer; what is finally given up is counted and logged. Time is simulated: nothing sleeps a minute."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass

import pytest

from bot.adapters.slack.redeliver import Redelivery
from bot.adapters.slack.retry import RESPONSE_URL_USES
from bot.ports import MemoryOutbox
from tests.helpers import sample

from .conftest import MakeBot, SlackBot
from .slack_requests import app_mention

T0 = 1_700_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def mention(ts: str) -> dict[str, str]:
    return app_mention("what is a pod", ts)


@dataclass
class Durable:
    """A bot on simulated time whose outbox is `pending`, with the worker that empties it."""

    bot: SlackBot
    clock: Clock
    pending: MemoryOutbox

    @property
    def worker(self) -> Redelivery:
        return Redelivery(self.bot.outbox)

    async def run_until(self, until: float, *, up_at: float | None) -> None:
        """Advance time second by second, running the worker; Slack comes back at `up_at`."""
        worker = self.worker
        while self.clock.now < T0 + until:
            self.clock.now += 1.0
            if up_at is not None and self.clock.now >= T0 + up_at:
                self.bot.fake.outage(None)
            await worker.run_once()


@pytest.fixture
async def durable(make_bot: MakeBot, caplog: pytest.LogCaptureFixture) -> Durable:
    caplog.set_level(logging.INFO, logger="kubebot.slack")
    clock, pending = Clock(), MemoryOutbox()
    return Durable(await make_bot(clock=clock, pending=pending), clock, pending)


@pytest.mark.parametrize("status", [502, 504])
async def test_gateway_errors_are_retried_in_line(bot: SlackBot, status: int) -> None:
    bot.fake.fail("chat.postMessage", status, error="gateway")
    bot.fake.fail("response_url", status, error="gateway")
    assert (await bot.slack.event(mention("1.1")))[0] == 200
    assert (await bot.command("what is a pod"))[0] == 200
    await bot.settle()
    assert [c.status for c in bot.fake.of("chat.postMessage")] == [status, 200]
    assert [c.status for c in bot.fake.of("response_url")] == [status, 200]
    assert len(bot.outbox.pending) == 0  # nothing needed the outbox


async def test_a_60_second_outage_loses_no_answer(durable: Durable, caplog: pytest.LogCaptureFixture) -> None:
    bot, pending = durable.bot, durable.pending
    bot.fake.outage(503)
    for i in range(10):
        assert (await bot.command("what is a pod", response_url=bot.fake.response_url(f"r{i}")))[0] == 200
        assert (await bot.slack.event(mention(f"9.{i}")))[0] == 200
    await bot.settle()
    assert len(pending) == 20 and bot.fake.delivered == []  # all kept, nothing answered yet

    await durable.run_until(180, up_at=60)

    delivered = bot.fake.delivered
    per_url = Counter(c.path for c in delivered if c.method == "response_url")
    assert per_url == {f"/response/r{i}": 1 for i in range(10)}  # every command answered, once
    threads = Counter(c.data["thread_ts"] for c in delivered if c.method == "chat.postMessage")
    assert threads == {f"9.{i}": 1 for i in range(10)}  # every mention answered, once
    tries = Counter(c.path for c in bot.fake.of("response_url"))
    assert max(tries.values()) <= RESPONSE_URL_USES  # Slack's 5 uses per response_url
    assert len(pending) == 0 and pending.given_up(0) == 0
    assert sample(bot.outbox.metrics, "kubebot_replies_redelivered_total", platform="slack") == 20
    assert "event=slack_reply_given_up" not in caplog.text


async def test_what_is_finally_given_up_is_counted_and_logged(
    durable: Durable, caplog: pytest.LogCaptureFixture
) -> None:
    bot, pending = durable.bot, durable.pending
    bot.fake.outage(503)
    assert (await bot.command("what is a pod", response_url=bot.fake.response_url("gone")))[0] == 200
    assert (await bot.slack.event(mention("3.1")))[0] == 200
    await bot.settle()

    await durable.run_until(2 * 3600, up_at=None)  # Slack never comes back

    assert bot.fake.delivered == []
    assert len(bot.fake.of("response_url")) == RESPONSE_URL_USES  # never more than Slack allows
    assert len(pending) == 0 and pending.given_up(0) == 2
    assert given_up(bot, "response_url_uses") == 1
    assert given_up(bot, "expired") == 1  # the message, after an hour
    assert caplog.text.count("event=slack_reply_given_up") == 2
    assert "method=response_url reason=response_url_uses" in caplog.text


async def test_a_response_url_reply_is_not_sent_after_its_30_minutes(durable: Durable) -> None:
    bot, clock, pending = durable.bot, durable.clock, durable.pending
    bot.fake.outage(503)
    assert (await bot.command("what is a pod", response_url=bot.fake.response_url("late")))[0] == 200
    await bot.settle()
    bot.fake.outage(None)
    clock.now = T0 + 31 * 60  # the worker was stopped for half an hour (a restart, a long outage)
    assert await durable.worker.run_once() == 0
    assert bot.fake.delivered == [] and pending.given_up(0) == 1
    assert given_up(bot, "expired") == 1


def given_up(bot: SlackBot, reason: str) -> float:
    return sample(bot.outbox.metrics, "kubebot_replies_given_up_total", platform="slack", reason=reason)


async def test_refused_replies_are_given_up_at_once_not_retried(bot: SlackBot) -> None:
    bot.fake.fail("chat.postMessage", 200, error="channel_not_found")
    assert (await bot.slack.event(mention("4.1")))[0] == 200
    await bot.settle()
    assert len(bot.fake.of("chat.postMessage")) == 1 and len(bot.outbox.pending) == 0
    assert given_up(bot, "rejected") == 1


async def test_a_rate_limit_with_a_long_retry_after_waits_in_the_outbox(durable: Durable) -> None:
    bot, clock, pending = durable.bot, durable.clock, durable.pending
    bot.fake.fail("chat.postMessage", 429, error="ratelimited", headers={"Retry-After": "30"})
    assert (await bot.slack.event(mention("5.1")))[0] == 200
    await bot.settle()  # not 30 s in line: the reply waits in the outbox
    [kept] = pending.due(T0 + 30, 10)
    assert kept.next_at >= T0 + 30 and kept.method == "chat.postMessage"
    pending.retry_at(kept.key, kept.next_at, kept.attempts)
    clock.now = T0 + 31
    assert await durable.worker.run_once() == 1
    assert [c.status for c in bot.fake.of("chat.postMessage")] == [429, 200]


async def test_a_reply_cut_off_by_shutdown_moves_to_the_outbox(bot: SlackBot) -> None:
    bot.fake.hang("response_url")
    assert (await bot.command("what is a pod"))[0] == 200
    assert not await bot.background.drain(timeout=0.3)  # the reply is stuck on Slack
    await bot.background.cancel_and_wait(2.0)
    bot.fake.release()
    [kept] = bot.outbox.pending.due(2e10, 10)
    assert kept.method == "response_url" and "What is a Pod?" in kept.body
