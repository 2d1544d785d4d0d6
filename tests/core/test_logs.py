"""Structured logs: every line parses as logfmt (or JSON), one per event, and never shows a secret."""

from __future__ import annotations

import ast
import io
import json
import logging
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

import pytest
import structlog

from bot.config import ConfigError, CoreSettings
from bot.logs import setup_logging
from tests.conftest import ROOT
from tests.helpers import parse_logfmt

SLACK_BOT = "xoxb-1234567890-0987654321-AbCdEfGhIjKlMnOpQrStUvWx"
SLACK_APP = "xapp-1-A0123456789-1234567890123-abcdef0123456789abcdef"
DISCORD = "MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GAbCdE.abcdefghijklmnopqrstuvwxyz0123456789AB"
BEARER = "Bearer c29tZS1jb25zb2xlLXRva2Vu"
DB_PASSWORD = "pg-Pa55-w0rd"
SIGNING = "8f1e0c1f7a2b4d6e9a0b1c2d3e4f5a6b"  # no shape of its own: known from the settings
ENV = {"SLACK_SIGNING_SECRET": SIGNING, "KUBEBOT_DB": f"postgresql://bot:{DB_PASSWORD}@db.internal/kubebot"}
SECRETS = (SLACK_BOT, SLACK_APP, DISCORD, BEARER.split()[1], DB_PASSWORD, SIGNING)


@pytest.fixture
def lines() -> Iterator[io.StringIO]:
    """Logging set up as `kubebot serve` does, into a buffer; the test's own setup restored after."""
    root = logging.getLogger()
    handlers, level = root.handlers[:], root.level
    stream = io.StringIO()
    setup_logging("DEBUG", "logfmt", ENV, stream=stream)
    yield stream
    root.handlers[:] = handlers
    root.setLevel(level)
    structlog.reset_defaults()


def emitted(stream: io.StringIO) -> list[dict[str, str]]:
    text = stream.getvalue()
    assert text.endswith("\n")
    return [parse_logfmt(line) for line in text.splitlines()]


def test_a_record_becomes_pairs_with_an_iso_timestamp(lines: io.StringIO) -> None:
    log = logging.getLogger("kubebot.slack")
    log.info("event=slack_started mode=http host=%s port=%d path=%s", "0.0.0.0", 3000, "/slack/events")
    log.warning("event=x error=%s confidence=%.2f ready=%s", ValueError('bad "id" = 3'), 0.53123, True)
    log.info("event=slack_duplicate_dropped %s_id=%s retry_num=%s", "event", "Ev1", None)
    first, second, third = emitted(lines)
    stamp, rest = lines.getvalue().splitlines()[0].split(" ", 1)
    assert stamp == f"ts={first['ts']}"
    pairs = "mode=http host=0.0.0.0 port=3000 path=/slack/events"
    assert rest == f"level=INFO logger=kubebot.slack event=slack_started {pairs}"
    stamp = datetime.fromisoformat(first["ts"])
    assert stamp.utcoffset() is not None and stamp.utcoffset().total_seconds() == 0  # type: ignore[union-attr]
    assert first["ts"].endswith("Z") and " " not in first["ts"]
    assert (second["level"], second["error"], second["confidence"], second["ready"]) == (
        "WARNING",
        'bad "id" = 3',
        "0.53",
        "True",
    )
    assert (third["event"], third["event_id"]) == ("slack_duplicate_dropped", "Ev1")
    assert third["retry_num"] == "None"


def test_free_text_exceptions_and_control_characters_stay_on_one_quoted_line(lines: io.StringIO) -> None:
    logging.getLogger("aiohttp.server").error("Error handling request from %s", "127.0.0.1")
    logging.getLogger("discord.gateway").info("tab\there\r\nnext line\x00end\u2028")
    try:
        raise RuntimeError("boom\nsecond line")
    except RuntimeError:
        logging.getLogger("kubebot.service").exception("event=record_failed")
    structlog.get_logger("kubebot.native").info("native_event", key="a b", n=3)
    free, controls, failure, native = emitted(lines)
    assert free["event"] == "Error handling request from 127.0.0.1" and free["logger"] == "aiohttp.server"
    assert '"Error handling request from 127.0.0.1"' in lines.getvalue()  # free text is quoted
    assert controls["event"] == "tab here\nnext line end\n"
    assert failure["event"] == "record_failed" and failure["level"] == "ERROR"
    assert failure["exception"].startswith("Traceback (most recent call last):\n")
    assert failure["exception"].endswith("RuntimeError: boom\nsecond line")
    last = lines.getvalue().splitlines()[-1]
    assert last.endswith(' level=INFO logger=kubebot.native event=native_event key="a b" n=3')
    assert native["key"] == "a b"


def test_secrets_are_redacted_wherever_they_appear(lines: io.StringIO) -> None:
    log = logging.getLogger("kubebot.slack")
    log.info("event=auth token=%s app=%s", SLACK_BOT, SLACK_APP)
    log.info("event=discord_login detail=%s", f"token {DISCORD} refused")
    log.info("event=console header=%s", f"Authorization: {BEARER}")
    log.warning("event=store_unavailable error=%s", f"cannot connect to {ENV['KUBEBOT_DB']}")
    log.info("event=slack_request signature=%s", SIGNING)
    headers = {"Authorization": f"Bearer {SLACK_BOT}"}
    logging.getLogger("slack_sdk").debug("Sending a request - headers: %s", headers)
    try:
        raise ValueError(f"password={DB_PASSWORD} and {SLACK_BOT}")
    except ValueError:
        log.exception("event=record_failed")
    text = lines.getvalue()
    assert len(text.splitlines()) == 7
    leaked = [secret for secret in SECRETS if secret in text]
    assert leaked == [], text
    records = emitted(lines)
    assert records[0]["token"] == records[0]["app"] == "[redacted]"
    assert records[3]["error"] == "cannot connect to postgresql://bot:***@db.internal/kubebot"
    assert records[4]["signature"] == "[redacted]"


def test_json_lines_carry_the_same_pairs_with_numbers(lines: io.StringIO) -> None:
    stream = io.StringIO()
    setup_logging("INFO", "json", ENV, stream=stream)
    log = logging.getLogger("kubebot.http")
    log.info("event=http_listening host=%s port=%d token=%s", "::", 8080, SLACK_BOT)
    log.debug("event=hidden")  # below the level
    (line,) = stream.getvalue().splitlines()
    record = json.loads(line)
    assert list(record)[:4] == ["ts", "level", "logger", "event"]
    assert record | {"ts": ""} == {
        "ts": "",
        "level": "INFO",
        "logger": "kubebot.http",
        "event": "http_listening",
        "host": "::",
        "port": 8080,
        "token": "[redacted]",
    }


def test_the_format_is_a_setting() -> None:
    assert CoreSettings.from_env({}).log_format == "logfmt"
    assert CoreSettings.from_env({"KUBEBOT_LOG_FORMAT": " JSON "}).log_format == "json"
    with pytest.raises(ConfigError, match="KUBEBOT_LOG_FORMAT must be logfmt or json"):
        CoreSettings.from_env({"KUBEBOT_LOG_FORMAT": "xml"})
    with pytest.raises(ConfigError, match="KUBEBOT_LOG_FORMAT"):
        setup_logging("INFO", "xml")


def _log_calls(tree: ast.AST) -> Iterator[tuple[int, str]]:
    levels = {"debug", "info", "warning", "error", "exception", "critical"}
    for node in ast.walk(tree):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and node.func.attr in levels
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id in ("log", "audit")
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
        ):
            yield node.lineno, node.args[0].value


def test_every_log_call_in_the_package_is_an_event_with_pairs() -> None:
    """So that each of our lines renders as pairs (free text would become one quoted event)."""
    reserved = {"ts", "level", "logger", "exception"}
    bad: list[str] = []
    calls = 0
    for path in sorted((ROOT / "bot").rglob("*.py")):
        for lineno, fmt in _log_calls(ast.parse(path.read_text(encoding="utf-8"))):
            calls += 1
            tokens = fmt.split()
            keys = [token.partition("=")[0] for token in tokens]
            where = f"{Path(path).relative_to(ROOT)}:{lineno}: {fmt!r}"
            pairs = bool(tokens) and tokens[0].startswith("event=") and all("=" in t for t in tokens)
            if not pairs or reserved & set(keys) or len(set(keys)) != len(keys):
                bad.append(where)
    assert calls > 100 and bad == []
