"""The one place that decides what to answer: command → cluster lookup → knowledge answer →
did-you-mean → no-hit. Adapters turn platform events into `Message`s and render `Reply`s.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, replace
from pathlib import Path

from bot import render
from bot.commands import Ask, Help, Learn, Topics, parse_command
from bot.decision import BUNDLED, for_knowledge_base
from bot.evidence import Evidence
from bot.index import Index
from bot.knowledge import KnowledgeBase, bundled_kb_dir
from bot.match_settings import MatchSettings
from bot.matching import Matcher
from bot.models import (
    Band,
    Candidate,
    Entry,
    LearningPath,
    MatchResult,
    Message,
    PickKind,
    Reply,
    ReplyKind,
    TopicGroup,
    TourStep,
)
from bot.pacing import foreground
from bot.passive import looks_like_question
from bot.ports import (
    ClusterGateway,
    ClusterQuery,
    FeedbackRecord,
    NullRecorder,
    PickRecord,
    QuestionRecord,
    Recorder,
)
from bot.text import MAX_QUESTION_CHARS, Normalizer, clean_input, gist

log = logging.getLogger("kubebot.service")

DEFAULT_PATH = "onboarding"


@dataclass(frozen=True)
class Snapshot:
    """A loaded knowledge base and its matcher; replaced whole on reload, never mutated."""

    kb: KnowledgeBase
    matcher: Matcher
    topics: tuple[TopicGroup, ...]
    top_tags: tuple[str, ...]

    @classmethod
    def load(
        cls, kb_dir: Path, settings: MatchSettings | None = None, cache: tuple[Path, ...] | None = None
    ) -> Snapshot:
        """Load the knowledge base in ``kb_dir`` (raising `KnowledgeError`) and index it, through the
        index cache (`bot.kbcache`; ``cache``: its directories, by default from the environment)."""
        settings = settings or MatchSettings()
        kb, index = cls.prepare(kb_dir, settings, cache)
        return cls.build(kb, settings, index)

    @staticmethod
    def prepare(
        kb_dir: Path, settings: MatchSettings, cache: tuple[Path, ...] | None = None
    ) -> tuple[KnowledgeBase, Index]:
        """The knowledge base in ``kb_dir`` and its index, through the index cache (and into it)."""
        from bot.kbcache import default_dirs, load_indexed

        return load_indexed(
            kb_dir,
            settings.index_settings(),
            lambda kb: Matcher.build_index(list(kb.entries.values()), Normalizer(kb.synonyms), settings),
            default_dirs() if cache is None else cache,
        )

    @classmethod
    def build(
        cls, kb: KnowledgeBase, settings: MatchSettings | None = None, index: Index | None = None
    ) -> Snapshot:
        """The snapshot of ``kb``; ``index``: its matcher index, already built (`bot.kbcache`)."""
        calibration = for_knowledge_base(kb.root)
        if calibration.source == str(BUNDLED) and kb.root.resolve() != bundled_kb_dir().resolve():
            # the bundled calibration fits the bundled entries: over others it answers too boldly
            # when a question's entry is missing (benchmarks/bench_half_kb.py)
            log.warning(
                "event=calibration_not_fitted kb=%s action=bundled_calibration fix=%r",
                kb.root,
                f"kubebot kb calibrate QUESTIONS.yaml --kb {kb.root}",
            )
        elif stale := sorted({e.entry for e in calibration.examples} - set(kb.entries)):
            # examples of entries this knowledge base no longer has (renamed or removed) are left
            # out, and the models were fitted with them: a refit puts the labels right
            log.warning(
                "event=calibration_examples_stale kb=%s entries=%d first=%s fix=%r",
                kb.root,
                len(stale),
                stale[0],
                f"kubebot kb calibrate QUESTIONS.yaml --kb {kb.root}",
            )
        matcher = Matcher(
            kb.entries.values(),
            kb.synonyms,
            settings,
            domain=kb.domain,
            specific=kb.specific,
            platforms=kb.platforms,
            calibration=calibration,
            index=index,
        )
        by_tag = kb.tags()
        topics = tuple(TopicGroup(tag, tuple((e.id, e.title) for e in es)) for tag, es in by_tag.items())
        top_tags = tuple(sorted(by_tag, key=lambda t: -len(by_tag[t])))
        return cls(kb, matcher, topics, top_tags)


@dataclass(frozen=True)
class Decision:
    """A question as the service decided it: the cleaned text, the snapshot that decided, the
    ranked evidence and the matcher's verdict (None for an empty question)."""

    question: str
    snapshot: Snapshot
    evidence: tuple[Evidence, ...]
    result: MatchResult | None


class KnowledgeHolder:
    """Holds the current snapshot; a reload swaps the reference atomically."""

    def __init__(self, snapshot: Snapshot) -> None:
        self._snapshot = snapshot
        self._lock = threading.Lock()
        self.reloads = 0

    @property
    def current(self) -> Snapshot:
        return self._snapshot

    def swap(self, snapshot: Snapshot) -> None:
        with self._lock:
            self._snapshot = snapshot
            self.reloads += 1


class QAService:
    def __init__(
        self,
        holder: KnowledgeHolder,
        recorder: Recorder | None = None,
        cluster: ClusterGateway | None = None,
    ) -> None:
        self.holder = holder
        self.recorder: Recorder = recorder or NullRecorder()
        self.cluster = cluster

    @property
    def cluster_enabled(self) -> bool:
        return self.cluster is not None

    # -- what adapters may read -------------------------------------------------------------
    @property
    def snapshot(self) -> Snapshot:
        """The knowledge base and matcher answering right now (a reload replaces it whole)."""
        return self.holder.current

    @property
    def kb(self) -> KnowledgeBase:
        """The knowledge base answering right now."""
        return self.holder.current.kb

    def lookup(self, entry_id: str) -> Entry | None:
        """The entry with this id, or None (it may have gone in a reload)."""
        return self.holder.current.kb.entries.get(entry_id)

    def paths(self) -> list[LearningPath]:
        """The guided tours, in the knowledge base's order."""
        return list(self.holder.current.kb.paths.values())

    def complete(self, prefix: str, limit: int) -> list[Candidate]:
        """Autocomplete: the entries that fit what the user has typed so far, best first."""
        return self.holder.current.matcher.complete(prefix, limit)

    # -- entry points ---------------------------------------------------------------------
    async def handle(self, message: Message) -> Reply:
        """Answer anything a user typed: a command, a cluster query, or a question."""
        text = clean_input(message.text)
        command = parse_command(text, cluster_enabled=self.cluster_enabled)
        if isinstance(command, ClusterQuery) and self.cluster is not None:
            return await self.cluster_reply(command, message)
        if isinstance(command, Help):
            return self.help()
        if isinstance(command, Topics):
            return self.topics()
        if isinstance(command, Learn):
            return self.tour(command.path_id, 0)
        assert isinstance(command, Ask)
        return self._answer_clean(command.text, message)  # parse_command keeps cleaned text clean

    def answer(self, text: str, message: Message | None = None) -> Reply:
        """Answer a question from the knowledge base (no commands), and record it."""
        return self._answer_clean(clean_input(text), message)

    def passive_answer(self, message: Message, min_confidence: float) -> Reply | None:
        """A channel message nobody addressed to the bot (passive mode, on every platform): the
        answer when the message reads like a question and the knowledge base answers it with at
        least ``min_confidence``, recorded like any question; else None (stay silent, record
        nothing: most channel chatter is not for us). The matcher runs once."""
        started = time.perf_counter()
        question = clean_input(message.text)
        if not looks_like_question(question):
            return None
        reply = self.reply_for(self._decide_clean(question))
        if reply.kind is not ReplyKind.ANSWER or reply.confidence < min_confidence:
            log.info("event=passive_silent kind=%s confidence=%.3f", reply.kind.value, reply.confidence)
            return None
        self._record(reply, message, time.perf_counter() - started)
        return reply

    def decide(self, text: str) -> Decision:
        """What the matcher found for a question and the band it chose: the evidence behind
        `answer` (the console's "Try a question" shows it)."""
        return self._decide_clean(clean_input(text))

    def _answer_clean(self, cleaned: str, message: Message | None) -> Reply:
        started = time.perf_counter()
        decision = self._decide_clean(cleaned)
        reply = self.reply_for(decision)
        if message is not None and decision.question:
            self._record(reply, message, time.perf_counter() - started)
        return reply

    def _decide_clean(self, cleaned: str) -> Decision:
        """`decide` for text already through `clean_input` (cleaned once per question)."""
        snap = self.holder.current
        with foreground():  # a reload's warm-up waits (`bot.pacing`)
            evidence = tuple(snap.matcher.evidence(cleaned)) if cleaned else ()
            result = snap.matcher.decide(evidence) if cleaned else None
        return Decision(cleaned[:MAX_QUESTION_CHARS], snap, evidence, result)

    def reply_for(self, decision: Decision) -> Reply:
        """The reply for a decision (nothing is recorded)."""
        question, snap, result = decision.question, decision.snapshot, decision.result
        if result is None or result.band is Band.DECLINED or result.best is None:
            reply = Reply(
                ReplyKind.DECLINE,
                question,
                render.decline_text(gist(question), snap.top_tags),
                band=Band.DECLINED,
                confidence=result.confidence if result else 0.0,
            )
        elif result.band.answers:
            entry = snap.kb.entries[result.best.entry_id]
            reply = replace(
                self._entry_reply(snap, entry, question, result.confidence),
                band=result.band,
                suggestions=result.alternatives,
            )
            if result.alternatives:
                reply = replace(reply, text=render.with_alternatives(reply.text, result.alternatives))
        else:
            reply = Reply(
                ReplyKind.SUGGEST,
                question,
                render.suggestions_text(gist(question), result.candidates),
                band=Band.SUGGESTED,
                confidence=result.confidence,
                suggestions=result.candidates,
            )
        return reply

    def entry(self, entry_id: str) -> Reply:
        """Show one entry by id (see-also and did-you-mean buttons)."""
        snap = self.holder.current
        entry = snap.kb.entries.get(entry_id)
        if entry is None:
            return Reply(
                ReplyKind.ERROR, entry_id, f'That topic ({entry_id}) no longer exists. Type "topics".'
            )
        return self._entry_reply(snap, entry, entry.title, 1.0)

    def tour(self, path_id: str | None, index: int) -> Reply:
        snap = self.holder.current
        paths = snap.kb.paths
        path = paths.get(path_id or DEFAULT_PATH) or (
            next(iter(paths.values())) if paths and not path_id else None
        )
        if path is None:
            known = ", ".join(paths) or "none"
            return Reply(
                ReplyKind.ERROR, path_id or "", f'There is no tour called "{path_id}". Tours: {known}.'
            )
        index = max(0, min(index, len(path.steps) - 1))
        step = TourStep(path.id, path.title, index, len(path.steps), snap.kb.entries[path.steps[index]])
        return Reply(
            ReplyKind.TOUR,
            path.id,
            render.tour_text(step),
            entry=step.entry,
            tour=step,
            see_also=self._see_also(snap, step.entry),
        )

    def topics(self) -> Reply:
        snap = self.holder.current
        return Reply(ReplyKind.TOPICS, "topics", render.topics_text(snap.topics), topics=snap.topics)

    def help(self) -> Reply:
        snap = self.holder.current
        text = render.help_text(list(snap.kb.paths.values()), self.cluster_enabled)
        return Reply(ReplyKind.HELP, "help", text)

    def feedback(self, entry_id: str | None, helpful: bool, message: Message) -> None:
        self.recorder.record_feedback(
            FeedbackRecord(
                entry_id, helpful, message.platform, message.channel_type, clean_input(message.text)
            )
        )
        # 👍 on an answer confirms the entry for that question (a tour step's "question" is its path id)
        if helpful and entry_id and message.text not in self.holder.current.kb.paths:
            self.pick(entry_id, PickKind.HELPFUL, message)

    def pick(self, entry_id: str, kind: PickKind, message: Message) -> None:
        """Record that a user chose `entry_id` for the question in `message` (a did-you-mean or
        "Not this?" button, or 👍): the console's suggested alternates come from these. Never raises."""
        question = " ".join(clean_input(message.text)[:MAX_QUESTION_CHARS].split())
        if not question or entry_id not in self.holder.current.kb.entries:
            return
        try:
            self.recorder.record_pick(
                PickRecord(question, entry_id, kind, message.platform, message.channel_type)
            )
        except Exception:  # recording must never cost a click
            log.exception("event=record_pick_failed")

    async def cluster_reply(self, query: ClusterQuery, message: Message) -> Reply:
        assert self.cluster is not None
        snap = self.holder.current
        report = await self.cluster.query(query, message)
        linked = tuple(
            snap.kb.entries[f.entry_id]
            for f in report.findings
            if f.entry_id and f.entry_id in snap.kb.entries
        )
        return Reply(
            ReplyKind.CLUSTER,
            message.text,
            render.cluster_text(report, linked),
            cluster=report,
            linked_entries=linked,
        )

    # -- helpers --------------------------------------------------------------------------
    def _entry_reply(self, snap: Snapshot, entry: Entry, question: str, confidence: float) -> Reply:
        return Reply(
            ReplyKind.ANSWER,
            question,
            render.entry_text(entry),
            band=Band.ANSWERED,
            entry=entry,
            confidence=confidence,
            see_also=self._see_also(snap, entry),
        )

    @staticmethod
    def _see_also(snap: Snapshot, entry: Entry) -> tuple[tuple[str, str], ...]:
        return tuple((i, snap.kb.entries[i].title) for i in entry.see_also if i in snap.kb.entries)

    def _record(self, reply: Reply, message: Message, latency: float = 0.0) -> None:
        try:
            self.recorder.record_question(
                QuestionRecord(
                    text=reply.question,
                    platform=message.platform,
                    channel_type=message.channel_type,
                    band=reply.band or Band.DECLINED,
                    entry_id=reply.entry.id if reply.entry else None,
                    confidence=reply.confidence,
                    latency_seconds=latency,
                )
            )
        except Exception:  # recording must never cost an answer
            log.exception("event=record_failed")
