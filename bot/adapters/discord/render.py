"""Reply → Discord messages (embeds + button specs). Pure functions: nothing here talks to Discord.

Every field that can echo what a user typed (the question in declines and did-you-mean, cluster
titles and errors) is escaped for markdown and mentions; knowledge-base text is trusted data and
keeps its markdown. Sizes are enforced by `limits.pack`, buttons by `_rows`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace

import discord

from bot.adapters.discord import ids
from bot.adapters.discord.limits import (
    BUTTON_LABEL,
    BUTTONS_PER_ROW,
    CONTENT,
    FIELD_NAME,
    ROWS,
    Doc,
    fence,
    pack,
    truncate,
)
from bot.diagrams import DiagramImage, shown_diagram
from bot.models import ClusterReport, Entry, PickKind, Reply, ReplyKind, TourStep

GREEN, YELLOW, GREY, BLURPLE, BLUE, RED = 0x2ECC71, 0xF1C40F, 0x95A5A6, 0x5865F2, 0x3498DB, 0xE74C3C
MAX_ENTRY_BUTTONS = (ROWS - 1) * BUTTONS_PER_ROW  # row 0 is for feedback / navigation / share


@dataclass(frozen=True, slots=True)
class ButtonSpec:
    label: str
    custom_id: str
    style: discord.ButtonStyle = discord.ButtonStyle.secondary
    emoji: str | None = None
    row: int = 0


@dataclass(frozen=True, slots=True)
class Part:
    """One Discord message: optional content, embeds, (on the last part only) buttons, and (on the
    first part of an answer or tour step) the diagram, attached and shown in its last embed."""

    embeds: tuple[discord.Embed, ...] = ()
    content: str | None = None
    buttons: tuple[ButtonSpec, ...] = ()
    image: DiagramImage | None = None


def escape_user_text(text: str) -> str:
    """User text echoed back: no markdown effects, no working @everyone/@here/user/role mentions."""
    return discord.utils.escape_mentions(discord.utils.escape_markdown(text))


# -- buttons -----------------------------------------------------------------------------------
def _button(
    label: str,
    custom_id: str | None,
    *,
    style: discord.ButtonStyle = discord.ButtonStyle.secondary,
    emoji: str | None = None,
) -> ButtonSpec | None:
    """A button spec, or None when its custom id could not be encoded (too long)."""
    if custom_id is None:
        return None
    return ButtonSpec(truncate(label, BUTTON_LABEL), custom_id, style, emoji)


def _rows(
    controls: Iterable[ButtonSpec | None], entries: Iterable[ButtonSpec | None]
) -> tuple[ButtonSpec, ...]:
    """Controls on row 0, entry buttons on rows 1-4; duplicates and overflow dropped."""
    out: list[ButtonSpec] = []
    seen: set[str] = set()
    for row_start, specs, cap in ((0, controls, BUTTONS_PER_ROW), (1, entries, MAX_ENTRY_BUTTONS)):
        placed = 0
        for spec in specs:
            if spec is None or spec.custom_id in seen or placed >= cap:
                continue
            seen.add(spec.custom_id)
            out.append(
                ButtonSpec(
                    spec.label, spec.custom_id, spec.style, spec.emoji, row_start + placed // BUTTONS_PER_ROW
                )
            )
            placed += 1
    return tuple(out)


def _entry_buttons(pairs: Iterable[tuple[str, str]], style: discord.ButtonStyle) -> list[ButtonSpec | None]:
    return [_button(title, ids.entry(entry_id), style=style) for entry_id, title in pairs]


def _pick_buttons(
    reply: Reply, kind: PickKind, style: discord.ButtonStyle, prefix: str = ""
) -> list[ButtonSpec | None]:
    """The offered entries (did-you-mean, or an answer's alternatives) as buttons that record the pick."""
    return [
        _button(prefix + c.title, ids.pick(kind, c.entry_id, reply.question), style=style)
        for c in reply.suggestions
    ]


def _feedback(entry_id: str | None, question: str) -> list[ButtonSpec | None]:
    return [
        _button("", ids.feedback(True, entry_id, question), emoji="👍"),
        _button("", ids.feedback(False, entry_id, question), emoji="👎"),
    ]


def _share(share: bool) -> ButtonSpec | None:
    return (
        _button("Share in channel", ids.SHARE, style=discord.ButtonStyle.primary, emoji="📣")
        if share
        else None
    )


# -- documents ---------------------------------------------------------------------------------
def _quote(text: str) -> str:
    return "\n".join(f"> {line}" if line else ">" for line in text.splitlines())


def entry_doc(entry: Entry, *, footer: str = "", colour: int = GREEN) -> Doc:
    description = f"{_quote(entry.analogy)}\n\n{entry.answer}" if entry.analogy else entry.answer
    fields: list[tuple[str, str]] = []
    for tip in entry.tips:
        name = truncate(tip.text, FIELD_NAME)
        text = tip.text if name != tip.text else ""
        if tip.command:
            value = f"{text}\n{fence(tip.command, 'sh')}" if text else fence(tip.command, "sh")
        else:
            value = text or "\u200b"
        fields.append((name, value))
    if entry.sources:
        fields.append(("Docs", "\n".join(entry.sources)))
    return Doc(entry.title, description, tuple(fields), footer, colour)


def cluster_doc(report: ClusterReport, linked: Sequence[Entry]) -> Doc:
    title = escape_user_text(report.title)
    if report.error:
        return Doc(title, escape_user_text(report.error), colour=RED)
    blocks: list[str] = []
    if report.columns:
        table = [report.columns, *report.rows]
        widths = [
            max(len(row[i]) if i < len(row) else 0 for row in table) for i in range(len(report.columns))
        ]
        lines = [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=False)).rstrip() for row in table
        ]
        blocks.append(fence("\n".join(lines)))
    if report.omitted:
        blocks.append(f"… and {report.omitted} more")
    if not report.rows and not report.findings:
        blocks.append("Nothing found.")
    titles = {e.id: e.title for e in linked}
    fields: list[tuple[str, str]] = []
    for finding in report.findings:
        value = fence("\n".join(finding.evidence)) if finding.evidence else ""
        if finding.entry_id:
            fix = f"Fix: **{titles.get(finding.entry_id, finding.entry_id)}** (button below)"
            value = f"{value}\n{fix}" if value else fix
        name = escape_user_text(f"{finding.object_ref}: {finding.summary}")
        fields.append((name, value or "\u200b"))
    colour = YELLOW if report.findings else BLUE
    return Doc(title, "\n".join(blocks), tuple(fields), colour=colour)


def _parts(
    docs: Sequence[Doc], buttons: tuple[ButtonSpec, ...], content: str | None = None
) -> tuple[Part, ...]:
    messages = [embeds for doc in docs for embeds in pack(doc)]
    last = len(messages) - 1
    return tuple(
        Part(
            tuple(embeds),
            truncate(content, CONTENT) if content and i == 0 else None,
            buttons if i == last else (),
        )
        for i, embeds in enumerate(messages)
    )


def _tour_nav(step: TourStep) -> list[ButtonSpec | None]:
    nav: list[ButtonSpec | None] = []
    if step.has_previous:
        nav.append(_button("Back", ids.tour(step.path_id, step.index - 1), emoji="◀️"))
    if step.has_next:
        nav.append(
            _button(
                "Next", ids.tour(step.path_id, step.index + 1), style=discord.ButtonStyle.primary, emoji="▶️"
            )
        )
    return nav


def with_diagram(parts: tuple[Part, ...], reply: Reply) -> tuple[Part, ...]:
    """The reply's diagram, if it has one, on the first message: its last embed shows the
    attachment (`attachment://NAME.png`), which delivery uploads with that message."""
    image = shown_diagram(reply)
    if image is None or not parts or not parts[0].embeds:
        return parts
    first = parts[0]
    embed = first.embeds[-1].copy().set_image(url=f"attachment://{image.filename}")
    return (replace(first, embeds=(*first.embeds[:-1], embed), image=image), *parts[1:])


def render_reply(reply: Reply, *, share: bool = False) -> tuple[Part, ...]:
    """The messages for a reply. `share` adds the "Share in channel" button (ephemeral replies)."""
    return with_diagram(_render(reply, share), reply)


def _render(reply: Reply, share: bool) -> tuple[Part, ...]:
    kind = reply.kind
    if kind is ReplyKind.ANSWER and reply.entry is not None:
        entry = reply.entry
        footer = entry.id if reply.confidence >= 0.995 else f"{entry.id} · {reply.confidence:.0%} match"
        buttons = _rows(
            [*_feedback(entry.id, reply.question), _share(share)],
            [
                *_pick_buttons(reply, PickKind.NOT_THIS, discord.ButtonStyle.primary, "Not this? "),
                *_entry_buttons(reply.see_also, discord.ButtonStyle.secondary),
            ],
        )
        return _parts([entry_doc(entry, footer=footer)], buttons)
    if kind is ReplyKind.TOUR and reply.tour is not None:
        step = reply.tour
        footer = f"{step.path_title} · step {step.index + 1} of {step.total}"
        buttons = _rows(
            [*_tour_nav(step), _share(share)], _entry_buttons(reply.see_also, discord.ButtonStyle.secondary)
        )
        return _parts([entry_doc(step.entry, footer=footer, colour=BLURPLE)], buttons)
    if kind is ReplyKind.SUGGEST:
        buttons = _rows(
            [_share(share)],
            _pick_buttons(reply, PickKind.DID_YOU_MEAN, discord.ButtonStyle.primary),
        )
        return _parts([Doc(description=escape_user_text(reply.text), colour=YELLOW)], buttons)
    if kind is ReplyKind.DECLINE:
        controls = [*_feedback(None, reply.question), _button("Topics", ids.TOPICS, emoji="📚")]
        return _parts([Doc(description=escape_user_text(reply.text), colour=GREY)], _rows(controls, []))
    if kind is ReplyKind.TOPICS:
        head, *_ = reply.text.splitlines() or [""]
        fields = tuple(
            (group.tag, "\n".join(f"• {title}" for _, title in group.entries)) for group in reply.topics
        )
        return _parts([Doc(description=head, fields=fields, colour=BLURPLE)], _rows([_share(share)], []))
    if kind is ReplyKind.HELP:
        controls = [_button("Topics", ids.TOPICS, emoji="📚"), _share(share)]
        return _parts([Doc(description=fence(reply.text), colour=BLURPLE)], _rows(controls, []))
    if kind is ReplyKind.CLUSTER and reply.cluster is not None:
        fixes = _entry_buttons(
            ((e.id, f"Fix: {e.title}") for e in reply.linked_entries), discord.ButtonStyle.primary
        )
        return _parts([cluster_doc(reply.cluster, reply.linked_entries)], _rows([_share(share)], fixes))
    return _parts([Doc(description=escape_user_text(reply.text), colour=RED)], ())


def notice(text: str) -> tuple[Part, ...]:
    """A short adapter message (expired button, cluster lookup off...); plain content, escaped."""
    return (Part(content=truncate(escape_user_text(text), CONTENT)),)


def welcome(template: str, mention: str, tour: Reply) -> Part:
    """The onboarding message: the configured text, and a button that starts the tour."""
    content = truncate(template.replace("{user}", mention), CONTENT)
    buttons: tuple[ButtonSpec, ...] = ()
    if tour.tour is not None:
        start = _button(
            f"Start the tour: {tour.tour.path_title}",
            ids.tour(tour.tour.path_id, 0),
            style=discord.ButtonStyle.primary,
            emoji="🧭",
        )
        buttons = _rows([start, _button("Topics", ids.TOPICS, emoji="📚")], [])
    return Part(content=content, buttons=buttons)


# -- adapter notices (interface wording, not knowledge) ------------------------------------------
EXPIRED = "This button has expired (it belongs to an older kubebot message). Run /kube help to start again."
CLUSTER_OFF = (
    "The cluster lookup is not enabled on this bot, so I can't list {verb}. "
    "I can still explain concepts: try /kube ask."
)
BAD_NAME = "{value!r} is not a valid Kubernetes name (lowercase letters, digits, '-' and '.')."
THANKS = "Thanks for the feedback, it helps improve the answers."
NOTHING_TO_SHARE = "There is nothing to share from this message."
FAILED = "Sorry, something went wrong while answering. Please try again."
SHARED_BY = "Shared by {user}"
