"""The matching engine: which entry answers a question, which might, or none.

Everything that does not depend on the question is built once in ``Matcher.__init__``:
normalised alternates, token weights (IDF over entries), impact-ordered posting lists, a
length-bucketed vocabulary for typo correction (`bot.index`); the sorted-token keys rapidfuzz
compares are spelt when first needed (`bot.alternates`).

Per question: normalise → correct unknown tokens against the vocabulary → accumulate weights
from (capped) posting lists → weighted Dice shortlist → rerank the shortlist with a blend of
weighted token F1 and rapidfuzz ``ratio`` on sorted tokens → best alternate per entry → band.
Only questions and titles are indexed, never answer text; the decision reads how much of the
question a candidate's answer text covers (`bot.entry_facts`).
"""

from __future__ import annotations

import copy
import dataclasses
import math
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import replace
from itertools import compress

import numpy as np
from rapidfuzz import fuzz, process

from bot import semantic
from bot.alternates import AlternateScorer
from bot.corpus import F64, gather, sorted_runs
from bot.decision import BUNDLED, Calibration, Thresholds
from bot.entry_facts import EntryFacts
from bot.evidence import Evidence
from bot.examples import ExampleIndex, words
from bot.index import MASK, Index, build_index, fold_one, token_hash_one
from bot.leads import leads
from bot.match_settings import MatchSettings
from bot.models import Candidate, Entry, Example, MatchResult, Platforms
from bot.platforms import PlatformSides
from bot.query import Query, QueryReader
from bot.scored import ENTRY, SCORE, Scored, evidence_of
from bot.text import Normalizer, normalize_basic
from bot.wording import OFF, WordingModel, WordingScorer


class Matcher:
    """Scores questions against the alternates of a fixed set of entries."""

    def __init__(
        self,
        entries: Iterable[Entry],
        synonyms: Mapping[str, str] | None = None,
        settings: MatchSettings | None = None,
        domain: Iterable[str] = (),
        specific: Iterable[str] = (),
        calibration: Calibration | None = None,
        platforms: Platforms = (),
        index: Index | None = None,
    ) -> None:
        """Build the index of ``entries`` (or take ``index``, built from the same entries, synonyms
        and settings by `build_index` — `bot.kbcache` stores one)."""
        self.settings = s = settings or MatchSettings()
        self.calibration = calibration or Calibration.load(BUNDLED)
        t = self.calibration.thresholds
        if s.answer_threshold is not None or s.topic_threshold is not None:
            answer = t.answer if s.answer_threshold is None else s.answer_threshold
            t = replace(
                t,
                answer=answer,
                alternatives=min(t.alternatives, answer),
                topic=t.topic if s.topic_threshold is None else s.topic_threshold,
            )
        self._thresholds: Thresholds = t
        self.normalizer = Normalizer(synonyms)
        self._entries: list[Entry] = list(entries)
        if index is None:
            index = self.build_index(self._entries, self.normalizer, s)
        if len(index.entry_alts) != len(self._entries) + 1:
            raise ValueError("the index was built from other entries")
        self.index = ix = index
        self._ids = {token: i for i, token in enumerate(ix.tokens)}
        self._post_ptr = ix.post_ptr.data  # (a memoryview) a few items read a question (`gather`)
        self._max_idf = math.log(1.0 + max(len(self._entries), 1))
        self._reader = QueryReader(ix, self.normalizer, s, self._max_idf, domain, specific)
        self._idf = self._reader.idf
        self._titles_made: list[str] | None = None
        phrases = [self._ids[t] for t in self.normalizer.phrase_tokens() if t in self._ids]
        self._alternates = AlternateScorer(ix, s.char_weight, phrases)
        self._facts = EntryFacts(self._entries, ix, self.normalizer, self._max_idf)
        # each entry as one vector of the static semantic model: the mean of its questions'
        self._embedder = semantic.shared()
        self._centroids = (
            ix.centroids
            if len(ix.centroids) == len(self._entries)
            else self._embedder.centroids([(e.title, *e.questions) for e in self._entries])
        )
        self._wording = WordingScorer(self.calibration.wording, self._rows(self.calibration))
        self._examples_made: ExampleIndex | None = None  # (`_examples`)
        self._platforms = PlatformSides(platforms, self._entries)

    def _rows(self, calibration: Calibration) -> dict[str, int]:
        """Each entry's number, for laying out what the calibration learnt from labelled questions
        (none when it learnt nothing)."""
        learnt = calibration.examples or calibration.wording
        return {e.id: i for i, e in enumerate(self._entries)} if learnt else {}

    @property
    def _examples(self) -> ExampleIndex:
        """The calibration's examples laid out for these entries, made when a pasted post first
        needs them (~40 ms; a chat line never does, so `kubebot ask` with one does not wait for
        them) or by `warm`. Two threads may both make it; the index is the same either way."""
        made = self._examples_made
        if made is None:
            made = self._examples_made = ExampleIndex(self.calibration.examples, self._rows(self.calibration))
        return made

    def with_examples(self, examples: Sequence[Example], wording: WordingModel | None = None) -> Matcher:
        """This matcher (sharing its index) with ``examples`` and ``wording`` in place of its
        calibration's: for fitting on labelled questions that are also the examples (`bot.fitting`)."""
        other = copy.copy(self)
        other.calibration = replace(self.calibration, examples=tuple(examples), wording=wording)
        other._wording = WordingScorer(wording, self._rows(other.calibration))
        other._examples_made = None
        return other

    @staticmethod
    def build_index(entries: Sequence[Entry], normalizer: Normalizer, settings: MatchSettings) -> Index:
        """Everything about ``entries`` that does not depend on the question (`bot.index`), the
        semantic centroids read in the same pass over the texts."""
        s = settings.index_settings()
        sizes = np.fromiter((1 + len(e.questions) for e in entries), np.int64, len(entries))
        centroids = semantic.Centroids(semantic.shared(), sizes)
        texts = [t for e in entries for t in (e.title, *e.questions)]
        index = build_index(texts, sizes, normalizer, s, centroids.add)  # empties texts
        return dataclasses.replace(index, centroids=centroids.result())

    @property
    def _titles(self) -> list[str]:
        """Normalised titles for autocomplete, made on first use."""
        if self._titles_made is None:
            self._titles_made = [normalize_basic(e.title) for e in self._entries]
        return self._titles_made

    @property
    def thresholds(self) -> Thresholds:
        """The decision's thresholds: the calibration's, or the settings' overrides."""
        return self._thresholds

    @property
    def entries(self) -> list[Entry]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    def warm(self, keys: bool = True, answers: bool = True, stop: Callable[[], bool] | None = None) -> int:
        """Do now what the first questions would otherwise do on their way: spell the alternates'
        keys for the character comparison (``keys``, ~0.05 s at 10k entries), lay out the examples
        (~0.04 s) and the typo index (~0.01 s), read each entry's platform words (~0.2 s at 10k)
        and answer text (``answers``, ~2.5 s at 10k; both given up when ``stop()`` is true): for a
        server after a load. Answers are the same either way; returns how many entries it warmed."""
        spelt = self._alternates.spell_all() if keys else 0
        _ = self._examples  # made now, not on the first pasted post
        self._reader.warm()  # the typo index, not made for the first misspelt word
        sides = self._platforms.warm(stop)
        return max(spelt, sides, self._facts.warm(stop) if answers else 0)

    def release(self) -> Iterator[None]:
        """Free this matcher a part at a time, yielding between parts: for a server that replaced
        it, so that no answer waits for the whole deallocation (~17 ms of a 10k-entry matcher held
        the interpreter lock in one go, `bot.reload.release_gradually`). Only for a matcher nothing
        uses any more: it cannot answer afterwards."""
        yield from self._facts.release()
        yield from self._alternates.release()
        for name in list(vars(self)):
            delattr(self, name)
            yield

    # -- per question -------------------------------------------------------------------
    def _score(self, q: Query, also: Iterable[int] = ()) -> list[Scored]:
        """Every shortlisted entry (and those in ``also``) with its ranking score and the evidence
        behind it, best first."""
        s = self.settings
        gains = q.gains
        if not gains:
            return []
        q_total = q.total
        tok_ids = list(map(self._ids.__getitem__, gains))
        q_tok = np.array(tok_ids, np.int64)
        values = list(gains.values())
        q_gain = np.array(values, np.float64)
        # 1. pooled: how much of the question each entry's vocabulary covers, central terms first
        acc, shortlist = self._pooled(tok_ids, q_gain, min(values) > 0.0)
        q_key = " ".join(sorted(q.unigrams))
        exact_entry = self._exact(q, q_key) if q.known_share > 0.999 else None
        for extra in (exact_entry, *also):  # an exact alternate may lie beyond the capped postings
            if extra is not None and extra not in shortlist:
                shortlist.append(extra)
        # 2. best single alternate: weighted token F1 blended with character similarity
        best_alt, together, found = self._alternates.score(shortlist, q_tok, q_gain, q_key, q_total)
        pooled_weight, alt_weight, min_covered = s.pooled_weight, 1 - s.pooled_weight, s.min_covered
        unknown = q.known_share / s.min_known_share if q.known_share < s.min_known_share else 1.0
        max_idf = self._max_idf
        scored: list[Scored] = []
        for e, acc_e, best, most, row in zip(
            shortlist,
            acc[shortlist].tolist(),
            best_alt.tolist(),
            together.tolist(),
            found.tolist(),
            strict=True,
        ):
            pooled = acc_e / q_total
            score = pooled_weight * pooled + alt_weight * best
            mass = sum(compress(values, row))  # in question order
            covered = mass / q_total
            if covered < min_covered:  # one generic word in common with an entry is no evidence
                score *= covered / min_covered
            exact = e == exact_entry
            if exact:  # the question is one of this entry's alternates, word for word
                score = 0.99 + 0.01 * min(pooled, 1.0)
            if unknown != 1.0:  # most of the question is words the knowledge base never uses
                score *= unknown
            scored.append(Scored(min(score, 1.0), e, covered, mass / max_idf, exact, best, most, row))
        scored.sort(key=ENTRY)  # best score first, then (a stable sort) the lowest entry
        scored.sort(key=SCORE, reverse=True)
        return scored

    def _pooled(self, q_tok: list[int], q_gain: F64, positive: bool) -> tuple[F64, list[int]]:
        """Each entry's pooled weight (summed token by token in question order, over the capped
        postings) and the shortlist: the highest, ties going to the entry met first."""
        ix = self.index
        n = self.settings.shortlist
        entries, tf, lengths = gather(self._post_ptr, q_tok, ix.post_entry, ix.post_tf)
        acc: F64 = np.asarray(
            np.bincount(entries, q_gain.repeat(lengths) * ix.impact[tf], len(self._entries)), np.float64
        )
        if positive:
            touched = acc.nonzero()[0]  # (the methods skip numpy's Python-level wrappers)
        else:  # a zero weight still puts an entry in the running, as it always did
            touched = np.bincount(entries, minlength=len(self._entries)).nonzero()[0]
        if len(touched) <= n:
            return acc, touched.tolist()
        values = acc[touched]
        part = values.copy()
        part.partition(len(values) - n)
        kth = part[len(values) - n]
        above = touched[values > kth]
        tied = touched[values == kth]
        if len(above) + len(tied) > n:  # the order in which the postings walk met them decides
            mark = np.zeros(len(self._entries), bool)
            mark[tied] = True
            at = mark[entries].nonzero()[0]  # the tied entries' postings, in walk order
            order, walked, head = sorted_runs(entries[at])  # (np.unique's wrapper costs more)
            met = at[order[head][walked[head].searchsorted(tied)]]
            tied = tied[met.argsort()][: n - len(above)]
        return acc, above.tolist() + tied.tolist()

    def _exact(self, q: Query, q_key: str) -> int | None:
        """The first entry with an alternate made of exactly the question's words."""
        ix = self.index
        h = fold_one(sum(map(token_hash_one, map(self._ids.__getitem__, q.unigrams))) & MASK) << 32
        # the keys h | alt for every alternate: after every key below h, up to the last one of h's
        bounds = np.array([max(h - 1, 0), h | 0xFFFFFFFF], np.uint64)
        lo, hi = ix.exact.searchsorted(bounds, "right").tolist()
        if h == 0:
            lo = 0
        if lo == hi:  # no alternate is made of these words (most questions)
            return None
        for alt in (ix.exact[lo:hi] & np.uint64(0xFFFFFFFF)).tolist():
            if ix.key(alt) == q_key:
                return ix.entry_of(alt)
        return None

    def digest(self, text: str) -> str:
        """What the matcher reads of ``text`` (passed through `clean_input`): a post's digest."""
        return self._reader.read(text).digest.text

    def evidence(self, text: str, limit: int | None = None, apart: str = "") -> list[Evidence]:
        """The ranked candidates for ``text`` (passed through `clean_input`), each with the
        evidence the decision reads, best first; ``apart``: a thread whose examples it must not
        compare with (the question's own, when fitting)."""
        q = self._reader.read(text)
        # a post is also judged by its title alone: the title says what the post is about, and
        # the entries its title matches best are candidates even when the body drowns them
        if q.digest.title and q.digest.lines > 1:
            title_scored = self._score(self._reader.read(q.digest.title))
            scored = self._score(q, also=[c.entry for c in title_scored[: self.settings.title_candidates]])
            by_title: dict[int, Scored] | None = {c.entry: c for c in title_scored}
        else:
            scored = self._score(q)
            by_title = None  # a one-line question is its own title
        idf, top = self._idf, self._max_idf
        shown = scored[: limit or self.settings.candidates]
        # the semantic view of the same candidates (the gap is to the best of the usual pool)
        pool = [c.entry for c in scored[: max(len(shown), self.settings.candidates)]]
        vector = self._embedder.vector(q.digest.text)
        sims = (self._centroids.take(pool, axis=0) @ vector).tolist() if pool else []
        best = max(sims, default=0.0)
        said = words(q.digest.text)
        if q.digest.pasted:  # a chat line gains nothing from the examples (stop 19), for ~0.04 ms
            near, share = self._examples.compare(q.digest.text, pool, apart, said)
        else:
            near = share = [0.0] * len(pool)
        nearest = max(near, default=0.0)
        *worded, off = self._wording.scores(said, [*pool, OFF])
        most = max(worded, default=0.0)
        sides = self._platforms.match(said, pool)
        out = []
        asked = q.features()
        names = list(q.gains)
        weights = [0.0 if "_" in t else idf[t] for t in names]  # phrases are never the rarest word
        facts = self._facts.columns([c.entry for c in shown], q.weights, q.total)
        titles = [c if by_title is None else by_title.get(c.entry) for c in shown]
        ranked_by = (worded, near, sims, [f[0] for f in facts], [t.score if t else 0.0 for t in titles])
        ahead = zip(*map(leads, ranked_by), strict=False)  # the pool's for the first three
        for c, title, sim, about, example, voted, score, side, lead in zip(
            shown, titles, sims, facts, near, share, worded, sides, ahead, strict=False
        ):
            entry = self._entries[c.entry]
            rarest = max(compress(weights, c.found), default=0.0) / top
            features = (
                *evidence_of(c, scored, asked, title, rarest, sim, sim - best),
                *about,
                example,
                example - nearest,
                voted,
                score,
                score - most,
                side,
                *lead,
                off,
                most - off,
            )
            out.append(Evidence(entry.id, entry.title, features, tuple(compress(names, c.found))))
        return out

    def rank(self, text: str, limit: int = 10) -> list[Candidate]:
        """Entries ranked for ``text``, best first, each with a calibrated confidence in 0..1:
        an estimate of the probability that it is the entry the asker wants."""
        return list(self.calibration.decide(self.evidence(text, limit)).candidates[:limit])

    def on_topic(self, text: str) -> float:
        """The estimated probability that ``text`` is a question this knowledge base is about."""
        ranked = self.evidence(text, 1)
        return self.calibration.p_topic(ranked[0]) if ranked else 0.0

    def match(self, text: str) -> MatchResult:
        """Rank, then decide the band (`bot.decision`)."""
        return self.decide(self.evidence(text))

    def decide(self, evidence: Sequence[Evidence]) -> MatchResult:
        """The band for ranked evidence (from `evidence`), with this matcher's thresholds."""
        return self.calibration.decide(evidence, self._thresholds)

    def complete(self, prefix: str, limit: int = 25) -> list[Candidate]:
        """Autocomplete: entries whose title or questions fit what the user has typed so far."""
        ranked = self.rank(prefix, limit=limit) if prefix.strip() else []
        seen = {c.entry_id for c in ranked}
        needle = normalize_basic(prefix)
        if len(ranked) < limit:
            extra = process.extract(
                needle,
                self._titles,
                scorer=fuzz.partial_ratio,
                limit=limit * 2,
                score_cutoff=60 if needle else 0,
            )
            for _title, score, index in extra:
                entry = self._entries[index]
                if entry.id not in seen:
                    ranked.append(Candidate(entry.id, entry.title, round(score / 100.0 * 0.6, 4)))
                    seen.add(entry.id)
                if len(ranked) >= limit:
                    break
        return ranked[:limit]
