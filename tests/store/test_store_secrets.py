"""Issue 14.6: a PostgreSQL password never reaches a log line, an error or `kubebot report`, in any
DSN form (URL userinfo, ``?password=``, libpq keyword DSN), and a keyword DSN is PostgreSQL, not
a SQLite file named after it."""

from __future__ import annotations

import io
import logging
import os
from pathlib import Path

import pytest

from bot.background import start_background
from bot.cli import main
from bot.config import CoreSettings
from bot.metrics import Metrics
from bot.models import ChannelType, Message, Platform
from bot.service import QAService
from bot.store import describe, open_store
from bot.store.base import StoreError, is_postgres_url, redact_secrets, redact_url
from bot.store.claims import PostgresClaims
from tests.store.conftest import FIXTURE_KB

SECRET = "hunter2-Xq9"


def dsns(port: int) -> list[str]:
    return [
        f"postgresql://kubebot:{SECRET}@127.0.0.1:{port}/kubebot",
        f"postgresql://kubebot@127.0.0.1:{port}/kubebot?password={SECRET}&connect_timeout=2",
        f"postgres://127.0.0.1:{port}/kubebot?user=kubebot&sslmode=disable&password={SECRET}",
        f"host=127.0.0.1 port={port} dbname=kubebot user=kubebot password={SECRET} connect_timeout=2",
        f"host=127.0.0.1 port={port} dbname=kubebot user=kubebot password='{SECRET} x' connect_timeout=2",
    ]


@pytest.mark.parametrize("form", range(5))
def test_every_dsn_form_is_postgres_and_redacted(form: int) -> None:
    dsn = dsns(5432)[form]
    assert is_postgres_url(dsn)
    for shown in (redact_url(dsn), describe(dsn), redact_secrets(f"error near {SECRET!r} in {dsn}", dsn)):
        assert SECRET not in shown and "***" in shown
    assert "127.0.0.1" in describe(dsn)  # still says where


@pytest.mark.parametrize("path", ["kubebot.db", "/srv/kubebot/a=b.db", "sqlite:///srv/x.db", "data/host.db"])
def test_file_names_stay_sqlite(path: str) -> None:
    assert not is_postgres_url(path)


@pytest.mark.parametrize("form", range(5))
def test_a_keyword_dsn_opens_postgres_and_creates_no_file(
    form: int, closed_port: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(StoreError, match="PostgreSQL") as raised:
        open_store(dsns(closed_port)[form])
    assert SECRET not in str(raised.value)
    assert os.listdir(tmp_path) == []  # no file named after the DSN (and its password)


@pytest.mark.parametrize("form", range(5))
async def test_no_log_line_carries_the_password(
    form: int,
    closed_port: int,
    service: QAService,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.chdir(tmp_path)
    dsn = dsns(closed_port)[form]
    caplog.set_level(logging.DEBUG)
    settings = CoreSettings(db_url=dsn, http_port=0)
    env = {"KUBEBOT_HTTP_HOST": "127.0.0.1"}
    async with start_background(service, settings, env=env, metrics=Metrics(), wait_for_adapter=False) as bg:
        await service.handle(Message("what is a pod", Platform.SLACK, ChannelType.CHANNEL))
        assert bg.recorder is not None and bg.recorder.flush(10)
    claims = PostgresClaims(dsn, metrics=Metrics())
    assert await claims.claim("event:1", 60) is True
    await claims.close()
    text = "\n".join(f"{r.getMessage()} {r.exc_text or ''}" for r in caplog.records)
    for event in ("event=background_started", "event=store_unavailable", "event=claims_unavailable"):
        assert event in text  # the lines that used to carry it are there...
    assert SECRET not in text  # ...without it
    assert "127.0.0.1" in text
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("form", [1, 3])
def test_the_report_never_prints_the_password(
    form: int, closed_port: int, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("KUBEBOT_DB", dsns(closed_port)[form])
    out = io.StringIO()
    assert main(["report", "--kb", str(FIXTURE_KB)], out=out) == 2
    captured = capsys.readouterr()
    assert "cannot read the store" in captured.err
    assert SECRET not in captured.err + captured.out + out.getvalue()
