"""Junk on /slack/events: the signature is checked before the body is parsed, so malformed or
unsigned requests get 401/400 with one log line and no traceback (anyone can reach the endpoint)."""

from __future__ import annotations

import logging
import time
import urllib.parse

import pytest
from hypothesis import given
from hypothesis import strategies as st

from .conftest import SlackBot
from .slack_requests import command_body

JUNK = {
    "malformed-json": ('{"type": "event_callback", "event": {', "application/json"),
    "json-array": ('[{"type": "event_callback"}]', "application/json"),
    "broken-payload": (
        "payload=" + urllib.parse.quote('{"type": "block_actions", '),
        "application/x-www-form-urlencoded",
    ),
    "empty": ("", "application/json"),
    "not-utf8": ("\udcff\udcfe", "application/json"),
}


def count_lines(caplog: pytest.LogCaptureFixture) -> tuple[int, bool]:
    records = [r for r in caplog.records if r.levelno >= logging.INFO]
    return len(records), any(r.exc_info for r in caplog.records) or "Traceback" in caplog.text


@pytest.fixture
def logs(bot: SlackBot, caplog: pytest.LogCaptureFixture) -> pytest.LogCaptureFixture:
    """What is logged from INFO up once the bot has started (its start-up lines left out)."""
    caplog.clear()
    caplog.set_level(logging.INFO)
    return caplog


async def post_raw(bot: SlackBot, body: bytes, headers: dict[str, str]) -> int:
    async with bot.slack.session.post(bot.slack.url, data=body, headers=headers) as resp:
        await resp.read()
        return resp.status


def encode(text: str) -> bytes:
    return text.encode("utf-8", "surrogateescape")


@pytest.mark.parametrize("kind", sorted(JUNK))
async def test_unsigned_junk_gets_401_and_one_log_line(
    bot: SlackBot, kind: str, logs: pytest.LogCaptureFixture
) -> None:
    body, content_type = JUNK[kind]
    assert await post_raw(bot, encode(body), {"Content-Type": content_type}) == 401
    assert count_lines(logs) == (1, False)
    assert "event=slack_request_rejected status=401 reason=unsigned" in logs.text


@pytest.mark.parametrize("timestamp", ["abc", "1e9", "-5", "１７００", " 17", "9" * 40])
async def test_a_non_numeric_timestamp_gets_401_not_a_crash(
    bot: SlackBot, timestamp: str, logs: pytest.LogCaptureFixture
) -> None:
    body, content_type = command_body("what is a pod", response_url=bot.fake.response_url())
    headers = {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": "v0=00",
    }
    assert await post_raw(bot, body.encode(), headers) == 401
    assert count_lines(logs) == (1, False)
    await bot.settle()
    assert bot.fake.replies == []


@pytest.mark.parametrize("kind", ["malformed-json", "json-array", "broken-payload", "empty"])
async def test_signed_junk_gets_400_and_one_log_line(
    bot: SlackBot, kind: str, logs: pytest.LogCaptureFixture
) -> None:
    body, content_type = JUNK[kind]
    headers = bot.slack.signed_headers(body, content_type)
    assert await post_raw(bot, encode(body), headers) == 400
    assert count_lines(logs) == (1, False)
    assert "event=slack_request_rejected status=400" in logs.text
    await bot.settle()
    assert bot.fake.replies == []


async def test_three_hundred_junk_requests_cost_three_hundred_short_lines(
    bot: SlackBot, logs: pytest.LogCaptureFixture
) -> None:
    bodies = [JUNK[k] for k in ("malformed-json", "json-array", "broken-payload")] * 100
    for body, content_type in bodies:
        stale = {"X-Slack-Request-Timestamp": str(int(time.time())), "X-Slack-Signature": "v0=" + "0" * 64}
        assert await post_raw(bot, body.encode(), {"Content-Type": content_type, **stale}) == 401
    lines, traceback = count_lines(logs)
    assert (lines, traceback) == (300, False)
    assert len(logs.text) < 300 * 200  # today: 437 KB of tracebacks for 300 requests
    assert bot.fake.calls[1:] == []  # only the start-up auth.test ever reached Slack


def _reference_problem(text: str) -> str | None:
    """parse_problem's form branch as it was: every field decoded (the ack path now decodes names only)."""
    import json

    try:
        fields = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
        payload = fields.get("payload")
        parsed = json.loads(payload) if payload is not None else fields
    except ValueError:
        return "malformed"
    return None if isinstance(parsed, dict) and parsed else "not_an_object"


NAMES = ["payload", "%70ayload", "p%61yload", "pay+load", "text", "", "%ZZ", "payload%"]
VALUES = ["", "{}", "%7B%22a%22%3A1%7D", '{"a":1}', "[1]", "%5B%5D", "x", "%ZZ", "+", "=", "%C3%A9"]
FIELD = st.tuples(st.sampled_from(NAMES), st.booleans(), st.sampled_from(VALUES))


@given(st.lists(FIELD, max_size=6), st.sampled_from(["", "&", "&&"]))
def test_a_form_body_is_judged_as_parse_qsl_would(fields: list[tuple[str, bool, str]], extra: str) -> None:
    from bot.adapters.slack.web import parse_problem

    text = "&".join(name + ("=" + value if eq else "") for name, eq, value in fields) + extra
    if not text or text.startswith(("{", "[")):
        return  # empty and JSON-looking bodies take the other branches
    assert parse_problem(text, "application/x-www-form-urlencoded") == _reference_problem(text)
