"""A real PostgreSQL server for tests, started by the tests themselves.

initdb + pg_ctl on a free loopback port in a temporary directory, once per session, when the
binaries are installed; every test gets its own fresh database. As root, the server runs as an
unprivileged user (``postgres`` when it exists, else ``nobody``) through ``subprocess``'s
``user=``, since PostgreSQL refuses to run as root. Without the binaries the tests that need it
are skipped with the reason shown. `start_pg_server()` is the same without pytest (the fault
benchmark uses it): it raises `PgUnavailable` or `PgStartFailed` with the reason.
"""

from __future__ import annotations

import glob
import itertools
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# -- PostgreSQL ----------------------------------------------------------------------------------
class PgUnavailable(Exception):
    """PostgreSQL cannot run here (no binaries, no psycopg): the message says what to install."""


class PgStartFailed(Exception):
    """initdb or pg_ctl failed: the message holds their output."""


def find_pg_bin() -> Path | None:
    candidates = [Path("/usr/local/bin")]
    candidates += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    found = shutil.which("initdb")
    if found:
        candidates.insert(0, Path(found).parent)
    for directory in candidates:
        if (directory / "initdb").exists() and (directory / "pg_ctl").exists():
            return directory
    return None


def _server_user() -> str | None:
    """Who runs the server: ourselves unless root, else an unprivileged account."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody"):
        try:
            pwd.getpwnam(name)
            return name
        except KeyError:
            continue
    subprocess.run(["useradd", "--system", "--no-create-home", "kubebot-pg"], check=True, capture_output=True)
    return "kubebot-pg"


@dataclass
class PgServer:
    bin_dir: Path
    base: Path
    port: int
    user: str | None
    _counter: itertools.count[int]

    @property
    def admin_url(self) -> str:
        return f"postgresql://kubebot@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        return f"postgresql://kubebot@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        import psycopg

        name = f"kubebot_test_{next(self._counter)}"
        with psycopg.connect(self.admin_url, autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")  # type: ignore[arg-type]
        return self.url(name)

    def stop(self) -> None:
        self.run("pg_ctl", "-D", str(self.base / "data"), "-m", "immediate", "-w", "stop")
        shutil.rmtree(self.base, ignore_errors=True)

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [str(self.bin_dir / args[0]), *args[1:]],
            user=self.user,
            cwd=self.base,
            env={"PATH": "/usr/bin:/bin", "LANG": "C", "LC_ALL": "C"},
            capture_output=True,
            text=True,
            timeout=60,
        )


def start_pg_server() -> PgServer:
    """Start a throwaway server (stop it with `PgServer.stop`)."""
    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise PgUnavailable(
            "PostgreSQL binaries (initdb, pg_ctl) not found in /usr/local/bin or /usr/lib/postgresql/*/bin: "
            "install Debian's postgresql package to run the PostgreSQL tests"
        )
    try:
        import psycopg  # noqa: F401
    except ImportError:
        raise PgUnavailable("psycopg is not installed (pip install 'kubebot[postgres]')") from None
    user = _server_user()
    base = Path(tempfile.mkdtemp(prefix="kubebot-pg-"))
    if user is not None:
        entry = pwd.getpwnam(user)
        os.chown(base, entry.pw_uid, entry.pw_gid)
    server = PgServer(bin_dir, base, 0, user, itertools.count(1))
    init = server.run(
        "initdb", "-D", str(base / "data"), "-U", "kubebot", "--auth=trust", "-E", "UTF8", "--no-locale"
    )
    if init.returncode != 0:
        shutil.rmtree(base, ignore_errors=True)
        raise PgStartFailed(f"initdb failed: {init.stdout}\n{init.stderr}")
    last = ""
    for _attempt in range(3):  # a free port can be taken between the probe and the bind
        server.port = free_port()
        options = f"-p {server.port} -k {base} -c listen_addresses=127.0.0.1 -c fsync=off"
        started = server.run(
            "pg_ctl",
            "-D",
            str(base / "data"),
            "-l",
            str(base / "log"),
            "-o",
            options,
            "-w",
            "-t",
            "30",
            "start",
        )
        if started.returncode == 0:
            return server
        last = f"{started.stdout}\n{started.stderr}\n{_read(base / 'log')}"
    shutil.rmtree(base, ignore_errors=True)
    raise PgStartFailed(f"pg_ctl start failed: {last}")


def _start_pg() -> PgServer:
    try:
        return start_pg_server()
    except PgUnavailable as exc:
        pytest.skip(str(exc))
    except PgStartFailed as exc:
        pytest.fail(str(exc))


def _read(path: Path) -> str:
    try:
        return path.read_text(errors="replace")[-2000:]
    except OSError:
        return ""


@pytest.fixture(scope="session")
def pg_server() -> Iterator[PgServer]:
    server = _start_pg()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(pg_server: PgServer) -> str:
    """A fresh, empty database on the session's server."""
    return pg_server.new_database()
