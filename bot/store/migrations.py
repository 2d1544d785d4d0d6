"""Schema migrations for both backends, and the one runner both stores call when they open.

The version lives in the one-row table ``kubebot_schema``. Each migration's statements are written
once, with the few column types that differ between the backends as ``{placeholders}`` that a
`bot.store.dialects.Dialect` fills in. `migrate` applies, in one transaction of the store's, every
migration newer than the stored version, then records the new version. Migrations are only ever
appended.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any, Protocol

from bot.store.dialects import Dialect

log = logging.getLogger("kubebot.store")


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    statements: tuple[str, ...]  # templates: see `Dialect.sql`

    def sql(self, dialect: Dialect) -> tuple[str, ...]:
        return tuple(dialect.sql(statement) for statement in self.statements)


SCHEMA_TABLE = "CREATE TABLE IF NOT EXISTS kubebot_schema (version INTEGER NOT NULL)"

# epoch seconds as floats, as in `PendingReply`; state: pending | given_up (a sent reply is deleted)
_OUTBOX = """CREATE TABLE kubebot_outbox (
                key TEXT PRIMARY KEY,
                platform TEXT NOT NULL,
                method TEXT NOT NULL,
                target TEXT NOT NULL,
                body TEXT NOT NULL,
                created_at {real} NOT NULL,
                expires_at {real},
                attempts INTEGER NOT NULL DEFAULT 0,
                next_at {real} NOT NULL DEFAULT 0,
                state TEXT NOT NULL DEFAULT 'pending',
                reason TEXT,
                finished_at {real}
            )"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "questions and feedback",
        (
            """CREATE TABLE kubebot_questions (
                id {id},
                asked_at {time} NOT NULL,
                platform TEXT NOT NULL,
                channel_type TEXT NOT NULL,
                band TEXT NOT NULL,
                entry_id TEXT,
                confidence {real} NOT NULL,
                text TEXT,
                text_hash TEXT
            )""",
            """CREATE TABLE kubebot_feedback (
                id {id},
                given_at {time} NOT NULL,
                entry_id TEXT,
                helpful {bool} NOT NULL,
                platform TEXT NOT NULL,
                channel_type TEXT NOT NULL,
                question TEXT,
                question_hash TEXT
            )""",
        ),
    ),
    Migration(
        2,
        "time indexes for the report",
        (
            "CREATE INDEX kubebot_questions_asked_at ON kubebot_questions (asked_at)",
            "CREATE INDEX kubebot_feedback_given_at ON kubebot_feedback (given_at)",
        ),
    ),
    Migration(
        3,
        "the reply outbox: replies that could not be sent yet, retried later (bot/store/outbox.py)",
        (_OUTBOX, "CREATE INDEX kubebot_outbox_due ON kubebot_outbox (state, next_at)"),
    ),
    Migration(
        4,
        "picks: the entry a user chose for a question (did-you-mean, Not this?, 👍)",
        (
            """CREATE TABLE kubebot_picks (
                id {id},
                picked_at {time} NOT NULL,
                entry_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                platform TEXT NOT NULL,
                channel_type TEXT NOT NULL,
                question TEXT,
                question_hash TEXT
            )""",
            "CREATE INDEX kubebot_picks_picked_at ON kubebot_picks (picked_at)",
        ),
    ),
)

LATEST_VERSION = MIGRATIONS[-1].version


def pending(current: int, upto: int = LATEST_VERSION) -> tuple[Migration, ...]:
    """The migrations to apply to a database at ``current`` to reach ``upto``, in order."""
    return tuple(m for m in MIGRATIONS if current < m.version <= upto)


class _Cursor(Protocol):
    def fetchone(self) -> Any: ...


Execute = Callable[[str, Sequence[object]], _Cursor]


def migrate(
    transaction: Callable[[], AbstractContextManager[Any]],
    execute: Execute,
    dialect: Dialect,
    upto: int = LATEST_VERSION,
) -> None:
    """Bring the schema to ``upto`` in one ``transaction()`` of the store's, through ``execute`` (its
    connection's ``execute``): every pending migration and the new version, or nothing."""
    with transaction():
        if dialect.lock:
            execute(dialect.lock, ())
        execute(SCHEMA_TABLE, ())
        row = execute("SELECT version FROM kubebot_schema", ()).fetchone()
        current = int(row[0]) if row else 0
        if row is None:
            execute("INSERT INTO kubebot_schema (version) VALUES (0)", ())
        if current > LATEST_VERSION:
            log.warning("event=store_schema_newer version=%d known=%d", current, LATEST_VERSION)
        steps = pending(current, upto)
        for migration in steps:
            for statement in migration.sql(dialect):
                execute(statement, ())
            execute(f"UPDATE kubebot_schema SET version = {dialect.param}", (migration.version,))
    if steps:
        log.info("event=store_migrated backend=%s from=%d to=%d", dialect.name, current, steps[-1].version)
