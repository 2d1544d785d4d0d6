"""Console fixtures: a seeded store, a console served on loopback, and its settings."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.console.app import Console, build_app, build_console
from bot.console.config import ConsoleSettings
from bot.console.data import today
from bot.service import KnowledgeHolder, QAService, Snapshot
from tests.console.seed import seed
from tests.helpers import serve_on_loopback

TOKEN = "console-token-0123456789abcdef"


@pytest.fixture
def db(tmp_path: Path) -> str:
    url = str(tmp_path / "kubebot.db")
    seed(url, end=today())
    return url


@pytest.fixture
def service(shipped_snapshot: Snapshot) -> QAService:
    return QAService(KnowledgeHolder(shipped_snapshot))


MakeConsole = Callable[..., Console]


@pytest.fixture
def make_console(service: QAService, db: str) -> MakeConsole:
    def make(**settings: object) -> Console:
        return build_console(service, ConsoleSettings(**settings), db)  # type: ignore[arg-type]

    return make


@asynccontextmanager
async def served(console: Console) -> AsyncIterator[tuple[aiohttp.ClientSession, str]]:
    """The console on a free loopback port, and a session whose requests name it as localhost."""
    runner, port = await serve_on_loopback(build_app(console))
    try:
        # unsafe: keep cookies set by an IP address host (the login cookie from 127.0.0.1)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as session:
            yield session, f"http://127.0.0.1:{port}"
    finally:
        await runner.cleanup()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    from tests.console.browser import SHOTS, TAKEN

    if TAKEN:
        terminalreporter.write_line(f"console screenshots: {len(TAKEN)} pages in {SHOTS}")
