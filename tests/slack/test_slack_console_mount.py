"""The maintainer console mounted on the Slack HTTP server (KUBEBOT_CONSOLE_PATH): the events
endpoint keeps working, the console answers under its path with the bot's own service, and the
token is always required there (that port is public)."""

from __future__ import annotations

from pathlib import Path

import aiohttp
import pytest

from bot.adapters.slack.app import build_app
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.outbox import PostAckTasks
from bot.adapters.slack.runner import build_web_app
from bot.app import build_service
from bot.config import ConfigError
from bot.console.mount import slack_mount
from tests.helpers import serve_on_loopback

from .conftest import FIXTURE_KB, slack_env
from .slack_fakes import FakeSlack, MemoryRecorder, all_text
from .slack_requests import SlackSender

TOKEN = "console-token-0123456789abcdef"


async def test_console_beside_slack_events(fake_slack: FakeSlack, tmp_path: Path) -> None:
    recorder = MemoryRecorder()
    service = build_service(FIXTURE_KB, recorder=recorder)
    env = slack_env(
        fake_slack,
        KUBEBOT_CONSOLE_PATH="/console",
        KUBEBOT_CONSOLE_TOKEN=TOKEN,
        KUBEBOT_DB=str(tmp_path / "kubebot.db"),
    )
    settings = SlackSettings.from_env(env, http=True)
    background = PostAckTasks()
    app = build_app(service, settings, background=background)
    mount = slack_mount(env, service, http=True)
    web_app = build_web_app(app, signing_secret=settings.signing_secret, mount=mount)
    runner, port = await serve_on_loopback(web_app)
    base = f"http://127.0.0.1:{port}"
    try:
        async with aiohttp.ClientSession() as session:
            sender = SlackSender(session, base + "/slack/events")
            status, _ = await sender.command("what is a pod", response_url=fake_slack.response_url())
            assert status == 200
            [reply] = await fake_slack.wait_for("response_url")
            assert "What is a Pod?" in all_text(reply.data)
            async with session.get(base + "/console/try?q=what+is+a+pod") as resp:
                assert resp.status == 401
            auth = {"Authorization": f"Bearer {TOKEN}"}
            async with session.get(base + "/console/try?q=what+is+a+pod", headers=auth) as resp:
                assert resp.status == 200 and 'id="band">answered<' in await resp.text()
            async with session.get(base + "/console/", headers=auth) as resp:
                assert resp.status == 200 and "No database at" in await resp.text()  # never created
        assert len(recorder.questions) == 1, "trying a question in the console records nothing"
        assert not (tmp_path / "kubebot.db").exists()
    finally:
        await background.drain(timeout=10)
        await runner.cleanup()


def test_mounting_needs_the_token_and_the_http_mode(fake_slack: FakeSlack) -> None:
    service = build_service(FIXTURE_KB)
    assert slack_mount(slack_env(fake_slack), service, http=True) is None  # not asked for
    with pytest.raises(ConfigError, match="KUBEBOT_CONSOLE_TOKEN"):
        slack_mount(slack_env(fake_slack, KUBEBOT_CONSOLE_PATH="/console"), service, http=True)
    env = slack_env(fake_slack, KUBEBOT_CONSOLE_PATH="/console", KUBEBOT_CONSOLE_TOKEN=TOKEN)
    with pytest.raises(ConfigError, match="--http"):
        slack_mount(env, service, http=False)
    with pytest.raises(ConfigError, match="below the root"):
        slack_mount({**env, "KUBEBOT_CONSOLE_PATH": "/"}, service, http=True)
