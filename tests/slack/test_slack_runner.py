"""`run_slack()`, the entry point: Socket Mode through bolt's AsyncSocketModeHandler against a local
WebSocket, HTTP mode on a real port, and clear errors for bad tokens."""

from __future__ import annotations

import asyncio
import contextlib
import socket
import urllib.parse
from collections.abc import AsyncIterator, Coroutine, Mapping
from typing import Any

import aiohttp
import pytest
from slack_sdk.socket_mode.aiohttp import SocketModeClient

from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.runner import run_slack
from bot.adapters.slack.sdk_internals import use_connection_url
from bot.app import build_service
from bot.config import ConfigError

from .conftest import FIXTURE_KB, slack_env
from .slack_fakes import APP_TOKEN, FakeSlack, MemoryRecorder, all_text
from .slack_requests import SlackSender, app_mention, command_body, event_callback


@contextlib.asynccontextmanager
async def running(coro: Coroutine[Any, Any, None]) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.ensure_future(coro)
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def slash_envelope(envelope_id: str, text: str, response_url: str) -> dict[str, object]:
    fields = dict(urllib.parse.parse_qsl(command_body(text, response_url=response_url)[0]))
    return {
        "envelope_id": envelope_id,
        "type": "slash_commands",
        "accepts_response_payload": True,
        "payload": fields,
    }


def events_envelope(
    envelope_id: str, event: Mapping[str, object], event_id: str, attempt: int = 0
) -> dict[str, object]:
    return {
        "envelope_id": envelope_id,
        "type": "events_api",
        "accepts_response_payload": False,
        "retry_attempt": attempt,
        "retry_reason": "timeout" if attempt else "",
        "payload": event_callback(dict(event), event_id),
    }


async def test_socket_mode_acks_envelopes_and_replies(fake_slack: FakeSlack) -> None:
    recorder = MemoryRecorder()
    service = build_service(FIXTURE_KB, recorder=recorder)
    settings = SlackSettings.from_env(slack_env(fake_slack, SLACK_SIGNING_SECRET=""), http=False)
    ready = asyncio.Event()
    async with running(run_slack(service, settings, http=False, port=0, on_ready=ready.set)) as task:
        await asyncio.wait_for(ready.wait(), 5)
        await fake_slack.envelopes.put(
            slash_envelope("env-1", "what is a pod", fake_slack.response_url("sm"))
        )
        assert await fake_slack.wait_ack("env-1") == {"envelope_id": "env-1"}
        [reply] = await fake_slack.wait_for("response_url")
        assert reply.data["text"] == "What is a Pod?" and reply.data["response_type"] == "ephemeral"

        event = app_mention("what is a node", "8.1")
        await fake_slack.envelopes.put(events_envelope("env-2", event, "EvSM"))
        await fake_slack.envelopes.put(events_envelope("env-3", event, "EvSM", attempt=1))  # Slack's retry
        await fake_slack.wait_ack("env-2")
        await fake_slack.wait_ack("env-3")
        [post] = await fake_slack.wait_for("chat.postMessage")
        assert post.data["thread_ts"] == "8.1" and post.data["text"] == "What is a Node?"
        assert not task.done()
    opened = fake_slack.of("apps.connections.open")
    assert len(opened) == 1, "the handler asked for its own URL: see bot/adapters/slack/sdk_internals.py"
    assert opened[0].auth == f"Bearer {APP_TOKEN}"
    assert len(fake_slack.of("chat.postMessage")) == 1
    assert len(recorder.questions) == 2


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def test_http_mode_serves_slack_events(fake_slack: FakeSlack) -> None:
    service = build_service(FIXTURE_KB)
    settings = SlackSettings.from_env(slack_env(fake_slack, SLACK_APP_TOKEN=""), http=True)
    port = free_port()
    ready = asyncio.Event()
    async with (
        running(run_slack(service, settings, http=True, port=port, host="127.0.0.1", on_ready=ready.set)),
        aiohttp.ClientSession() as session,
    ):
        await asyncio.wait_for(ready.wait(), 5)
        sender = SlackSender(session, f"http://127.0.0.1:{port}/slack/events")
        status, _ = await sender.command("what is a service", response_url=fake_slack.response_url())
        assert status == 200
        [reply] = await fake_slack.wait_for("response_url")
        assert "A Service gives a stable DNS name" in all_text(reply.data)
        async with session.post(f"http://127.0.0.1:{port}/slack/events", data=b"x") as unsigned:
            assert unsigned.status == 401


async def test_missing_tokens_are_config_errors(fake_slack: FakeSlack) -> None:
    service = build_service(FIXTURE_KB)
    no_app_token = SlackSettings.from_env(slack_env(fake_slack, SLACK_APP_TOKEN=""))
    with pytest.raises(ConfigError, match="SLACK_APP_TOKEN is not set for Socket Mode"):
        await run_slack(service, no_app_token, http=False, port=0)
    no_secret = SlackSettings.from_env(slack_env(fake_slack, SLACK_SIGNING_SECRET=""))
    with pytest.raises(ConfigError, match="SLACK_SIGNING_SECRET is not set for HTTP mode"):
        await run_slack(service, no_secret, http=True, port=0)
    assert fake_slack.calls == []  # decided before any network call


async def test_rejected_tokens_are_config_errors(fake_slack: FakeSlack) -> None:
    service = build_service(FIXTURE_KB)
    settings = SlackSettings.from_env(slack_env(fake_slack))
    fake_slack.auth_error = "invalid_auth"
    with pytest.raises(ConfigError, match=r"Slack rejected SLACK_BOT_TOKEN \(invalid_auth\)"):
        await run_slack(service, settings, http=False, port=0)
    fake_slack.auth_error = None
    fake_slack.fail("apps.connections.open", 200, error="invalid_auth")
    with pytest.raises(ConfigError, match="Slack rejected SLACK_APP_TOKEN"):
        await run_slack(service, settings, http=False, port=0)


async def test_the_socket_mode_client_still_takes_the_url_we_opened(caplog: pytest.LogCaptureFixture) -> None:
    """slack_sdk's aiohttp client keeps its URL in `wss_uri` and asks for one only while it is None."""
    client = SocketModeClient(app_token=APP_TOKEN)
    try:
        assert client.wss_uri is None, "slack_sdk changed: update bot/adapters/slack/sdk_internals.py"
        assert (
            use_connection_url(client, "wss://127.0.0.1:1/link")
            and client.wss_uri == "wss://127.0.0.1:1/link"
        )
    finally:
        await client.close()
    assert not use_connection_url(object(), "wss://127.0.0.1:1/link")  # a release without it
    assert "event=slack_sdk_internals_changed" in caplog.text and "missing=object.wss_uri" in caplog.text
