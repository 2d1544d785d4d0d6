"""What the fault scenarios share: the bot as a real `kubebot serve slack --http` process on
loopback, signed traffic, and a table row. Slack is the tests' stand-in (tests/slack/slack_fakes.py,
in this process, not recording calls), whose outage / hang / down() inject the faults.
Used by bench_faults.py (Slack-side scenarios) and faults_store.py (store-side scenarios)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.parse
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp
from slack_sdk.signature import SignatureVerifier

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from tests.slack.slack_fakes import BOT_TOKEN, BOT_USER
from tests.slack.slack_fakes import FakeSlack as FakeSlack  # re-exported: bench_faults.py's Slack

ROOT = Path(__file__).resolve().parent.parent
SECRET = "bench-signing-secret"
REPLY_METHODS = ("chat.postMessage", "response_url")  # what the Slack faults hit, unless named
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


# -- the bot, as a process -----------------------------------------------------------------------
class Bot:
    """`kubebot serve slack --http` on loopback; `overrides` adds to (or replaces) its environment,
    e.g. KUBEBOT_DB (default: a fresh SQLite file in the work directory)."""

    def __init__(self, fake: FakeSlack, workdir: Path, overrides: dict[str, str] | None = None) -> None:
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
        env |= overrides or {}
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

    async def metric(self, session: aiohttp.ClientSession, name: str) -> float | None:
        """One unlabelled value from the admin port's /metrics, or None."""
        with contextlib.suppress(aiohttp.ClientError):
            async with session.get(f"http://127.0.0.1:{self.admin}/metrics") as resp:
                for line in (await resp.text()).splitlines():
                    if line.startswith(name + " "):
                        return float(line.split()[-1])
        return None

    def logs(self) -> str:
        self.log.flush()
        self.log.seek(0)
        return self.log.read()


# -- traffic -------------------------------------------------------------------------------------
@dataclass
class Traffic:
    acks: dict[str, float] = field(default_factory=dict)  # reply id → ack seconds (HTTP 200 only)
    started: dict[str, float] = field(default_factory=dict)  # reply id → when it was sent (monotonic)
    statuses: Counter[str] = field(default_factory=Counter)
    sent: int = 0


Questions = Callable[[int], str | None]  # request number → question (None: the default one)


class Sender:
    def __init__(
        self, session: aiohttp.ClientSession, bot: Bot, fake: FakeSlack, questions: Questions | None = None
    ) -> None:
        self.session, self.bot, self.fake = session, bot, fake
        self.verifier = SignatureVerifier(SECRET)
        self.traffic = Traffic()
        self.questions = questions

    def _signed(self, body: str, content_type: str) -> dict[str, str]:
        ts = str(int(time.time()))
        signature = self.verifier.generate_signature(timestamp=ts, body=body) or ""
        return {"Content-Type": content_type, "X-Slack-Request-Timestamp": ts, "X-Slack-Signature": signature}

    def _request(self, i: int, tag: str) -> tuple[str, str, str]:
        """(reply id, body, content type): even i a slash command, odd i a mention."""
        question = self.questions(i) if self.questions is not None else None
        if i % 2 == 0:
            rid = f"{tag}{i}"
            fields = {
                "team_id": "T1", "channel_id": "C1", "user_id": "U1", "user_name": "bench",
                "command": "/kube", "text": question or "what is a pod", "api_app_id": "A1",
                "response_url": self.fake.response_url(rid), "trigger_id": f"{i}.{uuid.uuid4().hex}",
            }  # fmt: skip
            # a lone surrogate goes as its UTF-8 bytes (what else could be percent-encoded)
            body = urllib.parse.urlencode(fields, errors="surrogatepass")
            return f"c:{rid}", body, "application/x-www-form-urlencoded"
        ts = f"{abs(hash(tag)) % 10**6}.{i:06d}"
        event = {
            "type": "app_mention",
            "user": "U1",
            "text": f"<@{BOT_USER}> {question or 'what is a node'}",
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
        self.traffic.started[rid] = time.monotonic()
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
    cleanup: contextlib.ExitStack = field(default_factory=contextlib.ExitStack)  # closed after the run

    @contextlib.asynccontextmanager
    async def bot(
        self, overrides: dict[str, str] | None = None, questions: Questions | None = None
    ) -> AsyncIterator[tuple[Bot, Sender]]:
        self.fake.reset_faults()
        bot = Bot(self.fake, self.workdir, overrides)
        try:
            await bot.ready(self.session)
            yield bot, Sender(self.session, bot, self.fake, questions)
        finally:
            self.fake.reset_faults()
            await bot.stop()
