"""A replayed signed slash command (same trigger_id, within Slack's 5-minute signature window) is
answered once; two different commands with the same text are both answered."""

from __future__ import annotations

from .conftest import SlackBot
from .slack_requests import command_body


async def test_a_replayed_slash_command_is_answered_once(bot: SlackBot) -> None:
    body, content_type = command_body("what is a pod", response_url=bot.fake.response_url("once"))
    headers = bot.slack.signed_headers(body, content_type)
    first = await bot.slack.post(body, content_type, headers)
    replay = await bot.slack.post(body, content_type, headers)  # byte for byte, still validly signed
    assert first == replay == (200, "")
    await bot.settle()
    assert len(bot.fake.of("response_url")) == 1
    assert len(bot.recorder.questions) == 1


async def test_commands_with_different_trigger_ids_are_all_answered(bot: SlackBot) -> None:
    for _ in range(3):
        assert (await bot.command("what is a pod"))[0] == 200
    await bot.settle()
    assert len(bot.fake.of("response_url")) == 3


async def test_a_command_mentioning_payload_is_answered(bot: SlackBot) -> None:
    # bolt reads any form body containing "payload" as a `payload=` body (and finds nothing)
    assert (await bot.command("how do i send a json payload to a pod"))[0] == 200
    await bot.settle()
    [reply] = bot.fake.of("response_url")
    assert reply.data["text"]
