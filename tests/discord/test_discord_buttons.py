"""Button clicks (INTERACTION_CREATE type 3) on messages rebuilt from what the bot really sent."""

from __future__ import annotations

from typing import Any

import pytest

from bot.models import ChannelType, PickKind, Platform
from bot.ports import FeedbackRecord, PickRecord
from tests.discord import discord_payloads as p
from tests.discord.conftest import start_bot
from tests.discord.discord_checks import assert_message_within_limits, assert_no_pings, button, custom_ids

CALLBACK = r"/interactions/\d+/[^/]+/callback"
ORIGINAL = r"/webhooks/\d+/[^/]+/messages/@original"


async def command_message(bot: Any, fake: Any, payload: dict[str, Any]) -> dict[str, Any]:
    """Run a command and return the ephemeral message the user now sees (as Discord would send it)."""
    bot.client._connection.parse_interaction_create(payload)
    if payload["data"]["options"][0]["name"] == "ask":
        sent = (await fake.wait_for("PATCH", ORIGINAL))[0].body
    else:
        sent = (await fake.wait_for("POST", CALLBACK))[0].body["data"]
    fake.requests.clear()
    return p.sent_message({**sent, "flags": 64})


async def click(bot: Any, fake: Any, custom_id: str, message: dict[str, Any]) -> dict[str, Any]:
    """Click a button the message carries; return the interaction callback body."""
    if custom_id.startswith("kb:"):
        assert custom_id in custom_ids(message), f"{custom_id} not on the message: {custom_ids(message)}"
    bot.client._connection.parse_interaction_create(p.click(custom_id, message))
    (callback,) = await fake.wait_for("POST", CALLBACK)
    fake.requests.clear()
    body = dict(callback.body)
    assert_message_within_limits(body["data"])
    assert_no_pings(body["data"])
    return body


async def test_see_also_button_shows_the_entry(bot, fake):
    message = await command_message(bot, fake, p.command("ask", question="what is a pod"))
    body = await click(bot, fake, "kb:entry:node", message)
    assert body["type"] == 4 and body["data"]["flags"] == 64
    assert body["data"]["embeds"][0]["title"] == "What is a Node?"
    assert "kb:share" in custom_ids(body["data"])


async def test_did_you_mean_button_shows_the_candidate(unsure_bot, fake, unsure_service, recorder):
    bot, service = unsure_bot, unsure_service
    question = "what runs my containers"
    first = service.answer(question).suggestions[0]
    message = await command_message(bot, fake, p.command("ask", question=question))
    body = await click(bot, fake, f"kb:pick:d:{first.entry_id}:{question}", message)
    assert body["data"]["embeds"][0]["title"] == first.title
    # the click is recorded as a pick: the entry this question was after
    assert recorder.picks == [
        PickRecord(question, first.entry_id, PickKind.DID_YOU_MEAN, Platform.DISCORD, ChannelType.COMMAND)
    ]


async def test_feedback_is_recorded_with_the_question(bot, fake, recorder):
    message = await command_message(bot, fake, p.command("ask", question="what is a pod"))
    body = await click(bot, fake, "kb:fb:up:pod:what is a pod", message)
    assert body["type"] == 4 and body["data"]["flags"] == 64 and "Thanks" in body["data"]["content"]
    assert recorder.feedback == [
        FeedbackRecord("pod", True, Platform.DISCORD, ChannelType.COMMAND, "what is a pod")
    ]


async def test_negative_feedback_on_a_decline(bot, fake, recorder):
    message = await command_message(bot, fake, p.command("ask", question="what is the weather"))
    down = next(i for i in custom_ids(message) if i.startswith("kb:fb:down:"))
    await click(bot, fake, down, message)
    (record,) = recorder.feedback
    assert (record.entry_id, record.helpful, record.question) == (None, False, "what is the weather")


async def test_feedback_on_a_channel_reply_is_a_channel_record(bot, fake, recorder):
    message = p.sent_message(
        {
            "embeds": [{"title": "x"}],
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 2, "custom_id": "kb:fb:down:pod", "emoji": {"name": "👎"}}
                    ],
                }
            ],
        },
        from_command=False,
    )
    await click(bot, fake, "kb:fb:down:pod", message)
    assert recorder.feedback == [FeedbackRecord("pod", False, Platform.DISCORD, ChannelType.CHANNEL, "")]


async def test_tour_next_and_back_edit_the_ephemeral_message_in_place(bot, fake):
    message = await command_message(bot, fake, p.command("learn"))
    body = await click(bot, fake, "kb:tour:onboarding:1", message)
    assert body["type"] == 7  # UPDATE_MESSAGE
    data = body["data"]
    assert data["embeds"][0]["title"] == "What is a container?"
    assert data["embeds"][0]["footer"]["text"] == "Kubernetes by analogy · step 2 of 7"
    assert button(data, "kb:tour:onboarding:0")["label"] == "Back"
    assert button(data, "kb:tour:onboarding:2")["label"] == "Next"
    back = await click(bot, fake, "kb:tour:onboarding:0", p.sent_message({**data, "flags": 64}))
    assert back["type"] == 7 and back["data"]["embeds"][0]["footer"]["text"].endswith("step 1 of 7")


async def test_tour_last_step_has_no_next_and_index_is_clamped(bot, fake):
    message = p.sent_message(
        {
            "flags": 64,
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 1, "label": "Next", "custom_id": "kb:tour:onboarding:99"}
                    ],
                }
            ],
        }
    )
    body = await click(bot, fake, "kb:tour:onboarding:99", message)
    ids = custom_ids(body["data"])
    assert "kb:tour:onboarding:5" in ids and not any(i.startswith("kb:tour:onboarding:7") for i in ids)
    assert body["data"]["embeds"][0]["footer"]["text"].endswith("step 7 of 7")


async def test_tour_from_a_public_message_opens_a_private_one(bot, fake):
    welcome = p.sent_message(
        {
            "content": "Welcome!",
            "components": [
                {
                    "type": 1,
                    "components": [
                        {"type": 2, "style": 1, "label": "Start", "custom_id": "kb:tour:onboarding:0"}
                    ],
                }
            ],
        },
        from_command=False,
    )
    body = await click(bot, fake, "kb:tour:onboarding:0", welcome)
    assert body["type"] == 4 and body["data"]["flags"] == 64
    assert body["data"]["embeds"][0]["footer"]["text"].endswith("step 1 of 7")


async def test_share_reposts_publicly_without_pinging(bot, fake):
    message = await command_message(bot, fake, p.command("ask", question="what is a pod"))
    body = await click(bot, fake, "kb:share", message)
    data = body["data"]
    assert body["type"] == 4 and not (data.get("flags") or 0) & 64
    assert data["content"] == f"Shared by <@{p.USER_ID}>"
    assert data["allowed_mentions"] == {"parse": []}  # the mention renders but does not ping
    assert data["embeds"][0]["title"] == "What is a Pod?"
    assert data["embeds"][0]["description"] == message["embeds"][0]["description"]
    ids = custom_ids(data)
    assert "kb:share" not in ids and "kb:entry:node" in ids and "kb:fb:up:pod:what is a pod" in ids


async def test_topics_button(bot, fake):
    message = await command_message(bot, fake, p.command("help"))
    body = await click(bot, fake, "kb:topics", message)
    assert body["data"]["embeds"][0]["fields"][0]["name"] == "api"


async def test_button_for_a_removed_entry(bot, fake):
    message = p.sent_message(
        {
            "flags": 64,
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 2, "label": "Old", "custom_id": "kb:entry:gone"}],
                }
            ],
        }
    )
    body = await click(bot, fake, "kb:entry:gone", message)
    assert "no longer exists" in body["data"]["embeds"][0]["description"]


@pytest.mark.parametrize("custom_id", ["kb:v0:something", "persistent:1234"])  # an old version; not ours
async def test_an_unknown_custom_id_says_it_expired(bot, fake, custom_id):
    message = p.sent_message(
        {
            "components": [
                {
                    "type": 1,
                    "components": [{"type": 2, "style": 2, "label": "Old", "custom_id": custom_id}],
                }
            ]
        }
    )
    body = await click(bot, fake, custom_id, message)
    assert body["type"] == 4 and body["data"]["flags"] == 64 and "expired" in body["data"]["content"]


async def test_buttons_keep_working_after_a_restart(fake, service, settings):
    first = await start_bot(fake, service, settings)
    message = await command_message(first, fake, p.command("ask", question="what is a pod"))
    await first.client.close()
    second = await start_bot(fake, service, settings)  # a new process: no view was ever added to it
    try:
        body = await click(second, fake, "kb:entry:deployment", message)
    finally:
        await second.client.close()
    assert body["data"]["embeds"][0]["title"] == "What is a Deployment?"


async def test_sent_views_are_not_tracked_by_discord_py(bot, fake):
    message = await command_message(bot, fake, p.command("ask", question="what is a pod"))
    await click(bot, fake, "kb:entry:node", message)
    store = bot.client._connection._view_store
    assert store._views == {} and store._synced_message_views == {}
    assert len(store._dynamic_items) == 1  # the one kb: template, still registered
