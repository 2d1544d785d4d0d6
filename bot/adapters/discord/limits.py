"""Discord's size limits, and the packer that splits any document into embeds and messages within them.

Long text is split (never rejected): at paragraph, line, then word boundaries, and code fences that
straddle a split are closed and reopened so each piece still renders. Whatever the knowledge base
holds, one reply is at most MAX_MESSAGES messages: beyond that it is cut, and the last embed's
footer says so (CUT_NOTE).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import discord

TITLE = 256
DESCRIPTION = 4096
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
EMBED_TOTAL = 6000  # per message, across all its embeds
EMBEDS = 10
FIELDS = 25
CONTENT = 2000
BUTTONS_PER_ROW = 5
ROWS = 5
BUTTON_LABEL = 80
CHOICES = 25
CHOICE_TEXT = 100
THREAD_NAME = 100
MAX_MESSAGES = 5  # per reply: more than this is cut (a 10 MB KB answer is not 1,700 messages)
TEXT_CAP = EMBED_TOTAL * MAX_MESSAGES  # text beyond this can never be shown: cut before splitting
CUT_NOTE = "✂️ cut: the rest is too long for Discord"

_FENCE = re.compile(r"```([A-Za-z0-9_+-]{0,15})")
_CLOSE = "\n```"
_BLANK = "\u200b"
_BROKEN_FENCE = "`\u200b``"


def truncate(text: str, limit: int) -> str:
    """For labels and titles only (never for answer text): cut with an ellipsis."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _open_fence(text: str) -> str | None:
    """The opener ("```sh") of a code fence left open at the end of `text`, if any."""
    opener: str | None = None
    for match in _FENCE.finditer(text):
        opener = None if opener is not None else match.group(0)
    return opener


def _cut(text: str, budget: int) -> int:
    for sep in ("\n\n", "\n", " "):
        at = text.rfind(sep, 0, budget + 1)
        if at > budget // 3:
            return at
    at = budget
    while at > 1 and text[at - 1] == "\\":  # never leave an escape dangling at the end of a piece
        at -= 1
    return at


def split_text(text: str, limit: int) -> list[str]:
    """Split `text` into pieces of at most `limit` characters, keeping code fences balanced."""
    if len(text) <= limit:
        return [text] if text else []
    pieces: list[str] = []
    reopen = ""
    rest = text
    while rest:
        if len(reopen) + len(rest) <= limit:
            pieces.append(reopen + rest)
            break
        at = _cut(rest, limit - len(reopen) - len(_CLOSE))
        piece = reopen + rest[:at]
        rest = rest[at:]
        for sep in ("\n\n", "\n", " "):
            if rest.startswith(sep):
                rest = rest[len(sep) :]
                break
        opener = _open_fence(piece)
        if opener is not None:
            piece += _CLOSE
            reopen = opener + "\n"
        else:
            reopen = ""
        pieces.append(piece)
    return pieces


@dataclass(frozen=True, slots=True)
class Doc:
    """A platform-shaped document before packing: one logical embed of any size."""

    title: str = ""
    description: str = ""
    fields: tuple[tuple[str, str], ...] = ()
    footer: str = ""
    colour: int = 0


class _Packer:
    def __init__(self, colour: int, budget: int) -> None:
        self.colour = colour
        self.budget = budget
        self.messages: list[list[discord.Embed]] = []
        self.embeds: list[discord.Embed] = []
        self.size = 0
        self.embed: discord.Embed | None = None

    def flush(self) -> None:
        if self.embeds:
            self.messages.append(self.embeds)
        self.embeds, self.size, self.embed = [], 0, None

    def start(self, cost: int) -> discord.Embed:
        if self.size + cost > self.budget or len(self.embeds) >= EMBEDS:
            self.flush()
        self.embed = discord.Embed(colour=self.colour)
        self.embeds.append(self.embed)
        return self.embed

    def description(self, text: str, title: str) -> None:
        embed = self.start(len(text) + len(title))
        if title:
            embed.title = title
        if text:
            embed.description = text
        self.size += len(text) + len(title)

    def field(self, name: str, value: str, title: str) -> None:
        cost = len(name) + len(value) + len(title)
        embed = self.embed
        if embed is None or self.size + cost > self.budget or len(embed.fields) >= FIELDS:
            embed = self.start(cost)
        if title:
            embed.title = title
        embed.add_field(name=name, value=value, inline=False)
        self.size += cost


def pack(doc: Doc, max_messages: int = MAX_MESSAGES) -> list[list[discord.Embed]]:
    """Messages (lists of embeds) that together carry the document within every limit, at most
    `max_messages` of them: a longer document is cut and its footer ends with CUT_NOTE.

    The title goes on the first embed, the footer on the very last; continuation messages carry
    no title. Field values that are too long become several fields ("name (cont.)").
    """
    capped = _capped(doc)
    messages = _pack(capped, doc.footer)
    if len(messages) <= max_messages and capped == doc:
        return messages
    footer = truncate(f"{doc.footer} · {CUT_NOTE}" if doc.footer else CUT_NOTE, FOOTER)
    kept = _pack(capped, footer)[: max(1, max_messages)]
    kept[-1][-1].set_footer(text=footer)  # every message was packed with room for it
    return kept


def was_cut(messages: list[list[discord.Embed]]) -> bool:
    """True when `pack` had to cut the document (for `kubebot kb lint`)."""
    last = messages[-1][-1] if messages and messages[-1] else None
    return last is not None and (last.footer.text or "").endswith(CUT_NOTE)


def _capped(doc: Doc) -> Doc:
    """The document without what could never be shown (so splitting 10 MB costs nothing)."""
    description = doc.description
    if len(description) > TEXT_CAP:
        description = split_text(description[: TEXT_CAP + DESCRIPTION], TEXT_CAP)[0]
    fields = doc.fields[: MAX_MESSAGES * EMBEDS * FIELDS]
    if any(len(value) > TEXT_CAP for _, value in fields):
        fields = tuple(
            (
                name,
                split_text(value[: TEXT_CAP + FIELD_VALUE], TEXT_CAP)[0] if len(value) > TEXT_CAP else value,
            )
            for name, value in fields
        )
    if description == doc.description and fields == doc.fields:
        return doc
    return Doc(doc.title, description, fields, doc.footer, doc.colour)


def _pack(doc: Doc, raw_footer: str) -> list[list[discord.Embed]]:
    title = truncate(doc.title, TITLE)
    footer = truncate(raw_footer, FOOTER)
    packer = _Packer(doc.colour, EMBED_TOTAL - len(footer))
    pending_title = title
    for chunk in split_text(doc.description, DESCRIPTION):
        packer.description(chunk, pending_title)
        pending_title = ""
    for raw_name, raw_value in doc.fields:
        name = truncate(raw_name.strip() or _BLANK, FIELD_NAME)
        for i, value in enumerate(split_text(raw_value, FIELD_VALUE) or [_BLANK]):
            packer.field(
                name if i == 0 else truncate(f"{raw_name} (cont.)", FIELD_NAME), value, pending_title
            )
            pending_title = ""
    if pending_title or not packer.embeds:
        packer.description("", pending_title)
    packer.flush()
    if footer:
        packer.messages[-1][-1].set_footer(text=footer)
    return packer.messages


def fence(code: str, lang: str = "") -> str:
    """A code block that cannot be broken out of by backticks inside `code`."""
    return f"```{lang}\n{code.replace('```', _BROKEN_FENCE)}\n```"
