"""Signatures, Web API failures and retries: the app never processes forged requests and never
crashes when Slack misbehaves."""

from __future__ import annotations

import json
import logging
import time
import urllib.parse

import pytest
from slack_sdk.signature import SignatureVerifier

from .conftest import SlackBot
from .slack_requests import app_mention, command_body, event_callback

STALE = 6 * 60  # Slack's replay window is 5 minutes


@pytest.mark.parametrize("problem", ["missing", "stale", "wrong", "other-secret", "tampered"])
async def test_bad_signatures_get_401_and_nothing_is_processed(bot: SlackBot, problem: str) -> None:
    body, content_type = command_body("what is a pod", response_url=bot.fake.response_url())
    headers = bot.slack.signed_headers(body, content_type)
    if problem == "missing":
        headers = {"Content-Type": content_type}
    elif problem == "stale":
        headers = bot.slack.signed_headers(body, content_type, timestamp=int(time.time()) - STALE)
    elif problem == "wrong":
        headers["X-Slack-Signature"] = "v0=" + "0" * 64
    elif problem == "other-secret":
        ts = headers["X-Slack-Request-Timestamp"]
        headers["X-Slack-Signature"] = (
            SignatureVerifier("not-the-secret").generate_signature(timestamp=ts, body=body) or ""
        )
    elif problem == "tampered":
        body = body.replace(urllib.parse.quote_plus("what is a pod"), "help")
    status, text = await bot.slack.post(body, content_type, headers)
    assert status == 401
    assert "invalid request" in text
    await bot.settle()
    assert [c.method for c in bot.fake.calls] == ["auth.test"]  # only the start-up one
    assert bot.recorder.questions == []


async def test_signed_event_with_bad_signature_is_rejected_too(bot: SlackBot) -> None:
    body = json.dumps(
        event_callback(
            app_mention("pod", "1.1"),
            "EvX",
        )
    )
    headers = bot.slack.signed_headers(body, "application/json", timestamp=int(time.time()) - STALE)
    assert (await bot.slack.post(body, "application/json", headers))[0] == 401
    await bot.settle()
    assert bot.fake.replies == []


async def test_rate_limited_post_is_retried_after_retry_after(bot: SlackBot) -> None:
    bot.fake.fail("chat.postMessage", 429, error="ratelimited", headers={"Retry-After": "0"})
    await bot.slack.event(app_mention("what is a pod", "5.1"))
    posts = await bot.fake.wait_for("chat.postMessage", count=2)
    assert posts[0].data == posts[1].data  # the same message, sent again
    await bot.settle()
    assert len(bot.fake.of("chat.postMessage")) == 2


async def test_server_errors_on_response_url_are_retried(bot: SlackBot) -> None:
    bot.fake.fail("response_url", 503, error="unavailable")
    await bot.command("what is a pod")
    replies = await bot.fake.wait_for("response_url", count=2)
    assert replies[0].data["text"] == replies[1].data["text"] == "What is a Pod?"


async def test_a_failed_reply_is_logged_and_the_app_keeps_answering(
    bot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kubebot.slack")
    bot.fake.fail("chat.postMessage", 200, error="channel_not_found")
    event = app_mention("what is a pod", "6.1")
    assert (await bot.slack.event(event))[0] == 200
    await bot.settle()
    assert "event=slack_send_failed method=chat.postMessage error=channel_not_found" in caplog.text
    assert (await bot.slack.event({**event, "ts": "6.2"}))[0] == 200
    await bot.settle()
    assert len(bot.fake.of("chat.postMessage")) == 2
    assert "xoxb-" not in caplog.text  # tokens never logged


async def test_unreachable_response_url_is_logged_not_raised(
    bot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kubebot.slack")
    assert (await bot.command("what is a pod", response_url="http://127.0.0.1:9/nowhere"))[0] == 200
    await bot.settle()
    assert "event=slack_send_failed method=response_url" in caplog.text
    assert (await bot.command("what is a node"))[0] == 200
    await bot.fake.wait_for("response_url")
