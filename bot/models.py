"""Platform-neutral vocabulary shared by every layer.

Everything here is a frozen dataclass or an enum; nothing imports from the rest of the package,
so the knowledge loader, the matcher, the cluster reader, the service and the adapters can all
depend on it without depending on each other.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class Tip:
    """One concrete step of an answer: what to do and, optionally, the command that does it."""

    text: str
    command: str | None = None


@dataclass(frozen=True, slots=True)
class Entry:
    """One knowledge-base entry, as validated by the loader."""

    id: str
    title: str
    questions: tuple[str, ...]
    answer: str
    sources: tuple[str, ...]
    analogy: str | None = None
    tags: tuple[str, ...] = ()
    tips: tuple[Tip, ...] = ()
    see_also: tuple[str, ...] = ()
    path: str = ""
    line: int = 0
    diagram: str | None = None  # the Graphviz source (a .dot file in the KB); its PNG sits next to it
    diagram_line: int = 0  # the line of the `diagram:` key, for lint problems


@dataclass(frozen=True, slots=True)
class Example:
    """A labelled question: what the matcher read of it and the entry it is about (`bot.examples`);
    ``thread`` (where it was asked) only while fitting, to keep a question from finding its own."""

    entry: str
    text: str
    thread: str = ""


# each platform's name and the words that name it (domain.yaml `platforms:`; `bot.platforms`)
Platforms = tuple[tuple[str, tuple[str, ...]], ...]


@dataclass(frozen=True, slots=True)
class LearningPath:
    """An ordered guided tour through entries (the onboarding path, debugging 101...)."""

    id: str
    title: str
    steps: tuple[str, ...]


class Band(enum.Enum):
    """What the service decided to do with a question. The values are what the store and the
    metrics record; `contract` is the name in the JSON output of `kubebot ask --json`."""

    ANSWERED = "answered"  # the top entry is probably right: answer it
    ANSWERED_WITH_ALTERNATIVES = "answered_with_alternatives"  # probable, not certain: answer + "Not this?"
    SUGGESTED = "suggested"  # on topic, but no single entry is likely: did you mean
    DECLINED = "declined"  # off topic

    @property
    def answers(self) -> bool:
        """True for the two bands that answer with an entry."""
        return self in (Band.ANSWERED, Band.ANSWERED_WITH_ALTERNATIVES)

    @property
    def contract(self) -> str:
        return _BAND_CONTRACT[self]


_BAND_CONTRACT = {
    Band.ANSWERED: "answer",
    Band.ANSWERED_WITH_ALTERNATIVES: "answer_with_alternatives",
    Band.SUGGESTED: "did_you_mean",
    Band.DECLINED: "decline",
}


@dataclass(frozen=True, slots=True)
class Candidate:
    """A scored entry for a question; confidence is calibrated to 0..1."""

    entry_id: str
    title: str
    confidence: float


@dataclass(frozen=True, slots=True)
class MatchResult:
    """The matcher's verdict: a band and the ranked candidates that support it.

    For the answering bands the first candidate is the answer and `alternatives` are the
    "Not this?" offers (empty for a plain answer); for did-you-mean the candidates are the offers."""

    band: Band
    candidates: tuple[Candidate, ...] = ()
    alternatives: tuple[Candidate, ...] = ()

    @property
    def best(self) -> Candidate | None:
        return self.candidates[0] if self.candidates else None

    @property
    def confidence(self) -> float:
        return self.candidates[0].confidence if self.candidates else 0.0


class Platform(enum.Enum):
    CONSOLE = "console"
    SLACK = "slack"
    DISCORD = "discord"


class ChannelType(enum.Enum):
    """Where a message came from. User ids are never stored, only this."""

    CHANNEL = "channel"
    DIRECT = "direct"
    COMMAND = "command"
    CONSOLE = "console"


class PickKind(enum.Enum):
    """How a user chose an entry for their question: the signal behind suggested alternates."""

    DID_YOU_MEAN = "did_you_mean"  # a did-you-mean button
    NOT_THIS = "not_this"  # a "Not this?" alternative under an answer
    HELPFUL = "helpful"  # 👍 on the answer the bot gave


@dataclass(frozen=True, slots=True)
class Person:
    """Who asked: a platform user id and the roles/groups the platform reports (for allowlists)."""

    id: str = ""
    name: str = ""
    roles: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Message:
    """A question as the core sees it, whatever platform it came from."""

    text: str
    platform: Platform = Platform.CONSOLE
    channel_type: ChannelType = ChannelType.CONSOLE
    channel_id: str = ""
    person: Person = field(default_factory=Person)


class ReplyKind(enum.Enum):
    ANSWER = "answer"
    SUGGEST = "suggest"
    DECLINE = "decline"
    HELP = "help"
    TOPICS = "topics"
    TOUR = "tour"
    CLUSTER = "cluster"
    ERROR = "error"


@dataclass(frozen=True, slots=True)
class TopicGroup:
    """Entries that share a tag, for the topics listing."""

    tag: str
    entries: tuple[tuple[str, str], ...]  # (entry id, title)


@dataclass(frozen=True, slots=True)
class TourStep:
    """One step of a learning path; `entry` is the entry shown at this step."""

    path_id: str
    path_title: str
    index: int
    total: int
    entry: Entry

    @property
    def has_next(self) -> bool:
        return self.index + 1 < self.total

    @property
    def has_previous(self) -> bool:
        return self.index > 0


@dataclass(frozen=True, slots=True)
class Finding:
    """One diagnosis from the cluster reader, linked to the knowledge-base entry with the fix."""

    object_ref: str  # e.g. "pod default/web-1"
    summary: str  # what is wrong, one line
    evidence: tuple[str, ...] = ()
    entry_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClusterReport:
    """The result of a read-only cluster query, already shaped for display."""

    title: str
    columns: tuple[str, ...] = ()
    rows: tuple[tuple[str, ...], ...] = ()
    findings: tuple[Finding, ...] = ()
    omitted: int = 0  # rows not shown because of the chat cap
    error: str | None = None


@dataclass(frozen=True, slots=True)
class Reply:
    """What the core answers. Adapters render it; `text` is the plain-text rendering."""

    kind: ReplyKind
    question: str
    text: str
    band: Band | None = None
    entry: Entry | None = None
    confidence: float = 0.0
    suggestions: tuple[Candidate, ...] = ()
    topics: tuple[TopicGroup, ...] = ()
    tour: TourStep | None = None
    cluster: ClusterReport | None = None
    linked_entries: tuple[Entry, ...] = ()  # entries referenced by cluster findings
    see_also: tuple[tuple[str, str], ...] = ()  # (entry id, title) of related entries

    @property
    def answered(self) -> bool:
        return self.kind is ReplyKind.ANSWER
