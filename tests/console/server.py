"""`kubebot serve console` as a real process, for the CLI and browser tests."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KUBEBOT_", "SLACK_", "DISCORD_"))}
    return env | extra


@dataclass
class Served:
    url: str
    proc: subprocess.Popen[str]

    def stop(self) -> tuple[int, str]:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        _, stderr = self.proc.communicate(timeout=20)
        return self.proc.returncode, stderr


def status_of(url: str, headers: dict[str, str] | None = None) -> int:
    request = urllib.request.Request(url, headers=headers or {})
    try:
        with urllib.request.urlopen(request, timeout=5) as resp:
            return int(resp.status)
    except urllib.error.HTTPError as exc:
        return int(exc.code)


@contextmanager
def serve_console(db: str, kb: Path, *args: str, **env: str) -> Iterator[Served]:
    port = free_port()
    cmd = [sys.executable, "-m", "bot", "serve", "console", "--kb", str(kb), "--port", str(port), *args]
    proc = subprocess.Popen(
        cmd, cwd=ROOT, env=clean_env(KUBEBOT_DB=db, **env), stderr=subprocess.PIPE, text=True
    )
    served = Served(f"http://127.0.0.1:{port}", proc)
    try:
        deadline = time.monotonic() + 60
        while True:
            assert proc.poll() is None, proc.stderr.read() if proc.stderr else "exited"
            try:
                if status_of(served.url + "/healthz") == 200:
                    break
            except OSError:
                pass
            assert time.monotonic() < deadline, "the console never answered /healthz"
            time.sleep(0.1)
        yield served
    finally:
        if proc.poll() is None:
            served.stop()
