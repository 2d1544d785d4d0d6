"""An answer's diagram on Slack, through the real bolt app and the fake Web API: uploaded with
files_upload_v2 (getUploadURLExternal, the bytes, completeUploadExternal) into the answer's
channel and thread, after the answer; refused uploads leave the text answer alone."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.app import build_service
from tests.diagram_kb import kb_with_diagram, png_bytes

from .conftest import MakeBot, SlackBot
from .slack_fakes import BOT_USER, FakeSlack, button
from .slack_requests import click_payload
from .test_slack_events import mention, message

UPLOAD_METHODS = ("files.getUploadURLExternal", "upload", "files.completeUploadExternal")


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return kb_with_diagram(tmp_path)


@pytest.fixture
async def bot(make_bot: MakeBot, kb: Path) -> SlackBot:
    return await make_bot(service=build_service(kb))


def methods(fake: FakeSlack) -> list[str]:
    return [c.method for c in fake.calls if c.method != "auth.test"]


def check_upload(fake: FakeSlack, kb: Path, channel: str, thread_ts: str | None) -> str:
    """The three upload calls carry the PNG and land in channel/thread_ts; returns the file id."""
    [url_call] = fake.of("files.getUploadURLExternal")
    data = png_bytes(kb)
    assert url_call.data["filename"] == "pod.png" and int(url_call.data["length"]) == len(data)
    assert url_call.data["alt_txt"].startswith("Diagram: What is a Pod? A Pod is to containers")
    [upload] = fake.of("upload")
    file_id = upload.data["file_id"]
    assert fake.uploads[file_id] == data  # the committed PNG, byte for byte
    [complete] = fake.of("files.completeUploadExternal")
    assert complete.data["files"] == [{"id": file_id, "title": "What is a Pod?"}]
    assert complete.data["channel_id"] == channel
    assert complete.data.get("thread_ts") == thread_ts
    return str(file_id)


async def test_a_mention_gets_the_answer_then_its_diagram_in_the_same_thread(bot: SlackBot, kb: Path) -> None:
    await bot.slack.event(mention(f"<@{BOT_USER}> what is a pod", ts="111.000100"))
    await bot.settle()
    assert methods(bot.fake) == ["chat.postMessage", *UPLOAD_METHODS]  # text first, then the picture
    [post] = bot.fake.of("chat.postMessage")
    assert (post.data["channel"], post.data["thread_ts"]) == ("C1", "111.000100")
    check_upload(bot.fake, kb, "C1", "111.000100")


async def test_a_dm_gets_the_diagram_in_the_dm(bot: SlackBot, kb: Path) -> None:
    await bot.slack.event(message("what is a pod", channel="D42", channel_type="im"))
    await bot.settle()
    check_upload(bot.fake, kb, "D42", None)


async def test_answers_without_a_diagram_upload_nothing(bot: SlackBot) -> None:
    await bot.slack.event(mention(f"<@{BOT_USER}> what is a node"))
    await bot.slack.event(mention(f"<@{BOT_USER}> banana bread recipe", ts="1700000000.000900"))
    await bot.settle()
    assert methods(bot.fake) == ["chat.postMessage", "chat.postMessage"]


async def test_ephemeral_slash_command_answers_stay_text_only(bot: SlackBot) -> None:
    await bot.command("what is a pod")
    await bot.settle()
    assert methods(bot.fake) == ["response_url"]


async def test_share_in_channel_posts_the_diagram_under_the_shared_answer(bot: SlackBot, kb: Path) -> None:
    await bot.command("what is a pod")
    await bot.settle()
    [reply] = bot.fake.of("response_url")
    value = button(reply.data, "kubebot_share")["value"]
    await bot.slack.click(click_payload("kubebot_share", value, response_url=bot.fake.response_url("s1")))
    await bot.settle()
    assert methods(bot.fake)[1:3] == ["chat.postMessage", "files.getUploadURLExternal"]
    check_upload(bot.fake, kb, "C1", None)


async def test_a_tour_step_in_a_dm_is_posted_anew_with_its_diagram(bot: SlackBot, kb: Path) -> None:
    await bot.slack.event(message("learn", channel="D3", channel_type="im"))
    await bot.settle()
    [step1] = bot.fake.of("chat.postMessage")  # vms-old-way: no diagram in the fixture KB
    value = button(step1.data, "kubebot_tour_next")["value"]

    async def next_step(value: str, rid: str) -> dict[str, Any]:
        payload = click_payload(
            "kubebot_tour_next", value, response_url=bot.fake.response_url(rid), channel="D3", ephemeral=False
        )
        await bot.slack.click(payload)
        await bot.settle()
        [posted] = [c.data for c in bot.fake.of("response_url") if c.path.endswith(rid)]
        return posted

    step2 = await next_step(value, "r2")  # container: no diagram, replaced in place as before
    assert step2["replace_original"] is True and bot.fake.of("upload") == []
    step3 = await next_step(button(step2, "kubebot_tour_next")["value"], "r3")  # pod: has one
    assert step3["replace_original"] is False  # a new message, so the picture sits right under it
    check_upload(bot.fake, kb, "D3", None)


async def test_a_workspace_that_refuses_uploads_is_logged_once_and_not_asked_again(
    bot: SlackBot, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.fail("files.getUploadURLExternal", 200, error="missing_scope")
    with caplog.at_level(logging.INFO, logger="kubebot.slack"):
        await bot.slack.event(mention(f"<@{BOT_USER}> what is a pod", ts="1.000100"))
        await bot.settle()
        await bot.slack.event(mention(f"<@{BOT_USER}> what is a pod", ts="2.000100"))
        await bot.settle()
    assert len(bot.fake.of("chat.postMessage")) == 2  # both answers arrived
    assert len(bot.fake.of("files.getUploadURLExternal")) == 1  # asked once
    [refused] = [r.getMessage() for r in caplog.records if "slack_diagram" in r.getMessage()]
    assert refused.startswith(
        "event=slack_diagram_disabled error=missing_scope hint=add the files:write scope"
    )


async def test_a_failed_upload_is_logged_once_per_answer_and_retried_next_time(
    bot: SlackBot, kb: Path, caplog: pytest.LogCaptureFixture
) -> None:
    bot.fake.fail("upload", 400, error="bad upload")
    with caplog.at_level(logging.INFO, logger="kubebot.slack"):
        await bot.slack.event(mention(f"<@{BOT_USER}> what is a pod", ts="1.000100"))
        await bot.settle()
    failed = [r.getMessage() for r in caplog.records if "slack_diagram" in r.getMessage()]
    assert failed == ["event=slack_diagram_failed entry=pod error=SlackRequestError"]
    assert bot.fake.of("files.completeUploadExternal") == [] and len(bot.fake.of("chat.postMessage")) == 1
    await bot.slack.event(mention(f"<@{BOT_USER}> what is a pod", ts="2.000100"))
    await bot.settle()
    assert len(bot.fake.of("files.completeUploadExternal")) == 1  # not disabled by a one-off failure
