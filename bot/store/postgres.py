"""The PostgreSQL store, for several replicas sharing one database (psycopg 3, imported lazily).

Migrations take a transaction-scoped advisory lock, so replicas starting together migrate once.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple
from typing import TYPE_CHECKING, Any, TypeVar

from bot.store.base import (
    FeedbackRow,
    PickRow,
    QuestionRow,
    StoreError,
    is_row_error,
    log_rejected,
    redact_secrets,
    redact_url,
)
from bot.store.migrations import LATEST_VERSION, SCHEMA_TABLE_POSTGRES, pending
from bot.store.picks import INSERT_POSTGRES, SELECT_POSTGRES, from_db

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("kubebot.store")

T = TypeVar("T")

CONNECT_TIMEOUT_S = 5
MIGRATION_LOCK = 0x6B75_6265  # "kube": the advisory lock id held while migrating
INSERT_QUESTION = (
    "INSERT INTO kubebot_questions (asked_at, platform, channel_type, band, entry_id, confidence, text,"
    " text_hash) VALUES (to_timestamp(%s), %s, %s, %s, %s, %s, %s, %s)"
)
INSERT_FEEDBACK = (
    "INSERT INTO kubebot_feedback (given_at, entry_id, helpful, platform, channel_type, question,"
    " question_hash) VALUES (to_timestamp(%s), %s, %s, %s, %s, %s, %s)"
)


class PostgresStore:
    """A `Store` on PostgreSQL; one connection, used under a lock."""

    def __init__(
        self, url: str, *, migrate_to: int = LATEST_VERSION, application_name: str = "kubebot"
    ) -> None:
        self.where = redact_url(url)
        self._url = url
        try:
            import psycopg
        except ImportError as exc:
            raise StoreError(
                "KUBEBOT_DB is a PostgreSQL URL but psycopg is not installed: pip install 'kubebot[postgres]'"
            ) from exc
        self._errors: tuple[type[BaseException], ...] = (psycopg.Error,)
        # a row's data, not the database: a NUL byte (DataError), a NULL where none may be
        self._row_errors: tuple[type[BaseException], ...] = (psycopg.DataError, psycopg.IntegrityError)
        self._lock = threading.Lock()
        try:
            self._conn: psycopg.Connection[Any] = psycopg.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S, application_name=application_name
            )
        except psycopg.Error as exc:
            raise StoreError(f"cannot connect to PostgreSQL {self.where}: {self._one_line(exc)}") from exc
        try:
            self._migrate(migrate_to)
        except psycopg.Error as exc:
            self._conn.close()
            raise StoreError(f"cannot migrate PostgreSQL {self.where}: {self._one_line(exc)}") from exc

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

    def write(self, questions: Sequence[QuestionRow], feedback: Sequence[FeedbackRow]) -> int:
        """One transaction; on a row's data error, row by row (savepoints), leaving out only the
        rows PostgreSQL or the driver refuse: returns how many."""
        if not questions and not feedback:
            return 0
        try:
            with self.transaction() as conn, conn.cursor() as cur:
                if questions:
                    cur.executemany(INSERT_QUESTION, [astuple(q) for q in questions])
                if feedback:
                    cur.executemany(INSERT_FEEDBACK, [astuple(f) for f in feedback])
            return 0
        except Exception as exc:
            if not self._is_row_error(exc):
                raise StoreError(f"cannot write to PostgreSQL {self.where}: {self._one_line(exc)}") from exc
        rows = [(INSERT_QUESTION, astuple(q)) for q in questions]
        rows += [(INSERT_FEEDBACK, astuple(f)) for f in feedback]
        rejected: list[str] = []
        try:
            with self.transaction() as conn:
                for sql, params in rows:
                    try:
                        with conn.transaction():  # a savepoint: a refused row is rolled back alone
                            conn.execute(sql, params)
                    except Exception as exc:
                        if not self._is_row_error(exc):
                            raise
                        rejected.append(type(exc).__name__)
        except Exception as exc:
            raise StoreError(f"cannot write to PostgreSQL {self.where}: {self._one_line(exc)}") from exc
        log_rejected("postgres", rejected)
        return len(rejected)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[psycopg.Connection[Any]]:
        """The connection inside one transaction (rolled back on any error), under the store's
        lock. For the outbox too."""
        with self._lock, self._conn.transaction():
            yield self._conn

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
        if picks:
            self.run(
                "write to",
                lambda conn: conn.cursor().executemany(INSERT_POSTGRES, [astuple(p) for p in picks]),
            )

    def picks_since(self, since: float) -> list[PickRow]:
        return [from_db(r) for r in self._query(SELECT_POSTGRES, (since,))]

    def _query(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            try:
                return list(self._conn.execute(sql, params).fetchall())
            except self._errors as exc:
                raise StoreError(f"cannot read PostgreSQL {self.where}: {self._one_line(exc)}") from exc

    def close(self) -> None:
        with self._lock, contextlib.suppress(*self._errors):  # closing a broken connection
            self._conn.close()

    def run(self, what: str, work: Callable[[psycopg.Connection[Any]], T]) -> T:
        """``work`` in one transaction; any driver error becomes StoreError("cannot {what} ...")."""
        try:
            with self.transaction() as conn:
                return work(conn)
        except self._errors as exc:
            raise StoreError(f"cannot {what} PostgreSQL {self.where}: {self._one_line(exc)}") from exc

    def _is_row_error(self, exc: BaseException) -> bool:
        # psycopg refuses to adapt a value client-side with a ProgrammingError without a SQLSTATE
        client_side = isinstance(exc, self._errors) and getattr(exc, "sqlstate", "") is None
        return is_row_error(exc, self._errors[0], self._row_errors) or (client_side and "adapt" in str(exc))

    def _one_line(self, exc: BaseException) -> str:
        """The driver's message on one line, without the password (libpq may echo the DSN)."""
        return redact_secrets(" ".join(str(exc).split()), self._url)
