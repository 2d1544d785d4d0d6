"""`kubebot serve slack --http` end to end, as a real process: the runtime wires the service, the
store, /metrics and /readyz and the Slack adapter; SIGTERM stops it cleanly with nothing lost."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import FIXTURE_KB, ROOT
from tests.helpers import parse_logfmt, sample
from tests.slack.slack_fakes import BOT_TOKEN, SECRET, FakeSlack, all_text
from tests.slack.slack_requests import SlackSender


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def wait_ready(session: aiohttp.ClientSession, url: str, proc: subprocess.Popen[str]) -> None:
    for _ in range(200):
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            async with session.get(url) as resp:
                if resp.status == 200:
                    return
        except aiohttp.ClientConnectionError:
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("kubebot never became ready")


async def test_serve_slack_http_answers_records_and_stops_cleanly(tmp_path: Path) -> None:
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
    }
    cmd = [sys.executable, "-m", "bot", "serve", "slack", "--http", "--port", str(slack_port)]
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        async with aiohttp.ClientSession() as session:
            await wait_ready(session, f"http://127.0.0.1:{http_port}/readyz", proc)
            sender = SlackSender(session, f"http://127.0.0.1:{slack_port}/slack/events")
            status, _ = await sender.command("what is a pod", response_url=fake.response_url())
            assert status == 200
            reply = (await fake.wait_for("response_url"))[0]
            assert "What is a Pod?" in all_text(reply.data)
            async with session.get(f"http://127.0.0.1:{http_port}/metrics") as resp:
                metrics = await resp.text()
            assert sample(metrics, "kubebot_questions_total", band="answered", platform="slack") == 1
    finally:
        proc.send_signal(signal.SIGTERM)
        _, stderr = proc.communicate(timeout=20)
        await fake.stop()
    assert proc.returncode == 0, stderr
    assert BOT_TOKEN not in stderr  # tokens are never logged
    events = [parse_logfmt(line) for line in stderr.splitlines()]  # every line is logfmt
    seen = {e["event"] for e in events}
    assert {"http_listening", "slack_started", "stopping", "background_stopped"} <= seen
    assert all(list(e)[:4] == ["ts", "level", "logger", "event"] for e in events)
    report = subprocess.run(
        [sys.executable, "-m", "bot", "report", "--json"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
    )
    data = json.loads(report.stdout)
    assert any(row["id"] == "pod" for row in data["most_asked"]), data


def test_serve_without_tokens_fails_fast_with_one_clear_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEBOT_", "SLACK_", "DISCORD_"))}
    env |= {"KUBEBOT_DB": str(tmp_path / "kubebot.db"), "KUBEBOT_HTTP_PORT": str(free_port())}
    for platform, variable in (("slack", "SLACK_BOT_TOKEN"), ("discord", "DISCORD_TOKEN")):
        proc = subprocess.run(
            [sys.executable, "-m", "bot", "serve", platform],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 2
        assert proc.stderr.startswith(f"kubebot: error: {variable} is not set")
        assert "Traceback" not in proc.stderr and "http_listening" not in proc.stderr  # nothing was started
    assert not (tmp_path / "kubebot.db").exists()
