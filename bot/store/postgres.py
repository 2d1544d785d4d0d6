"""The PostgreSQL store, for several replicas sharing one database (psycopg 3, imported lazily).

Migrations take a transaction-scoped advisory lock, so replicas starting together migrate once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Sequence
from dataclasses import astuple
from typing import TYPE_CHECKING, Any

from bot.store.base import FeedbackRow, QuestionRow, StoreError, redact_url
from bot.store.migrations import LATEST_VERSION, SCHEMA_TABLE_POSTGRES, pending
from bot.store.picks import INSERT_POSTGRES, SELECT_POSTGRES, PickRow, from_db

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("kubebot.store")

CONNECT_TIMEOUT_S = 5
MIGRATION_LOCK = 0x6B75_6265  # "kube": the advisory lock id held while migrating


class PostgresStore:
    """A `Store` on PostgreSQL; one connection, used under a lock."""

    def __init__(self, url: str, *, migrate_to: int = LATEST_VERSION) -> None:
        self.where = redact_url(url)
        try:
            import psycopg
        except ImportError as exc:
            raise StoreError(
                "KUBEBOT_DB is a PostgreSQL URL but psycopg is not installed: pip install 'kubebot[postgres]'"
            ) from exc
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        self._lock = threading.Lock()
        try:
            self._conn: psycopg.Connection[Any] = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name="kubebot"
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL {self.where}: {_one_line(exc)}") from exc
        try:
            self._migrate(migrate_to)
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(f"cannot migrate PostgreSQL {self.where}: {_one_line(exc)}") from exc

    def _migrate(self, upto: int) -> None:
        with self._conn.transaction():
            self._conn.execute("SELECT pg_advisory_xact_lock(%s)", (MIGRATION_LOCK,))
            self._conn.execute(SCHEMA_TABLE_POSTGRES)
            row = self._conn.execute("SELECT version FROM kubebot_schema").fetchone()
            current = int(row[0]) if row else 0
            if row is None:
                self._conn.execute("INSERT INTO kubebot_schema (version) VALUES (0)")
            if current > LATEST_VERSION:
                log.warning("event=store_schema_newer version=%d known=%d", current, LATEST_VERSION)
            steps = pending(current, upto)
            for migration in steps:
                for statement in migration.postgres:
                    self._conn.execute(statement)
                self._conn.execute("UPDATE kubebot_schema SET version = %s", (migration.version,))
        if steps:
            log.info("event=store_migrated backend=postgres from=%d to=%d", current, steps[-1].version)

    def schema_version(self) -> int:
        rows = self._query("SELECT version FROM kubebot_schema", ())
        return int(rows[0][0]) if rows else 0

    def write(self, questions: Sequence[QuestionRow], feedback: Sequence[FeedbackRow]) -> None:
        if not questions and not feedback:
            return
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    if questions:
                        cur.executemany(
                            "INSERT INTO kubebot_questions (asked_at, platform, channel_type, band,"
                            " entry_id, confidence, text, text_hash)"
                            " VALUES (to_timestamp(%s), %s, %s, %s, %s, %s, %s, %s)",
                            [astuple(q) for q in questions],
                        )
                    if feedback:
                        cur.executemany(
                            "INSERT INTO kubebot_feedback (given_at, entry_id, helpful, platform,"
                            " channel_type, question, question_hash)"
                            " VALUES (to_timestamp(%s), %s, %s, %s, %s, %s, %s)",
                            [astuple(f) for f in feedback],
                        )
            except self._errors as exc:
                raise StoreError(f"cannot write to PostgreSQL {self.where}: {_one_line(exc)}") from exc

    def questions_since(self, since: float) -> list[QuestionRow]:
        rows = self._query(
            "SELECT extract(epoch FROM asked_at)::float8, platform, channel_type, band, entry_id,"
            " confidence, text, text_hash FROM kubebot_questions"
            " WHERE asked_at >= to_timestamp(%s) ORDER BY asked_at, id",
            (since,),
        )
        return [QuestionRow(float(r[0]), r[1], r[2], r[3], r[4], float(r[5]), r[6], r[7]) for r in rows]

    def feedback_since(self, since: float) -> list[FeedbackRow]:
        rows = self._query(
            "SELECT extract(epoch FROM given_at)::float8, entry_id, helpful, platform, channel_type,"
            " question, question_hash FROM kubebot_feedback"
            " WHERE given_at >= to_timestamp(%s) ORDER BY given_at, id",
            (since,),
        )
        return [FeedbackRow(float(r[0]), r[1], bool(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def write_picks(self, picks: Sequence[PickRow]) -> None:
        if not picks:
            return
        with self._lock:
            try:
                with self._conn.transaction(), self._conn.cursor() as cur:
                    cur.executemany(INSERT_POSTGRES, [astuple(p) for p in picks])
            except self._errors as exc:
                raise StoreError(f"cannot write to PostgreSQL {self.where}: {_one_line(exc)}") from exc

    def picks_since(self, since: float) -> list[PickRow]:
        return [from_db(r) for r in self._query(SELECT_POSTGRES, (since,))]

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._conn.execute(sql, params).fetchall())
            except self._errors as exc:
                raise StoreError(f"cannot read PostgreSQL {self.where}: {_one_line(exc)}") from exc

    def close(self) -> None:
        with self._lock, contextlib.suppress(*self._errors):  # closing a broken connection
            self._conn.close()


def _one_line(exc: BaseException) -> str:
    return " ".join(str(exc).split())
