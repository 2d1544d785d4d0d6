"""Stable button custom ids: they encode the action and its argument, so a click works after a restart.

    kb:entry:<entry-id>              show an entry (see also, cluster fix)
    kb:pick:d|n:<entry-id>[:q]       show an entry offered as did-you-mean (d) or "Not this?" (n),
                                     recording the pick for the question (as much as fits)
    kb:fb:up|down:<entry-id|->[:q]   feedback, with as much of the question as fits in 100 characters
    kb:tour:<path-id>:<index>        a guided-tour step (Next / Back / Start the tour)
    kb:topics                        the topics listing
    kb:share                         re-post an ephemeral reply in the channel

Pure functions, no discord.py import: the renderer builds ids, the component handler parses them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from bot.models import PickKind

PREFIX = "kb:"
MAX_CUSTOM_ID = 100
SHARE = "kb:share"
TOPICS = "kb:topics"
TEMPLATE = r"(?s)kb:.+"  # every id this bot hands out: the one DynamicItem template

_ID = r"[a-z0-9][a-z0-9-]*"
_ENTRY = re.compile(rf"kb:entry:(?P<entry>{_ID})")
_FEEDBACK = re.compile(rf"kb:fb:(?P<vote>up|down):(?P<entry>{_ID}|-)(?::(?P<question>.*))?", re.DOTALL)
_TOUR = re.compile(rf"kb:tour:(?P<path>{_ID}):(?P<index>\d{{1,4}})")
_PICK = re.compile(rf"kb:pick:(?P<kind>[dn]):(?P<entry>{_ID})(?::(?P<question>.*))?", re.DOTALL)
_PICK_KINDS = {"d": PickKind.DID_YOU_MEAN, "n": PickKind.NOT_THIS}


@dataclass(frozen=True, slots=True)
class ShowEntry:
    """kb:entry: show one entry (a see-also or cluster-fix button)."""

    entry_id: str


@dataclass(frozen=True, slots=True)
class Feedback:
    """kb:fb: 👍/👎 on an answer (``entry_id`` None: on a decline), with what fits of the question."""

    entry_id: str | None
    helpful: bool
    question: str = ""


@dataclass(frozen=True, slots=True)
class Pick:
    """kb:pick: a did-you-mean or "Not this?" choice, recorded for the question, then shown."""

    entry_id: str
    kind: PickKind
    question: str = ""


@dataclass(frozen=True, slots=True)
class GoTour:
    """kb:tour: a guided-tour step."""

    path_id: str
    index: int


@dataclass(frozen=True, slots=True)
class ShowTopics:
    """kb:topics: the topics listing."""


@dataclass(frozen=True, slots=True)
class Share:
    """kb:share: re-post an ephemeral reply in the channel, for everyone."""


Action = ShowEntry | Pick | Feedback | GoTour | ShowTopics | Share


def _fits(custom_id: str) -> str | None:
    return custom_id if len(custom_id) <= MAX_CUSTOM_ID else None


def entry(entry_id: str) -> str | None:
    """The id of a "show this entry" button, or None when the entry id is too long to encode."""
    return _fits(f"kb:entry:{entry_id}")


def pick(kind: PickKind, entry_id: str, question: str = "") -> str | None:
    """A did-you-mean / "Not this?" button: the entry and as much of the question as fits, cut at a
    word and marked with "…" when it had to be cut."""
    letter = next((k for k, v in _PICK_KINDS.items() if v is kind), None)
    head = f"kb:pick:{letter}:{entry_id}"
    if letter is None or len(head) > MAX_CUSTOM_ID:
        return None
    return _with_question(head, question)


def tour(path_id: str, index: int) -> str | None:
    return _fits(f"kb:tour:{path_id}:{index}")


def feedback(helpful: bool, entry_id: str | None, question: str = "") -> str | None:
    head = f"kb:fb:{'up' if helpful else 'down'}:{entry_id or '-'}"
    if len(head) > MAX_CUSTOM_ID:
        return None
    room = MAX_CUSTOM_ID - len(head) - 1
    question = " ".join(question.split())[:room]
    return f"{head}:{question}" if question else head


def parse(custom_id: str) -> Action | None:
    """The action a custom id stands for, or None for an id this version does not know (expired)."""
    if custom_id == SHARE:
        return Share()
    if custom_id == TOPICS:
        return ShowTopics()
    if m := _ENTRY.fullmatch(custom_id):
        return ShowEntry(m["entry"])
    if m := _PICK.fullmatch(custom_id):
        return Pick(m["entry"], _PICK_KINDS[m["kind"]], m["question"] or "")
    if m := _TOUR.fullmatch(custom_id):
        return GoTour(m["path"], int(m["index"]))
    if m := _FEEDBACK.fullmatch(custom_id):
        eid = m["entry"]
        return Feedback(None if eid == "-" else eid, m["vote"] == "up", m["question"] or "")
    return None


def _with_question(head: str, question: str) -> str:
    room = MAX_CUSTOM_ID - len(head) - 1
    words = " ".join(question.split())
    if len(words) > room:
        cut = words[: room - 1].rsplit(" ", 1)[0] if " " in words[: room - 1] else words[: room - 1]
        words = cut + "…"
    return f"{head}:{words}" if words else head
