"""Parse what a user typed into a command; anything that is not a command is a question."""

from __future__ import annotations

from dataclasses import dataclass

from bot.ports import CLUSTER_VERBS, ClusterQuery

_SMART_QUOTES = str.maketrans({"“": '"', "”": '"', "‘": "'", "’": "'", "‐": "-", "–": "-", "—": "-"})


@dataclass(frozen=True, slots=True)
class Help:
    pass


@dataclass(frozen=True, slots=True)
class Topics:
    pass


@dataclass(frozen=True, slots=True)
class Learn:
    path_id: str | None = None


@dataclass(frozen=True, slots=True)
class Ask:
    text: str


Command = Help | Topics | Learn | Ask | ClusterQuery


def parse_command(text: str, *, cluster_enabled: bool) -> Command:
    """`help`, `topics`, `learn [path]`, and, when the cluster lookup is on,
    `pods|deployments|services|events|nodes [ns]` and `why NAME [ns]`. Everything else is a question.

    Cluster verbs are only commands in their short form (at most three words), so
    "why is my pod pending" stays a question for the knowledge base.
    """
    stripped = text.translate(_SMART_QUOTES).strip().strip("`'\"").strip()
    words = stripped.split()
    if not words:
        return Ask("")
    head = words[0].lower().lstrip("/")
    rest = words[1:]
    if head in ("help", "?") and not rest:
        return Help()
    if head in ("topics", "topic") and not rest:
        return Topics()
    if head in ("learn", "tour") and len(rest) <= 1:
        return Learn(rest[0].lower() if rest else None)
    if cluster_enabled and head in CLUSTER_VERBS:
        args = [w for w in rest if w not in ("-n", "--namespace", "in")]
        if head == "why" and 1 <= len(args) <= 2:
            return ClusterQuery("why", args[0], args[1] if len(args) > 1 else None)
        if head != "why" and len(args) <= 1:
            return ClusterQuery(head, None, args[0] if args else None)
    return Ask(stripped)
