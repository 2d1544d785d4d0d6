"""`kubebot serve console` end to end, as a process: it serves, refuses unsafe settings, stops cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.conftest import FIXTURE_KB, ROOT
from tests.console.conftest import TOKEN
from tests.console.server import clean_env, free_port, serve_console, status_of


def test_serves_on_localhost_and_stops_on_sigterm(db: str) -> None:
    with serve_console(db, FIXTURE_KB) as served:
        assert status_of(served.url + "/") == 200
        assert status_of(served.url + "/try?q=what+is+a+pod") == 200
        code, stderr = served.stop()
    assert code == 0, stderr
    assert "event=console_listening url=http://127.0.0.1:" in stderr and "auth=none" in stderr
    assert "Traceback" not in stderr


def test_refuses_to_listen_off_localhost_without_a_token(tmp_path: Path) -> None:
    db = tmp_path / "kubebot.db"
    cmd = [sys.executable, "-m", "bot", "serve", "console", "--host", "0.0.0.0", "--port", str(free_port())]
    proc = subprocess.run(
        cmd, cwd=ROOT, env=clean_env(KUBEBOT_DB=str(db)), capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 2
    assert proc.stderr.startswith("kubebot: error: the console would be reachable on 0.0.0.0:")
    assert "KUBEBOT_CONSOLE_TOKEN" in proc.stderr and "Traceback" not in proc.stderr
    assert not db.exists(), "nothing was started"


def test_with_a_token_every_address_needs_it(db: str) -> None:
    with serve_console(db, FIXTURE_KB, "--host", "0.0.0.0", KUBEBOT_CONSOLE_TOKEN=TOKEN) as served:
        assert status_of(served.url + "/") == 401  # even from 127.0.0.1
        assert status_of(served.url + "/", {"Authorization": f"Bearer {TOKEN}"}) == 200
        code, stderr = served.stop()
    assert code == 0 and "auth=token" in stderr
    assert TOKEN not in stderr, "the token is never logged"
