"""Picks: the entry a user chose for a question, the signal behind suggested alternates.

A pick is recorded when someone clicks a did-you-mean button or a "Not this?" alternative, or
gives 👍 to an answer. Like questions and feedback, a pick never holds a user id, and its question
is kept in full, as a sha256 hash, or not at all (KUBEBOT_STORE_QUESTIONS). Both backends store
picks in ``kubebot_picks`` (migration 4); the SQL for each dialect lives here.
"""

from __future__ import annotations

from typing import Any

from bot.ports import PickRecord
from bot.store.base import PickRow, question_hash

COLUMNS = "entry_id, kind, platform, channel_type, question, question_hash"
INSERT_SQLITE = f"INSERT INTO kubebot_picks (picked_at, {COLUMNS}) VALUES (?, ?, ?, ?, ?, ?, ?)"
INSERT_POSTGRES = (
    f"INSERT INTO kubebot_picks (picked_at, {COLUMNS}) VALUES (to_timestamp(%s), %s, %s, %s, %s, %s, %s)"
)
SELECT_SQLITE = (
    f"SELECT picked_at, {COLUMNS} FROM kubebot_picks WHERE picked_at >= ? ORDER BY picked_at, id"
)
SELECT_POSTGRES = (
    f"SELECT extract(epoch FROM picked_at)::float8, {COLUMNS} FROM kubebot_picks"
    " WHERE picked_at >= to_timestamp(%s) ORDER BY picked_at, id"
)


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


def from_db(row: tuple[Any, ...]) -> PickRow:
    """A row as SELECT_SQLITE / SELECT_POSTGRES return it."""
    return PickRow(float(row[0]), row[1], row[2], row[3], row[4], row[5], row[6])
