"""Pure parts of the adapter: text escaping and splitting, button values, event helpers, dedupe,
rendering at Slack's limits, settings."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.adapters.slack import actions as act
from bot.adapters.slack import events as ev
from bot.adapters.slack.blocks import CUT_NOTE, MAX_MESSAGES, was_cut
from bot.adapters.slack.config import SlackSettings
from bot.adapters.slack.dedupe import SeenKeys
from bot.adapters.slack.mrkdwn import escape, from_slack, split_mrkdwn, strip_mention
from bot.adapters.slack.render import PUBLIC, Controls, render_reply
from bot.config import ConfigError
from bot.models import Candidate, ChannelType, ClusterReport, Entry, Reply, ReplyKind, Tip, TopicGroup

from .slack_fakes import block_problems, texts_of

# -- mrkdwn --------------------------------------------------------------------------------------


def test_escape_only_touches_slacks_three_characters() -> None:
    assert (
        escape("a & b <!channel> 'q' \"x\" *bold* `code`")
        == "a &amp; b &lt;!channel&gt; 'q' \"x\" *bold* `code`"
    )


def test_from_slack_shows_what_the_user_saw() -> None:
    raw = (
        "hi <@U123> <@U9|bob> in <#C1|general> <!here> <!subteam^S1|@devs> "
        "<https://k8s.io|docs> <https://x.io> &lt;b&gt; &amp;lt;"
    )
    assert from_slack(raw) == "hi @U123 @bob in #general @here @devs docs https://x.io <b> &lt;"


def test_strip_mention_removes_only_the_bot() -> None:
    assert strip_mention("<@UBOT> what is <@U2> doing <@UBOT|kubebot>", "UBOT") == "what is <@U2> doing"


@given(
    st.text(alphabet=st.sampled_from("ab &<>`\n*"), max_size=3000), st.integers(min_value=40, max_value=400)
)
def test_split_mrkdwn_respects_the_limit_and_keeps_everything(text: str, limit: int) -> None:
    escaped = escape(text)
    chunks = split_mrkdwn(escaped, limit)
    assert all(0 < len(c) <= limit for c in chunks)
    for chunk in chunks:
        assert not chunk.rstrip("`").endswith(("&", "&a", "&am", "&amp", "&l", "&lt", "&g", "&gt"))
    rejoined = "".join(chunks).replace("`", "")
    assert "".join(rejoined.split()) == "".join(escaped.strip("\n").replace("`", "").split())


def test_split_mrkdwn_closes_and_reopens_code_blocks() -> None:
    text = "intro\n```" + "\n".join(f"line {i}" for i in range(200)) + "```\nafter"
    chunks = split_mrkdwn(text, 300)
    assert len(chunks) > 3
    assert all(c.count("```") % 2 == 0 for c in chunks)
    assert chunks[1].startswith("```")


# -- button values -------------------------------------------------------------------------------


def test_button_values_round_trip_and_fit() -> None:
    long_question = "why " * 1000
    ref = act.FeedbackRef("pod", long_question)
    encoded = ref.encode()
    assert len(encoded) <= 2000
    decoded = act.FeedbackRef.decode(encoded)
    assert decoded is not None and decoded.entry_id == "pod" and long_question.startswith(decoded.question)
    share = act.ShareRef(ReplyKind.TOUR, "learn", None, act.TourRef("debugging-101", 1), "1.2")
    assert act.ShareRef.decode(share.encode()) == share
    assert act.TourRef.decode("onboarding:3") == act.TourRef("onboarding", 3)
    assert act.TourRef.decode(":0") == act.TourRef("", 0)


@pytest.mark.parametrize(
    "value", ["", "x", "onboarding:-1", "../x:1", "{", "[]", '{"k": "nope"}', '{"e": "../"}']
)
def test_bad_button_values_decode_to_none(value: str) -> None:
    assert act.TourRef.decode(value) is None
    assert act.ShareRef.decode(value) is None
    assert act.FeedbackRef.decode(value) is None


# -- events --------------------------------------------------------------------------------------
def test_events_map_to_messages() -> None:
    message = ev.event_message(
        {"text": "<@UBOT> what is &lt;b&gt;", "channel": "C1", "user": "U1"}, "UBOT", ChannelType.CHANNEL
    )
    assert (message.text, message.channel_id, message.person.id) == ("what is <b>", "C1", "U1")
    assert ev.event_message({"text": "<@UBOT>", "channel": "C1"}, "UBOT", ChannelType.CHANNEL).text == "help"
    assert ev.channel_type_of("D1") is ChannelType.DIRECT
    assert ev.channel_type_of("C1", "channel") is ChannelType.CHANNEL
    assert (
        ev.command_message({"text": "", "channel_id": "C1", "user_id": "U1"}).channel_type
        is ChannelType.COMMAND
    )


# -- dedupe --------------------------------------------------------------------------------------


async def test_seen_keys_expire_and_stay_bounded() -> None:
    now = [0.0]
    seen = SeenKeys(ttl=10, max_keys=3, clock=lambda: now[0])
    assert await seen.claim("a") and not await seen.claim("a")
    now[0] = 10.0
    assert await seen.claim("a"), "expired after the TTL"
    for key in "bcde":
        assert await seen.claim(key)
    assert len(seen) == 3
    assert await seen.claim("b"), "the oldest keys are dropped first"


# -- rendering at the limits ---------------------------------------------------------------------


def big_entry(**changes: Any) -> Entry:
    base: dict[str, Any] = {
        "id": "big",
        "title": "T" * 400,
        "questions": ("q",),
        "answer": "word " * 9000,
        "sources": tuple(f"https://example.com/{i}?a=1&b=2" for i in range(30)),
        "analogy": "like <a> VM & more",
        "tips": tuple(Tip("tip <x>" * 50, "kubectl get pods -l 'app in (a,b)' > out.txt") for _ in range(20)),
    }
    base.update(changes)
    return Entry(**base)


def all_problems(reply: Reply, controls: Controls = PUBLIC) -> list[str]:
    problems = []
    for message in render_reply(reply, controls):
        data: dict[str, Any] = {"text": message.text, "blocks": message.block_dicts()}
        problems += block_problems(data["blocks"])
        problems += [t for t in texts_of(data) if "<!" in t]
    return problems


def test_huge_answer_with_many_buttons_fits_slack_limits() -> None:
    see_also = tuple(
        (f"e{i}", f"A related entry with a rather long title number {i} " * 3) for i in range(60)
    )
    reply = Reply(ReplyKind.ANSWER, "q <!channel>", "x", entry=big_entry(), see_also=see_also)
    messages = render_reply(reply, Controls(share=act.ShareRef(ReplyKind.ANSWER, "q " * 3000, "big")))
    assert len(messages) > 1
    assert all_problems(reply) == []
    ids = [
        e["action_id"]
        for m in messages
        for b in m.block_dicts()
        if b["type"] == "actions"
        for e in b["elements"]
    ]
    assert len([i for i in ids if i.startswith("kubebot_entry_")]) == 60
    text = " ".join(t for m in messages for t in texts_of({"blocks": m.block_dicts()}))
    assert "like &lt;a&gt; VM &amp; more" in text and "&gt; out.txt" not in text  # the tips were cut
    assert len(messages) == MAX_MESSAGES and was_cut(messages)
    assert CUT_NOTE in text


def test_a_reply_capped_to_one_message_keeps_its_feedback_and_share_buttons() -> None:
    see_also = tuple(
        (f"e{i}", f"A related entry with a rather long title number {i} " * 3) for i in range(60)
    )
    reply = Reply(ReplyKind.ANSWER, "q", "x", entry=big_entry(answer="word " * 2_000_000), see_also=see_also)
    [message] = render_reply(
        reply, Controls(share=act.ShareRef(ReplyKind.ANSWER, "q", "big")), max_messages=1
    )
    problems = block_problems(message.block_dicts())
    assert problems == [] and was_cut([message])
    ids = [e["action_id"] for b in message.block_dicts() if b["type"] == "actions" for e in b["elements"]]
    assert ids[-3:] == ["kubebot_feedback_up", "kubebot_feedback_down", "kubebot_share"]
    assert len(json.dumps(message.block_dicts())) < 13_000


def test_topics_with_many_entries_are_paged() -> None:
    groups = tuple(
        TopicGroup(f"tag{g}", tuple((f"e{g}-{i}", f"Entry <{i}> " * 8) for i in range(40))) for g in range(30)
    )
    reply = Reply(ReplyKind.TOPICS, "topics", "Topics I can explain:", topics=groups)
    messages = render_reply(reply)
    assert len(messages) > 1 and all_problems(reply) == []


def test_suggestions_and_cluster_errors_render() -> None:
    suggest = Reply(
        ReplyKind.SUGGEST,
        "kill",
        'I\'m not sure what you mean by "kill". Did you mean:\n  - x',
        suggestions=(Candidate("oomkilled", "What does OOMKilled mean?", 0.4),),
    )
    [message] = render_reply(suggest)
    assert [b["type"] for b in message.block_dicts()] == ["section", "actions"]
    error = Reply(
        ReplyKind.CLUSTER,
        "pods",
        "Pods: forbidden <by RBAC>",
        cluster=ClusterReport("Pods", error="forbidden"),
    )
    [message] = render_reply(error)
    assert message.block_dicts()[0]["text"]["text"] == "Pods: forbidden &lt;by RBAC&gt;"


# -- settings ------------------------------------------------------------------------------------


def test_settings_from_env() -> None:
    settings = SlackSettings.from_env(
        {
            "SLACK_BOT_TOKEN": "xoxb-1",
            "SLACK_APP_TOKEN": "xapp-1",
            "KUBEBOT_SLACK_COMMAND": "k8s",
            "KUBEBOT_SLACK_LISTEN_CHANNELS": "C1, C2,,",
            "KUBEBOT_SLACK_PASSIVE_MIN": "0.9",
            "KUBEBOT_SLACK_API_URL": "http://127.0.0.1:1/api",
        },
        http=False,
    )
    assert settings.command == "/k8s" and settings.listen_channels == {"C1", "C2"}
    assert settings.passive_min == 0.9 and settings.api_url == "http://127.0.0.1:1/api/"
    assert "xoxb" not in repr(settings) and "xapp" not in repr(settings)
    defaults = SlackSettings.from_env({"SLACK_BOT_TOKEN": "xoxb-1"})
    assert (defaults.command, defaults.passive_enabled, defaults.passive_min) == ("/kube", False, 0.75)


@pytest.mark.parametrize(
    ("env", "http", "message"),
    [
        ({}, None, "SLACK_BOT_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxp-user"}, None, "starting with xoxb-"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, False, "SLACK_APP_TOKEN is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xoxb-2"}, False, "starting with xapp-"),
        ({"SLACK_BOT_TOKEN": "xoxb-1"}, True, "SLACK_SIGNING_SECRET is not set"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "KUBEBOT_SLACK_PASSIVE_MIN": "high"}, None, "between 0 and 1"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "KUBEBOT_SLACK_PASSIVE_MIN": "2"}, None, "between 0 and 1"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "KUBEBOT_SLACK_COMMAND": "/two words"}, None, "one word"),
        ({"SLACK_BOT_TOKEN": "xoxb-1", "KUBEBOT_SLACK_API_URL": "slack.com"}, None, "http"),
    ],
)
def test_settings_errors_are_clear(env: dict[str, str], http: bool | None, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        SlackSettings.from_env(env, http=http)


# -- acks before answers -------------------------------------------------------------------------


async def test_replies_take_turns_behind_the_work_that_is_ready() -> None:
    from bot.adapters.slack.tasks import PostAckTasks

    background, order = PostAckTasks(), []

    async def reply(i: int) -> None:
        await background.turn()
        order.append(f"reply{i}")

    async def ack(i: int) -> None:
        for _ in range(3):  # an ack takes a few steps of the event loop
            await asyncio.sleep(0)
        order.append(f"ack{i}")

    for i in range(5):
        background.spawn(reply(i), "reply")
    acks = [asyncio.ensure_future(ack(i)) for i in range(5)]
    assert await background.drain(timeout=5)
    await asyncio.gather(*acks)
    assert order.index("reply0") < order.index("ack0")  # no starvation: the first reply goes at once
    assert order.index("reply4") > max(order.index(f"ack{i}") for i in range(5))  # the rest take turns
