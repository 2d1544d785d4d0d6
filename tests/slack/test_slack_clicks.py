"""Button clicks (block_actions) through the real bolt app: share, feedback, tour, see-also, topics."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.decision import for_knowledge_base
from bot.knowledge import load_knowledge
from bot.match_settings import MatchSettings
from bot.matching import Matcher
from bot.models import Band, ChannelType, PickKind, Platform
from bot.ports import FeedbackRecord
from bot.service import KnowledgeHolder, QAService, Snapshot
from tests.helpers import MemoryRecorder

from .conftest import FIXTURE_KB, MakeBot, SlackBot
from .slack_fakes import action_ids, all_text, button
from .slack_requests import app_mention, click_payload


async def ask(bot: SlackBot, text: str) -> dict[str, Any]:
    """Run a slash command and return the ephemeral reply it produced."""
    before = len(bot.fake.of("response_url"))
    await bot.command(text)
    replies = await bot.fake.wait_for("response_url", count=before + 1)
    return replies[before].data


async def click(bot: SlackBot, reply: dict[str, Any], action_id: str, rid: str, **kwargs: Any) -> None:
    value = button(reply, action_id)["value"]
    payload = click_payload(action_id, value, response_url=bot.fake.response_url(rid), **kwargs)
    status, _ = await bot.slack.click(payload)
    assert status == 200
    await bot.settle()


def posted_to(bot: SlackBot, rid: str) -> list[dict[str, Any]]:
    return [c.data for c in bot.fake.of("response_url") if c.path.endswith("/" + rid)]


async def test_share_posts_the_answer_in_the_channel(bot: SlackBot) -> None:
    reply = await ask(bot, "what is a pod")
    await click(bot, reply, "kubebot_share", "share1")
    [post] = bot.fake.of("chat.postMessage")
    assert post.data["channel"] == "C1"
    assert post.data["text"] == "What is a Pod?"
    assert "Shared by <@U1>" in all_text(post.data)
    assert "kubebot_share" not in action_ids(post.data)
    assert {"kubebot_feedback_up", "kubebot_entry_0"} <= set(action_ids(post.data))
    assert posted_to(bot, "share1") == [{"delete_original": True}]  # the ephemeral copy goes away
    assert len(bot.recorder.questions) == 1, "sharing does not count the question again"


async def test_share_when_the_bot_is_not_in_the_channel_uses_the_response_url(bot: SlackBot) -> None:
    reply = await ask(bot, "help")
    bot.fake.fail("chat.postMessage", 200, error="not_in_channel")
    await click(bot, reply, "kubebot_share", "share2")
    public, deleted = posted_to(bot, "share2")
    assert public["response_type"] == "in_channel" and "learn [PATH]" in all_text(public)
    assert deleted == {"delete_original": True}


async def test_share_of_a_decline_does_not_record_it_twice(bot: SlackBot) -> None:
    reply = await ask(bot, "what is the weather in paris")
    await click(bot, reply, "kubebot_share", "share3")
    [post] = bot.fake.of("chat.postMessage")
    assert "weather in paris" in all_text(post.data)
    assert len(bot.recorder.questions) == 1


async def test_feedback_is_recorded_once_per_user_and_message(bot: SlackBot) -> None:
    reply = await ask(bot, "what is a pod")
    await click(bot, reply, "kubebot_feedback_up", "fb1")
    await click(bot, reply, "kubebot_feedback_down", "fb2")  # a second vote on the same message
    assert bot.recorder.feedback == [
        FeedbackRecord("pod", True, Platform.SLACK, ChannelType.COMMAND, "what is a pod")
    ]
    assert "Thanks" in all_text(posted_to(bot, "fb1")[0])
    assert "already" in all_text(posted_to(bot, "fb2")[0])


async def test_feedback_on_a_decline_and_in_a_dm(bot: SlackBot) -> None:
    reply = await ask(bot, "what is the weather in paris")
    await click(bot, reply, "kubebot_feedback_down", "fb3")
    await click(bot, reply, "kubebot_feedback_down", "fb4", channel="D3", ephemeral=False, message_ts="2.2")
    first, second = bot.recorder.feedback
    assert (first.entry_id, first.helpful, first.channel_type) == (None, False, ChannelType.COMMAND)
    assert first.question == "what is the weather in paris"
    assert second.channel_type is ChannelType.DIRECT


async def test_tour_next_and_back_replace_the_ephemeral_step(bot: SlackBot) -> None:
    step1 = await ask(bot, "learn")
    await click(bot, step1, "kubebot_tour_next", "t1")
    [step2] = posted_to(bot, "t1")
    assert step2["replace_original"] is True and step2["response_type"] == "ephemeral"
    assert step2["blocks"][0]["text"]["text"] == "Kubernetes by analogy: step 2 of 7"
    assert "What is a container?" in all_text(step2)
    assert button(step2, "kubebot_tour_back")["value"] == "onboarding:0"
    assert button(step2, "kubebot_tour_next")["value"] == "onboarding:2"
    await click(bot, step2, "kubebot_tour_back", "t2")
    [back] = posted_to(bot, "t2")
    assert back["blocks"][0]["text"]["text"] == "Kubernetes by analogy: step 1 of 7"


async def test_tour_last_step_has_no_next(bot: SlackBot) -> None:
    payload = click_payload("kubebot_tour_next", "debugging-101:1", response_url=bot.fake.response_url("t3"))
    await bot.slack.click(payload)
    await bot.settle()
    [last] = posted_to(bot, "t3")
    assert "step 2 of 2" in all_text(last)
    assert "kubebot_tour_next" not in action_ids(last) and "kubebot_tour_back" in action_ids(last)


async def test_tour_in_a_dm_replaces_the_message_and_in_a_channel_answers_privately(bot: SlackBot) -> None:
    step1 = await ask(bot, "learn")
    await click(bot, step1, "kubebot_tour_next", "dm", channel="D3", ephemeral=False)
    await click(bot, step1, "kubebot_tour_next", "pub", channel="C1", ephemeral=False)
    [dm] = posted_to(bot, "dm")
    assert (dm["response_type"], dm["replace_original"]) == ("in_channel", True)
    [pub] = posted_to(bot, "pub")
    assert (pub["response_type"], pub["replace_original"]) == ("ephemeral", False)  # only the clicker sees it


async def test_tour_buttons_on_the_home_tab_republish_the_view(bot: SlackBot) -> None:
    payload = click_payload("kubebot_tour_next", "onboarding:1", response_url=None, home=True, user="U5")
    assert (await bot.slack.click(payload))[0] == 200
    [publish] = await bot.fake.wait_for("views.publish")
    assert publish.data["user_id"] == "U5"
    assert publish.data["view"]["private_metadata"] == "onboarding:1"
    assert "step 2 of 7" in all_text({"blocks": publish.data["view"]["blocks"]})


async def test_welcome_tour_button_starts_the_tour(bot: SlackBot) -> None:
    payload = click_payload("kubebot_tour_start", "onboarding:0", response_url=bot.fake.response_url("w1"))
    await bot.slack.click(payload)
    await bot.settle()
    [tour] = posted_to(bot, "w1")
    assert tour["replace_original"] is True
    assert tour["blocks"][0]["text"]["text"] == "Kubernetes by analogy: step 1 of 7"


async def test_see_also_button_shows_that_entry(bot: SlackBot) -> None:
    reply = await ask(bot, "what is a pod")
    await click(bot, reply, "kubebot_entry_0", "sa1")
    [node] = posted_to(bot, "sa1")
    assert node["text"] == "What is a Node?" and node["replace_original"] is False
    assert "kubebot_share" in action_ids(node)


async def test_see_also_on_a_public_thread_answer_is_private_and_shareable(bot: SlackBot) -> None:
    await bot.slack.event(app_mention("what is a pod", "7.1"))
    [post] = await bot.fake.wait_for("chat.postMessage")
    payload = click_payload(
        "kubebot_entry_0",
        button(post.data, "kubebot_entry_0")["value"],
        response_url=bot.fake.response_url("sa2"),
        ephemeral=False,
        user="U2",
    )
    payload["container"]["thread_ts"] = "7.1"
    await bot.slack.click(payload)
    await bot.settle()
    [node] = posted_to(bot, "sa2")
    assert node["response_type"] == "ephemeral" and node["text"] == "What is a Node?"
    share = button(node, "kubebot_share")["value"]
    await bot.slack.click(
        click_payload("kubebot_share", share, response_url=bot.fake.response_url("sa3"), user="U2")
    )
    await bot.settle()
    shared = bot.fake.of("chat.postMessage")[-1].data
    assert shared["thread_ts"] == "7.1" and "Shared by <@U2>" in all_text(shared)


async def test_did_you_mean_candidates_are_buttons_that_fetch_the_entry(make_bot: MakeBot) -> None:
    strict = Snapshot.build(
        load_knowledge(FIXTURE_KB), MatchSettings(answer_threshold=0.999, topic_threshold=0.0)
    )
    recorder = MemoryRecorder()
    bot = await make_bot(service=QAService(KnowledgeHolder(strict), recorder=recorder), recorder=recorder)
    reply = await ask(bot, "things keep restarting")
    assert "Did you mean" in all_text(reply)
    ids = [i for i in action_ids(reply) if i.startswith("kubebot_pick_")]
    assert ids, "candidates are offered as buttons"
    candidate = button(reply, ids[0])
    await click(bot, reply, ids[0], "dym")
    [answer] = posted_to(bot, "dym")
    assert answer["text"] == candidate["text"]["text"]
    # the click is recorded as a pick: this entry was the one wanted for this question
    [pick] = bot.recorder.picks
    assert (pick.question, pick.kind, pick.platform, pick.channel_type) == (
        "things keep restarting",
        PickKind.DID_YOU_MEAN,
        Platform.SLACK,
        ChannelType.COMMAND,  # clicked on the ephemeral reply to /kube
    )
    assert strict.kb.entries[pick.entry_id].title == candidate["text"]["text"]


async def test_not_this_alternatives_are_buttons_that_record_the_pick(make_bot: MakeBot) -> None:
    kb = load_knowledge(FIXTURE_KB)
    # answer whatever comes first, never outright: the runners-up become "Not this?" buttons
    calibration = for_knowledge_base(kb.root)
    calibration = replace(
        calibration,
        thresholds=replace(
            calibration.thresholds, answer=1.0, alternatives=0.0, topic=0.0, alternative_floor=0
        ),
    )
    matcher = Matcher(
        kb.entries.values(),
        kb.synonyms,
        domain=kb.domain,
        specific=kb.specific,
        platforms=kb.platforms,
        calibration=calibration,
    )
    loose = replace(Snapshot.build(kb), matcher=matcher)
    assert matcher.match("pods keep dying").band is Band.ANSWERED_WITH_ALTERNATIVES
    recorder = MemoryRecorder()
    bot = await make_bot(service=QAService(KnowledgeHolder(loose), recorder=recorder), recorder=recorder)
    reply = await ask(bot, "pods keep dying")
    ids = [i for i in action_ids(reply) if i.startswith("kubebot_pick_")]
    assert ids, "the alternatives are offered as buttons"
    offered = button(reply, ids[0])
    assert offered["text"]["text"].startswith("Not this? ")
    assert "Not this?" in all_text(reply)
    await click(bot, reply, ids[0], "alt")
    [shown] = posted_to(bot, "alt")
    assert "Not this? " + shown["text"] == offered["text"]["text"]
    [pick] = bot.recorder.picks
    assert (pick.question, pick.kind) == ("pods keep dying", PickKind.NOT_THIS)


async def test_topics_button(bot: SlackBot) -> None:
    reply = await ask(bot, "what is the weather in paris")
    await click(bot, reply, "kubebot_topics", "top")
    [topics] = posted_to(bot, "top")
    assert "(`pod`)" in all_text(topics)


async def test_forged_button_values_are_ignored(bot: SlackBot) -> None:
    for action_id, value in [
        ("kubebot_entry_0", "../../etc/passwd"),
        ("kubebot_entry_0", "no-such-entry"),
        ("kubebot_tour_next", "onboarding:x"),
        ("kubebot_share", "{not json"),
        ("kubebot_feedback_up", '{"e": 5}'),
        ("kubebot_pick_0", '{"e": "../x", "k": "did_you_mean", "q": "x"}'),
        ("kubebot_pick_0", '{"e": "pod", "k": "helpful", "q": "x"}'),  # only button kinds
    ]:
        payload = click_payload(action_id, value, response_url=bot.fake.response_url("forged"))
        assert (await bot.slack.click(payload))[0] == 200
    await bot.settle()
    replies = posted_to(bot, "forged")
    assert [r["text"] for r in replies] == ['That topic (no-such-entry) no longer exists. Type "topics".']
    assert bot.recorder.feedback == [] and bot.fake.of("chat.postMessage") == []
    assert bot.recorder.picks == []


async def test_unknown_kubebot_buttons_are_acked_and_ignored(bot: SlackBot) -> None:
    payload = click_payload("kubebot_from_an_older_version", "x", response_url=bot.fake.response_url("old"))
    assert (await bot.slack.click(payload))[0] == 200  # acked: no error mark on the button
    await bot.settle()
    assert bot.fake.replies == []
