"""Fault scenarios of issue 14, against a real `kubebot serve slack --http` process on loopback.

For each scenario a fresh bot process starts (SQLite store in a temporary directory, the Web API
and response_urls pointed at a local stand-in for Slack in this process), signed `/kube`
commands and `@kubebot` mentions are sent at a fixed concurrency while the fault is injected,
and the table shows, per scenario: requests sent, answered (a reply Slack accepted), lost (acked
but never answered, after waiting for the outbox), and the p99 ack latency. Faults:

- Slack answering 429 (Retry-After 1) / 500 / 502 / 504, or hanging, for a few seconds;
- Slack down (connections refused) for 10 s and for 60 s: replies wait in the outbox;
- auth.test failing (500) or hanging after start-up, at the first requests;
- 300 junk unauthenticated requests among the real ones;
- SIGTERM with requests in flight (the process must exit 0 with every acked request answered).
The store-side scenarios (PostgreSQL frozen, poison input) are listed as pending the merge of the
store branch.

Usage: python benchmarks/bench_faults.py [--requests 60] [--concurrency 20] [--only NAME ...]
Exit status 1 if any scenario lost an acked request or answered one with a 5xx.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from aiohttp import web
from slack_sdk.signature import SignatureVerifier

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
BOT_TOKEN = "xoxb-bench"
BOT_USER = "UBOT"
REPLY_METHODS = frozenset({"chat.postMessage", "response_url"})
JUNK = [
    ('{"type": "event_callback", "event": {', "application/json"),
    ('[{"type": "event_callback"}]', "application/json"),
    ("payload=" + urllib.parse.quote('{"type": "block_actions", '), "application/x-www-form-urlencoded"),
]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def percentile(values: list[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(pct / 100 * len(ordered)) - 1))]


# -- a Slack stand-in with injectable faults ---------------------------------------------------
@dataclass
class Fault:
    """While `until` (monotonic) is ahead: answer `status` (with `headers`), or hang till then."""

    methods: frozenset[str] = REPLY_METHODS
    status: int = 0
    hang: bool = False
    headers: dict[str, str] = field(default_factory=dict)
    until: float = 0.0

    def active(self, method: str) -> bool:
        return method in self.methods and time.monotonic() < self.until


class FakeSlack:
    def __init__(self) -> None:
        self.answers: Counter[str] = Counter()  # reply id → deliveries Slack accepted
        self.faults: list[Fault] = []
        self.port = free_port()  # fixed, so that the bot can reconnect after an outage
        self.api_url = f"http://127.0.0.1:{self.port}/api/"
        self._runner: web.AppRunner | None = None
        self._site: web.TCPSite | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_post("/api/{method}", self._api)
        app.router.add_post("/response/{rid}", self._response)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        await self.up()

    async def up(self) -> None:
        assert self._runner is not None
        self._site = web.TCPSite(self._runner, "127.0.0.1", self.port, reuse_address=True)
        await self._site.start()

    async def down(self) -> None:
        """Connections refused from now on: the listening socket and open connections are closed."""
        if self._site is not None:
            await self._site.stop()
            self._site = None
        if self._runner is not None and self._runner.server is not None:
            await self._runner.server.shutdown(0.1)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def response_url(self, rid: str) -> str:
        return f"http://127.0.0.1:{self.port}/response/{rid}"

    async def _fault(self, method: str) -> web.Response | None:
        for fault in self.faults:
            if fault.active(method):
                if fault.hang:
                    await asyncio.sleep(max(0.0, fault.until - time.monotonic()))
                    return None
                body = {"ok": False, "error": "ratelimited" if fault.status == 429 else "service_unavailable"}
                return web.json_response(body, status=fault.status, headers=fault.headers)
        return None

    async def _api(self, request: web.Request) -> web.Response:
        method = request.match_info["method"]
        raw = await request.text()
        failed = await self._fault(method)
        if failed is not None:
            return failed
        if method == "auth.test":
            return web.json_response({"ok": True, "user_id": BOT_USER, "bot_id": "BBOT", "team_id": "T1"})
        if method == "chat.postMessage":
            data = json.loads(raw or "{}")
            self.answers[f"m:{data.get('thread_ts', '')}"] += 1
            return web.json_response({"ok": True, "ts": f"{time.time():.6f}"})
        return web.json_response({"ok": True})

    async def _response(self, request: web.Request) -> web.Response:
        await request.read()
        failed = await self._fault("response_url")
        if failed is not None:
            return web.Response(status=failed.status, text="unavailable", headers=failed.headers)
        self.answers[f"c:{request.match_info['rid']}"] += 1
        return web.Response(text="ok")


# -- the bot, as a process -----------------------------------------------------------------------
class Bot:
    def __init__(self, fake: FakeSlack, workdir: Path) -> None:
        self.port, self.admin = free_port(), free_port()
        self.log = (workdir / f"bot-{self.port}.log").open("w+")
        env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEBOT_", "SLACK_", "DISCORD_"))}
        env |= {
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "KUBEBOT_SLACK_API_URL": fake.api_url,
            "KUBEBOT_DB": str(workdir / f"kubebot-{self.port}.db"),
            "KUBEBOT_HTTP_PORT": str(self.admin),
            "KUBEBOT_HTTP_HOST": "127.0.0.1",
            "KUBEBOT_RELOAD_INTERVAL": "0",
        }
        cmd = [sys.executable, "-m", "bot", "serve", "slack", "--http", "--port", str(self.port)]
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=self.log, stdout=subprocess.DEVNULL)
        self.url = f"http://127.0.0.1:{self.port}/slack/events"

    async def ready(self, session: aiohttp.ClientSession, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"the bot exited at start-up:\n{self.logs()}")
            with contextlib.suppress(aiohttp.ClientError):
                async with session.get(f"http://127.0.0.1:{self.admin}/readyz") as resp:
                    if resp.status == 200:
                        return
            await asyncio.sleep(0.05)
        raise SystemExit("the bot never became ready")

    async def stop(self, timeout: float = 30) -> float:
        started = time.monotonic()
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(self.proc.wait, timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            await asyncio.to_thread(self.proc.wait)
        return time.monotonic() - started

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


# -- traffic -------------------------------------------------------------------------------------
@dataclass
class Traffic:
    acks: dict[str, float] = field(default_factory=dict)  # reply id → ack seconds (HTTP 200 only)
    statuses: Counter[str] = field(default_factory=Counter)
    sent: int = 0


class Sender:
    def __init__(self, session: aiohttp.ClientSession, bot: Bot, fake: FakeSlack) -> None:
        self.session, self.bot, self.fake = session, bot, fake
        self.verifier = SignatureVerifier(SECRET)
        self.traffic = Traffic()

    def _signed(self, body: str, content_type: str) -> dict[str, str]:
        ts = str(int(time.time()))
        signature = self.verifier.generate_signature(timestamp=ts, body=body) or ""
        return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def _request(self, i: int, tag: str) -> tuple[str, str, str]:
        """(reply id, body, content type): even i a slash command, odd i a mention."""
        if i % 2 == 0:
            rid = f"{tag}{i}"
            fields = {
                "team_id": "T1", "channel_id": "C1", "user_id": "U1", "user_name": "bench",
                "command": "/kube", "text": "what is a pod", "api_app_id": "A1",
                "response_url": self.fake.response_url(rid), "trigger_id": f"{i}.{uuid.uuid4().hex}",
            }  # fmt: skip
            return f"c:{rid}", urllib.parse.urlencode(fields), "application/x-www-form-urlencoded"
        ts = f"{abs(hash(tag)) % 10**6}.{i:06d}"
        event = {
            "type": "app_mention",
            "user": "U1",
            "text": f"<@{BOT_USER}> what is a node",
            "ts": ts,
            "channel": "C1",
        }
        envelope = {
            "team_id": "T1", "api_app_id": "A1", "type": "event_callback", "event": event,
            "event_id": f"Ev{uuid.uuid4().hex[:12]}", "event_time": int(time.time()),
            "authorizations": [{"team_id": "T1", "user_id": BOT_USER, "is_bot": True}],
        }  # fmt: skip
        return f"m:{ts}", json.dumps(envelope), "application/json"

    async def one(self, i: int, tag: str) -> None:
        rid, body, content_type = self._request(i, tag)
        self.traffic.sent += 1
        started = time.perf_counter()
        try:
            async with self.session.post(
                self.bot.url, data=body.encode(), headers=self._signed(body, content_type)
            ) as resp:
                await resp.read()
                status = str(resp.status)
        except aiohttp.ClientError:
            status = "refused"
        if status == "200":
            self.traffic.acks[rid] = time.perf_counter() - started
        self.traffic.statuses[status] += 1

    async def junk(self, count: int) -> Counter[int]:
        statuses: Counter[int] = Counter()
        for i in range(count):
            body, content_type = JUNK[i % len(JUNK)]
            async with self.session.post(
                self.bot.url, data=body.encode(), headers={"Content-Type": content_type}
            ) as resp:
                await resp.read()
                statuses[resp.status] += 1
        return statuses

    async def burst(
        self, requests: int, concurrency: int, tag: str, after: Callable[[int], Awaitable[None]] | None = None
    ) -> None:
        gate = asyncio.Semaphore(concurrency)
        done = 0

        async def limited(i: int) -> None:
            nonlocal done
            async with gate:
                await self.one(i, tag)
            done += 1
            if after is not None:
                await after(done)

        await asyncio.gather(*(limited(i) for i in range(requests)))

    async def settle(self, deadline_s: float) -> None:
        """Wait until every acked request is answered, or the deadline."""
        deadline = time.monotonic() + deadline_s
        while time.monotonic() < deadline:
            if all(self.fake.answers[rid] for rid in self.traffic.acks):
                return
            await asyncio.sleep(0.2)


@dataclass
class Row:
    scenario: str
    requests: int | None = None
    answered: int | None = None
    lost: int | None = None
    p99_ms: float | None = None
    note: str = ""
    failed: bool = False


def summarise(name: str, sender: Sender, note: str = "") -> Row:
    traffic, answers = sender.traffic, sender.fake.answers
    answered = sum(1 for rid in traffic.acks if answers[rid])
    lost = len(traffic.acks) - answered
    duplicates = sum(1 for rid in traffic.acks if answers[rid] > 1)
    server_errors = sum(n for s, n in traffic.statuses.items() if s.startswith("5"))
    extra = [note] if note else []
    if duplicates:
        extra.append(f"{duplicates} answered twice")
    others = {s: n for s, n in traffic.statuses.items() if s != "200"}
    if others:
        extra.append("statuses " + ", ".join(f"{s}×{n}" for s, n in sorted(others.items())))
    p99 = percentile([a * 1000 for a in traffic.acks.values()], 99)
    return Row(
        name, traffic.sent, answered, lost, p99, "; ".join(extra), failed=lost > 0 or server_errors > 0
    )


# -- scenarios -----------------------------------------------------------------------------------
Scenario = Callable[["Env"], Awaitable[Row]]


@dataclass
class Env:
    session: aiohttp.ClientSession
    fake: FakeSlack
    workdir: Path
    requests: int
    concurrency: int

    @contextlib.asynccontextmanager
    async def bot(self) -> AsyncIterator[tuple[Bot, Sender]]:
        self.fake.faults.clear()
        bot = Bot(self.fake, self.workdir)
        try:
            await bot.ready(self.session)
            yield bot, Sender(self.session, bot, self.fake)
        finally:
            self.fake.faults.clear()
            await bot.stop()


def slack_status(status: int, window: float = 5.0) -> Scenario:
    async def run(env: Env) -> Row:
        async with env.bot() as (_, sender):
            headers = {"Retry-After": "1"} if status == 429 else {}
            env.fake.faults.append(Fault(status=status, headers=headers, until=time.monotonic() + window))
            await sender.burst(env.requests, env.concurrency, f"s{status}-")
            await sender.settle(window + 90)
        return summarise(f"Slack {status} for {window:.0f} s" if window else "baseline (no fault)", sender)

    return run


async def slack_hang(env: Env) -> Row:
    async with env.bot() as (_, sender):
        env.fake.faults.append(Fault(hang=True, until=time.monotonic() + 5))
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
            env.fake.faults.append(
                Fault(methods=frozenset({"auth.test"}), status=500, hang=hang, until=time.monotonic() + 30)
            )
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
    fake.faults.append(Fault(methods=frozenset({"response_url"}), hang=True, until=time.monotonic() + 1.0))
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
    fake.faults.clear()
    row = summarise(
        "SIGTERM with requests in flight", sender, f"exit {bot.proc.returncode} after {exit_s:.1f} s"
    )
    row.failed = row.failed or bot.proc.returncode != 0 or exit_s > 20
    return row


def pending(name: str) -> Scenario:
    async def run(env: Env) -> Row:
        return Row(name, note="pending merge of the store branch")

    return run


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
    "pgfrozen": pending("PostgreSQL frozen mid-run"),
    "poison": pending("poison input (lone surrogate)"),
}


async def main_async(names: list[str], requests: int, concurrency: int) -> list[Row]:
    fake = FakeSlack()
    await fake.start()
    rows: list[Row] = []
    try:
        with tempfile.TemporaryDirectory(prefix="kubebot-faults-") as tmp:
            async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=concurrency)) as session:
                env = Env(session, fake, Path(tmp), requests, concurrency)
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
