"""Fault scenarios of issue 14, against a real `kubebot serve slack --http` process on loopback.

For each scenario a fresh bot process starts (SQLite store in a temporary directory unless the
scenario needs PostgreSQL, the Web API and response_urls pointed at a local stand-in for Slack in
this process), signed `/kube` commands and `@kubebot` mentions are sent at a fixed concurrency
while the fault is injected, and the table shows, per scenario: requests sent, answered (a reply
Slack accepted), lost (acked but never answered, after waiting for the outbox; for the poison
rows, plus the good rows the store did not keep), and the p99 ack latency. Faults:

- Slack answering 429 (Retry-After 1) / 500 / 502 / 504, or hanging, for a few seconds;
- Slack down (connections refused) for 10 s and for 60 s: replies wait in the outbox;
- auth.test failing (500) or hanging after start-up, at the first requests;
- 300 junk unauthenticated requests among the real ones;
- SIGTERM with requests in flight (the process must exit 0 with every acked request answered);
- PostgreSQL (a real server, tests/pg.py) frozen mid-run behind a loopback proxy that stops
  forwarding (tests/faultproxy.py): acks stay fast, claims fail open, nothing is lost;
- poison questions (lone surrogates, NUL, a 1 MB paste, an RTL override) among normal ones, on
  PostgreSQL and on SQLite: all answered, every row kept (counted in the database afterwards).
Without PostgreSQL's binaries its rows say why instead of running (faults_store.py).

Usage: python benchmarks/bench_faults.py [--requests 60] [--concurrency 20] [--only NAME ...]
Exit status 1 if any scenario lost an acked request or a row, or answered one with a 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
from faultkit import REPLY_METHODS, Bot, Env, FakeSlack, Row, Scenario, Sender, summarise
from faults_store import poison, postgres_frozen


def slack_status(status: int, window: float = 5.0) -> Scenario:
    async def run(env: Env) -> Row:
        async with env.bot() as (_, sender):
            headers = {"Retry-After": "1"} if status == 429 else {}
            if window:
                env.fake.outage(status, *REPLY_METHODS, seconds=window, headers=headers)
            await sender.burst(env.requests, env.concurrency, f"s{status}-")
            await sender.settle(window + 90)
        return summarise(f"Slack {status} for {window:.0f} s" if window else "baseline (no fault)", sender)

    return run


async def slack_hang(env: Env) -> Row:
    async with env.bot() as (_, sender):
        env.fake.hang(*REPLY_METHODS, seconds=5)
        await sender.burst(env.requests, env.concurrency, "hang-")
        await sender.settle(60)
    return summarise("Slack hangs for 5 s", sender)


def slack_down(seconds: float) -> Scenario:
    async def run(env: Env) -> Row:
        async with env.bot() as (_, sender):
            await env.fake.down()
            try:
                started = time.monotonic()
                await sender.burst(env.requests, env.concurrency, f"down{seconds:.0f}-")
                await asyncio.sleep(max(0.0, seconds - (time.monotonic() - started)))
            finally:
                await env.fake.up()
            await sender.settle(90)
        return summarise(f"Slack down {seconds:.0f} s", sender, "refused connections; replies via the outbox")

    return run


def auth_test_failing(hang: bool) -> Scenario:
    async def run(env: Env) -> Row:
        async with env.bot() as (_, sender):
            if hang:
                env.fake.hang("auth.test", seconds=30)
            else:
                env.fake.outage(500, "auth.test", seconds=30)
            await sender.burst(env.requests, env.concurrency, f"auth{hang}-")
            await sender.settle(30)
        what = "hangs" if hang else "answers 500"
        return summarise(f"auth.test {what} at first request", sender)

    return run


async def junk(env: Env) -> Row:
    async with env.bot() as (bot, sender):
        junk_task = asyncio.ensure_future(sender.junk(300))
        await sender.burst(env.requests, env.concurrency, "junk-")
        statuses = await junk_task
        await sender.settle(30)
        logs = bot.logs()
    tracebacks = logs.count("Traceback")
    note = f"300 junk → {', '.join(f'{s}×{n}' for s, n in sorted(statuses.items()))}, {tracebacks} tracebacks"
    row = summarise("300 junk unauthenticated requests", sender, note)
    row.failed = row.failed or tracebacks > 0 or any(s >= 500 for s in statuses)
    return row


async def sigterm(env: Env) -> Row:
    fake = env.fake
    bot = Bot(fake, env.workdir)
    await bot.ready(env.session)
    sender = Sender(env.session, bot, fake)
    fake.hang("response_url", seconds=1.0)
    stopped: list[float] = []

    async def term_halfway(done: int) -> None:
        if done == env.requests // 2:
            bot.proc.send_signal(signal.SIGTERM)
            stopped.append(time.monotonic())

    await sender.burst(env.requests, env.concurrency, "term-", after=term_halfway)
    for i in range(10):  # after the listener closed: refused, and Slack would retry them elsewhere
        await sender.one(env.requests + i, "term-")
        await asyncio.sleep(0.02)
    await asyncio.to_thread(bot.proc.wait, 30)
    exit_s = time.monotonic() - stopped[0]
    fake.reset_faults()
    row = summarise(
        "SIGTERM with requests in flight", sender, f"exit {bot.proc.returncode} after {exit_s:.1f} s"
    )
    row.failed = row.failed or bot.proc.returncode != 0 or exit_s > 20
    return row


SCENARIOS: dict[str, Scenario] = {
    "baseline": slack_status(200, 0.0),
    "429": slack_status(429),
    "500": slack_status(500),
    "502": slack_status(502),
    "504": slack_status(504),
    "hang": slack_hang,
    "down10": slack_down(10),
    "down60": slack_down(60),
    "auth500": auth_test_failing(hang=False),
    "authhang": auth_test_failing(hang=True),
    "junk": junk,
    "sigterm": sigterm,
    "pgfrozen": postgres_frozen,
    "poison": poison("PostgreSQL"),
    "poisonsqlite": poison("SQLite"),
}


async def main_async(names: list[str], requests: int, concurrency: int) -> list[Row]:
    fake = FakeSlack(record=False)  # thousands of calls nobody reads: counted in `answers` only
    await fake.start()
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="kubebot-faults-") as tmp:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
                env = Env(session, fake, Path(tmp), requests, concurrency)
                with env.cleanup:  # e.g. the PostgreSQL server the store scenarios started
                    for name in names:
                        fake.answers.clear()
                        started = time.monotonic()
                        row = await SCENARIOS[name](env)
                        rows.append(row)
                        print(f"  {name}: {time.monotonic() - started:.0f} s", file=sys.stderr, flush=True)
    finally:
        await fake.stop()
    return rows


def print_table(rows: list[Row], requests: int, concurrency: int) -> None:
    print(f"Fault scenarios, kubebot serve slack --http on loopback: {requests} requests per scenario "
          f"(half /kube, half mentions), concurrency {concurrency}, {os.cpu_count()} CPU(s)\n")  # fmt: skip
    print(f"{'scenario':<38}{'requests':>9}{'answered':>10}{'lost':>6}{'p99 ack':>10}  notes")
    for r in rows:
        cells = [
            "-" if r.requests is None else str(r.requests),
            "-" if r.answered is None else str(r.answered),
            "-" if r.lost is None else str(r.lost),
            "-" if r.p99_ms is None else f"{r.p99_ms:.0f} ms",
        ]
        flag = "FAILED " if r.failed else ""
        print(f"{r.scenario:<38}{cells[0]:>9}{cells[1]:>10}{cells[2]:>6}{cells[3]:>10}  {flag}{r.note}")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--requests", type=int, default=60)
    parser.add_argument("--concurrency", type=int, default=20)
    parser.add_argument("--only", nargs="+", choices=sorted(SCENARIOS), help="run only these scenarios")
    args = parser.parse_args()
    names = args.only or list(SCENARIOS)
    rows = asyncio.run(main_async(names, args.requests, args.concurrency))
    print_table(rows, args.requests, args.concurrency)
    if any(r.failed for r in rows):
        raise SystemExit(1)


if __name__ == "__main__":
    main()
