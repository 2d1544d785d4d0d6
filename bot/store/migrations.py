"""Schema migrations for both backends, applied automatically when a store is opened.

The version lives in the one-row table ``kubebot_schema``. Each migration is a list of
statements per dialect; a store applies, in one transaction, every migration newer than the
stored version and then records the new version. Migrations are only ever appended.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Migration:
    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]


SCHEMA_TABLE_SQLITE = "CREATE TABLE IF NOT EXISTS kubebot_schema (version INTEGER NOT NULL)"
SCHEMA_TABLE_POSTGRES = "CREATE TABLE IF NOT EXISTS kubebot_schema (version INTEGER NOT NULL)"

# epoch seconds as floats, as in `PendingReply`; state: pending | given_up (a sent reply is deleted)
_OUTBOX_COLUMNS = """                key TEXT PRIMARY KEY,
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
                finished_at {real}"""

MIGRATIONS: tuple[Migration, ...] = (
    Migration(
        1,
        "questions and feedback",
        sqlite=(
            """CREATE TABLE kubebot_questions (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                asked_at REAL NOT NULL,
                platform TEXT NOT NULL,
                channel_type TEXT NOT NULL,
                band TEXT NOT NULL,
                entry_id TEXT,
                confidence REAL NOT NULL,
                text TEXT,
                text_hash TEXT
            )""",
            """CREATE TABLE kubebot_feedback (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                given_at REAL NOT NULL,
                entry_id TEXT,
                helpful INTEGER NOT NULL,
                platform TEXT NOT NULL,
                channel_type TEXT NOT NULL,
                question TEXT,
                question_hash TEXT
            )""",
        ),
        postgres=(
            """CREATE TABLE kubebot_questions (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                asked_at TIMESTAMPTZ NOT NULL,
                platform TEXT NOT NULL,
                channel_type TEXT NOT NULL,
                band TEXT NOT NULL,
                entry_id TEXT,
                confidence DOUBLE PRECISION NOT NULL,
                text TEXT,
                text_hash TEXT
            )""",
            """CREATE TABLE kubebot_feedback (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                given_at TIMESTAMPTZ NOT NULL,
                entry_id TEXT,
                helpful BOOLEAN NOT NULL,
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
        sqlite=(
            "CREATE INDEX kubebot_questions_asked_at ON kubebot_questions (asked_at)",
            "CREATE INDEX kubebot_feedback_given_at ON kubebot_feedback (given_at)",
        ),
        postgres=(
            "CREATE INDEX kubebot_questions_asked_at ON kubebot_questions (asked_at)",
            "CREATE INDEX kubebot_feedback_given_at ON kubebot_feedback (given_at)",
        ),
    ),
    Migration(
        3,
        "the reply outbox: replies that could not be sent yet, retried later (bot/store/outbox.py)",
        sqlite=(
            f"""CREATE TABLE kubebot_outbox (
{_OUTBOX_COLUMNS.format(real="REAL")}
            )""",
            "CREATE INDEX kubebot_outbox_due ON kubebot_outbox (state, next_at)",
        ),
        postgres=(
            f"""CREATE TABLE kubebot_outbox (
{_OUTBOX_COLUMNS.format(real="DOUBLE PRECISION")}
            )""",
            "CREATE INDEX kubebot_outbox_due ON kubebot_outbox (state, next_at)",
        ),
    ),
    Migration(
        4,
        "picks: the entry a user chose for a question (did-you-mean, Not this?, 👍)",
        sqlite=(
            """CREATE TABLE kubebot_picks (
                id INTEGER PRIMARY KEY AUTOINCREMENT,
                picked_at REAL NOT NULL,
                entry_id TEXT NOT NULL,
                kind TEXT NOT NULL,
                platform TEXT NOT NULL,
                channel_type TEXT NOT NULL,
                question TEXT,
                question_hash TEXT
            )""",
            "CREATE INDEX kubebot_picks_picked_at ON kubebot_picks (picked_at)",
        ),
        postgres=(
            """CREATE TABLE kubebot_picks (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                picked_at TIMESTAMPTZ NOT NULL,
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
