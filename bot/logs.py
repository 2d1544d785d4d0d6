"""Structured logging: one line per event, `key=value` pairs, never a token."""

from __future__ import annotations

import logging
import re
import sys

_SECRETS = re.compile(
    r"(xox[abposr]-[A-Za-z0-9-]+|xapp-[A-Za-z0-9-]+|[MN][A-Za-z\d_-]{23,}\.[\w-]{6}\.[\w-]{27,})"
)


class RedactingFormatter(logging.Formatter):
    """Formats `time level logger message` on one line and masks anything shaped like a token."""

    def format(self, record: logging.LogRecord) -> str:
        line = super().format(record).replace("\n", " | ")
        return _SECRETS.sub("[redacted]", line)


def setup_logging(level: str = "INFO") -> None:
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(RedactingFormatter("ts=%(asctime)s level=%(levelname)s logger=%(name)s %(message)s"))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(getattr(logging, level.upper(), logging.INFO))
