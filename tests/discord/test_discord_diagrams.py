"""An answer's diagram on Discord, through discord.py and the fake REST API: the PNG is uploaded
with the answer (multipart `files[0]`) and shown in its embed as `attachment://pod.png`; a refused
upload is retried once without the picture."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.knowledge import load_knowledge
from bot.service import KnowledgeHolder, QAService, Snapshot
from tests.diagram_kb import kb_with_diagram, png_bytes
from tests.discord import discord_payloads as p
from tests.discord.discord_checks import assert_message_within_limits, assert_no_pings
from tests.discord.discord_fake import BOT_ID, FakeDiscord, Recorded
from tests.helpers import MemoryRecorder

from .test_discord_buttons import command_message

CHANNEL_POSTS = rf"/channels/{p.CHANNEL_ID}/messages"
CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"


@pytest.fixture
def kb(tmp_path: Path) -> Path:
    return kb_with_diagram(tmp_path)


@pytest.fixture
def service(recorder: MemoryRecorder, kb: Path) -> QAService:
    """Overrides the conftest's: the fixture KB with a diagram on `pod`."""
    return QAService(KnowledgeHolder(Snapshot.build(load_knowledge(kb))), recorder=recorder)


def mention(text: str) -> dict[str, Any]:
    return p.message_create(f"<@{BOT_ID}> {text}", mentions=(p.bot_mention(),))


def assert_carries_the_diagram(request: Recorded, data: dict[str, Any], kb: Path) -> None:
    assert request.files == [("pod.png", png_bytes(kb))]
    assert data["embeds"][-1]["image"]["url"] == "attachment://pod.png"
    [attachment] = data["attachments"]
    assert attachment["filename"] == "pod.png"
    assert attachment["description"].startswith("Diagram: What is a Pod? A Pod is to containers")
    assert_message_within_limits(data)
    assert_no_pings(data)


async def test_a_mention_is_answered_with_the_diagram_attached_and_shown(bot, fake: FakeDiscord, kb: Path):
    bot.client._connection.parse_message_create(mention("what is a pod"))
    [request] = await fake.wait_for("POST", CHANNEL_POSTS)
    assert request.body["embeds"][0]["title"] == "What is a Pod?"
    assert_carries_the_diagram(request, request.body, kb)


async def test_an_answer_without_a_diagram_is_plain_json(bot, fake: FakeDiscord):
    bot.client._connection.parse_message_create(mention("what is a node"))
    [request] = await fake.wait_for("POST", CHANNEL_POSTS)
    assert request.files == [] and "image" not in request.body["embeds"][0]


async def test_a_refused_upload_still_delivers_the_answer_and_is_logged_once(
    bot, fake: FakeDiscord, caplog: pytest.LogCaptureFixture
):
    fake.queue("POST", CHANNEL_POSTS, 403, {"message": "Missing Permissions", "code": 50013})
    with caplog.at_level(logging.WARNING, logger="kubebot.discord"):
        bot.client._connection.parse_message_create(mention("what is a pod"))
        refused, sent = await fake.wait_for("POST", CHANNEL_POSTS, count=2)
    assert refused.files and sent.files == []
    assert sent.body["embeds"][0]["title"] == "What is a Pod?" and "image" not in sent.body["embeds"][0]
    assert [r.getMessage() for r in caplog.records] == [
        "event=discord_diagram_refused where=channel entry=pod status=403 code=50013"
    ]


async def test_the_slash_command_answer_carries_the_diagram(bot, fake: FakeDiscord, kb: Path):
    bot.client._connection.parse_interaction_create(p.command("ask", question="what is a pod"))
    [edited] = await fake.wait_for("PATCH", ORIGINAL)
    assert_carries_the_diagram(edited, edited.body, kb)


async def test_tour_steps_swap_the_picture_in_place(bot, fake: FakeDiscord, kb: Path):
    message = await command_message(bot, fake, p.command("learn"))
    fake.requests.clear()
    # step 2 (container) has no diagram: the in-place edit drops any attachment
    bot.client._connection.parse_interaction_create(p.click("kb:tour:onboarding:1", message))
    [step2] = await fake.wait_for("POST", CALLBACK)
    assert step2.body["type"] == 7 and step2.files == [] and step2.data["attachments"] == []
    fake.requests.clear()
    # step 3 (pod) has one: the same message now carries it
    after = p.sent_message({**step2.data, "flags": 64})
    bot.client._connection.parse_interaction_create(p.click("kb:tour:onboarding:2", after))
    [step3] = await fake.wait_for("POST", CALLBACK)
    assert step3.body["type"] == 7 and step3.data["embeds"][0]["title"] == "What is a Pod?"
    assert_carries_the_diagram(step3, step3.data, kb)
