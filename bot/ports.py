"""Interfaces the service depends on; implementations live in `store/` and `cluster/`.

The service only sees these protocols, so it can be tested with in-memory stand-ins and the
optional packages (PostgreSQL, lightkube) are imported only by the implementations.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    caller within `ttl_seconds`, False for everyone after. Must answer fast and, when the shared
    store cannot be reached, fail open (True): answering twice beats not answering."""

    def claim(self, key: str, ttl_seconds: float) -> bool: ...
