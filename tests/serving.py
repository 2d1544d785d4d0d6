"""`kubebot serve slack --http` as a real process against a fake Slack, for the end-to-end tests."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass

import aiohttp

from tests.conftest import FIXTURE_KB, ROOT
from tests.pg import free_port
from tests.slack.slack_fakes import BOT_TOKEN, SECRET, FakeSlack
from tests.slack.slack_requests import SlackSender


@dataclass
class Served:
    proc: subprocess.Popen[str]
    fake: FakeSlack
    slack_port: int
    http_port: int

    def admin(self, path: str) -> str:
        """A URL on the health and metrics port: admin("/readyz")."""
        return f"http://127.0.0.1:{self.http_port}{path}"

    def sender(self, session: aiohttp.ClientSession) -> SlackSender:
        return SlackSender(session, f"http://127.0.0.1:{self.slack_port}/slack/events")

    def stop(self, timeout: float = 30) -> str:
        """SIGTERM, then the process's stderr once it has exited (killed after `timeout`)."""
        self.proc.terminate()
        try:
            return self.proc.communicate(timeout=timeout)[1]
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return self.proc.communicate()[1]


def serve_env(fake: FakeSlack, http_port: int, **settings: str) -> dict[str, str]:
    """This environment without any kubebot, Slack or Discord setting, plus what the test sets."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEBOT_", "SLACK_", "DISCORD_"))}
    return env | {
        "SLACK_BOT_TOKEN": BOT_TOKEN,
        "SLACK_SIGNING_SECRET": SECRET,
        "KUBEBOT_SLACK_API_URL": fake.api_url,
        "KUBEBOT_KB": str(FIXTURE_KB),
        "KUBEBOT_HTTP_PORT": str(http_port),
        "KUBEBOT_HTTP_HOST": "127.0.0.1",
        **settings,
    }


@contextlib.asynccontextmanager
async def serving_slack_http(**settings: str) -> AsyncIterator[Served]:
    """A started fake Slack and `kubebot serve slack --http` talking to it (KUBEBOT_DB and other
    settings from `settings`); killed, if still running, and the fake stopped on the way out."""
    fake = FakeSlack()
    await fake.start()
    slack_port, http_port = free_port(), free_port()
    cmd = [sys.executable, "-m", "bot", "serve", "slack", "--http", "--port", str(slack_port)]
    env = serve_env(fake, http_port, **settings)
    proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        yield Served(proc, fake, slack_port, http_port)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
        fake.release()
        await fake.stop()


async def wait_ready(session: aiohttp.ClientSession, served: Served, timeout: float = 60) -> None:
    """Until /readyz answers 200; fails with the process's stderr if it exits first."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        proc = served.proc
        assert proc.poll() is None, proc.stderr.read() if proc.stderr else ""
        try:
            async with session.get(served.admin("/readyz"), timeout=aiohttp.ClientTimeout(total=5)) as resp:
                if resp.status == 200:
                    return
        except (TimeoutError, aiohttp.ClientError):
            pass
        await asyncio.sleep(0.05)
    raise AssertionError("kubebot never became ready")
