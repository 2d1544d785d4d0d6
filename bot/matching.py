"""The matching engine: which entry answers a question, which might, or none.

Everything that does not depend on the question is built once in ``Matcher.__init__``:
normalised alternates, token weights (IDF over entries), impact-ordered posting lists, a
length-bucketed vocabulary for typo correction and the sorted-token keys used by rapidfuzz.

Per question: normalise → correct unknown tokens against the vocabulary → accumulate weights
from (capped) posting lists → weighted Dice shortlist → rerank the shortlist with a blend of
weighted token F1 and rapidfuzz ``ratio`` on sorted tokens → best alternate per entry → band.
Only questions and titles are indexed, never answer text.
"""

from __future__ import annotations

import heapq
import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, replace

import numpy as np
from rapidfuzz import fuzz, process

from bot import semantic
from bot.decision import BUNDLED, Calibration, Evidence, Thresholds
from bot.models import Candidate, Entry, MatchResult
from bot.paste import Digest, digest
from bot.text import Normalizer, normalize_basic


@dataclass(frozen=True, slots=True)
class MatchSettings:
    """Knobs of the ranking. The decision's coefficients and thresholds are fitted data
    (`bot/decision.py`); the two thresholds here only override them (tests pin them)."""

    answer_threshold: float | None = None  # override: answer outright at or above this
    topic_threshold: float | None = None  # override: did-you-mean rather than decline at or above this
    shortlist: int = 12
    postings_cap: int = 256  # entries kept per word, highest impact first: bounds the work per question
    typo_cutoff: float = 85.0  # 80 turns broker into broken and internal into literal
    unknown_weight: float = 0.55  # weight of a word the KB never uses, relative to the rarest word
    unknown_reference: int = 10  # in longer inputs unknown words (names, hosts) weigh less and less
    min_known_share: float = 0.34  # share of the question's weight the KB vocabulary must recognise
    pooled_weight: float = 0.5  # blend: whole-entry term coverage vs the best single alternate
    char_weight: float = 0.25  # within the best-alternate score: characters vs weighted tokens
    tf_saturation: float = 1.2
    title_boost: int = 2  # the title counts like this many alternates in the pooled vocabulary
    small_number_weight: float = 0.3
    min_covered: float = 0.6  # share of the question's weight the winning entry must use
    title_weight: float = 2.0  # a post's title words weigh this much more than its body's
    title_candidates: int = 3  # a post's title's best entries always reach the shortlist
    phrase_weight: float = 0.0  # weight of a known two-word phrase ("open_file"), relative to its IDF
    candidates: int = 6  # candidates the decision sees


@dataclass(frozen=True, slots=True)
class _Scored:
    score: float  # the ranking score
    entry: int
    covered: float  # share of the question's weight found in the entry's vocabulary
    mass: float  # that weight, in units of the rarest word's weight: how much evidence there is
    exact: bool
    best_alt: float  # the best single alternate's score
    together: int  # most question words found together in one alternate


@dataclass(frozen=True, slots=True)
class _Query:
    """A question as the index sees it."""

    digest: Digest
    gains: dict[str, float]  # vocabulary token (or "a_b" phrase) -> its weight in this question
    unigrams: frozenset[str]  # the single-word tokens of gains
    total: float  # the whole question's weight, unknown words included
    known_share: float
    domain_share: float
    words: int
    anchors: int  # distinct domain words


def _features(
    c: _Scored,
    ranked: list[_Scored],
    q: _Query,
    title: _Scored | None,
    rarest: float,
    semantic: float,
    semantic_gap: float,
) -> tuple[float, ...]:
    """The evidence vector of `bot.decision.FEATURES` for candidate ``c``; ``title`` is the same
    entry scored against a post's title alone."""
    top = ranked[0].score
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    margin = top - runner_up if c is ranked[0] else c.score - top
    return (
        c.score,
        c.covered,
        c.best_alt,
        margin,
        float(c.exact),
        q.known_share,
        min(c.together, 4) / 4,
        q.domain_share,
        min(math.log1p(c.mass) / 3.0, 1.0),
        float(q.digest.pasted),
        min(math.log1p(q.words) / 5.0, 1.0),
        title.score if title else 0.0,
        title.best_alt if title else 0.0,
        title.covered if title else 0.0,
        rarest,
        min(q.anchors, 4) / 4,
        semantic,
        semantic_gap,
    )


class Matcher:
    """Scores questions against the alternates of a fixed set of entries."""

    def __init__(
        self,
        entries: Iterable[Entry],
        synonyms: Mapping[str, str] | None = None,
        settings: MatchSettings | None = None,
        domain: Iterable[str] = (),
        calibration: Calibration | None = None,
    ) -> None:
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
        # domain words, as tokens; a phrase counts only when synonyms make it one token ("exit code")
        self._domain = frozenset(
            t for term in domain if len(ts := self.normalizer.tokens(term)) == 1 for t in ts
        )
        self._entries: list[Entry] = list(entries)
        alts: list[list[tuple[frozenset[str], str]]] = []
        entry_tf: list[dict[str, int]] = []
        words: dict[str, str] = {}  # words as written in the KB -> their token, for typo correction
        self._exact: dict[frozenset[str], int] = {}  # word-for-word alternates -> entry
        for index, entry in enumerate(self._entries):
            mine: list[tuple[frozenset[str], str]] = []
            tf: dict[str, int] = {}
            for position, text in enumerate((entry.title, *entry.questions)):
                word_tokens, phrases = self.normalizer.analyze(text)
                if not word_tokens:
                    continue
                unigrams = tuple(token for _word, token in word_tokens)
                tokens = unigrams + (phrases if s.phrase_weight else ())
                for word, token in word_tokens:
                    words.setdefault(word, token)
                mine.append((frozenset(tokens), " ".join(sorted(unigrams))))
                self._exact.setdefault(frozenset(unigrams), index)
                boost = self.settings.title_boost if position == 0 else 1
                for token in tokens:
                    tf[token] = tf.get(token, 0) + boost
            alts.append(mine)
            entry_tf.append(tf)
        df: dict[str, int] = {}
        for tf in entry_tf:
            for token in tf:
                df[token] = df.get(token, 0) + 1
        n = max(len(self._entries), 1)
        # small numbers ("5 pods", "15 minutes") are incidental; codes like 137 or 502 are not
        self._idf = {
            t: math.log(1.0 + n / d) * (s.small_number_weight if t.isdigit() and len(t) < 3 else 1.0)
            for t, d in df.items()
        }
        self._max_idf = math.log(1.0 + n)
        # per alternate: its words, its sorted-words key, and its total weight
        self._alts: list[list[tuple[frozenset[str], str, float]]] = [
            [(tokens, key, sum(self._idf[t] for t in tokens)) for tokens, key in mine] for mine in alts
        ]
        k = self.settings.tf_saturation
        # each entry's share of a token: saturating in how many of its alternates use it
        self._impact: list[dict[str, float]] = [
            {t: c * (k + 1) / (c + k) / (k + 1) for t, c in tf.items()} for tf in entry_tf
        ]
        postings: dict[str, list[int]] = {}
        for index, tf in enumerate(entry_tf):
            for token in tf:
                postings.setdefault(token, []).append(index)
        cap = self.settings.postings_cap
        self._postings: dict[str, tuple[tuple[int, float], ...]] = {}
        for token, es in postings.items():
            pairs = [(e, self._impact[e][token]) for e in es]
            if len(pairs) > cap:
                pairs = heapq.nlargest(cap, pairs, key=lambda pair: pair[1])
            self._postings[token] = tuple(pairs)
        # typos are corrected against words as written (before stemming): "scalling" -> "scaling"
        self._words = words
        self._words_by_len: dict[int, list[str]] = {}
        for word in words:
            if not word.isdigit():
                self._words_by_len.setdefault(len(word), []).append(word)
        self._titles = [normalize_basic(e.title) for e in self._entries]
        # each entry as one vector of the static semantic model: the mean of its questions'
        self._embedder = semantic.shared()
        self._centroids = self._embedder.centroids([(e.title, *e.questions) for e in self._entries])

    @property
    def thresholds(self) -> Thresholds:
        """The decision's thresholds: the calibration's, or the settings' overrides."""
        return self._thresholds

    @property
    def entries(self) -> list[Entry]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    # -- per question -------------------------------------------------------------------
    def _query(self, text: str) -> _Query:
        """Weigh the words of what the digest kept of ``text``: known words by their IDF (typos
        corrected), unknown ones less and less as the input grows (names, hosts, paths)."""
        d = digest(text)
        pairs, phrases = self.normalizer.analyze(d.text)
        unknown = self._max_idf * self.settings.unknown_weight
        unknown *= min(1.0, self.settings.unknown_reference / max(len(pairs), 1))
        gains: dict[str, float] = {}
        total = 0.0
        domain_mass = 0.0
        anchors = 0
        domain = self._domain
        emphasis = self.settings.title_weight
        title = (
            frozenset(t for _w, t in self.normalizer.pairs(d.title))
            if emphasis != 1.0 and d.title and d.lines > 1
            else frozenset()
        )
        for word, token in pairs:
            weight = self._idf.get(token)
            vocab: str | None = token
            similarity = 1.0
            if weight is None:
                fixed = self._correct(word)
                if fixed is not None and fixed[0] in self._idf:
                    vocab, similarity = fixed[0], fixed[1] ** 2
                    weight = self._idf[vocab]
                else:
                    vocab = None
                    weight = unknown * (0.3 if any(ch.isdigit() for ch in token) else 1.0)
            if token in title:
                weight *= emphasis
            total += weight
            if vocab is not None:
                gains[vocab] = gains.get(vocab, 0.0) + weight * similarity
            if token in domain or vocab in domain:
                domain_mass += weight
                anchors += 1
        unigrams = frozenset(gains)
        known = sum(gains.values())
        if self.settings.phrase_weight:
            for phrase in phrases:  # phrases the KB never uses are no evidence either way
                weight = self._idf.get(phrase)
                if weight is not None:
                    weight *= self.settings.phrase_weight
                    gains[phrase] = weight
                    total += weight
                    known += weight
        total = max(total, 1e-9)
        return _Query(d, gains, unigrams, total, known / total, domain_mass / total, len(pairs), anchors)

    def _correct(self, word: str) -> tuple[str, float] | None:
        """The token of the closest known word for a misspelt one, with its similarity in 0..1."""
        if len(word) < 6 or not word.isalpha():  # short words are too easy to "correct" into others
            return None
        best: tuple[str, float] | None = None
        for length in range(len(word) - 1, len(word) + 2):  # one letter more or less at most
            bucket = self._words_by_len.get(length)
            if not bucket:
                continue
            found = process.extractOne(
                word, bucket, scorer=fuzz.ratio, score_cutoff=self.settings.typo_cutoff
            )
            if found is not None and (best is None or found[1] / 100.0 > best[1]):
                best = (self._words[found[0]], found[1] / 100.0)
        return best

    def _score(self, q: _Query, also: Iterable[int] = ()) -> list[_Scored]:
        """Every shortlisted entry (and those in ``also``) with its ranking score and the evidence
        behind it, best first."""
        s = self.settings
        gains = q.gains
        if not gains:
            return []
        q_total = q.total
        # 1. pooled: how much of the question each entry's vocabulary covers, central terms first
        acc: dict[int, float] = {}
        get = acc.get
        for token, gain in gains.items():
            for e, impact in self._postings.get(token, ()):
                acc[e] = get(e, 0.0) + gain * impact
        shortlist = heapq.nlargest(s.shortlist, acc, key=acc.__getitem__)
        q_set = frozenset(gains)
        exact_entry = self._exact.get(q.unigrams) if q.known_share > 0.999 else None
        for extra in (exact_entry, *also):
            if extra is not None and extra not in shortlist:
                shortlist.append(extra)
        # 2. best single alternate: weighted token F1 blended with character similarity
        q_key = " ".join(sorted(q.unigrams))
        idf = self._idf
        scored: list[_Scored] = []
        for e in shortlist:
            best_alt = 0.0
            together = 0  # most question words found together in one alternate
            for tokens, key, weight in self._alts[e]:
                common = q_set & tokens
                if not common:
                    continue
                together = max(together, len(common))
                matched = sum(gains[t] for t in common)
                precision = sum(idf[t] for t in common) / weight
                recall = matched / q_total
                f1 = 2 * precision * recall / (precision + recall)
                char = fuzz.ratio(q_key, key) / 100.0
                best_alt = max(best_alt, (1 - s.char_weight) * f1 + s.char_weight * char)
            pooled = acc.get(e, 0.0) / q_total  # an exact alternate may lie beyond the capped postings
            score = s.pooled_weight * pooled + (1 - s.pooled_weight) * best_alt
            vocab = self._impact[e]
            mass = sum(gain for token, gain in gains.items() if token in vocab)
            covered = mass / q_total
            if covered < s.min_covered:  # one generic word in common with an entry is no evidence
                score *= covered / s.min_covered
            exact = e == exact_entry
            if exact:  # the question is one of this entry's alternates, word for word
                score = 0.99 + 0.01 * min(pooled, 1.0)
            if q.known_share < s.min_known_share:
                score *= q.known_share / s.min_known_share
            scored.append(
                _Scored(min(score, 1.0), e, covered, mass / self._max_idf, exact, best_alt, together)
            )
        scored.sort(key=lambda c: (-c.score, c.entry))
        return scored

    def evidence(self, text: str, limit: int | None = None) -> list[Evidence]:
        """The ranked candidates for ``text`` (passed through `clean_input`), each with the
        evidence the decision reads, best first."""
        q = self._query(text)
        # a post is also judged by its title alone: the title says what the post is about, and
        # the entries its title matches best are candidates even when the body drowns them
        if q.digest.title and q.digest.lines > 1:
            title_scored = self._score(self._query(q.digest.title))
            scored = self._score(q, also=[c.entry for c in title_scored[: self.settings.title_candidates]])
            by_title = {c.entry: c for c in title_scored}
        else:
            scored = self._score(q)
            by_title = {c.entry: c for c in scored}
        idf, top = self._idf, self._max_idf
        shown = scored[: limit or self.settings.candidates]
        # the semantic view of the same candidates (the gap is to the best of the usual pool)
        pool = [c.entry for c in scored[: max(len(shown), self.settings.candidates)]]
        sims = self._centroids[pool] @ self._embedder.vector(q.digest.text) if pool else np.zeros(0)
        best = float(sims.max()) if len(sims) else 0.0
        out = []
        for c, sim in zip(shown, sims.tolist(), strict=False):
            entry = self._entries[c.entry]
            vocab = self._impact[c.entry]
            matched = tuple(t for t in q.gains if t in vocab)
            rarest = max((idf[t] for t in matched if "_" not in t), default=0.0) / top
            features = _features(c, scored, q, by_title.get(c.entry), rarest, sim, sim - best)
            out.append(Evidence(entry.id, entry.title, features, matched))
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
