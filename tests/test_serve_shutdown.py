"""`kubebot serve slack --http` stops gracefully on SIGTERM with requests in flight, as a real process:
/readyz answers 503 first, the Slack port stops accepting, the acks in flight finish, the replies
still being sent are drained, the store is flushed, and the process exits 0 within 20 s. Every
command that was acked is answered exactly once. The Slack port binds KUBEBOT_HTTP_HOST."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import time
from collections import Counter
from pathlib import Path

import aiohttp
import pytest

from tests.serving import serving_slack_http, wait_ready
from tests.slack.slack_fakes import BOT_TOKEN

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
    db = tmp_path / "kubebot.db"
    acked: list[str] = []
    sent: list[str] = []
    async with (
        serving_slack_http(KUBEBOT_DB=str(db), KUBEBOT_RELOAD_INTERVAL="0") as served,
        aiohttp.ClientSession() as session,
    ):
        proc, fake, slack_port = served.proc, served.fake, served.slack_port
        await wait_ready(session, served)
        if await reachable_on_127_0_0_2():
            assert await refused("127.0.0.2", slack_port), "the Slack port ignores KUBEBOT_HTTP_HOST"
        sender = served.sender(session)
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
            async with session.get(served.admin("/readyz")) as resp:
                if resp.status == 503:
                    not_ready = True
                    break
            await asyncio.sleep(0.02)
        assert not_ready, "/readyz still 200 after SIGTERM"
        # the port closes just after /readyz turns 503 (SHUTDOWN_ORDER): on a busy machine, a moment later
        closed = False
        for _ in range(100):
            if closed := await refused("127.0.0.1", slack_port):
                break
            await asyncio.sleep(0.02)
        assert closed, "still accepting 2 s after /readyz turned 503"
        assert proc.poll() is None  # still draining the replies
        await asyncio.sleep(0.5)
        fake.release()
        _, stderr = await asyncio.to_thread(proc.communicate, timeout=25)
        stopped_in = time.monotonic() - terminated
    assert served.proc.returncode == 0, stderr
    assert stopped_in < 20, f"{stopped_in:.1f} s from SIGTERM to exit"
    positions = [stderr.find(line) for line in SHUTDOWN_ORDER]
    assert -1 not in positions and positions == sorted(positions), dict(
        zip(SHUTDOWN_ORDER, positions, strict=True)
    )
    assert "Traceback" not in stderr and BOT_TOKEN not in stderr

    answered = Counter(c.path.rsplit("/", 1)[-1] for c in served.fake.delivered if c.method == "response_url")
    assert {rid: answered[rid] for rid in acked} == {rid: 1 for rid in acked}  # every ack answered once
    assert set(answered) <= set(sent) and max(answered.values()) == 1
    with sqlite3.connect(db) as conn:
        [(stored,)] = conn.execute("SELECT count(*) FROM kubebot_questions").fetchall()
    assert stored == len(answered)  # the store was flushed before exit


@pytest.mark.parametrize("signal_number", [signal.SIGINT])
async def test_a_second_signal_stops_at_once(tmp_path: Path, signal_number: int) -> None:
    async with (
        serving_slack_http(KUBEBOT_DB=str(tmp_path / "kubebot.db")) as served,
        aiohttp.ClientSession() as session,
    ):
        await wait_ready(session, served)
        served.fake.hang("response_url")
        response_url = served.fake.response_url()
        assert (await served.sender(session).command("what is a pod", response_url=response_url))[0] == 200
        served.proc.send_signal(signal_number)
        await asyncio.sleep(0.5)
        started = time.monotonic()
        served.proc.send_signal(signal_number)  # impatient operator: stop now
        _, stderr = await asyncio.to_thread(served.proc.communicate, timeout=20)
        assert time.monotonic() - started < 8  # not the 8 s reply drain
    assert served.proc.returncode == 0, stderr
    assert "event=stopping_now" in stderr and "event=background_stopped" in stderr
