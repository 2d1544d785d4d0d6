"""Authorised once, at start-up: the bolt app's AuthorizeResult comes from the start-up auth.test,
so when Slack answers auth.test with 429/500 or hangs later, acks and answers are unaffected."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.runner import run_slack
from bot.app import build_service

from .conftest import FIXTURE_KB, slack_env
from .slack_fakes import FakeSlack, all_text
from .slack_requests import SlackSender, app_mention
from .test_slack_runner import free_port


@contextlib.asynccontextmanager
async def serving(fake: FakeSlack) -> AsyncIterator[SlackSender]:
    settings = SlackSettings.from_env(slack_env(fake, SLACK_APP_TOKEN=""), http=True)
    port, ready, stop = free_port(), asyncio.Event(), asyncio.Event()
    task = asyncio.ensure_future(
        run_slack(build_service(FIXTURE_KB), settings, http=True, port=port, host="127.0.0.1",
                  on_ready=ready.set, stop=stop)
    )  # fmt: skip
    try:
        await asyncio.wait_for(ready.wait(), 10)
        async with aiohttp.ClientSession() as session:
            yield SlackSender(session, f"http://127.0.0.1:{port}/slack/events")
    finally:
        fake.release()
        stop.set()
        await asyncio.wait_for(task, 20)


async def timed(coro: object) -> tuple[float, tuple[int, str]]:
    started = time.perf_counter()
    result = await coro  # type: ignore[misc]
    return time.perf_counter() - started, result


@pytest.mark.parametrize("trouble", ["429", "500", "hang"])
async def test_acks_never_wait_on_auth_test(fake_slack: FakeSlack, trouble: str) -> None:
    async with serving(fake_slack) as slack:
        if trouble == "hang":
            fake_slack.hang("auth.test")
        else:
            fake_slack.fail(
                "auth.test", int(trouble), error="ratelimited", headers={"Retry-After": "5"}, times=20
            )
        seconds, (status, body) = await timed(
            slack.command("what is a pod", response_url=fake_slack.response_url())
        )
        assert (status, body) == (200, "") and seconds < 1.0
        [reply] = await fake_slack.wait_for("response_url")
        assert "What is a Pod?" in all_text(reply.data)  # not "reinstall this app"
        event = app_mention("what is a node", "2.1")
        seconds, (status, _) = await timed(slack.event(event))
        assert status == 200 and seconds < 1.0
        [post] = await fake_slack.wait_for("chat.postMessage")
        assert post.data["text"] == "What is a Node?"  # the mention was stripped: the bot user is known
    assert len(fake_slack.of("auth.test")) == 1  # the start-up call, never again


async def test_start_up_with_slack_failing_auth_test_still_serves(fake_slack: FakeSlack) -> None:
    fake_slack.fail("auth.test", 500, times=3)  # every in-line try at start-up
    async with serving(fake_slack) as slack:
        seconds, (status, _) = await timed(
            slack.command("what is a pod", response_url=fake_slack.response_url())
        )
        assert status == 200 and seconds < 1.0
        [reply] = await fake_slack.wait_for("response_url")
        assert "What is a Pod?" in all_text(reply.data)
