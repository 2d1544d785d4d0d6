"""`kubebot serve slack --http` stops gracefully on SIGTERM with requests in flight, as a real process:
/readyz answers 503 first, the Slack port stops accepting, the acks in flight finish, the replies
still being sent are drained, the store is flushed, and the process exits 0 within 20 s. Every
command that was acked is answered exactly once. The Slack port binds KUBEBOT_HTTP_HOST."""

from __future__ import annotations

import asyncio
import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from tests.conftest import FIXTURE_KB, ROOT
from tests.slack.slack_fakes import BOT_TOKEN, SECRET, FakeSlack
from tests.slack.slack_requests import SlackSender
from tests.test_serve import free_port, wait_ready

# What the logs must show, in this order, between SIGTERM and exit.
SHUTDOWN_ORDER = (
    "event=stopping signal=SIGTERM",
    "event=adapter_ready ready=False",  # /readyz 503
    "event=slack_http_closed",  # not accepting
    "event=slack_acks_finished",
    "event=slack_replies_drained",
    "event=slack_stopped",
    "event=background_stopped",  # the store flushed
    "event=stopped platform=slack",
)


async def refused(host: str, port: int) -> bool:
    try:
        _, writer = await asyncio.open_connection(host, port)
    except OSError:
        return True
    writer.close()
    return False


async def reachable_on_127_0_0_2() -> bool:
    """Whether this machine routes 127.0.0.2 to loopback (Linux does), to test the bind address."""
    server = await asyncio.start_server(lambda r, w: w.close(), "0.0.0.0", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        return not await refused("127.0.0.2", port)
    finally:
        server.close()


async def test_sigterm_with_requests_in_flight_stops_in_order_and_loses_nothing(tmp_path: Path) -> None:
    fake = FakeSlack()
    await fake.start()
    slack_port, http_port, db = free_port(), free_port(), tmp_path / "kubebot.db"
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEBOT_", "SLACK_", "DISCORD_"))}
    env |= {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "KUBEBOT_SLACK_API_URL": fake.api_url,
        "KUBEBOT_KB": str(FIXTURE_KB),
        "KUBEBOT_DB": str(db),
        "KUBEBOT_HTTP_PORT": str(http_port),
        "KUBEBOT_HTTP_HOST": "127.0.0.1",
        "KUBEBOT_RELOAD_INTERVAL": "0",
    }
    cmd = [sys.executable, "-m", "bot", "serve", "slack", "--http", "--port", str(slack_port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    readyz = f"http://127.0.0.1:{http_port}/readyz"
    acked: list[str] = []
    sent: list[str] = []
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, readyz, proc)
            if await reachable_on_127_0_0_2():
                assert await refused("127.0.0.2", slack_port), "the Slack port ignores KUBEBOT_HTTP_HOST"
            sender = SlackSender(session, f"http://127.0.0.1:{slack_port}/slack/events")
            fake.hang("response_url")  # the replies stay in flight until released

            async def command(rid: str) -> int | None:
                sent.append(rid)
                try:
                    status, _ = await sender.command("what is a pod", response_url=fake.response_url(rid))
                except aiohttp.ClientError:
                    return None  # not accepted: Slack retries a command it got no ack for
                if status == 200:
                    acked.append(rid)
                return status

            assert [await command(f"a{i}") for i in range(10)] == [200] * 10
            burst = [asyncio.ensure_future(command(f"b{i}")) for i in range(20)]
            await asyncio.sleep(0.01)
            proc.send_signal(signal.SIGTERM)
            terminated = time.monotonic()
            statuses = await asyncio.gather(*burst)
            assert set(statuses) <= {200, None}, statuses  # an ack or a refusal, never a 5xx

            not_ready = False
            for _ in range(100):
                async with session.get(readyz) as resp:
                    if resp.status == 503:
                        not_ready = True
                        break
                await asyncio.sleep(0.02)
            assert not_ready, "/readyz still 200 after SIGTERM"
            assert await refused("127.0.0.1", slack_port), "still accepting after SIGTERM"
            assert proc.poll() is None  # still draining the replies
            await asyncio.sleep(0.5)
            fake.release()
            _, stderr = await asyncio.to_thread(proc.communicate, timeout=25)
            stopped_in = time.monotonic() - terminated
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        await fake.stop()
    assert proc.returncode == 0, stderr
    assert stopped_in < 20, f"{stopped_in:.1f} s from SIGTERM to exit"
    positions = [stderr.find(line) for line in SHUTDOWN_ORDER]
    assert -1 not in positions and positions == sorted(positions), dict(
        zip(SHUTDOWN_ORDER, positions, strict=True)
    )
    assert "Traceback" not in stderr and BOT_TOKEN not in stderr

    answered = Counter(c.path.rsplit("/", 1)[-1] for c in fake.delivered if c.method == "response_url")
    assert {rid: answered[rid] for rid in acked} == {rid: 1 for rid in acked}  # every ack answered once
    assert set(answered) <= set(sent) and max(answered.values()) == 1
    with sqlite3.connect(db) as conn:
        [(stored,)] = conn.execute("SELECT count(*) FROM kubebot_questions").fetchall()
    assert stored == len(answered)  # the store was flushed before exit


@pytest.mark.parametrize("signal_number", [signal.SIGINT])
async def test_a_second_signal_stops_at_once(tmp_path: Path, signal_number: int) -> None:
    fake = FakeSlack()
    await fake.start()
    slack_port, http_port = free_port(), free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEBOT_", "SLACK_", "DISCORD_"))}
    env |= {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "KUBEBOT_SLACK_API_URL": fake.api_url,
        "KUBEBOT_KB": str(FIXTURE_KB),
        "KUBEBOT_DB": str(tmp_path / "kubebot.db"),
        "KUBEBOT_HTTP_PORT": str(http_port),
        "KUBEBOT_HTTP_HOST": "127.0.0.1",
    }
    cmd = [sys.executable, "-m", "bot", "serve", "slack", "--http", "--port", str(slack_port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, f"http://127.0.0.1:{http_port}/readyz", proc)
            fake.hang("response_url")
            sender = SlackSender(session, f"http://127.0.0.1:{slack_port}/slack/events")
            assert (await sender.command("what is a pod", response_url=fake.response_url()))[0] == 200
            proc.send_signal(signal_number)
            await asyncio.sleep(0.5)
            started = time.monotonic()
            proc.send_signal(signal_number)  # impatient operator: stop now
            _, stderr = await asyncio.to_thread(proc.communicate, timeout=20)
            assert time.monotonic() - started < 8  # not the 8 s reply drain
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        fake.release()
        await fake.stop()
    assert proc.returncode == 0, stderr
    assert "event=stopping_now" in stderr and "event=background_stopped" in stderr
