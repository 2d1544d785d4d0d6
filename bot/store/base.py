"""The row types the store keeps, how a recorded question becomes a row, and where the store lives.

Two backends implement `Store`: SQLite (the default, a file under the user's data dir) and
PostgreSQL (when KUBEBOT_DB is a ``postgresql://`` URL or a libpq keyword DSN, for several
replicas). Rows never hold a user id; the question text is kept in full, as a sha256 hash, or
not at all (KUBEBOT_STORE_QUESTIONS).
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from bot.ports import FeedbackRecord, QuestionRecord
from bot.text import normalize_basic

log = logging.getLogger("kubebot.store")

STORE_MODES = ("full", "hash", "off")


class StoreError(Exception):
    """The store could not be opened, migrated, written or read; the message says why."""


@dataclass(frozen=True, slots=True)
class QuestionRow:
    """One asked question as stored: where (never who), what it matched, and when (epoch seconds)."""

    asked_at: float
    platform: str
    channel_type: str
    band: str
    entry_id: str | None
    confidence: float
    text: str | None = None
    text_hash: str | None = None


@dataclass(frozen=True, slots=True)
class FeedbackRow:
    """One 👍/👎; ``entry_id`` is None for feedback on a decline."""

    given_at: float
    entry_id: str | None
    helpful: bool
    platform: str
    channel_type: str
    question: str | None = None
    question_hash: str | None = None


def is_row_error(
    exc: BaseException, driver_error: type[BaseException], row_errors: tuple[type[BaseException], ...]
) -> bool:
    """True when ``exc`` is about one row's data (so the other rows can still be written): the
    driver's data errors, or any non-driver error raised while adapting a value (UnicodeEncodeError
    for a lone surrogate, ValueError, TypeError, OverflowError). False for the database failing."""
    if not isinstance(exc, Exception) or isinstance(exc, OSError | MemoryError):
        return False
    return isinstance(exc, row_errors) or not isinstance(exc, driver_error)


def log_rejected(backend: str, errors: Sequence[str]) -> None:
    """One line per batch that had rows left out: how many and which error types (never the text)."""
    if errors:
        log.warning(
            "event=store_rows_rejected backend=%s count=%d errors=%s note=other_rows_written",
            backend,
            len(errors),
            ",".join(sorted(set(errors))),
        )


# -- records → rows -----------------------------------------------------------------------------
def question_hash(text: str) -> str:
    """sha256 of the normalised question, so trivially different spellings share a hash."""
    return hashlib.sha256(normalize_basic(text).encode("utf-8")).hexdigest()


def _text_fields(text: str, mode: str) -> tuple[str | None, str | None]:
    if mode == "off" or not text:
        return None, None
    if mode == "hash":
        return None, question_hash(text)
    return text, None


def question_row(record: QuestionRecord, mode: str, now: float) -> QuestionRow:
    text, digest = _text_fields(record.text, mode)
    return QuestionRow(
        asked_at=now,
        platform=record.platform.value,
        channel_type=record.channel_type.value,
        band=record.band.value,
        entry_id=record.entry_id,
        confidence=float(record.confidence),
        text=text,
        text_hash=digest,
    )


def feedback_row(record: FeedbackRecord, mode: str, now: float) -> FeedbackRow:
    text, digest = _text_fields(record.question, mode)
    return FeedbackRow(
        given_at=now,
        entry_id=record.entry_id,
        helpful=record.helpful,
        platform=record.platform.value,
        channel_type=record.channel_type.value,
        question=text,
        question_hash=digest,
    )


# -- where the store lives ------------------------------------------------------------------------
_PG_SCHEMES = ("postgresql://", "postgres://")
# libpq connection keywords (https://www.postgresql.org/docs/current/libpq-connect.html#LIBPQ-PARAMKEYWORDS):
# a KUBEBOT_DB that starts with one of them followed by "=" is a keyword DSN, not a file name
_LIBPQ_KEYWORDS = frozenset(
    """host hostaddr port dbname user password passfile require_auth channel_binding connect_timeout
    client_encoding options application_name fallback_application_name keepalives keepalives_idle
    keepalives_interval keepalives_count tcp_user_timeout replication gssencmode sslmode requiressl
    sslnegotiation sslcompression sslcert sslkey sslkeylogfile sslpassword sslcertmode sslrootcert
    sslcrl sslcrldir sslsni requirepeer ssl_min_protocol_version ssl_max_protocol_version krbsrvname
    gsslib gssdelegation service target_session_attrs load_balance_hosts""".split()
)
_KEYWORD = re.compile(r"\s*([A-Za-z_]+)\s*=")
# the password in each DSN form: URL userinfo (up to the last "@" before the query), a
# ``password=`` (or ``sslpassword=``) query parameter, and a keyword DSN's, quoted or not
_URL_USERINFO = re.compile(r"(://[^:/@?#\s]*:)[^?#\s]*@")
_QUERY_PASSWORD = re.compile(r"([?&][A-Za-z_]*password=)[^&#\s]*", re.IGNORECASE)
_KEYWORD_PASSWORD = re.compile(r"(\b[A-Za-z_]*password\s*=\s*)('(?:[^'\\]|\\.)*'?|[^\s'&]+)", re.IGNORECASE)


def is_keyword_dsn(url: str) -> bool:
    """``host=db dbname=kubebot user=bot password=...``: libpq's keyword/value form."""
    match = _KEYWORD.match(url)
    return match is not None and match.group(1).lower() in _LIBPQ_KEYWORDS


def is_postgres_url(url: str) -> bool:
    """A ``postgresql://`` or ``postgres://`` URL, or a libpq keyword DSN."""
    return url.strip().lower().startswith(_PG_SCHEMES) or is_keyword_dsn(url)


def redact_url(url: str) -> str:
    """The DSN without its password (URL userinfo, ``?password=``, ``password=``), for logs."""
    url = _URL_USERINFO.sub(r"\1***@", url)
    url = _QUERY_PASSWORD.sub(r"\1***", url)
    return _KEYWORD_PASSWORD.sub(r"\1***", url)


def _passwords(url: str) -> list[str]:
    from urllib.parse import unquote

    found = [m.group(0)[len(m.group(1)) : -1] for m in _URL_USERINFO.finditer(url)]
    found += [m.group(0)[len(m.group(1)) :] for m in _QUERY_PASSWORD.finditer(url)]
    for m in _KEYWORD_PASSWORD.finditer(url):
        value = m.group(2)
        found.append(value.strip("'").replace("\\'", "'").replace("\\\\", "\\"))
        found.append(value)
    found += [unquote(p) for p in found]
    found += [piece for p in found for piece in p.split() if len(piece) >= 4]  # libpq echoes fragments
    return sorted({p for p in found if p and p != "***"}, key=len, reverse=True)


def redact_secrets(text: str, url: str) -> str:
    """``text`` (an error message, say) with every DSN form redacted and ``url``'s password removed."""
    text = redact_url(text)
    for password in _passwords(url):
        text = text.replace(password, "***")
    return text


def default_db_path(env: Mapping[str, str] | None = None) -> Path:
    """$XDG_DATA_HOME/kubebot/kubebot.db, or ~/.local/share/kubebot/kubebot.db."""
    env = os.environ if env is None else env
    base = env.get("XDG_DATA_HOME", "").strip()
    root = Path(base) if base else Path(env.get("HOME") or Path.home()) / ".local" / "share"
    return root / "kubebot" / "kubebot.db"


def sqlite_path(url: str | None, env: Mapping[str, str] | None = None) -> Path:
    """The SQLite file for KUBEBOT_DB: a plain path, ``sqlite:///abs/path``, or the default."""
    if not url:
        return default_db_path(env)
    if url.startswith("sqlite:///"):
        return Path("/" + url[len("sqlite:///") :].lstrip("/"))
    if url.startswith("sqlite://"):
        return Path(url[len("sqlite://") :])
    if url.startswith("sqlite:"):
        return Path(url[len("sqlite:") :])
    return Path(url).expanduser()
