"""Events API through the real bolt app: mentions, DMs, passive mode, onboarding, App Home, dedupe."""

from __future__ import annotations

import json
from typing import Any

from bot.app import build_service, service_for
from bot.models import ChannelType
from bot.service import Snapshot

from .conftest import FIXTURE_KB, LISTEN_CHANNEL, ONBOARDING_CHANNEL, MakeBot, SlackBot
from .slack_fakes import BOT_ID, BOT_USER, MemoryRecorder, action_ids, all_text, button


def mention(text: str, *, ts: str = "1700000000.000100", channel: str = "C1", **extra: Any) -> dict[str, Any]:
    return {
        "type": "app_mention",
        "user": "U1",
        "text": text,
        "ts": ts,
        "channel": channel,
        "event_ts": ts,
        **extra,
    }


def message(
    text: str,
    *,
    ts: str = "1700000000.000200",
    channel: str = "C1",
    channel_type: str = "channel",
    **extra: Any,
) -> dict[str, Any]:
    event = {"type": "message", "user": "U1", "text": text, "ts": ts, "channel": channel, "event_ts": ts}
    return {**event, "channel_type": channel_type, **extra}


async def test_mention_is_answered_in_a_thread_with_the_mention_stripped(bot: SlackBot) -> None:
    assert (await bot.slack.event(mention(f"<@{BOT_USER}> what is a service?", ts="111.000100")))[0] == 200
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert post.data["channel"] == "C1"
    assert post.data["thread_ts"] == "111.000100"
    assert post.data["text"] == "What is a Service?"
    assert {"kubebot_feedback_up", "kubebot_feedback_down", "kubebot_entry_0"} <= set(action_ids(post.data))
    assert "kubebot_share" not in action_ids(post.data)  # already public
    [record] = bot.recorder.questions
    assert (record.text, record.channel_type, record.entry_id) == (
        "what is a service?",
        ChannelType.CHANNEL,
        "service",
    )


async def test_mention_inside_a_thread_answers_in_that_thread(bot: SlackBot) -> None:
    await bot.slack.event(mention(f"<@{BOT_USER}> what is a node", ts="222.000200", thread_ts="222.000001"))
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert post.data["thread_ts"] == "222.000001"


async def test_direct_message_is_answered_in_the_dm(bot: SlackBot) -> None:
    await bot.slack.event(message("what is a deployment", channel="D42", channel_type="im"))
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert post.data["channel"] == "D42"
    assert "thread_ts" not in post.data or post.data["thread_ts"] is None
    assert post.data["text"] == "What is a Deployment?"
    assert bot.recorder.questions[0].channel_type is ChannelType.DIRECT


async def test_dm_commands_go_through_the_service(bot: SlackBot) -> None:
    await bot.slack.event(message("learn", channel="D42", channel_type="im"))
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert post.data["blocks"][0]["text"]["text"] == "Kubernetes by analogy: step 1 of 7"
    assert button(post.data, "kubebot_tour_next")["value"] == "onboarding:1"


async def test_slack_retries_are_answered_once(bot: SlackBot) -> None:
    event = mention(f"<@{BOT_USER}> what is a pod")
    assert (await bot.slack.event(event, event_id="EvRETRY"))[0] == 200
    assert (await bot.slack.event(event, event_id="EvRETRY", retry_num=1))[0] == 200
    assert (await bot.slack.event(event, event_id="EvRETRY", retry_num=2))[0] == 200
    await bot.settle()
    assert len(bot.fake.of("chat.postMessage")) == 1
    assert len(bot.recorder.questions) == 1


async def test_mention_arriving_as_app_mention_and_message_is_answered_once(bot: SlackBot) -> None:
    text = f"<@{BOT_USER}> what is a pod?"
    ts = "333.000100"
    # In a passive channel, so the `message` copy would qualify for a passive answer too.
    await bot.slack.event(mention(text, ts=ts, channel=LISTEN_CHANNEL), event_id="EvA")
    await bot.slack.event(message(text, ts=ts, channel=LISTEN_CHANNEL), event_id="EvB")
    # A DM can also arrive twice (message.im plus app_mention): channel+ts dedupes it.
    await bot.slack.event(message(text, ts=ts, channel="D9", channel_type="im"), event_id="EvC")
    await bot.slack.event(mention(text, ts=ts, channel="D9"), event_id="EvD")
    await bot.settle()
    posts = bot.fake.of("chat.postMessage")
    assert sorted(p.data["channel"] for p in posts) == [LISTEN_CHANNEL, "D9"]


async def test_bot_messages_are_ignored(bot: SlackBot) -> None:
    await bot.slack.event(message("what is a pod?", channel="D1", channel_type="im", bot_id="B999"))
    await bot.slack.event(message("what is a pod?", channel="D1", channel_type="im", subtype="bot_message"))
    await bot.slack.event(message("what is a pod?", channel=LISTEN_CHANNEL, bot_id="B999", ts="9.1"))
    await bot.slack.event(mention(f"<@{BOT_USER}> what is a pod", bot_id="B999"))
    own = message("what is a pod?", channel="D1", channel_type="im", ts="9.2", bot_id=BOT_ID)
    await bot.slack.event({**own, "user": BOT_USER})
    await bot.settle()
    assert bot.fake.replies == []
    assert bot.recorder.questions == []


async def test_edits_deletions_and_joins_are_ignored_without_errors(bot: SlackBot) -> None:
    for subtype in ("message_changed", "message_deleted", "channel_join"):
        status, _ = await bot.slack.event(
            message("what is a pod?", channel="D1", channel_type="im", subtype=subtype)
        )
        assert status == 200  # not a 404, which Slack would retry
    await bot.settle()
    assert bot.fake.replies == []


async def test_passive_mode_answers_confident_questions_in_a_thread(bot: SlackBot) -> None:
    await bot.slack.event(message("what is a pod?", channel=LISTEN_CHANNEL, ts="444.000100"))
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert (post.data["channel"], post.data["thread_ts"]) == (LISTEN_CHANNEL, "444.000100")
    assert post.data["text"] == "What is a Pod?"
    [record] = bot.recorder.questions
    assert record.channel_type is ChannelType.CHANNEL


async def test_passive_mode_stays_silent_unless_confident(make_bot: MakeBot) -> None:
    service = build_service(FIXTURE_KB, recorder=(recorder := MemoryRecorder()))
    # An answered but weak match and a strong one; the threshold goes between them.
    pool = [
        "is a node a vm?",
        "pods keep dying?",
        "what about a load balancer?",
        "what is a vm?",
        "why restarting?",
    ]
    weak = min((service.answer(q) for q in pool), key=lambda r: r.confidence if r.answered else 2.0)
    strong = service.answer("what is a deployment?")
    assert weak.answered and strong.answered and weak.confidence < strong.confidence
    threshold = (weak.confidence + strong.confidence) / 2
    bot = await make_bot({"KUBEBOT_SLACK_PASSIVE_MIN": str(threshold)}, service=service, recorder=recorder)
    silent = [
        message(weak.question, channel=LISTEN_CHANNEL, ts="1.1"),  # answered, below KUBEBOT_SLACK_PASSIVE_MIN
        message("what is the weather in paris?", channel=LISTEN_CHANNEL, ts="1.2"),  # declined
        message("kill?", channel=LISTEN_CHANNEL, ts="1.3"),  # one word: not a question
        message("deploy the new pods please", channel=LISTEN_CHANNEL, ts="1.4"),  # not a question
        message("what is a deployment?", channel="COTHER", ts="1.5"),  # not a passive channel
        message("what is a deployment?", channel=LISTEN_CHANNEL, ts="1.6", thread_ts="1.0"),  # thread reply
    ]
    for event in silent:
        assert (await bot.slack.event(event))[0] == 200
    await bot.settle()
    assert bot.fake.replies == []
    assert recorder.questions == [], "overheard chatter is not recorded"
    await bot.slack.event(message("what is a deployment?", channel=LISTEN_CHANNEL, ts="1.7"))
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert post.data["thread_ts"] == "1.7"
    assert len(recorder.questions) == 1


async def test_passive_mode_is_off_by_default(make_bot: MakeBot) -> None:
    bot = await make_bot({"KUBEBOT_SLACK_LISTEN_CHANNELS": ""})
    assert not bot.settings.passive_enabled
    await bot.slack.event(message("what is a pod?", channel=LISTEN_CHANNEL))
    await bot.settle()
    assert bot.fake.replies == []


async def test_joining_the_onboarding_channel_gets_an_ephemeral_welcome(bot: SlackBot) -> None:
    joined = {"type": "member_joined_channel", "user": "U7", "channel": ONBOARDING_CHANNEL, "team": "T0001"}
    await bot.slack.event(joined)
    await bot.slack.event({**joined, "channel": "COTHER"})
    await bot.slack.event({**joined, "user": BOT_USER})
    await bot.settle()
    [welcome] = bot.fake.of("chat.postEphemeral")
    assert (welcome.data["channel"], welcome.data["user"]) == (ONBOARDING_CHANNEL, "U7")
    assert f"<#{ONBOARDING_CHANNEL}>" in welcome.data["blocks"][0]["text"]["text"]
    assert "/kube what is a pod" in all_text(welcome.data)
    start = button(welcome.data, "kubebot_tour_start")
    assert start["value"] == "onboarding:0" and "Kubernetes by analogy" in start["text"]["text"]
    assert bot.fake.of("chat.postMessage") == []


async def test_app_home_shows_the_tour_and_the_topics(bot: SlackBot) -> None:
    await bot.slack.event({"type": "app_home_opened", "user": "U5", "channel": "D5", "tab": "home"})
    await bot.slack.event({"type": "app_home_opened", "user": "U5", "channel": "D5", "tab": "messages"})
    [publish] = await bot.fake.wait_for("views.publish")
    await bot.settle()
    assert len(bot.fake.of("views.publish")) == 1
    view = publish.data["view"]
    view = json.loads(view) if isinstance(view, str) else view
    assert publish.data["user_id"] == "U5" and view["type"] == "home"
    text = all_text({"blocks": view["blocks"]})
    assert "Kubernetes by analogy: step 1 of 7" in text
    assert "(`crashloopbackoff`)" in text  # the topics
    ids = action_ids({"blocks": view["blocks"]})
    assert "kubebot_tour_next" in ids and "kubebot_tour_start_1" in ids  # the other tour
    assert view["private_metadata"] == "onboarding:0"


async def test_app_home_remembers_the_tour_step(bot: SlackBot) -> None:
    event = {"type": "app_home_opened", "user": "U5", "channel": "D5", "tab": "home"}
    await bot.slack.event({**event, "view": {"id": "V1", "type": "home", "private_metadata": "onboarding:2"}})
    [publish] = await bot.fake.wait_for("views.publish")
    assert "step 3 of 7" in all_text({"blocks": publish.data["view"]["blocks"]})


async def test_url_verification_challenge(bot: SlackBot) -> None:
    body = json.dumps({"token": "legacy", "challenge": "abc123", "type": "url_verification"})
    status, text = await bot.slack.post(body, "application/json")
    assert status == 200 and "abc123" in text


PASTED_POST = """<@{bot}> pods keep restarting after the deploy, any idea?
```
$ kubectl get pods
NAME                     READY   STATUS             RESTARTS   AGE
api-7d9f8b6c5-x2k4z      0/1     CrashLoopBackOff   7          12m
$ kubectl describe pod api-7d9f8b6c5-x2k4z
    State:          Waiting
      Reason:       CrashLoopBackOff
    Last State:     Terminated
      Reason:       Error
      Exit Code:    1
Events:
  Warning  BackOff  2m (x30 over 11m)  kubelet  Back-off restarting failed container api in pod api
```
the image runs fine locally &amp; the config map is mounted at /etc/api &lt;- checked"""


async def test_a_whole_pasted_post_gets_the_right_answer_in_one_reply(
    make_bot: MakeBot, shipped_snapshot: Snapshot
) -> None:
    """On the shipped knowledge base and its fitted decision (the fixture KB has neither domain words
    nor a calibration of its own: what a pasted post gets there says nothing about the product)."""
    recorder = MemoryRecorder()
    bot = await make_bot(service=service_for(shipped_snapshot, recorder=recorder), recorder=recorder)
    await bot.slack.event(mention(PASTED_POST.format(bot=BOT_USER), ts="555.000100"))
    [post] = await bot.fake.wait_for("chat.postMessage")
    assert post.data["thread_ts"] == "555.000100"
    assert post.data["text"] == shipped_snapshot.kb.entries["crashloopbackoff"].title
    await bot.settle()
    assert len(bot.fake.replies) == 1, "one reply, not one per line or per chunk"
    [record] = bot.recorder.questions
    assert record.entry_id == "crashloopbackoff" and record.band.answers
    assert "\n" in record.text and "&amp;" not in record.text  # the post as the user wrote it
