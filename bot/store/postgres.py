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
    QuestionRow,
    StoreError,
    is_row_error,
    log_rejected,
    redact_secrets,
    redact_url,
)
from bot.store.dialects import POSTGRES
from bot.store.migrations import LATEST_VERSION, migrate
from bot.store.picks import PickRow
from bot.store.tables import FEEDBACK, PICKS, QUESTIONS, TableReads

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("kubebot.store")

T = TypeVar("T")

CONNECT_TIMEOUT_S = 5
INSERT_QUESTION = QUESTIONS.insert(POSTGRES)
INSERT_FEEDBACK = FEEDBACK.insert(POSTGRES)
INSERT_PICK = PICKS.insert(POSTGRES)


class PostgresStore(TableReads):
    """A `Store` on PostgreSQL; one connection, used under a lock."""

    dialect = POSTGRES

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
        migrate(self._conn.transaction, self._conn.execute, POSTGRES, upto)

    def schema_version(self) -> int:
        rows = self._select("SELECT version FROM kubebot_schema", ())
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

    def write_picks(self, picks: Sequence[PickRow]) -> None:
        if picks:
            rows = [astuple(p) for p in picks]
            self.run("write to", lambda conn: conn.cursor().executemany(INSERT_PICK, rows))

    def _select(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
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
