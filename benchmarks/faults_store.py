"""The store-side fault scenarios of bench_faults.py: PostgreSQL frozen mid-run, and poison input.

Both run a real PostgreSQL, started here the way the tests start one (tests/pg.py: initdb and
pg_ctl on a free loopback port in a temporary directory, once per run, stopped at the end).
Without its binaries (or psycopg) the rows say why instead of running.

- `postgres_frozen`: KUBEBOT_DB points at PostgreSQL through tests/faultproxy.py, a loopback
  proxy that freezes (accepts, never forwards: a database that stopped answering). A quarter of
  the way through the burst it freezes and stays frozen until every answer is in: each signed
  request must still be acked fast (the shared dedupe claims fail open within
  KUBEBOT_CLAIM_TIMEOUT) and answered.
- `poison`: questions with lone surrogates, NUL bytes, a 1 MB paste and an RTL override, mixed
  with normal ones, on PostgreSQL or SQLite: every one answered, and afterwards (the bot stopped,
  its store flushed) the database holds one question row per acked request. Rows missing count
  as lost.
"""

from __future__ import annotations

import asyncio
import sqlite3
import sys
import time
from urllib.parse import urlsplit, urlunsplit

from faultkit import ROOT, Env, Row, Scenario, percentile, summarise

sys.path.insert(0, str(ROOT))
from tests.faultproxy import FaultProxy
from tests.pg import PgServer, PgStartFailed, PgUnavailable, start_pg_server

CLAIM_TIMEOUT = "0.3"  # KUBEBOT_CLAIM_TIMEOUT: what an ack may wait for PostgreSQL
ACK_LIMIT_S = 3.0  # Slack's: an ack slower than this is a failed request
PASTE_LINE = "api-7d9f8b6c5-x2k4z      0/1     CrashLoopBackOff   7          12m\n"


# -- PostgreSQL, once per run ------------------------------------------------------------------
_server: PgServer | None = None
_unavailable: str | None = None


def postgres(env: Env) -> PgServer:
    """The run's server (started on first use, stopped with the run); raises PgUnavailable."""
    global _server, _unavailable
    if _unavailable is not None:
        raise PgUnavailable(_unavailable)
    if _server is None:
        try:
            _server = start_pg_server()
        except (PgUnavailable, PgStartFailed) as exc:
            _unavailable = str(exc).splitlines()[0][:160]
            raise PgUnavailable(_unavailable) from None
        env.cleanup.callback(_stop)
    return _server


def _stop() -> None:
    global _server
    if _server is not None:
        _server.stop()
        _server = None


def via(url: str, port: int) -> str:
    """``url`` with its port replaced (to reach the server through the proxy)."""
    parts = urlsplit(url)
    return urlunsplit(parts._replace(netloc=f"{parts.netloc.rsplit(':', 1)[0]}:{port}"))


def count_rows(db: str) -> int:
    """Question rows in the store KUBEBOT_DB names (a PostgreSQL URL or a SQLite file)."""
    if db.startswith("postgresql://"):
        import psycopg

        with psycopg.connect(db, autocommit=True) as conn:
            row = conn.execute("SELECT count(*) FROM kubebot_questions").fetchone()
    else:
        with sqlite3.connect(db) as conn:
            row = conn.execute("SELECT count(*) FROM kubebot_questions").fetchone()
    return int(row[0]) if row else 0


# -- PostgreSQL frozen mid-run -----------------------------------------------------------------
async def postgres_frozen(env: Env) -> Row:
    name = "PostgreSQL frozen mid-run"
    try:
        server = postgres(env)
    except PgUnavailable as exc:
        return Row(name, note=f"not run: {exc}")
    proxy = FaultProxy("127.0.0.1", server.port).start()
    frozen_at: list[float] = []

    async def freeze_a_quarter_in(done: int) -> None:
        if done == max(1, env.requests // 4):
            proxy.freeze()
            frozen_at.append(time.monotonic())

    try:
        db = via(await asyncio.to_thread(server.new_database), proxy.port)
        overrides = {"KUBEBOT_DB": db, "KUBEBOT_CLAIM_TIMEOUT": CLAIM_TIMEOUT}
        async with env.bot(overrides) as (bot, sender):
            await sender.burst(env.requests, env.concurrency, "pgfrozen-", after=freeze_a_quarter_in)
            await sender.settle(60)
            failed_open = await bot.metric(env.session, "kubebot_claims_failed_open_total")
            proxy.thaw()  # before the stop: the store flushes on the way out
    finally:
        proxy.thaw()
        await asyncio.to_thread(proxy.close)
    traffic = sender.traffic
    after = [traffic.acks[r] for r, t in traffic.started.items() if r in traffic.acks and t >= frozen_at[0]]
    worst = max(after, default=0.0)
    row = summarise(
        name,
        sender,
        f"frozen after {env.requests // 4} requests; {len(after)} acked while frozen, p99 "
        f"{percentile([a * 1000 for a in after], 99):.0f} ms, max {worst * 1000:.0f} ms; "
        f"claims failed open: {failed_open if failed_open is None else int(failed_open)}",
    )
    row.failed = row.failed or worst >= ACK_LIMIT_S or not after
    return row


# -- poison input --------------------------------------------------------------------------------
def paste(chars: int, question: str = "why is my pod in CrashLoopBackOff?") -> str:
    lines = PASTE_LINE * (chars // len(PASTE_LINE))
    return f"{question}\n```\n{lines}```"


BIG_PASTE = paste(1_000_000)  # 1 MB, in a mention: its JSON body stays under the bot's 1 MiB limit
COMMAND_PASTE = paste(3_000)  # a slash command's text is short (form-encoding triples a paste)


def poison_question(i: int) -> str | None:
    """Requests in pairs (a /kube command, then a mention); the pairs cycle through the kinds of
    poison, with normal questions (None: the default) between them."""
    command = i % 2 == 0
    kind = (i // 2) % 6
    if kind == 1:
        return "what is a pod \ud800 and a node \udfff?"  # lone surrogates
    if kind == 2:
        return "why is my\x00 pod pending\x00"  # NUL bytes
    if kind == 3:
        return COMMAND_PASTE if command else BIG_PASTE
    if kind == 4:
        return "\u202ewhat is a service\u202c \u200f(RTL)"  # right-to-left override and mark
    return None


def poison(backend: str) -> Scenario:
    async def run(env: Env) -> Row:
        name = f"poison input ({backend})"
        if backend == "PostgreSQL":
            try:
                db = await asyncio.to_thread(postgres(env).new_database)
            except PgUnavailable as exc:
                return Row(name, note=f"not run: {exc}")
        else:
            db = str(env.workdir / f"poison-{time.monotonic_ns()}.db")
        async with env.bot({"KUBEBOT_DB": db}, poison_question) as (bot, sender):
            await sender.burst(env.requests, env.concurrency, f"poison{backend}-")
            await sender.settle(60)
        # the bot has stopped: its store is flushed
        rows = await asyncio.to_thread(count_rows, db)
        expected = len(sender.traffic.acks)  # every acked request asked one question
        row = summarise(name, sender, f"{rows}/{expected} question rows kept")
        missing = max(0, expected - rows)
        row.lost = (row.lost or 0) + missing
        refused = sum(n for status, n in sender.traffic.statuses.items() if status != "200")
        row.failed = row.failed or rows != expected or refused > 0 or bot.proc.returncode != 0
        return row

    return run
