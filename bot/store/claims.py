"""Once-only claims in PostgreSQL, so several HTTP replicas answer a Slack retry once.

A Slack retry or a duplicate event can land on another replica than the first delivery; the
in-memory dedupe of one process cannot see it. Replicas already share PostgreSQL for the store,
so a claim is one `INSERT ... ON CONFLICT` there: the first replica to insert the key wins, an
expired key can be claimed again.

A claim sits on the path of an ack, so it runs on the event loop with psycopg's async driver,
on a connection of its own, and within a time budget (KUBEBOT_CLAIM_TIMEOUT, 0.3 s): when
PostgreSQL does not answer in time (down, frozen, a listener that accepts and never answers)
the claim fails open (the event is answered: twice beats never), the outage is logged once and
every failed-open claim is counted (``kubebot_claims_failed_open_total``). While the database is
known to be down, claims fail open at once and reconnecting is left to a background probe every
``retry_after`` seconds, so no ack ever waits for a reconnect.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from bot.config import env_float
from bot.metrics import METRICS, Metrics
from bot.store.base import is_postgres_url, redact_url

if TYPE_CHECKING:
    import psycopg

log = logging.getLogger("kubebot.store")

CLAIM_TIMEOUT_S = 0.3
CONNECT_TIMEOUT_S = 2  # libpq's own bound on a connect (a background probe's, never an ack's)
STATEMENT_TIMEOUT_MS = 500
RETRY_AFTER_S = 30.0
PRUNE_EVERY = 1000

_CREATE = "CREATE TABLE IF NOT EXISTS kubebot_claims ( key text PRIMARY KEY, expires_at timestamptz NOT NULL)"
_CLAIM = (
    "INSERT INTO kubebot_claims (key, expires_at) VALUES (%s, now() + make_interval(secs => %s))"
    " ON CONFLICT (key) DO UPDATE SET expires_at = EXCLUDED.expires_at"
    " WHERE kubebot_claims.expires_at < now() RETURNING 1"
)
_PRUNE = "DELETE FROM kubebot_claims WHERE expires_at < now() - interval '1 hour'"


class PostgresClaims:
    """`bot.ports.Claims` on PostgreSQL. Use it from one event loop; never blocks it."""

    def __init__(
        self,
        url: str,
        *,
        timeout: float = CLAIM_TIMEOUT_S,
        retry_after: float = RETRY_AFTER_S,
        clock: Callable[[], float] = time.monotonic,
        metrics: Metrics | None = None,
    ) -> None:
        self._url = url
        self.where = redact_url(url)
        self.timeout = timeout
        self._retry_after = retry_after
        self._clock = clock
        self._metrics = metrics or METRICS
        self._conn: psycopg.AsyncConnection[Any] | None = None
        self._probe: asyncio.Task[None] | None = None
        self._down_since: float | None = None
        self._last_try = 0.0
        self._tasks: set[asyncio.Task[Any]] = set()  # abandoned claims, probes, prunes: kept alive
        self._claims = 0
        self.failed_open = 0

    @property
    def available(self) -> bool:
        return self._down_since is None

    async def claim(self, key: str, ttl_seconds: float) -> bool:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.timeout  # one budget for connecting and claiming
        conn = self._conn
        if conn is None or conn.closed:
            self._conn = None
            conn = await self._connection(deadline)
            if conn is None:
                return self._fail_open(None)
        work = loop.create_task(self._insert(conn, key, ttl_seconds))
        try:
            done, _ = await asyncio.wait({work}, timeout=max(0.0, deadline - loop.time()))
        except asyncio.CancelledError:
            self._abandon(work, conn)
            raise
        if not done:  # never wait on: cancelling a query to a frozen server can itself take seconds
            self._abandon(work, conn)
            return self._fail_open(TimeoutError(f"no answer within {self.timeout:g} s"))
        error = work.exception()
        if error is not None:
            self._drop(conn)
            return self._fail_open(error)
        return bool(work.result())

    async def close(self) -> None:
        conn, self._conn = self._conn, None
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.wait(set(self._tasks), timeout=5)
        if conn is not None:
            with contextlib.suppress(Exception):
                await conn.close()

    # -- internals ---------------------------------------------------------------------------
    async def _insert(self, conn: psycopg.AsyncConnection[Any], key: str, ttl: float) -> bool:
        cursor = await conn.execute(_CLAIM, (key, ttl))
        row = await cursor.fetchone()
        self._claims += 1
        if self._claims % PRUNE_EVERY == 0:
            self._track(asyncio.get_running_loop().create_task(self._prune(conn)))
        return row is not None

    async def _prune(self, conn: psycopg.AsyncConnection[Any]) -> None:
        try:
            await conn.execute(_PRUNE)
        except Exception as exc:  # old keys stay a little longer; claims are unaffected
            log.debug("event=claims_prune_failed error=%s", type(exc).__name__)

    async def _connection(self, deadline: float) -> psycopg.AsyncConnection[Any] | None:
        """The connection, or None when claims must fail open now (the database is down)."""
        if self._probe is None and (self._down_since is None or self._retry_due()):
            self._last_try = self._clock()
            self._probe = self._track(asyncio.get_running_loop().create_task(self._connect()))
        if self._down_since is not None or self._probe is None:
            return None  # after an outage, never wait for a reconnect: the probe runs on its own
        # the first connection: wait for it within the budget (the probe goes on if we stop waiting)
        left = deadline - asyncio.get_running_loop().time()
        await asyncio.wait({self._probe}, timeout=max(0.0, left))
        if self._conn is None:
            self._lost(TimeoutError(f"no connection within {self.timeout:g} s"))
        return self._conn

    def _retry_due(self) -> bool:
        return self._clock() - self._last_try >= self._retry_after

    async def _connect(self) -> None:
        try:
            import psycopg

            conn = await psycopg.AsyncConnection.connect(
                self._url,
                autocommit=True,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="kubebot-claims",
                options=f"-c statement_timeout={STATEMENT_TIMEOUT_MS}",
            )
            await asyncio.wait_for(conn.execute(_CREATE), CONNECT_TIMEOUT_S)
        except Exception as exc:
            self._lost(exc)
            return
        finally:
            self._probe = None
        if self._down_since is not None:
            log.info("event=claims_recovered where=%s failed_open=%d", self.where, self.failed_open)
        self._down_since = None
        self._conn = conn

    def _fail_open(self, error: BaseException | None) -> bool:
        if error is not None:
            self._lost(error)
        self.failed_open += 1
        self._metrics.claims_failed_open.inc()
        return True

    def _lost(self, error: BaseException) -> None:
        if self._down_since is None:
            log.warning(
                "event=claims_unavailable where=%s error=%s note=answering_without_shared_dedupe",
                self.where,
                redact_text(error, self._url),
            )
            self._down_since = self._clock()
            self._last_try = self._down_since

    def _abandon(self, work: asyncio.Task[bool], conn: psycopg.AsyncConnection[Any]) -> None:
        """Stop waiting for ``work``; cancel it in the background and drop its connection."""
        work.cancel()
        self._track(work)
        self._drop(conn, after=work)

    def _drop(self, conn: psycopg.AsyncConnection[Any], after: asyncio.Task[Any] | None = None) -> None:
        if self._conn is conn:
            self._conn = None

        async def close() -> None:
            if after is not None:
                await asyncio.wait({after})
            with contextlib.suppress(Exception):
                await conn.close()

        self._track(asyncio.get_running_loop().create_task(close()))

    def _track(self, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        self._tasks.add(task)
        task.add_done_callback(_forget(self._tasks))
        return task


def _forget(tasks: set[asyncio.Task[Any]]) -> Callable[[asyncio.Task[Any]], None]:
    def done(task: asyncio.Task[Any]) -> None:
        tasks.discard(task)
        if not task.cancelled():
            task.exception()  # retrieved: a failure here was already logged and counted

    return done


def redact_text(error: BaseException, url: str) -> str:
    """One line of an error message, at most 200 characters, with no password in it."""
    from bot.store.base import redact_secrets

    return redact_secrets(" ".join(str(error).split()), url)[:200] or type(error).__name__


def claims_from_env(env: Mapping[str, str], metrics: Metrics | None = None) -> PostgresClaims | None:
    """Shared claims when KUBEBOT_DB is PostgreSQL (any DSN form), else None (one replica)."""
    url = env.get("KUBEBOT_DB", "").strip()
    if not url or not is_postgres_url(url):
        return None
    timeout = env_float(
        env, "KUBEBOT_CLAIM_TIMEOUT", CLAIM_TIMEOUT_S, minimum=0.001, maximum=10.0, what="a number of seconds"
    )
    return PostgresClaims(url, timeout=timeout, metrics=metrics)
