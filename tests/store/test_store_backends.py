"""The storage contract, run against a real SQLite file and a real PostgreSQL server."""

from __future__ import annotations

from typing import Any, cast

from bot.store import open_store
from bot.store.base import FeedbackRow, QuestionRow, is_postgres_url
from bot.store.migrations import LATEST_VERSION
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore

NOW = 1_750_000_000.0


def q(
    at: float, text: str | None = "what is a pod", band: str = "answered", entry: str | None = "pod"
) -> QuestionRow:
    return QuestionRow(at, "slack", "channel", band, entry, 0.8125, text, None)


def test_round_trip_keeps_every_field(store_url: str) -> None:
    store = open_store(store_url)
    try:
        questions = [
            q(NOW - 10),
            QuestionRow(NOW - 5, "discord", "direct", "declined", None, 0.125, None, "ab" * 32),
            q(NOW, "kubectl logs ünïcode ✓", "suggested", None),
        ]
        feedback = [
            FeedbackRow(NOW - 4, "pod", True, "slack", "channel", "what is a pod", None),
            FeedbackRow(NOW - 3, None, False, "discord", "command", None, "cd" * 32),
        ]
        store.write(questions, feedback)
        assert store.questions_since(0) == questions
        assert store.feedback_since(0) == feedback
        # the period filter is inclusive of its start and drops older rows
        assert store.questions_since(NOW - 5) == questions[1:]
        assert store.feedback_since(NOW - 3.5) == feedback[1:]
    finally:
        store.close()


def test_schema_is_created_versioned_and_not_remigrated(store_url: str) -> None:
    store = open_store(store_url)
    assert store.schema_version() == LATEST_VERSION
    store.write([q(NOW)], [])
    store.close()
    again = open_store(store_url)
    try:
        assert again.schema_version() == LATEST_VERSION
        assert len(again.questions_since(0)) == 1
    finally:
        again.close()


def _open(url: str, migrate_to: int) -> SQLiteStore | PostgresStore:
    if is_postgres_url(url):
        return PostgresStore(url, migrate_to=migrate_to)
    return SQLiteStore(url, migrate_to=migrate_to)


def _indexes(store: SQLiteStore | PostgresStore) -> set[str]:
    if isinstance(store, SQLiteStore):
        rows = store._conn.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    else:
        rows = store._conn.execute("SELECT indexname FROM pg_indexes").fetchall()
    return {str(r[0]) for r in rows}


def test_an_old_database_is_migrated_in_place(store_url: str) -> None:
    old = _open(store_url, migrate_to=1)
    assert old.schema_version() == 1
    assert "kubebot_questions_asked_at" not in _indexes(old)
    old.write([q(NOW)], [FeedbackRow(NOW, "pod", True, "slack", "channel", "q", None)])
    old.close()

    new = _open(store_url, migrate_to=LATEST_VERSION)
    try:
        assert new.schema_version() == LATEST_VERSION == 4
        assert {"kubebot_questions_asked_at", "kubebot_feedback_given_at"} <= _indexes(new)
        assert "kubebot_picks_picked_at" in _indexes(new)
        assert new.questions_since(0) == [q(NOW)]
        assert len(new.feedback_since(0)) == 1
    finally:
        new.close()


def _no_open_transaction(store: Any) -> bool:
    if isinstance(store, SQLiteStore):
        return not store._conn.in_transaction
    import psycopg

    return bool(store._conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE)


def test_a_refused_row_is_left_out_and_the_others_are_written(store_url: str) -> None:
    store = open_store(store_url)
    try:
        store.write([q(NOW - 1)], [])
        poison = [
            QuestionRow(NOW, cast(Any, None), "channel", "answered", "pod", 0.5),  # platform is NOT NULL
            q(NOW, "a lone surrogate \ud800 in a question"),  # UnicodeEncodeError, not a driver error
            QuestionRow(NOW, "slack", "channel", "answered", "pod", cast(Any, {"not": "a number"})),
        ]
        good = [q(NOW), q(NOW + 1, "ünïcode ✓ and an emoji 🚀")]
        feedback = [
            FeedbackRow(NOW, "pod", True, "slack", "channel", "fine"),
            FeedbackRow(NOW, "pod", False, "slack", "channel", "bad \udc80 text"),
        ]
        rejected = store.write([good[0], *poison, good[1]], feedback)
        assert rejected == 4
        assert store.questions_since(0) == [q(NOW - 1), *good]
        assert store.feedback_since(0) == feedback[:1]
        assert _no_open_transaction(store)
        assert store.write([q(NOW + 2)], []) == 0  # the store is still usable after
        assert len(store.questions_since(0)) == 4
    finally:
        store.close()


def test_a_clean_batch_is_one_transaction(store_url: str) -> None:
    store = open_store(store_url)
    try:
        assert store.write([q(NOW), q(NOW + 1)], [FeedbackRow(NOW, "pod", True, "slack", "channel")]) == 0
        assert len(store.questions_since(0)) == 2 and len(store.feedback_since(0)) == 1
        assert _no_open_transaction(store)
    finally:
        store.close()
