"""The reply outbox in the store (/work/plan/OUTBOX.md): replies a platform did not take yet,
kept in table ``kubebot_outbox`` (migration 3) and retried later, surviving a restart.

`SQLiteOutbox` and `PostgresOutbox` implement ``bot.ports.ReplyOutbox`` structurally. Each opens
its own store connection (`SQLiteStore` / `PostgresStore`: same file or database, same
migrations, same transaction and error handling) and reopens it after a failure. Methods are
synchronous and may block: call them from the event loop through ``asyncio.to_thread``. They
raise StoreError when the database fails.

``due()`` hands each reply to one caller only: in one transaction it selects the due rows
(PostgreSQL: ``FOR UPDATE SKIP LOCKED``, so replicas sharing the database skip each other's;
SQLite: under the write lock ``BEGIN IMMEDIATE`` takes) and moves their ``next_at`` one lease
ahead. A caller that dies before ``done``/``retry_at``/``give_up`` leaves the reply due again
when the lease ends. A sent reply's row is deleted; a given-up one is kept, marked, for counting
(and pruned after ``KEEP_GIVEN_UP_S``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, Protocol, TypeVar

from bot.ports import PendingReply
from bot.store.base import StoreError, is_postgres_url, sqlite_path
from bot.store.postgres import PostgresStore
from bot.store.sqlite import SQLiteStore

T = TypeVar("T")

LEASE_S = 60.0  # how long a reply handed out by due() is not due for anyone else
KEEP_GIVEN_UP_S = 30 * 86_400.0
_COLUMNS = "key, platform, method, target, body, created_at, expires_at, attempts, next_at"


class _Sql(Protocol):
    def __call__(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]: ...


class StoreOutbox:
    """The outbox logic, in SQL both backends speak (``%s`` placeholders); subclasses run it."""

    skip_locked = ""

    def __init__(self, *, lease_seconds: float = LEASE_S, clock: Callable[[], float] = time.time) -> None:
        self.lease_seconds = lease_seconds
        self._clock = clock

    # -- the ReplyOutbox protocol --------------------------------------------------------------
    def put(self, reply: PendingReply) -> None:
        values = (
            reply.key,
            reply.platform,
            reply.method,
            reply.target,
            reply.body,
            reply.created_at,
            reply.expires_at,
            reply.attempts,
            reply.next_at,
        )
        self._run(
            "queue a reply in",
            lambda sql: sql(
                f"INSERT INTO kubebot_outbox ({_COLUMNS}) VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)"
                " ON CONFLICT (key) DO NOTHING",
                values,
            ),
        )

    def due(self, now: float, limit: int) -> list[PendingReply]:
        """Pending replies with ``next_at <= now``, oldest first; each now leased to this caller."""

        def lease(sql: _Sql) -> list[PendingReply]:
            rows = sql(
                f"SELECT {_COLUMNS} FROM kubebot_outbox WHERE state = 'pending' AND next_at <= %s"
                f" ORDER BY created_at, key LIMIT %s{self.skip_locked}",
                (now, max(0, limit)),
            )
            leased_until = now + self.lease_seconds
            for row in rows:
                sql("UPDATE kubebot_outbox SET next_at = %s WHERE key = %s", (leased_until, row[0]))
            return [_reply(row, leased_until) for row in rows]

        return self._run("read due replies from", lease)

    def done(self, key: str) -> None:
        self._run(
            "delete a sent reply from", lambda sql: sql("DELETE FROM kubebot_outbox WHERE key = %s", (key,))
        )

    def retry_at(self, key: str, next_at: float, attempts: int) -> None:
        self._run(
            "reschedule a reply in",
            lambda sql: sql(
                "UPDATE kubebot_outbox SET next_at = %s, attempts = %s WHERE key = %s AND state = 'pending'",
                (next_at, attempts, key),
            ),
        )

    def give_up(self, key: str, reason: str) -> None:
        now = self._clock()

        def mark(sql: _Sql) -> None:
            sql(
                "UPDATE kubebot_outbox SET state = 'given_up', reason = %s, finished_at = %s WHERE key = %s",
                (reason[:500], now, key),
            )
            sql(
                "DELETE FROM kubebot_outbox WHERE state = 'given_up' AND finished_at < %s",
                (now - KEEP_GIVEN_UP_S,),
            )

        self._run("give up a reply in", mark)

    def given_up(self, since: float) -> int:
        rows = self._run(
            "count given-up replies in",
            lambda sql: sql(
                "SELECT count(*) FROM kubebot_outbox WHERE state = 'given_up' AND finished_at >= %s",
                (since,),
            ),
        )
        return int(rows[0][0]) if rows else 0

    def close(self) -> None:
        raise NotImplementedError

    def _run(self, what: str, work: Callable[[_Sql], T]) -> T:
        raise NotImplementedError


def _reply(row: tuple[Any, ...], next_at: float) -> PendingReply:
    key, platform, method, target, body, created_at, expires_at, attempts, _ = row
    return PendingReply(
        str(key),
        str(platform),
        str(method),
        str(target),
        str(body),
        float(created_at),
        None if expires_at is None else float(expires_at),
        int(attempts),
        next_at,
    )


class SQLiteOutbox(StoreOutbox):
    """The outbox in the SQLite file the store uses (its own connection)."""

    def __init__(self, path: str, **options: Any) -> None:
        super().__init__(**options)
        self._store = SQLiteStore(path)  # reopens by itself when the file is deleted or replaced
        self.where = str(self._store.path)

    def _run(self, what: str, work: Callable[[_Sql], T]) -> T:
        def inside(conn: Any) -> T:
            return work(lambda sql, params=(): conn.execute(sql.replace("%s", "?"), params).fetchall())

        return self._store.run(what, inside)

    def close(self) -> None:
        self._store.close()


class PostgresOutbox(StoreOutbox):
    """The outbox in the PostgreSQL database the replicas share; reconnects after a failure."""

    skip_locked = " FOR UPDATE SKIP LOCKED"

    def __init__(self, url: str, **options: Any) -> None:
        super().__init__(**options)
        self._url = url
        self._lock = threading.Lock()
        self._store: PostgresStore | None = self._open()
        self.where = self._store.where

    def _open(self) -> PostgresStore:
        return PostgresStore(self._url, application_name="kubebot-outbox")

    def _run(self, what: str, work: Callable[[_Sql], T]) -> T:
        with self._lock:
            store = self._store if self._store is not None else self._open()
            self._store = store

        def inside(conn: Any) -> T:
            def execute(sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
                cursor = conn.execute(sql, params)
                return list(cursor.fetchall()) if cursor.description is not None else []

            return work(execute)

        try:
            return store.run(what, inside)
        except StoreError:
            with self._lock:  # a broken connection: the next call opens a new one
                if self._store is store:
                    self._store = None
            store.close()
            raise

    def close(self) -> None:
        with self._lock:
            store, self._store = self._store, None
        if store is not None:
            store.close()


def open_outbox(url: str | None, env: Mapping[str, str] | None = None, **options: Any) -> StoreOutbox:
    """The outbox in the store KUBEBOT_DB names (created and migrated as needed); raises StoreError."""
    if url and is_postgres_url(url):
        return PostgresOutbox(url, **options)
    return SQLiteOutbox(str(sqlite_path(url, env)), **options)
