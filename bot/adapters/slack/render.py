"""Reply → Block Kit messages. Pure functions: no I/O, no service calls.

Every kind of Reply has a renderer; all text comes from the Reply (the knowledge base and the
core's plain-text rendering), escaped; this module only adds layout and buttons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from bot.adapters.slack import actions as act
from bot.adapters.slack.blocks import (
    MAX_MESSAGES,
    Block,
    Button,
    SlackMessage,
    actions,
    button,
    context,
    divider,
    fallback_text,
    header,
    kept,
    paginate,
    sections,
    sources_context,
)
from bot.adapters.slack.mrkdwn import code_block, escape, truncate
from bot.models import ClusterReport, Entry, PickKind, Reply, ReplyKind, TopicGroup, TourStep

_USER_ID = re.compile(r"^[UW][A-Z0-9]{1,30}$")
ENTRY_CACHE_SIZE = 2048  # rendered entries kept: the whole bundled KB, the hot part of a big one


@dataclass(frozen=True, slots=True)
class Controls:
    """The interactive extras a reply gets where it is shown."""

    share: act.ShareRef | None = None  # adds "Share in channel" (ephemeral replies)
    feedback: bool = True
    related: bool = True  # see-also / did-you-mean / fix buttons
    shared_by: str | None = None  # user id shown as "Shared by @user" on a shared reply


PUBLIC = Controls()


def render_reply(
    reply: Reply, controls: Controls = PUBLIC, *, max_messages: int = MAX_MESSAGES
) -> tuple[SlackMessage, ...]:
    """Render any Reply as one or more messages (more only when it exceeds Slack's limits), at
    most `max_messages` (1 for a response_url): a longer reply is cut, keeping its buttons."""
    body, buttons = _BODIES[reply.kind](reply, controls)
    if controls.shared_by and _USER_ID.match(controls.shared_by):
        body.insert(
            1 if body and body[0]["type"] == "header" else 0,
            context(f"Shared by <@{controls.shared_by}>"),
        )
    tail = actions(buttons)
    extras = _extras(reply, controls)
    if extras:
        tail += actions(extras)
    fallback = escape(truncate(reply.entry.title, 300)) if reply.entry else fallback_text(reply.text)
    return paginate(fallback, body, tail, max_messages=max_messages)


def entry_blocks(entry: Entry, *, with_header: bool = True) -> list[Block]:
    """Title, analogy, answer, tips (commands in code blocks) and the docs links of one entry.

    Rendered once per entry and kept (`ENTRY_CACHE_SIZE` entries, least recently used first
    out): entries are immutable and the cache is keyed by the entry's value, so a reloaded
    knowledge base can never be shown from an older rendering (a changed entry is a new key;
    an unchanged one stays warm). The blocks are shared: never mutate them."""
    return list(_entry_blocks(entry, with_header))


@lru_cache(maxsize=ENTRY_CACHE_SIZE)
def _entry_blocks(entry: Entry, with_header: bool) -> tuple[Block, ...]:
    blocks: list[Block] = (
        [header(entry.title)] if with_header else sections(f"*{escape(truncate(entry.title, 300))}*")
    )
    if entry.analogy:
        blocks += sections(f":bulb: *Analogy:* {escape(entry.analogy)}")
    blocks += sections(escape(entry.answer))
    if entry.tips:
        lines = ["*Try:*"]
        for tip in entry.tips:
            lines.append(f"• {escape(tip.text)}")
            if tip.command:
                lines.append(code_block(escape(tip.command)))
        blocks += sections("\n".join(lines))
    docs = sources_context(entry.sources)
    if docs is not None:
        blocks.append(docs)
    return kept(blocks)


def tour_heading(step: TourStep) -> str:
    return f"{step.path_title}: step {step.index + 1} of {step.total}"


def tour_buttons(step: TourStep) -> list[Button]:
    buttons = []
    if step.has_previous:
        buttons.append(button("◀ Back", act.TOUR_BACK, act.TourRef(step.path_id, step.index - 1).encode()))
    if step.has_next:
        buttons.append(
            button(
                "Next ▶", act.TOUR_NEXT, act.TourRef(step.path_id, step.index + 1).encode(), style="primary"
            )
        )
    return buttons


def topics_blocks(reply: Reply) -> list[Block]:
    """The topics list (the same for every ask of one knowledge base: rendered once, shared)."""
    return list(_topics_blocks(_first_line(reply.text), reply.topics))


@lru_cache(maxsize=4)
def _topics_blocks(first_line: str, topics: tuple[TopicGroup, ...]) -> tuple[Block, ...]:
    lines = [escape(first_line)]
    for group in topics:
        lines.append(f"\n*{escape(group.tag)}*")
        lines += [f"• {escape(title)} (`{escape(entry_id)}`)" for entry_id, title in group.entries]
    return kept(sections("\n".join(lines)))


def tour_start_button(path_id: str = "", label: str = "Start the guided tour", index: int = 0) -> Button:
    action_id = act.TOUR_START if index == 0 else f"{act.TOUR_START}_{index}"
    return button(label, action_id, act.TourRef(path_id, 0).encode(), style="primary")


def topics_button() -> Button:
    return button("Topics", act.TOPICS, "topics")


# -- one body per reply kind: (blocks, buttons) ---------------------------------------------------
Body = tuple[list[Block], list[Button]]


def _answer(reply: Reply, controls: Controls) -> Body:
    assert reply.entry is not None
    blocks = entry_blocks(reply.entry)
    if not controls.related:
        return blocks, []
    others = _pick_buttons(reply, PickKind.NOT_THIS, prefix="Not this? ")  # answered with alternatives
    related = _entry_buttons(reply.see_also)
    labels = (["*Not this?* Try one of these"] if others else []) + (["*See also*"] if related else [])
    if labels:
        blocks.append(context(" · ".join(labels)))
    return blocks, others + related


def _tour(reply: Reply, controls: Controls) -> Body:
    assert reply.tour is not None
    blocks: list[Block] = [
        header(tour_heading(reply.tour)),
        *entry_blocks(reply.tour.entry, with_header=False),
    ]
    return blocks, tour_buttons(reply.tour)


def _suggest(reply: Reply, controls: Controls) -> Body:
    if not controls.related:
        return sections(escape(reply.text)), []
    return sections(escape(_first_line(reply.text))), _pick_buttons(reply, PickKind.DID_YOU_MEAN)


def _decline(reply: Reply, controls: Controls) -> Body:
    return sections(escape(reply.text)), [topics_button()] if controls.related else []


def _help(reply: Reply, controls: Controls) -> Body:
    buttons = [tour_start_button(), topics_button()] if controls.related else []
    return sections(code_block(escape(reply.text))), buttons


def _topics(reply: Reply, controls: Controls) -> Body:
    return topics_blocks(reply), []


def _cluster(reply: Reply, controls: Controls) -> Body:
    report = reply.cluster
    if report is None or report.error or not (report.rows or report.findings):
        return sections(escape(reply.text)), []
    blocks: list[Block] = [header(report.title)]
    if report.columns:
        blocks += sections(code_block(escape(_table(report))))
    if report.omitted:
        blocks.append(context(f"… and {report.omitted} more"))
    titles = {entry.id: entry.title for entry in reply.linked_entries}
    fixes: list[tuple[str, str]] = []
    for finding in report.findings:
        text = f"*{escape(finding.object_ref)}*: {escape(finding.summary)}"
        if finding.evidence:
            text += "\n" + code_block(escape("\n".join(finding.evidence)))
        blocks += sections(text)
        if finding.entry_id in titles and (finding.entry_id, titles[finding.entry_id]) not in fixes:
            fixes.append((finding.entry_id, titles[finding.entry_id]))
    buttons = _entry_buttons(fixes, prefix="Fix: ") if controls.related else []
    return blocks, buttons


def _error(reply: Reply, controls: Controls) -> Body:
    return sections(escape(reply.text)), []


_BODIES = {
    ReplyKind.ANSWER: _answer,
    ReplyKind.TOUR: _tour,
    ReplyKind.SUGGEST: _suggest,
    ReplyKind.DECLINE: _decline,
    ReplyKind.HELP: _help,
    ReplyKind.TOPICS: _topics,
    ReplyKind.CLUSTER: _cluster,
    ReplyKind.ERROR: _error,
}


def _extras(reply: Reply, controls: Controls) -> list[Button]:
    """👍/👎 on answers, tour steps and declines; "Share in channel" on ephemeral replies."""
    buttons: list[Button] = []
    if controls.feedback and reply.kind in (ReplyKind.ANSWER, ReplyKind.TOUR, ReplyKind.DECLINE):
        ref = act.FeedbackRef(reply.entry.id if reply.entry else None, reply.question).encode()
        buttons += [
            button("👍 Helpful", act.FEEDBACK_UP, ref),
            button("👎 Not helpful", act.FEEDBACK_DOWN, ref),
        ]
    if controls.share is not None:
        buttons.append(button("Share in channel", act.SHARE, controls.share.encode()))
    return buttons


def _entry_buttons(items: Iterable[tuple[str, str]], prefix: str = "") -> list[Button]:
    return [
        button(prefix + title, act.entry_action(i), entry_id)
        for i, (entry_id, title) in enumerate(items)
        if act.decode_entry_id(entry_id)
    ]


def _pick_buttons(reply: Reply, kind: PickKind, prefix: str = "") -> list[Button]:
    """Buttons for the offered entries (did-you-mean, or an answer's alternatives) that record the
    choice as a pick for the question asked."""
    return [
        button(prefix + c.title, act.pick_action(i), act.PickRef(c.entry_id, kind, reply.question).encode())
        for i, c in enumerate(reply.suggestions)
        if act.decode_entry_id(c.entry_id)
    ]


def _table(report: ClusterReport) -> str:
    table = [report.columns, *report.rows]
    widths = [max(len(row[i]) if i < len(row) else 0 for row in table) for i in range(len(report.columns))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in table
    )


def _first_line(text: str) -> str:
    return next((line.strip() for line in text.splitlines() if line.strip()), "")


__all__ = ["PUBLIC", "Controls", "SlackMessage", "divider", "entry_blocks", "render_reply"]
