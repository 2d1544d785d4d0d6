"""`kubebot serve slack --http` end to end, as a real process: the runtime wires the service, the
store, /metrics and /readyz and the Slack adapter; SIGTERM stops it cleanly with nothing lost."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import aiohttp

from tests.conftest import ROOT
from tests.helpers import parse_logfmt, sample
from tests.pg import free_port
from tests.serving import serve_env, serving_slack_http, wait_ready
from tests.slack.slack_fakes import BOT_TOKEN, all_text


async def test_serve_slack_http_answers_records_and_stops_cleanly(tmp_path: Path) -> None:
    db = tmp_path / "kubebot.db"
    async with serving_slack_http(KUBEBOT_DB=str(db)) as served, aiohttp.ClientSession() as session:
        await wait_ready(session, served)
        sender, response_url = served.sender(session), served.fake.response_url()
        assert (await sender.command("what is a pod", response_url=response_url))[0] == 200
        reply = (await served.fake.wait_for("response_url"))[0]
        assert "What is a Pod?" in all_text(reply.data)
        async with session.get(served.admin("/metrics")) as resp:
            metrics = await resp.text()
        assert sample(metrics, "kubebot_questions_total", band="answered", platform="slack") == 1
        stderr = served.stop(timeout=20)
        env = serve_env(served.fake, served.http_port, KUBEBOT_DB=str(db))
    assert served.proc.returncode == 0, stderr
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
