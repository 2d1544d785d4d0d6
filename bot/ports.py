"""Interfaces the service depends on; implementations live in `store/` and `cluster/`.

The service only sees these protocols, so it can be tested with in-memory stand-ins and the
optional packages (PostgreSQL, lightkube) are imported only by the implementations.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass, replace
from typing import Protocol

from bot.models import Band, ChannelType, ClusterReport, Message, PickKind, Platform


@dataclass(frozen=True, slots=True)
class QuestionRecord:
    """One asked question. Never a user id: only where it was asked."""

    text: str
    platform: Platform
    channel_type: ChannelType
    band: Band
    entry_id: str | None
    confidence: float
    latency_seconds: float = 0.0  # time the service took to answer (for the latency histogram)


@dataclass(frozen=True, slots=True)
class FeedbackRecord:
    """One 👍/👎 on a reply, with the question it answered. Never a user id."""

    entry_id: str | None  # None for feedback on a decline
    helpful: bool
    platform: Platform
    channel_type: ChannelType
    question: str = ""


@dataclass(frozen=True, slots=True)
class PickRecord:
    """A user chose `entry_id` for `question` (a button or a 👍). Never a user id."""

    question: str
    entry_id: str
    kind: PickKind
    platform: Platform
    channel_type: ChannelType


class Recorder(Protocol):
    """Where questions, feedback and picks go. Must never raise and never block an answer."""

    def record_question(self, record: QuestionRecord) -> None: ...

    def record_feedback(self, record: FeedbackRecord) -> None: ...

    def record_pick(self, record: PickRecord) -> None: ...


class NullRecorder:
    def record_question(self, record: QuestionRecord) -> None:
        return None

    def record_feedback(self, record: FeedbackRecord) -> None:
        return None

    def record_pick(self, record: PickRecord) -> None:
        return None


CLUSTER_VERBS = ("pods", "deployments", "services", "events", "nodes", "why")


@dataclass(frozen=True, slots=True)
class ClusterQuery:
    """A fixed, typed cluster query: one of CLUSTER_VERBS, an optional name and namespace."""

    verb: str
    name: str | None = None
    namespace: str | None = None


class ClusterGateway(Protocol):
    """Answers cluster queries read-only; applies allowlists and writes the audit line itself."""

    async def query(self, query: ClusterQuery, message: Message) -> ClusterReport: ...


class Claims(Protocol):
    """Once-only claims shared by every replica (an event id, a message): True for the first
    caller within `ttl_seconds`, False for everyone after. Awaited on the event loop: must never
    block it, must answer within its time budget and, when the shared store is slow or cannot be
    reached, fail open (True): answering twice beats not answering."""

    async def claim(self, key: str, ttl_seconds: float) -> bool: ...


@dataclass(frozen=True, slots=True)
class PendingReply:
    """A reply the platform did not take (outage, rate limit): kept and retried by a worker.

    The contract is /work/plan/OUTBOX.md: `slack` owns this type and the in-memory outbox,
    the store implements the same protocol for SQLite and PostgreSQL.
    """

    key: str  # unique per reply; put() is idempotent on it
    platform: str  # "slack" | "discord"
    method: str  # "chat.postMessage" | "response_url" | "chat.postEphemeral" ...
    target: str  # channel id (plus thread ts inside body), or the response_url
    body: str  # the JSON payload to send
    created_at: float  # epoch seconds
    expires_at: float | None  # None: no expiry; a response_url reply: created_at + 30 min
    attempts: int = 0
    next_at: float = 0.0  # epoch seconds of the next try


class ReplyOutbox(Protocol):
    """Replies waiting to be sent again. Methods may block on I/O: call them from the event loop
    through `asyncio.to_thread`. Across replicas sharing a store, `due()` hands each reply to one."""

    def put(self, reply: PendingReply) -> None: ...

    def due(self, now: float, limit: int) -> list[PendingReply]: ...  # next_at <= now, oldest first

    def done(self, key: str) -> None: ...

    def retry_at(self, key: str, next_at: float, attempts: int) -> None: ...

    def give_up(self, key: str, reason: str) -> None: ...  # keep the row, marked, for counting

    def given_up(self, since: float) -> int: ...  # how many were given up since then


class MemoryOutbox:
    """`ReplyOutbox` in memory (tests, and runs without a store): lost when the process ends.

    Thread-safe, because callers reach it through `asyncio.to_thread`. `due()` leases what it
    returns for `lease` seconds (bumps `next_at`), as the store does, so two workers never send
    the same reply at once.
    """

    def __init__(self, lease: float = 60.0) -> None:
        self._lease = lease
        self._lock = threading.Lock()
        self._pending: dict[str, PendingReply] = {}
        self._given_up: list[tuple[float, str, str]] = []  # (when, key, reason)

    def put(self, reply: PendingReply) -> None:
        with self._lock:
            self._pending.setdefault(reply.key, reply)

    def due(self, now: float, limit: int) -> list[PendingReply]:
        with self._lock:
            ready = sorted(
                (r for r in self._pending.values() if r.next_at <= now), key=lambda r: (r.created_at, r.key)
            )[: max(0, limit)]
            for reply in ready:
                self._pending[reply.key] = replace(reply, next_at=now + self._lease)
            return ready

    def done(self, key: str) -> None:
        with self._lock:
            self._pending.pop(key, None)

    def retry_at(self, key: str, next_at: float, attempts: int) -> None:
        with self._lock:
            reply = self._pending.get(key)
            if reply is not None:
                self._pending[key] = replace(reply, next_at=next_at, attempts=attempts)

    def give_up(self, key: str, reason: str) -> None:
        with self._lock:
            if self._pending.pop(key, None) is not None:
                self._given_up.append((time.time(), key, reason))

    def given_up(self, since: float) -> int:
        with self._lock:
            return sum(1 for when, _, _ in self._given_up if when >= since)

    def __len__(self) -> int:
        with self._lock:
            return len(self._pending)
