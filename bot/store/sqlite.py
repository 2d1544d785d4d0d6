"""The default store: one SQLite file in WAL mode (readers never block the bot's writer)."""

from __future__ import annotations

import contextlib
import logging
import sqlite3
import threading
from collections.abc import Sequence
from dataclasses import astuple
from pathlib import Path

from bot.store.base import FeedbackRow, QuestionRow, StoreError
from bot.store.migrations import LATEST_VERSION, SCHEMA_TABLE_SQLITE, pending
from bot.store.picks import INSERT_SQLITE, SELECT_SQLITE, PickRow, from_db

log = logging.getLogger("kubebot.store")

BUSY_TIMEOUT_MS = 5000


class SQLiteStore:
    """A `Store` on a SQLite file; the directory is created, the schema migrated on open."""

    def __init__(self, path: Path | str, *, migrate_to: int = LATEST_VERSION) -> None:
        self.path = Path(path)
        self._lock = threading.Lock()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # autocommit mode: transactions are explicit (BEGIN IMMEDIATE ... COMMIT)
            self._conn = sqlite3.connect(
                str(self.path), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None, check_same_thread=False
            )
        except (OSError, sqlite3.Error) as exc:
            raise StoreError(f"cannot open SQLite database {self.path}: {exc}") from exc
        try:
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
            mode = self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
            if mode is None or str(mode[0]).lower() != "wal":
                log.warning(
                    "event=sqlite_no_wal path=%s journal_mode=%s", self.path, mode[0] if mode else None
                )
            # with WAL, NORMAL is durable against process crashes (only a power loss can drop the tail)
            self._conn.execute("PRAGMA synchronous=NORMAL")
            self._migrate(migrate_to)
        except sqlite3.Error as exc:
            self._conn.close()
            raise StoreError(f"cannot prepare SQLite database {self.path}: {exc}") from exc

    # -- schema -------------------------------------------------------------------------------
    def _migrate(self, upto: int) -> None:
        conn = self._conn
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.execute(SCHEMA_TABLE_SQLITE)
            row = conn.execute("SELECT version FROM kubebot_schema").fetchone()
            current = int(row[0]) if row else 0
            if row is None:
                conn.execute("INSERT INTO kubebot_schema (version) VALUES (0)")
            if current > LATEST_VERSION:
                log.warning("event=store_schema_newer version=%d known=%d", current, LATEST_VERSION)
            steps = pending(current, upto)
            for migration in steps:
                for statement in migration.sqlite:
                    conn.execute(statement)
                conn.execute("UPDATE kubebot_schema SET version = ?", (migration.version,))
            conn.execute("COMMIT")
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        if steps:
            log.info("event=store_migrated backend=sqlite from=%d to=%d", current, steps[-1].version)

    def schema_version(self) -> int:
        with self._lock:
            row = self._execute("SELECT version FROM kubebot_schema").fetchone()
        return int(row[0]) if row else 0

    # -- rows ---------------------------------------------------------------------------------
    def write(self, questions: Sequence[QuestionRow], feedback: Sequence[FeedbackRow]) -> None:
        if not questions and not feedback:
            return
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(
                    "INSERT INTO kubebot_questions (asked_at, platform, channel_type, band, entry_id,"
                    " confidence, text, text_hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                    [astuple(q) for q in questions],
                )
                conn.executemany(
                    "INSERT INTO kubebot_feedback (given_at, entry_id, helpful, platform, channel_type,"
                    " question, question_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    [astuple(f) for f in feedback],
                )
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise StoreError(f"cannot write to {self.path}: {exc}") from exc

    def questions_since(self, since: float) -> list[QuestionRow]:
        with self._lock:
            rows = self._execute(
                "SELECT asked_at, platform, channel_type, band, entry_id, confidence, text, text_hash"
                " FROM kubebot_questions WHERE asked_at >= ? ORDER BY asked_at, id",
                (since,),
            ).fetchall()
        return [QuestionRow(float(r[0]), r[1], r[2], r[3], r[4], float(r[5]), r[6], r[7]) for r in rows]

    def feedback_since(self, since: float) -> list[FeedbackRow]:
        with self._lock:
            rows = self._execute(
                "SELECT given_at, entry_id, helpful, platform, channel_type, question, question_hash"
                " FROM kubebot_feedback WHERE given_at >= ? ORDER BY given_at, id",
                (since,),
            ).fetchall()
        return [FeedbackRow(float(r[0]), r[1], bool(r[2]), r[3], r[4], r[5], r[6]) for r in rows]

    def write_picks(self, picks: Sequence[PickRow]) -> None:
        if not picks:
            return
        with self._lock:
            conn = self._conn
            try:
                conn.execute("BEGIN IMMEDIATE")
                conn.executemany(INSERT_SQLITE, [astuple(p) for p in picks])
                conn.execute("COMMIT")
            except sqlite3.Error as exc:
                if conn.in_transaction:
                    with contextlib.suppress(sqlite3.Error):
                        conn.execute("ROLLBACK")
                raise StoreError(f"cannot write to {self.path}: {exc}") from exc

    def picks_since(self, since: float) -> list[PickRow]:
        with self._lock:
            rows = self._execute(SELECT_SQLITE, (since,)).fetchall()
        return [from_db(r) for r in rows]

    def _execute(self, sql: str, params: tuple[object, ...] = ()) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, params)
        except sqlite3.Error as exc:
            raise StoreError(f"cannot read {self.path}: {exc}") from exc

    def close(self) -> None:
        with self._lock, contextlib.suppress(sqlite3.Error):  # closing a broken connection
            self._conn.close()
