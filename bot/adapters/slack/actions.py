"""Button action ids and the typed values the buttons carry (Slack button values are strings ≤ 2000).

Every interactive element the renderer creates is described here, so the renderer and the click
handlers agree on the format. Decoding never raises: a value from an old or forged message
decodes to None and the click is ignored.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from bot.models import PickKind, ReplyKind

VALUE_LIMIT = 2000

ENTRY = "kubebot_entry"  # + "_<n>": see-also, did-you-mean and "fix" buttons; value = entry id
FEEDBACK_UP = "kubebot_feedback_up"
FEEDBACK_DOWN = "kubebot_feedback_down"
SHARE = "kubebot_share"
TOUR_START = "kubebot_tour_start"  # + "_<n>" when several tours are offered
TOUR_NEXT = "kubebot_tour_next"
TOUR_BACK = "kubebot_tour_back"
TOPICS = "kubebot_topics"
PICK = "kubebot_pick"  # + "_<n>": did-you-mean and "Not this?" buttons; value = PickRef

ANY_PATTERN = re.compile(r"^kubebot_")
ENTRY_PATTERN = re.compile(r"^kubebot_entry(_\d+)?$")
FEEDBACK_PATTERN = re.compile(r"^kubebot_feedback_(up|down)$")
TOUR_PATTERN = re.compile(r"^kubebot_tour_(start|next|back)(_\d+)?$")
PICK_PATTERN = re.compile(r"^kubebot_pick(_\d+)?$")

_ENTRY_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,199}$")


def entry_action(index: int) -> str:
    return f"{ENTRY}_{index}"


def decode_entry_id(value: str) -> str | None:
    return value if _ENTRY_ID.match(value) else None


def pick_action(index: int) -> str:
    return f"{PICK}_{index}"


@dataclass(frozen=True, slots=True)
class PickRef:
    """A did-you-mean or "Not this?" button: the entry it shows and the question it was offered for
    (so the click can be recorded as a pick for the console's suggested alternates)."""

    entry_id: str
    kind: PickKind
    question: str

    def encode(self) -> str:
        return _fit({"e": self.entry_id, "k": self.kind.value}, "q", self.question)

    @classmethod
    def decode(cls, value: str) -> PickRef | None:
        data = _load(value)
        if data is None:
            return None
        entry_id, kind, question = data.get("e"), data.get("k"), data.get("q", "")
        if not isinstance(entry_id, str) or not _ENTRY_ID.match(entry_id) or not isinstance(question, str):
            return None
        if kind not in (PickKind.DID_YOU_MEAN.value, PickKind.NOT_THIS.value):
            return None
        return cls(entry_id, PickKind(kind), question)


@dataclass(frozen=True, slots=True)
class TourRef:
    """A step of a guided tour: which path (empty: the default one) and which index."""

    path_id: str
    index: int

    def encode(self) -> str:
        return f"{self.path_id}:{self.index}"

    @classmethod
    def decode(cls, value: str) -> TourRef | None:
        path_id, sep, index = value.rpartition(":")
        if not sep or not index.isdigit() or (path_id and not _ENTRY_ID.match(path_id)):
            return None
        return cls(path_id, int(index))


@dataclass(frozen=True, slots=True)
class FeedbackRef:
    """What a 👍/👎 is about: the entry shown (None for a decline) and the question asked."""

    entry_id: str | None
    question: str

    def encode(self) -> str:
        return _fit({"e": self.entry_id or ""}, "q", self.question)

    @classmethod
    def decode(cls, value: str) -> FeedbackRef | None:
        data = _load(value)
        if data is None:
            return None
        entry_id, question = data.get("e"), data.get("q", "")
        if not isinstance(entry_id, str) or not isinstance(question, str):
            return None
        if entry_id and not _ENTRY_ID.match(entry_id):
            return None
        return cls(entry_id or None, question)


@dataclass(frozen=True, slots=True)
class ShareRef:
    """Enough to rebuild an ephemeral reply for posting it in the channel without asking again."""

    kind: ReplyKind
    text: str  # what the user typed
    entry_id: str | None = None
    tour: TourRef | None = None
    thread_ts: str | None = None

    def encode(self) -> str:
        head: dict[str, str] = {"k": self.kind.value}
        if self.entry_id:
            head["e"] = self.entry_id
        if self.tour is not None:
            head["t"] = self.tour.encode()
        if self.thread_ts:
            head["th"] = self.thread_ts
        return _fit(head, "q", self.text)

    @classmethod
    def decode(cls, value: str) -> ShareRef | None:
        data = _load(value)
        if data is None:
            return None
        try:
            kind = ReplyKind(data.get("k"))
        except ValueError:
            return None
        text, entry_id, tour, thread_ts = data.get("q", ""), data.get("e"), data.get("t"), data.get("th")
        if not isinstance(text, str):
            return None
        if entry_id is not None and not (isinstance(entry_id, str) and _ENTRY_ID.match(entry_id)):
            return None
        tour_ref = TourRef.decode(tour) if isinstance(tour, str) else None
        return cls(kind, text, entry_id, tour_ref, thread_ts if isinstance(thread_ts, str) else None)


def _fit(head: dict[str, str], key: str, text: str) -> str:
    """JSON with `text` under `key`, shortened until the whole value fits Slack's 2000 characters."""
    budget = len(text)
    while True:
        value = json.dumps({**head, key: text[:budget]}, ensure_ascii=False, separators=(",", ":"))
        if len(value) <= VALUE_LIMIT:
            return value
        if budget == 0:
            raise ValueError("button value does not fit Slack's limit")
        budget = max(0, budget - max(1, len(value) - VALUE_LIMIT))


def _load(value: str) -> dict[str, object] | None:
    try:
        data = json.loads(value)
    except ValueError:
        return None
    return data if isinstance(data, dict) else None
