"""Picks: the entry a user chose for a question, the signal behind suggested alternates.

A pick is recorded when someone clicks a did-you-mean button or a "Not this?" alternative, or
gives 👍 to an answer. Like questions and feedback, a pick never holds a user id, and its question
is kept in full, as a sha256 hash, or not at all (KUBEBOT_STORE_QUESTIONS). Both backends store
picks in ``kubebot_picks`` (migration 4; its SQL is in `bot.store.tables`).
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.ports import PickRecord
from bot.store.base import question_hash


@dataclass(frozen=True, slots=True)
class PickRow:
    """One pick as stored (epoch seconds); ``kind`` is a `bot.models.PickKind` value."""

    picked_at: float
    entry_id: str
    kind: str
    platform: str
    channel_type: str
    question: str | None = None
    question_hash: str | None = None


def pick_row(record: PickRecord, mode: str, now: float) -> PickRow:
    """The row for a pick under KUBEBOT_STORE_QUESTIONS ``mode`` (full, hash or off)."""
    text = record.question.strip()
    question = text if mode == "full" and text else None
    digest = question_hash(text) if mode == "hash" and text else None
    return PickRow(
        picked_at=now,
        entry_id=record.entry_id,
        kind=record.kind.value,
        platform=record.platform.value,
        channel_type=record.channel_type.value,
        question=question,
        question_hash=digest,
    )
