"""Fixtures: the real bolt AsyncApp served over HTTP on loopback, talking to a fake Slack Web API."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from aiohttp import web

from bot.adapters.slack.app import build_client
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.outbox import Outbox, PostAckTasks
from bot.adapters.slack.retry import RetrySchedule
from bot.adapters.slack.runner import build_web_app, wire_app
from bot.app import build_service
from bot.metrics import Metrics
from bot.ports import Claims, ReplyOutbox
from bot.service import QAService
from tests.helpers import serve_on_loopback

from .slack_fakes import APP_TOKEN, BOT_TOKEN, SECRET, FakeSlack, MemoryRecorder
from .slack_requests import SlackSender

FIXTURE_KB = Path(__file__).resolve().parents[1] / "fixtures" / "kb"
FAST_RETRIES = RetrySchedule(inline_backoff=0.01)  # the same tries as in production, without the waits
LISTEN_CHANNEL = "CLISTEN"
ONBOARDING_CHANNEL = "CWELCOME"


def slack_env(fake: FakeSlack, **overrides: str) -> dict[str, str]:
    env = {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "SLACK_APP_TOKEN": APP_TOKEN,
        "KUBEBOT_SLACK_API_URL": fake.api_url,
        "KUBEBOT_SLACK_LISTEN_CHANNELS": LISTEN_CHANNEL,
        "KUBEBOT_SLACK_ONBOARDING_CHANNEL": ONBOARDING_CHANNEL,
    }
    env.update(overrides)
    return env


@dataclass
class SlackBot:
    """A running bot: send requests with `slack`, read what it said from `fake`."""

    fake: FakeSlack
    slack: SlackSender
    recorder: MemoryRecorder
    service: QAService
    settings: SlackSettings
    background: PostAckTasks
    outbox: Outbox

    async def settle(self) -> None:
        """Wait until every reply started after an ack has been sent."""
        assert await self.background.drain(timeout=10), "background replies did not finish"

    async def command(self, text: str, **kwargs: Any) -> tuple[int, str]:
        kwargs.setdefault("response_url", self.fake.response_url())
        kwargs.setdefault("command", self.settings.command)
        return await self.slack.command(text, **kwargs)


MakeBot = Callable[..., Awaitable[SlackBot]]


@pytest.fixture
async def fake_slack() -> AsyncIterator[FakeSlack]:
    fake = FakeSlack()
    await fake.start()
    yield fake
    await fake.stop()
    assert fake.violations == [], "messages Slack would reject or that ping people"


@pytest.fixture
async def make_bot(fake_slack: FakeSlack) -> AsyncIterator[MakeBot]:
    runners: list[web.AppRunner] = []
    backgrounds: list[PostAckTasks] = []
    session = aiohttp.ClientSession()

    async def make(
        env: Mapping[str, str] | None = None,
        service: QAService | None = None,
        recorder: MemoryRecorder | None = None,
        claims: Claims | None = None,
        pending: ReplyOutbox | None = None,
        clock: Callable[[], float] | None = None,
    ) -> SlackBot:
        recorder = recorder or MemoryRecorder()
        service = service or build_service(FIXTURE_KB, recorder=recorder)
        settings = SlackSettings.from_env(slack_env(fake_slack, **dict(env or {})), http=True)
        client = build_client(settings)
        outbox = Outbox(
            client, pending=pending, schedule=FAST_RETRIES, clock=clock or time.time, metrics=Metrics()
        )
        app, background, _ = await wire_app(service, settings, client, outbox, claims)  # as run_slack does
        web_app = build_web_app(app, signing_secret=settings.signing_secret)
        runner, port = await serve_on_loopback(web_app, access_log=None)
        runners.append(runner)
        backgrounds.append(background)
        sender = SlackSender(session, f"http://127.0.0.1:{port}/slack/events")
        return SlackBot(fake_slack, sender, recorder, service, settings, background, outbox)

    yield make
    for background in backgrounds:
        await background.drain(timeout=10)
    for runner in runners:
        await runner.cleanup()
    await session.close()


@pytest.fixture
async def bot(make_bot: MakeBot) -> SlackBot:
    return await make_bot()
