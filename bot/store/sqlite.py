"""The default store: one SQLite file in WAL mode (readers never block the bot's writer).

The file is checked before each write batch: when it was deleted or replaced (a new inode), the
store reopens it (creating and migrating a new one) instead of writing into a file nobody can
see any more.
"""

from __future__ import annotations

import contextlib
import logging
import os
import sqlite3
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import astuple
from pathlib import Path
from typing import Any, TypeVar

from bot.store.base import FeedbackRow, QuestionRow, StoreError, is_row_error, log_rejected
from bot.store.dialects import SQLITE
from bot.store.migrations import LATEST_VERSION, migrate
from bot.store.picks import PickRow
from bot.store.sqlite_setup import retry_locked, setup_lock
from bot.store.tables import FEEDBACK, PICKS, QUESTIONS, TableReads

log = logging.getLogger("kubebot.store")

T = TypeVar("T")

BUSY_TIMEOUT_MS = 5000
SETUP_TIMEOUT_S = 60.0  # how long to wait for another process that is creating or migrating the file
# errors that are about one row's data, not about the database (a lone surrogate is a
# UnicodeEncodeError, an unsupported type a ProgrammingError/InterfaceError)
ROW_ERRORS = (sqlite3.IntegrityError, sqlite3.DataError, sqlite3.InterfaceError, sqlite3.ProgrammingError)
INSERT_QUESTION = QUESTIONS.insert(SQLITE)
INSERT_FEEDBACK = FEEDBACK.insert(SQLITE)
INSERT_PICK = PICKS.insert(SQLITE)

FileId = tuple[int, int]


class SQLiteStore(TableReads):
    """A `Store` on a SQLite file; the directory is created, the schema migrated on open."""

    dialect = SQLITE

    def __init__(self, path: Path | str, *, migrate_to: int = LATEST_VERSION) -> None:
        self.path = Path(path)
        self._lock = threading.RLock()
        self._migrate_to = migrate_to
        self._conn = self._connect()
        self._file = _file_id(self.path)

    def _connect(self) -> sqlite3.Connection:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            conn = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
        try:
            conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            with setup_lock(self.path, SETUP_TIMEOUT_S):
                retry_locked(lambda: self._set_wal(conn), BUSY_TIMEOUT_MS / 1000)
                # with WAL, NORMAL is durable against process crashes (only a power loss can drop the tail)
                conn.execute("PRAGMA synchronous=NORMAL")
                retry_locked(lambda: self._migrate(conn, self._migrate_to), BUSY_TIMEOUT_MS / 1000)
        except (OSError, sqlite3.Error) as exc:
            conn.close()
            raise StoreError(f"cannot prepare SQLite database {self.path}: {exc}") from exc
        return conn

    # -- schema -------------------------------------------------------------------------------
    def _set_wal(self, conn: sqlite3.Connection) -> None:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()
        if mode is None or str(mode[0]).lower() != "wal":
            log.warning("event=sqlite_no_wal path=%s journal_mode=%s", self.path, mode[0] if mode else None)

    def _migrate(self, conn: sqlite3.Connection, upto: int) -> None:
        migrate(lambda: immediate_transaction(conn), conn.execute, SQLITE, upto)

    def schema_version(self) -> int:
        rows = self._select("SELECT version FROM kubebot_schema", ())
        return int(rows[0][0]) if rows else 0

    # -- the file under us --------------------------------------------------------------------
    def _reopen_if_moved(self) -> None:
        """Reopen (and migrate) when the file was deleted or replaced since it was opened."""
        now = _file_id(self.path)
        if now is not None and now == self._file:
            return
        log.warning(
            "event=sqlite_reopened path=%s reason=%s note=writing_to_the_file_now_at_that_path",
            self.path,
            "deleted" if now is None else "replaced",
        )
        with contextlib.suppress(sqlite3.Error):
            # the -wal at that path is still the old file's: empty it into the old file first, so
            # that opening the new file never replays the old file's pages into it
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        with contextlib.suppress(sqlite3.Error):
            self._conn.close()
        self._conn = self._connect()
        self._file = _file_id(self.path)

    @contextlib.contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """The connection inside ``BEGIN IMMEDIATE`` ... ``COMMIT`` (rolled back on any error), under
        the store's lock, after checking the file is still the one opened. For the outbox too."""
        with self._lock:
            self._reopen_if_moved()
            with immediate_transaction(self._conn):
                yield self._conn

    def run(self, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """``work`` in one transaction; any database error becomes StoreError("cannot {what} ...")."""
        try:
            with self.transaction() as conn:
                return work(conn)
        except StoreError:
            raise
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot {what} {self.path}: {exc}") from exc

    # -- rows ---------------------------------------------------------------------------------
    def write(self, questions: Sequence[QuestionRow], feedback: Sequence[FeedbackRow]) -> int:
        """Insert the rows in one transaction. When that fails on a row's data, the batch is
        retried row by row and only the rows that cannot be stored are left out: returns how many."""
        if not questions and not feedback:
            return 0
        rows = [(INSERT_QUESTION, astuple(q)) for q in questions]
        rows += [(INSERT_FEEDBACK, astuple(f)) for f in feedback]
        try:
            with self.transaction() as conn:
                if questions:
                    conn.executemany(INSERT_QUESTION, [astuple(q) for q in questions])
                if feedback:
                    conn.executemany(INSERT_FEEDBACK, [astuple(f) for f in feedback])
            return 0
        except StoreError:
            raise
        except Exception as exc:
            if not is_row_error(exc, sqlite3.Error, ROW_ERRORS):
                raise StoreError(f"cannot write to {self.path}: {exc}") from exc
        return self._write_each(rows)

    def _write_each(self, rows: list[tuple[str, tuple[object, ...]]]) -> int:
        rejected: list[str] = []

        def each(conn: sqlite3.Connection) -> None:
            for sql, params in rows:
                conn.execute("SAVEPOINT kubebot_row")
                try:
                    conn.execute(sql, params)
                except Exception as exc:
                    if not is_row_error(exc, sqlite3.Error, ROW_ERRORS):
                        raise
                    conn.execute("ROLLBACK TO kubebot_row")
                    rejected.append(type(exc).__name__)
                conn.execute("RELEASE kubebot_row")

        try:
            self.run("write to", each)
        except StoreError:
            raise
        except Exception as exc:  # not a row's fault after all
            raise StoreError(f"cannot write to {self.path}: {type(exc).__name__}: {exc}") from exc
        log_rejected("sqlite", rejected)
        return len(rejected)

    def write_picks(self, picks: Sequence[PickRow]) -> None:
        if picks:
            self.run("write to", lambda conn: conn.executemany(INSERT_PICK, [astuple(p) for p in picks]))

    def _select(self, sql: str, params: tuple[object, ...]) -> list[tuple[Any, ...]]:
        with self._lock:
            return list(self._execute(sql, params).fetchall())

    def _execute(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):  # closing a broken connection
            self._conn.close()


@contextlib.contextmanager
def immediate_transaction(conn: sqlite3.Connection) -> Iterator[None]:
    """BEGIN IMMEDIATE ... COMMIT; on any exception roll back, so no transaction is ever left open."""
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):
                conn.execute("ROLLBACK")
        raise


def _file_id(path: Path) -> FileId | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_dev, st.st_ino)
