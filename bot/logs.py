"""Structured logging through structlog: one line per event, logfmt or JSON, never a secret.

Call sites use the standard library's loggers with ``event=name key=%s ...`` format strings.
structlog's `ProcessorFormatter` turns each record into key-value pairs, taking the keys from the
format string and the values from the arguments (so a value with spaces stays one value), adds
``ts`` (ISO 8601, UTC), ``level`` and ``logger``, redacts secrets and renders one line. Records
from libraries are free text: it becomes the quoted ``event``. Code may also log through
``structlog.get_logger(name).info("event_name", key=value)``: same pipeline, same line.
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Iterable, Mapping
from typing import Any, TextIO

import structlog
from structlog.typing import EventDict, Processor, WrappedLogger

from bot.config import ConfigError

FORMATS = ("logfmt", "json")
KEY_ORDER = ("ts", "level", "logger", "event")
REDACTED = "[redacted]"
# settings whose values are secrets: redacted wherever they appear, whatever their shape
SECRET_SETTINGS = (
    "SLACK_BOT_TOKEN",
    "SLACK_APP_TOKEN",
    "SLACK_SIGNING_SECRET",
    "DISCORD_TOKEN",
    "KUBEBOT_CONSOLE_TOKEN",
)
# Slack bot/user/app tokens, Discord bot tokens (base64 id . timestamp . hmac), bearer credentials
_TOKENS = re.compile(
    r"\bxox[abeoprs]-[A-Za-z0-9-]+|\bxapp-[A-Za-z0-9-]+|\b[MNO][A-Za-z\d_-]{23,}\.[\w-]{6}\.[\w-]{27,}"
)
_BEARER = re.compile(r"\b(Bearer\s+)[^\s\"',;]+", re.IGNORECASE)
# one %-placeholder of the standard library's format strings (%s, %d, %.2f, %r, %(name)s, %%)
_PLACEHOLDER = re.compile(r"%(?:\([^)]*\))?[#0 +-]*(?:\*|\d+)?(?:\.(?:\*|\d+))?[diouxXeEfFgGcrsa%]")
# what would end or split a logfmt line: control characters and Unicode line separators
_BREAKS = re.compile(r"\r\n?|[\x00-\x09\x0b-\x1f\x7f\x85\u2028\u2029]")


class Redactor:
    """The processor that masks secrets in every value: tokens by their shape, DSN passwords
    (`bot.store.base`), and the exact values of the secret settings and of KUBEBOT_DB's password."""

    def __init__(self, secrets: Iterable[str] = (), db_url: str | None = None) -> None:
        self._secrets = sorted({s for s in secrets if len(s) >= 6}, key=len, reverse=True)
        self._db_url = db_url or ""

    def text(self, text: str) -> str:
        from bot.store.base import redact_secrets

        text = redact_secrets(text, self._db_url)
        text = _BEARER.sub(rf"\g<1>{REDACTED}", _TOKENS.sub(REDACTED, text))
        for secret in self._secrets:
            text = text.replace(secret, REDACTED)
        return text

    def __call__(self, _: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
        return {key: self._value(value) for key, value in event_dict.items()}

    def _value(self, value: object) -> object:
        if value is None or isinstance(value, bool | int | float):
            return value
        return self.text(value if isinstance(value, str) else str(value))


def event_pairs(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """A record logged as ``event=name key=%s`` becomes ``{"event": "name", "key": arg}``."""
    record = event_dict.get("_record")
    args = event_dict.pop("positional_args", ())
    fmt = getattr(record, "msg", None)
    if not isinstance(fmt, str) or not fmt.startswith("event=") or not isinstance(args, tuple):
        return event_dict
    pairs = _pairs(fmt, args)
    if pairs is None:
        return event_dict
    del event_dict["event"]
    return {**pairs, **event_dict}


def _pairs(fmt: str, args: tuple[Any, ...]) -> dict[str, object] | None:
    pairs: dict[str, object] = {}
    used = 0
    for token in fmt.split():
        key_part, sep, value_part = token.partition("=")
        if not sep or not key_part:
            return None  # free text among the pairs: leave the message whole
        nkey, nvalue = _count(key_part), _count(value_part)
        key_args, value_args = args[used : used + nkey], args[used + nkey : used + nkey + nvalue]
        used += nkey + nvalue
        if len(key_args) < nkey or len(value_args) < nvalue:
            return None
        try:
            key = key_part % key_args if nkey else key_part
            pairs[key] = _value(value_part, value_args)
        except (TypeError, ValueError, KeyError):
            return None
    return pairs if used == len(args) else None


def _count(template: str) -> int:
    return sum(1 for m in _PLACEHOLDER.finditer(template) if m.group() != "%%")


def _value(template: str, args: tuple[Any, ...]) -> object:
    text = template % args if args or "%%" in template else template
    # a lone number keeps its type for JSON (formatted as the call site asked: %d, %.2f)
    number = len(args) == 1 and isinstance(args[0], int | float) and not isinstance(args[0], bool)
    if number and _PLACEHOLDER.fullmatch(template):
        try:
            return int(text)
        except ValueError:
            return float(text) if text.lower() not in ("nan", "inf", "-inf") else text
    return text


def _context(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    record: logging.LogRecord | None = event_dict.get("_record")
    if record is not None:
        event_dict.setdefault("level", record.levelname)
        event_dict.setdefault("logger", record.name)
    return event_dict


def _one_line(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    """No value may break the line: line breaks become ``\\n`` (the renderer escapes them),
    tabs and other control characters a space."""
    for key, value in event_dict.items():
        if isinstance(value, str) and _BREAKS.search(value):
            event_dict[key] = _BREAKS.sub(_break, value)
    return event_dict


def _break(match: re.Match[str]) -> str:
    return "\n" if match.group()[0] in "\r\x85\u2028\u2029" else " "


def _ordered(_: WrappedLogger, __: str, event_dict: EventDict) -> EventDict:
    first = {key: event_dict.pop(key) for key in KEY_ORDER if key in event_dict}
    return {**first, **event_dict}


def processors(fmt: str, redactor: Redactor) -> list[Processor]:
    """What runs on every event dict, after the record became pairs, down to the rendered line."""
    renderer: Processor
    if fmt == "json":
        renderer = structlog.processors.JSONRenderer(sort_keys=False)
        shape: list[Processor] = []
    else:
        renderer = structlog.processors.LogfmtRenderer(bool_as_flag=False)
        shape = [_one_line]
    return [
        structlog.processors.TimeStamper(fmt="iso", utc=True, key="ts"),
        _context,
        structlog.stdlib.ProcessorFormatter.remove_processors_meta,
        structlog.processors.format_exc_info,
        redactor,
        *shape,
        _ordered,
        renderer,
    ]


def formatter(fmt: str = "logfmt", env: Mapping[str, str] | None = None) -> logging.Formatter:
    env = env or {}
    redactor = Redactor((env.get(name, "").strip() for name in SECRET_SETTINGS), env.get("KUBEBOT_DB"))
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=[event_pairs],
        processors=processors(fmt, redactor),
        pass_foreign_args=True,
    )


def setup_logging(
    level: str = "INFO",
    fmt: str = "logfmt",
    env: Mapping[str, str] | None = None,
    stream: TextIO | None = None,
) -> None:
    """Every log line (ours, the libraries', structlog's) to stderr in `fmt`, redacting `env`'s secrets."""
    if fmt not in FORMATS:
        raise ConfigError(f"KUBEBOT_LOG_FORMAT must be logfmt or json, not {fmt!r}")
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(formatter(fmt, env))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
    structlog.configure(
        processors=[structlog.stdlib.filter_by_level, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=False,
    )
