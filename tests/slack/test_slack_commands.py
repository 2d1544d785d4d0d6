"""Slash commands through the real bolt app over HTTP: ack first, then an ephemeral reply."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import yaml

from bot.app import build_service
from bot.models import ChannelType, ClusterReport, Finding, Message, Platform
from bot.ports import ClusterQuery

from .conftest import FIXTURE_KB, MakeBot, SlackBot
from .slack_fakes import action_ids, all_text, button
from .slack_requests import app_mention


async def test_question_gets_ephemeral_answer_with_buttons(bot: SlackBot) -> None:
    started = time.perf_counter()
    status, body = await bot.command("what is a pod")
    ack_seconds = time.perf_counter() - started
    assert (status, body) == (200, "")
    assert ack_seconds < 3.0

    [reply] = await bot.fake.wait_for("response_url")
    data = reply.data
    assert data["response_type"] == "ephemeral"
    assert data["text"] == "What is a Pod?"
    assert data["blocks"][0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": "What is a Pod?", "emoji": True},
    }
    text = all_text(data)
    assert "*Analogy:* A Pod is to containers what a VM was to processes." in text
    assert "```kubectl get pod POD -o jsonpath='{.spec.containers[*].name}'```" in text
    assert "<https://kubernetes.io/docs/concepts/workloads/pods/|" in text
    ids = action_ids(data)
    assert ids == [
        "kubebot_entry_0",
        "kubebot_entry_1",
        "kubebot_feedback_up",
        "kubebot_feedback_down",
        "kubebot_share",
    ]
    assert [button(data, i)["value"] for i in ids[:2]] == ["node", "deployment"]

    [record] = bot.recorder.questions
    assert (record.platform, record.channel_type, record.entry_id) == (
        Platform.SLACK,
        ChannelType.COMMAND,
        "pod",
    )


async def test_help_topics_and_learn_subcommands(bot: SlackBot) -> None:
    for text in ("help", "topics", "learn debugging-101", ""):
        assert (await bot.command(text))[0] == 200
    await bot.settle()
    help_reply, topics, tour, empty = (c.data for c in bot.fake.of("response_url"))
    assert "learn [PATH]" in all_text(help_reply)
    assert {"kubebot_tour_start", "kubebot_topics"} <= set(action_ids(help_reply))
    assert "*debugging*" in all_text(topics) and "(`oomkilled`)" in all_text(topics)
    assert tour["blocks"][0]["text"]["text"] == "Debugging 101: step 1 of 2"
    assert button(tour, "kubebot_tour_next")["value"] == "debugging-101:1"
    assert "kubebot_tour_back" not in action_ids(tour)
    assert all_text(empty) == all_text(help_reply), "a bare /kube shows the help"
    assert bot.recorder.questions == []


async def test_command_name_is_configurable(make_bot: MakeBot) -> None:
    bot = await make_bot({"KUBEBOT_SLACK_COMMAND": "k8s"})
    assert bot.settings.command == "/k8s"
    assert (await bot.command("what is a node"))[0] == 200
    [reply] = await bot.fake.wait_for("response_url")
    assert reply.data["text"] == "What is a Node?"
    status, _ = await bot.slack.command(
        "what is a node", response_url=bot.fake.response_url(), command="/kube"
    )
    assert status == 404  # bolt answers unknown commands with 404
    await bot.settle()
    assert len(bot.fake.of("response_url")) == 1


class BlockedGateway:
    """A cluster gateway that answers only when released, to prove the ack does not wait for it."""

    def __init__(self) -> None:
        self.release = asyncio.Event()
        self.queries: list[tuple[ClusterQuery, Message]] = []

    async def query(self, query: ClusterQuery, message: Message) -> ClusterReport:
        self.queries.append((query, message))
        await self.release.wait()
        return ClusterReport(
            title="Pods in prod",
            columns=("NAME", "STATUS"),
            rows=(("web-1", "CrashLoopBackOff"), ("db-0", "Running")),
            findings=(
                Finding("pod prod/web-1", "keeps crashing", ("exit code 1 <oops>",), "crashloopbackoff"),
            ),
        )


async def test_cluster_subcommand_runs_after_the_ack(make_bot: MakeBot) -> None:
    gateway = BlockedGateway()
    bot = await make_bot(service=build_service(FIXTURE_KB, cluster=gateway))
    started = time.perf_counter()
    assert await bot.command("pods prod") == (200, "")
    assert time.perf_counter() - started < 1.0
    await asyncio.sleep(0)
    assert bot.fake.of("response_url") == []  # acked while the cluster query is still running
    gateway.release.set()
    [reply] = await bot.fake.wait_for("response_url")
    query, message = gateway.queries[0]
    assert query == ClusterQuery("pods", None, "prod")
    assert (message.platform, message.channel_type, message.person.id) == (
        Platform.SLACK,
        ChannelType.COMMAND,
        "U1",
    )
    text = all_text(reply.data)
    assert "web-1" in text and "CrashLoopBackOff" in text
    assert "exit code 1 &lt;oops&gt;" in text
    fix = button(reply.data, "kubebot_entry_0")
    assert fix["value"] == "crashloopbackoff" and fix["text"]["text"].startswith("Fix: ")


async def test_user_text_is_escaped_so_nobody_is_pinged(bot: SlackBot) -> None:
    # What Slack sends when someone types: whatis <!channel> & <b> @U123
    await bot.command("whatis <!channel> &amp; &lt;b&gt; <@U123|bob>")
    [reply] = await bot.fake.wait_for("response_url")
    text = all_text(reply.data)
    assert "&amp; &lt;b&gt;" in text
    assert "<!channel>" not in text and "<@U123" not in text and "<b>" not in text
    assert "@channel" in text and "@bob" in text  # shown, as plain text


def long_kb(tmp_path: Path, answer: str) -> Path:
    """The fixture KB plus one entry (`huge`) with this answer, a long title and a long command."""
    kb = tmp_path / "kb"
    kb.mkdir()
    for name in ("paths.yaml", "synonyms.yaml"):
        (kb / name).write_text((FIXTURE_KB / name).read_text())
    data = yaml.safe_load((FIXTURE_KB / "entries.yaml").read_text())
    data["entries"].append(
        {
            "id": "huge",
            "title": "Very long title " * 15,
            "questions": ["tell me everything about volumes", "what is a pvc", "how do volumes work"],
            "tags": ["storage"],
            "answer": answer,
            "tips": [{"text": "Run this " * 50, "command": "kubectl get pvc " + "-o wide " * 600}],
            "sources": ["https://kubernetes.io/docs/concepts/storage/persistent-volumes/"],
        }
    )
    (kb / "entries.yaml").write_text(yaml.safe_dump(data))
    return kb


PARAGRAPH = "Pods & nodes <really> matter. " * 120


async def test_a_long_answer_to_a_command_is_one_response_url_post_cut_with_a_note(
    make_bot: MakeBot, tmp_path: Path
) -> None:
    bot = await make_bot(service=build_service(long_kb(tmp_path, "\n\n".join([PARAGRAPH] * 12))))
    await bot.command("tell me everything about volumes")
    await bot.settle()
    [reply] = [c.data for c in bot.fake.of("response_url")]  # Slack takes 5 posts; we use one
    sections = [b["text"]["text"] for b in reply["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections) and len(reply["blocks"]) <= 50
    assert len(reply["blocks"][0]["text"]["text"]) <= 150
    assert "too long for Slack" in all_text(reply)  # the cut is said, not silent
    assert "Pods &amp; nodes &lt;really&gt; matter." in " ".join(sections)
    assert all(s.count("```") % 2 == 0 for s in sections), "code blocks closed in every section"
    assert action_ids(reply)[-1] == "kubebot_share"  # the buttons survive the cut


async def test_long_answers_in_a_thread_are_split_not_rejected(make_bot: MakeBot, tmp_path: Path) -> None:
    bot = await make_bot(service=build_service(long_kb(tmp_path, "\n\n".join([PARAGRAPH] * 6))))
    event = app_mention("tell me everything about volumes", "77.1")
    assert (await bot.slack.event(event))[0] == 200
    await bot.settle()
    replies = [c.data for c in bot.fake.of("chat.postMessage")]
    assert 2 <= len(replies) <= 5
    assert all(r["thread_ts"] == "77.1" for r in replies)
    sections = [b["text"]["text"] for r in replies for b in r["blocks"] if b["type"] == "section"]
    assert all(len(s) <= 3000 for s in sections)
    assert all(len(r["blocks"]) <= 50 for r in replies)
    shown = " ".join(" ".join(sections).split())
    assert shown.count("Pods &amp; nodes &lt;really&gt; matter.") == 120 * 6  # nothing cut
    assert all(s.count("```") % 2 == 0 for s in sections), "code blocks closed in every section"
    assert "too long for Slack" not in " ".join(all_text(r) for r in replies)
    assert action_ids(replies[-1])[-1] == "kubebot_feedback_down"  # buttons come last
