"""Blocks are built as Slack's JSON directly (no slack_sdk objects per reply): exactly what
slack_sdk's `to_dict()` gives for the same block, key order included; an entry's rendering is
kept and shared, and never outlives a change of the entry."""

from __future__ import annotations

import dataclasses
import json
from typing import Any

from hypothesis import given
from hypothesis import strategies as st
from slack_sdk.models.blocks import (
    ActionsBlock,
    ButtonElement,
    ContextBlock,
    DividerBlock,
    HeaderBlock,
    MarkdownTextObject,
    PlainTextObject,
    SectionBlock,
)

from bot.adapters.slack import blocks as bk
from bot.adapters.slack.mrkdwn import escape, split_mrkdwn, truncate
from bot.adapters.slack.render import PUBLIC, Controls, entry_blocks, render_reply
from bot.models import Entry, Reply, ReplyKind, Tip, TopicGroup

from .slack_fakes import block_problems

TEXT = st.text(alphabet=st.sampled_from("ab &<>`\n*é🙂"), max_size=400)


def same_json(ours: dict[str, Any], theirs: dict[str, Any]) -> None:
    assert json.dumps(ours, ensure_ascii=False) == json.dumps(theirs, ensure_ascii=False)


@given(TEXT)
def test_header_and_sections_are_what_slack_sdk_would_send(text: str) -> None:
    same_json(
        bk.header(text),
        HeaderBlock(text=PlainTextObject(text=truncate(text, bk.HEADER_LIMIT), emoji=True)).to_dict(),
    )
    chunks = split_mrkdwn(escape(text), bk.SECTION_LIMIT)
    theirs = [SectionBlock(text=MarkdownTextObject(text=c)).to_dict() for c in chunks]
    ours = bk.sections(escape(text))
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        same_json(a, b)


@given(TEXT)
def test_context_and_divider_are_what_slack_sdk_would_send(text: str) -> None:
    theirs = ContextBlock(elements=[MarkdownTextObject(text=escape(text))]).to_dict()
    same_json(bk.context(escape(text)), theirs)
    same_json(bk.divider(), DividerBlock().to_dict())


@given(TEXT, st.text(max_size=30), st.sampled_from([None, "primary", "danger"]), st.integers(1, 60))
def test_buttons_and_actions_are_what_slack_sdk_would_send(
    label: str, value: str, style: str | None, count: int
) -> None:
    theirs_button = ButtonElement(
        text=PlainTextObject(text=truncate(label, bk.BUTTON_TEXT_LIMIT), emoji=True),
        action_id="kubebot_x",
        value=value,
        style=style,
    )
    same_json(bk.button(label, "kubebot_x", value, style=style), theirs_button.to_dict())
    ours = bk.actions([bk.button(label, f"a{i}", value, style=style) for i in range(count)])
    theirs = [
        ActionsBlock(
            elements=[
                ButtonElement(
                    text=PlainTextObject(text=truncate(label, bk.BUTTON_TEXT_LIMIT), emoji=True),
                    action_id=f"a{i}",
                    value=value,
                    style=style,
                )
                for i in range(start, min(count, start + bk.ACTIONS_LIMIT))
            ]
        ).to_dict()
        for start in range(0, count, bk.ACTIONS_LIMIT)
    ]
    assert len(ours) == len(theirs)
    for a, b in zip(ours, theirs, strict=True):
        same_json(a, b)


ENTRY = Entry(
    id="pod",
    title="What is a pod?",
    questions=("what is a pod",),
    answer="A pod is the smallest thing Kubernetes runs: containers that share a network & storage.",
    sources=("https://kubernetes.io/docs/concepts/workloads/pods/",),
    analogy="A pod is a shared flat: the containers are flatmates <sharing> one address.",
    tips=(Tip("List them", "kubectl get pods"),),
)


def test_an_entry_is_rendered_once_and_shared_without_leaking_changes() -> None:
    first = entry_blocks(ENTRY)
    again = entry_blocks(ENTRY)
    assert first == again and all(a is b for a, b in zip(first, again, strict=True))  # kept, not rebuilt
    first.append(bk.divider())  # the caller's list is its own
    assert len(entry_blocks(ENTRY)) == len(again)
    # a reloaded knowledge base builds new entries: an equal one may share the rendering, a changed
    # one never shows the old text
    changed = dataclasses.replace(ENTRY, answer="Pods are rewritten in the new knowledge base.")
    texts = json.dumps(entry_blocks(changed))
    assert "rewritten" in texts and "smallest thing" not in texts
    assert entry_blocks(dataclasses.replace(ENTRY)) == again


def test_a_shared_reply_does_not_change_the_kept_rendering() -> None:
    reply = Reply(ReplyKind.ANSWER, "what is a pod", "plain", entry=ENTRY)
    [shared] = render_reply(reply, Controls(shared_by="U123"))
    [plain] = render_reply(reply, PUBLIC)
    assert any("Shared by <@U123>" in json.dumps(b) for b in shared.blocks)
    assert not any("Shared by" in json.dumps(b) for b in plain.blocks)
    assert not block_problems(list(plain.blocks)) and not block_problems(list(shared.blocks))


def test_the_topics_list_follows_the_knowledge_base() -> None:
    def topics(*titles: str) -> Reply:
        groups = (TopicGroup("basics", tuple((f"e{i}", t) for i, t in enumerate(titles))),)
        return Reply(ReplyKind.TOPICS, "topics", "Topics I can explain:", topics=groups)

    [before] = render_reply(topics("Pods", "Nodes"))
    [after] = render_reply(topics("Pods", "Services"))
    assert "Nodes" in json.dumps(before.blocks) and "Nodes" not in json.dumps(after.blocks)
    assert "Services" in json.dumps(after.blocks)


def test_a_kept_block_knows_the_length_of_its_json() -> None:
    blocks = entry_blocks(dataclasses.replace(ENTRY, answer='Ünïcode & <escapes> "quoted"\n' * 200))
    assert all(isinstance(b, bk.KeptBlock) for b in blocks)
    for block in blocks:
        assert block.json_size == len(json.dumps(block, ensure_ascii=False))
