"""Slack text in and out: decode what users typed, escape what we send, split at Slack's limits.

Slack parses `<...>` as control sequences (`<!channel>`, `<@U123>`, links), so every piece of text
we send in a mrkdwn field goes through `escape()` first: only `&`, `<` and `>` (Slack's rule). The
knowledge base's `code` and *emphasis* are mrkdwn already and pass through unchanged.
"""

from __future__ import annotations

import re

_CONTROL = re.compile(r"<([^<>]*)>")
_ENTITY_TAIL = re.compile(r"&[a-z]{0,3}$")
_FENCE = "```"


def escape(text: str) -> str:
    """Escape Slack's three control characters so text is shown, never interpreted."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def from_slack(text: str) -> str:
    """Turn Slack-formatted message text into what the user saw: `<@U1|ann>` → `@ann`, links → label."""

    def plain(match: re.Match[str]) -> str:
        target, _, label = match.group(1).partition("|")
        if target.startswith(("@", "#")):
            return target[0] + (label.lstrip("@#") or target[1:])
        if target.startswith("!"):
            if target.startswith(("!subteam^", "!date^")):
                return label
            return "@" + target[1:]
        return label or target

    text = _CONTROL.sub(plain, text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def strip_mention(text: str, user_id: str | None) -> str:
    """Remove every `<@BOT>` / `<@BOT|name>` mention of the bot from raw Slack text."""
    if not user_id:
        return text.strip()
    return re.sub(rf"<@{re.escape(user_id)}(\|[^>]*)?>", " ", text).strip()


def truncate(text: str, limit: int) -> str:
    """Cut plain text to `limit` characters, ending with an ellipsis when cut."""
    if len(text) <= limit:
        return text
    return text[: max(0, limit - 1)].rstrip() + "…"


def code_block(escaped: str) -> str:
    """Wrap already-escaped text in a ``` block (Slack needs no language tag)."""
    return f"{_FENCE}{escaped}{_FENCE}"


def link(url: str, label: str) -> str:
    """A mrkdwn link; the URL and label are escaped and `|` removed from the URL."""
    return f"<{escape(url.replace('|', '%7C'))}|{escape(label)}>"


def split_mrkdwn(text: str, limit: int) -> list[str]:
    """Split escaped mrkdwn into chunks of at most `limit` characters.

    Prefers paragraph, then line, then word boundaries; never cuts inside an `&amp;`-style entity;
    a cut inside a ``` block closes the block and reopens it in the next chunk.
    """
    if limit < 32:
        raise ValueError("limit too small to split mrkdwn safely")
    chunks: list[str] = []
    rest = text.strip("\n")
    while len(rest) > limit:
        budget = limit - len(_FENCE)  # room to close an open code block
        cut, skip = _cut_point(rest, budget)
        head, rest = rest[:cut].rstrip(" "), rest[cut + skip :]
        if head.count(_FENCE) % 2:
            head += _FENCE
            rest = _FENCE + rest
        if head.strip():
            chunks.append(head)
    if rest.strip():
        chunks.append(rest)
    return chunks


def _cut_point(text: str, budget: int) -> tuple[int, int]:
    """Where to cut `text` so the head fits `budget`: (index, separator characters to drop)."""
    window = text[:budget]
    for separator in ("\n\n", "\n", " "):
        at = window.rfind(separator)
        if at >= budget // 2:
            return at, len(separator)
    at = budget
    tail = _ENTITY_TAIL.search(text[:at])
    if tail is not None:
        at = tail.start()
    while at > budget // 2 and text[at - 1] == "`" == text[at]:  # never split a ``` fence
        at -= 1
    return at, 0
