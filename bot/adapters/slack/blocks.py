"""Block Kit building blocks that respect Slack's limits by construction.

Section text ≤ 3000, header ≤ 150, button text ≤ 75 and value ≤ 2000, ≤ 25 elements per actions
block, ≤ 50 blocks per message (100 in App Home); `paginate()` spreads long content over several
messages instead of letting Slack reject it, up to `max_messages` (one for a response_url, which
Slack lets us post to five times in all): beyond that the reply is cut, with a note, keeping its
buttons. Whatever the knowledge base holds, a reply is at most MAX_MESSAGES messages.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from bot.adapters.slack.actions import VALUE_LIMIT
from bot.adapters.slack.mrkdwn import escape, link, split_mrkdwn, truncate

SECTION_LIMIT = 3000
HEADER_LIMIT = 150
BUTTON_TEXT_LIMIT = 75
ACTIONS_LIMIT = 25
MESSAGE_BLOCKS = 50
HOME_BLOCKS = 100
CONTEXT_ELEMENTS = 10
# Slack answers msg_blocks_too_long well below 50 full sections; keep each message's JSON under this.
MESSAGE_CHARS = 12_000
FALLBACK_CHARS = 300
MAX_MESSAGES = 5  # a reply in a thread or DM: at most this many messages
TEXT_CAP = MESSAGE_CHARS * MAX_MESSAGES  # text beyond this could never be shown: cut before splitting
CUT_NOTE = "✂️ The rest of this answer is too long for Slack; see the docs links in the knowledge base."


Block = dict[str, Any]  # a block as Slack's JSON (what slack_sdk's Block.to_dict() would give)
Button = dict[str, Any]  # a button element, likewise
_ENCODER = json.JSONEncoder(ensure_ascii=False)  # json.dumps(..., ensure_ascii=False) makes one per call


class KeptBlock(dict[str, Any]):
    """A block that is rendered once and shared (an entry's, the topics list): it carries the
    length of its JSON, so paginating a reply does not serialise it again. Never mutate one."""

    __slots__ = ("json_size",)

    def __init__(self, block: Block) -> None:
        super().__init__(block)
        self.json_size = len(_ENCODER.encode(block))


def kept(blocks: Iterable[Block]) -> tuple[KeptBlock, ...]:
    return tuple(KeptBlock(block) for block in blocks)


@dataclass(frozen=True, slots=True)
class SlackMessage:
    """One Slack message: escaped notification text plus its blocks as Slack JSON."""

    text: str
    blocks: tuple[Block, ...]

    def block_dicts(self) -> list[Block]:
        return list(self.blocks)


def header(text: str) -> Block:
    return {"text": _plain(truncate(text, HEADER_LIMIT)), "type": "header"}


def sections(escaped: str) -> list[Block]:
    """Escaped mrkdwn as one or more section blocks of at most 3000 characters."""
    if len(escaped) > TEXT_CAP:
        escaped = split_mrkdwn(escaped[: TEXT_CAP + SECTION_LIMIT], TEXT_CAP)[0]
    return [{"text": _mrkdwn(chunk), "type": "section"} for chunk in split_mrkdwn(escaped, SECTION_LIMIT)]


def context(escaped: str) -> Block:
    return {"elements": [_mrkdwn(_cut_mrkdwn(escaped, SECTION_LIMIT))], "type": "context"}


def divider() -> Block:
    return {"type": "divider"}


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Button:
    if len(value) > VALUE_LIMIT:
        raise ValueError(f"button value for {action_id} is longer than {VALUE_LIMIT} characters")
    data: Button = {"action_id": action_id}
    if style:
        data["style"] = style
    data["text"] = _plain(truncate(text, BUTTON_TEXT_LIMIT))
    data["type"] = "button"
    if value:
        data["value"] = value
    return data


def actions(buttons: Sequence[Button]) -> list[Block]:
    """Buttons in as many actions blocks as needed (25 elements each)."""
    return [
        {"elements": list(buttons[i : i + ACTIONS_LIMIT]), "type": "actions"}
        for i in range(0, len(buttons), ACTIONS_LIMIT)
    ]


def sources_context(urls: Iterable[str]) -> Block | None:
    links = [link(url, _url_label(url)) for url in urls if url.startswith(("http://", "https://"))]
    if not links:
        return None
    text = "Docs: " + " · ".join(links)
    while len(text) > SECTION_LIMIT and len(links) > 1:
        links.pop()
        text = "Docs: " + " · ".join(links)
    return context(text)


def fallback_text(plain: str) -> str:
    """The notification text: the first non-empty line, cut, then escaped."""
    first = next((line.strip() for line in plain.splitlines() if line.strip()), "")
    return escape(truncate(first, FALLBACK_CHARS))


def paginate(
    fallback: str,
    body: Sequence[Block],
    tail: Sequence[Block] = (),
    *,
    max_blocks: int = MESSAGE_BLOCKS,
    max_messages: int = MAX_MESSAGES,
) -> tuple[SlackMessage, ...]:
    """Spread blocks over messages of ≤ max_blocks blocks and ≤ MESSAGE_CHARS of JSON; tail goes last.

    More than `max_messages` messages' worth: the body is cut from the end and CUT_NOTE added
    before the tail, so the buttons (feedback, share, see also) are always there."""
    body_json = [_sized(block) for block in body]
    tail_json = [_sized(block) for block in tail]
    pages = _pages([*body_json, *tail_json], max_blocks)
    if len(pages) > max_messages:
        note = _sized(context(CUT_NOTE))
        kept = list(body_json)
        while kept:
            kept.pop()
            pages = _pages([*kept, note, *tail_json], max_blocks)
            if len(pages) <= max_messages:
                break
        else:  # even the buttons do not fit: keep the last ones (feedback, share), drop see-also
            rest = list(tail_json)
            while len(rest) > 1 and len(_pages([note, *rest], max_blocks)) > max_messages:
                rest.pop(0)
            pages = _pages([note, *rest], max_blocks)[:max_messages]
    total = len(pages)
    return tuple(
        SlackMessage(fallback if i == 0 else f"{fallback} ({i + 1}/{total})", tuple(page))
        for i, page in enumerate(pages)
    )


def was_cut(messages: Sequence[SlackMessage]) -> bool:
    """True when `paginate` had to cut the reply (for `kubebot kb lint`)."""
    return any(
        block.get("type") == "context" and any(e.get("text") == CUT_NOTE for e in block.get("elements", []))
        for message in messages
        for block in message.blocks
    )


def _sized(block: Block) -> tuple[Block, int]:
    if isinstance(block, KeptBlock):
        return block, block.json_size
    return block, len(_ENCODER.encode(block))


def _pages(blocks: Sequence[tuple[Block, int]], max_blocks: int) -> list[list[Block]]:
    pages: list[list[Block]] = [[]]
    size = 0
    for data, block_size in blocks:
        if pages[-1] and (len(pages[-1]) >= max_blocks or size + block_size > MESSAGE_CHARS):
            pages.append([])
            size = 0
        pages[-1].append(data)
        size += block_size
    return pages


# Text objects as slack_sdk serialises them: keys sorted, an empty text left out.
def _plain(text: str) -> dict[str, Any]:
    if not text:
        return {"emoji": True, "type": "plain_text"}
    return {"emoji": True, "text": text, "type": "plain_text"}


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"text": text, "type": "mrkdwn"} if text else {"type": "mrkdwn"}


def _cut_mrkdwn(escaped: str, limit: int) -> str:
    return split_mrkdwn(escaped, limit)[0] if len(escaped) > limit else escaped


def _url_label(url: str) -> str:
    parts = urlsplit(url)
    return truncate((parts.netloc + parts.path).rstrip("/"), 60)
