"""Gateway messages and members (MESSAGE_CREATE, GUILD_MEMBER_ADD) through discord.py's parsers,
and how REST failures (429, 403) are survived."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.adapters.discord.client import intents_for
from bot.models import ChannelType, ReplyKind
from tests.discord import discord_payloads as p
from tests.discord.conftest import start_bot
from tests.discord.discord_checks import assert_message_within_limits, assert_no_pings, custom_ids, text_of
from tests.discord.discord_fake import BOT_ID

CHANNEL_POSTS = rf"/channels/{p.CHANNEL_ID}/messages"


def mention(text: str, **kw: Any) -> dict[str, Any]:
    return p.message_create(f"<@{BOT_ID}> {text}", mentions=(p.bot_mention(),), **kw)


async def sent(fake: Any, path: str, count: int = 1) -> list[dict[str, Any]]:
    bodies = [r.body for r in await fake.wait_for("POST", path, count)]
    for body in bodies:
        assert_message_within_limits(body)
        assert_no_pings(body)
    return bodies


# -- mentions and DMs ----------------------------------------------------------------------------
async def test_mention_gets_a_reply_to_that_message(bot, fake, recorder):
    payload = mention("what is a pod")
    bot.client._connection.parse_message_create(payload)
    (body,) = await sent(fake, CHANNEL_POSTS)
    assert str(body["message_reference"]["message_id"]) == payload["id"]
    assert body["allowed_mentions"] == {"parse": [], "replied_user": False}
    assert body["embeds"][0]["title"] == "What is a Pod?"
    ids = custom_ids(body)
    assert "kb:fb:up:pod:what is a pod" in ids and "kb:share" not in ids  # public already
    (record,) = recorder.questions
    assert record.text == "what is a pod" and record.channel_type is ChannelType.CHANNEL


async def test_mention_of_the_bots_role_counts(bot, fake):
    bot.client._connection.parse_message_create(
        p.message_create(f"<@&{p.BOT_ROLE_ID}> what is a node", mention_roles=(p.BOT_ROLE_ID,))
    )
    (body,) = await sent(fake, CHANNEL_POSTS)
    assert body["embeds"][0]["title"] == "What is a Node?"


async def test_mention_with_everyone_does_not_ping(bot, fake):
    bot.client._connection.parse_message_create(
        mention("@everyone @here is it raining <@&1234567890123456789>")
    )
    (body,) = await sent(fake, CHANNEL_POSTS)
    text = text_of(body)
    assert "@everyone" not in text and "@here" not in text and "<@&1234567890123456789>" not in text
    assert body["allowed_mentions"]["parse"] == []


async def test_direct_message_is_answered_in_the_dm(bot, fake, recorder):
    bot.client._connection.parse_message_create(p.message_create("what is a service", dm=True))
    (body,) = await sent(fake, rf"/channels/{p.DM_CHANNEL_ID}/messages")
    assert "message_reference" not in body
    assert body["embeds"][0]["title"] == "What is a Service?"
    assert recorder.questions[0].channel_type is ChannelType.DIRECT


async def test_commands_typed_in_a_dm(bot, fake):
    bot.client._connection.parse_message_create(p.message_create("learn", dm=True))
    (body,) = await sent(fake, rf"/channels/{p.DM_CHANNEL_ID}/messages")
    assert "kb:tour:onboarding:1" in custom_ids(body)


async def test_bots_and_itself_are_ignored(bot, fake):
    state = bot.client._connection
    state.parse_message_create(mention("what is a pod", author_id=p.OTHER_BOT_ID, bot=True))
    state.parse_message_create(p.message_create("what is a pod", author_id=BOT_ID, dm=True))
    state.parse_message_create(p.message_create("what is a pod"))  # not addressed, not a listened channel
    await fake.settle()
    assert fake.matching("POST", r"/channels/.*") == []


# -- passive mode ----------------------------------------------------------------------------------
async def test_passive_confident_answer_in_a_thread(bot, fake, recorder):
    payload = p.message_create("what is a pod", channel_id=p.LISTEN_CHANNEL_ID)
    bot.client._connection.parse_message_create(payload)
    (thread,) = await fake.wait_for(
        "POST", rf"/channels/{p.LISTEN_CHANNEL_ID}/messages/{payload['id']}/threads"
    )
    assert thread.body["name"] == "What is a Pod?"
    (body,) = await sent(fake, r"/channels/\d+/messages")
    assert body["embeds"][0]["title"] == "What is a Pod?"
    assert len(recorder.questions) == 1


async def test_passive_in_a_thread_of_a_listened_channel_replies_in_place(bot, fake):
    payload = p.message_create("what is a service", channel_id=p.THREAD_ID)
    bot.client._connection.parse_message_create(payload)
    (body,) = await sent(fake, rf"/channels/{p.THREAD_ID}/messages")
    assert str(body["message_reference"]["message_id"]) == payload["id"]
    assert fake.matching("POST", r"/channels/\d+/messages/\d+/threads") == []


async def test_passive_stays_silent_below_the_threshold(fake, recorder, service, settings):
    # an answered but weak match and a strong one; the passive minimum goes between them
    pool = ["deployment rolling", "is a node a vm?", "pods keep dying?", "what about a load balancer?"]
    weak = min((service.answer(q) for q in pool), key=lambda r: r.confidence if r.answered else 2.0)
    strong = service.answer("what is a deployment")
    assert weak.kind is ReplyKind.ANSWER and weak.confidence < strong.confidence
    between = (weak.confidence + strong.confidence) / 2
    bot = await start_bot(fake, service, replace(settings, passive_min=between))
    try:
        for text in (weak.question, "what's the weather today", "lol"):
            payload = p.message_create(text, channel_id=p.LISTEN_CHANNEL_ID)
            bot.client._connection.parse_message_create(payload)
        await fake.settle()
        assert fake.matching("POST", r"/channels/.*") == []
        assert recorder.questions == []  # chatter is not recorded as questions
    finally:
        await bot.client.close()


async def test_passive_answers_questions_only_like_slack(bot, fake, service, recorder, settings):
    # confidently answered when asked, but not questions: passive mode's one rule (bot.passive)
    statements = ("pods", "tell me about pods")
    assert all(service.answer(text).confidence >= settings.passive_min for text in statements)
    for text in statements:
        bot.client._connection.parse_message_create(p.message_create(text, channel_id=p.LISTEN_CHANNEL_ID))
    await fake.settle()
    assert fake.matching("POST", r"/channels/.*") == []
    assert recorder.questions == []


async def test_passive_falls_back_to_a_reply_without_thread_permission(bot, fake):
    fake.queue(
        "POST", r"/channels/\d+/messages/\d+/threads", 403, {"message": "Missing Permissions", "code": 50013}
    )
    payload = p.message_create("what is a deployment", channel_id=p.LISTEN_CHANNEL_ID)
    bot.client._connection.parse_message_create(payload)
    (body,) = await sent(fake, rf"/channels/{p.LISTEN_CHANNEL_ID}/messages")
    assert str(body["message_reference"]["message_id"]) == payload["id"]


async def test_passive_is_off_by_default(fake, service, settings):
    quiet = replace(settings, listen_channels=frozenset())
    assert intents_for(quiet).message_content is False
    assert intents_for(settings).message_content is True
    bot = await start_bot(fake, service, quiet)
    try:
        bot.client._connection.parse_message_create(
            p.message_create("what is a pod", channel_id=p.LISTEN_CHANNEL_ID)
        )
        await fake.settle()
    finally:
        await bot.client.close()
    assert fake.matching("POST", r"/channels/.*") == []


# -- onboarding ------------------------------------------------------------------------------------
async def test_new_member_gets_a_welcome_with_a_tour_button(fake, service, settings):
    config = replace(settings, members_intent=True, onboarding_channel=p.ONBOARDING_CHANNEL_ID)
    assert intents_for(config).members is True
    bot = await start_bot(fake, service, config)
    try:
        bot.client._connection.parse_guild_member_add(p.member_add(p.USER_ID))
        bot.client._connection.parse_guild_member_add(p.member_add(p.OTHER_BOT_ID, bot=True))
        (body,) = await sent(fake, rf"/channels/{p.ONBOARDING_CHANNEL_ID}/messages")
        await fake.settle()
    finally:
        await bot.client.close()
    assert body["content"].startswith(f"Welcome <@{p.USER_ID}>!")
    assert body["allowed_mentions"] == {"parse": []}
    start = body["components"][0]["components"][0]
    assert (
        start["custom_id"] == "kb:tour:onboarding:0"
        and start["label"] == "Start the tour: Kubernetes by analogy"
    )
    assert len(fake.matching("POST", r"/channels/.*")) == 1  # the bot that joined was not welcomed


# -- failures --------------------------------------------------------------------------------------
async def test_a_429_is_waited_out_and_retried(bot, fake):
    fake.rate_limit("POST", CHANNEL_POSTS, retry_after=0.05)
    bot.client._connection.parse_message_create(mention("what is a pod"))
    first, second = await sent(fake, CHANNEL_POSTS, count=2)
    assert first == second  # the same message, sent again after retry_after


async def test_a_429_on_an_interaction_callback_is_retried(bot, fake):
    fake.rate_limit("POST", r"/interactions/\d+/[^/]+/callback", retry_after=0.05)
    bot.client._connection.parse_interaction_create(p.command("topics"))
    calls = await fake.wait_for("POST", r"/interactions/\d+/[^/]+/callback", count=2)
    assert calls[0].body == calls[1].body and calls[1].body["type"] == 4


async def test_a_long_rate_limit_is_logged_and_survived(bot, fake, caplog):
    fake.rate_limit("POST", CHANNEL_POSTS, retry_after=3600)
    bot.client._connection.parse_message_create(mention("what is a pod"))
    await fake.wait_for("POST", CHANNEL_POSTS)
    await fake.settle(lambda: "event=send_failed" in caplog.text, timeout=2)
    assert "event=send_failed where=channel error=RateLimited" in caplog.text
    bot.client._connection.parse_message_create(mention("what is a node"))
    bodies = await sent(fake, CHANNEL_POSTS, count=2)
    assert bodies[-1]["embeds"][0]["title"] == "What is a Node?"


async def test_http_errors_are_logged_and_survived(bot, fake, caplog):
    fake.queue("POST", CHANNEL_POSTS, 403, {"message": "Missing Permissions", "code": 50013})
    bot.client._connection.parse_message_create(mention("what is a pod"))
    await fake.settle(lambda: "event=send_failed" in caplog.text, timeout=2)
    assert "event=send_failed where=channel error=Forbidden status=403 code=50013" in caplog.text


async def test_a_whole_pasted_post_gets_the_right_answer_in_one_reply(bot, fake, recorder):
    post = (
        "pods keep restarting after the deploy, any idea?\n```\n$ kubectl get pods\n"
        "NAME                     READY   STATUS             RESTARTS   AGE\n"
        "api-7d9f8b6c5-x2k4z      0/1     CrashLoopBackOff   7          12m\n"
        "    State:          Waiting\n      Reason:       CrashLoopBackOff\n"
        "    Last State:     Terminated\n      Reason:       Error\n      Exit Code:    1\n"
        "  Warning  BackOff  2m (x30 over 11m)  kubelet  Back-off restarting failed container api\n```\n"
        "the image runs fine locally"
    )
    bot.client._connection.parse_message_create(mention(post))
    (body,) = await sent(fake, CHANNEL_POSTS)
    assert body["embeds"][0]["title"] == "Why is my pod in CrashLoopBackOff?"
    await fake.settle()
    assert len(fake.matching("POST", CHANNEL_POSTS)) == 1, "one reply"
    (record,) = recorder.questions
    assert record.entry_id == "crashloopbackoff" and record.band.answers and "\n" in record.text
