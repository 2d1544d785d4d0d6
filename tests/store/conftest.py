"""Fixtures for the store area: the small KB, SQLite files, and a real PostgreSQL server.

The PostgreSQL server is started by the tests themselves (initdb + pg_ctl on a free loopback
port in a temporary directory), once per session, when the binaries are installed; every test
gets its own fresh database. As root, the server runs as an unprivileged user (``postgres``
when it exists, else ``nobody``) through ``subprocess``'s ``user=``, since PostgreSQL refuses
to run as root. Without the binaries the PostgreSQL tests are skipped with the reason shown.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.app import build_service
from bot.service import QAService
from tests.faultproxy import FaultProxy
from tests.pg import PgServer, free_port, pg_server, pg_url  # noqa: F401  (shared fixtures)

ROOT = Path(__file__).resolve().parents[2]
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"


@pytest.fixture
def kb_dir(tmp_path: Path) -> Path:
    """A private copy of the fixture KB that a test may edit."""
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


@pytest.fixture
def service() -> QAService:
    return build_service(FIXTURE_KB)


@pytest.fixture
def closed_port() -> int:
    """A loopback port nobody listens on (bound then released)."""
    return free_port()


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """KUBEBOT_DB for each backend: a SQLite file, then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return str(tmp_path / "data" / "kubebot.db")
    url: str = request.getfixturevalue("pg_url")
    return url


@pytest.fixture
def proxy(pg_server: PgServer) -> Iterator[FaultProxy]:  # noqa: F811  (pg_server is the fixture)
    """A fault-injecting TCP proxy in front of the PostgreSQL server (`proxy.via(pg_url)`)."""
    fault = FaultProxy("127.0.0.1", pg_server.port).start()
    yield fault
    fault.thaw()
    fault.close()
