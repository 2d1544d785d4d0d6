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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from rapidfuzz import fuzz, process

from bot.models import Band, Candidate, Entry, MatchResult
from bot.text import Normalizer, clean_input, normalize_basic


@dataclass(frozen=True, slots=True)
class MatchSettings:
    answer_threshold: float = 0.6  # answer outright when at least this likely to be right
    topic_threshold: float = 0.691  # declines 97% of the benchmarks/calib off-topic questions
    ambiguity_gap: float = 0.15  # two likely entries closer than this: ask back instead of guessing
    suggestion_gap: float = 0.1  # did-you-mean keeps candidates whose score is within this of the top
    max_suggestions: int = 5
    min_known_share: float = 0.34  # share of the question's weight the KB vocabulary must recognise
    shortlist: int = 12
    postings_cap: int = 256  # entries kept per word, highest impact first: bounds the work per question
    typo_cutoff: float = 85.0  # 80 turns broker into broken and internal into literal
    unknown_weight: float = 0.55  # weight of a word the KB never uses, relative to the rarest word
    pooled_weight: float = 0.5  # blend: whole-entry term coverage vs the best single alternate
    char_weight: float = 0.25  # within the best-alternate score: characters vs weighted tokens
    tf_saturation: float = 1.2
    title_boost: int = 2  # the title counts like this many alternates in the pooled vocabulary
    small_number_weight: float = 0.3
    exact_confidence: float = 0.97  # confidence floor when the question is an alternate word for word
    min_covered: float = 0.6  # share of the question's weight the winning entry must use
    # logistic calibration of the confidence: intercept, then the weights of the features that
    # `_features` returns (score, coverage, log evidence, margin, exact alternate, known share,
    # best alternate, words together, domain share); fitted by `benchmarks/calibrate.py` on the
    # calibration questions in benchmarks/calib/ (never on the held-out tests/eval/)
    calibration: tuple[float, ...] = (-8.213, 1.238, -0.285, 1.167, 7.173, -0.807, 1.540, 3.775, 1.215, 0.741)
    # the on-topic model: intercept and the same features without the margin (`_topic_features`)
    topic_calibration: tuple[float, ...] = (-12.280, 3.091, 2.010, 1.809, 0.080, 3.905, 3.724, 3.446, 3.119)


@dataclass(frozen=True, slots=True)
class _Scored:
    score: float  # the ranking score
    entry: int
    covered: float  # share of the question's weight found in the entry's vocabulary
    mass: float  # that weight, absolute: how much evidence there is
    exact: bool
    known_share: float  # share of the question's weight the whole KB vocabulary knows
    best_alt: float  # the best single alternate's score
    together: int  # most question words found together in one alternate
    domain_share: float  # share of the question's weight made of domain words (domain.yaml)


def _features(c: _Scored, ranked: list[_Scored]) -> tuple[float, ...]:
    top = ranked[0].score
    runner_up = ranked[1].score if len(ranked) > 1 else 0.0
    margin = top - runner_up if c is ranked[0] else c.score - top
    return (
        c.score,
        c.covered,
        math.log1p(c.mass),
        margin,
        float(c.exact),
        c.known_share,
        c.best_alt,
        min(c.together, 4) / 4,
        c.domain_share,
    )


def _topic_features(features: tuple[float, ...]) -> tuple[float, ...]:
    """The on-topic model sees the top candidate's evidence but not its margin: a question can
    be plainly about Kubernetes and still fit two entries equally well."""
    return features[:3] + features[4:]


def _logistic(weights: tuple[float, ...], features: tuple[float, ...]) -> float:
    z = weights[0] + sum(w * x for w, x in zip(weights[1:], features, strict=True))
    return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, z))))


@dataclass(frozen=True, slots=True)
class _Ranked:
    candidate: Candidate
    scored: _Scored
    features: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class _QueryToken:
    token: str  # as normalised from the question
    vocab: str | None  # the vocabulary token it maps to, None when unknown
    weight: float
    similarity: float


class Matcher:
    """Scores questions against the alternates of a fixed set of entries."""

    def __init__(
        self,
        entries: Iterable[Entry],
        synonyms: Mapping[str, str] | None = None,
        settings: MatchSettings | None = None,
        domain: Iterable[str] = (),
    ) -> None:
        self.settings = s = settings or MatchSettings()
        self.normalizer = Normalizer(synonyms)
        # domain words, as tokens; a phrase counts only when synonyms make it one token ("exit code")
        self._domain = frozenset(
            t for term in domain if len(ts := self.normalizer.tokens(term)) == 1 for t in ts
        )
        self._entries: list[Entry] = list(entries)
        alts: list[list[tuple[frozenset[str], str]]] = []
        entry_tf: list[dict[str, int]] = []
        words: dict[str, str] = {}  # words as written in the KB -> their token, for typo correction
        for entry in self._entries:
            mine: list[tuple[frozenset[str], str]] = []
            tf: dict[str, int] = {}
            for position, text in enumerate((entry.title, *entry.questions)):
                word_tokens = self.normalizer.pairs(text)
                if not word_tokens:
                    continue
                tokens = tuple(token for _word, token in word_tokens)
                for word, token in word_tokens:
                    words.setdefault(word, token)
                mine.append((frozenset(tokens), " ".join(sorted(tokens))))
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
        # word-for-word alternates, so an exact question always reaches the shortlist
        self._exact: dict[frozenset[str], int] = {}
        for index, mine in enumerate(alts):
            for alt_tokens, _key in mine:
                self._exact.setdefault(alt_tokens, index)

    @property
    def entries(self) -> list[Entry]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    # -- per question -------------------------------------------------------------------
    def _query(self, text: str) -> list[_QueryToken]:
        out: list[_QueryToken] = []
        for word, token in self.normalizer.pairs(text):
            weight = self._idf.get(token)
            if weight is not None:
                out.append(_QueryToken(token, token, weight, 1.0))
                continue
            fixed = self._correct(word)
            if fixed is not None and fixed[0] in self._idf:
                out.append(_QueryToken(token, fixed[0], self._idf[fixed[0]], fixed[1] ** 2))
            else:
                share = 0.15 if any(ch.isdigit() for ch in token) else self.settings.unknown_weight
                out.append(_QueryToken(token, None, self._max_idf * share, 0.0))
        return out

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

    def _score(self, text: str) -> list[_Scored]:
        """Every shortlisted entry with its ranking score and the evidence behind it, best first."""
        s = self.settings
        query = self._query(clean_input(text))
        gains = {q.vocab: q.weight * q.similarity for q in query if q.vocab is not None}
        if not gains:
            return []
        q_total = sum(q.weight for q in query)
        known_share = sum(gains.values()) / q_total
        domain = self._domain
        domain_share = sum(q.weight for q in query if q.token in domain or q.vocab in domain) / q_total
        # 1. pooled: how much of the question each entry's vocabulary covers, central terms first
        acc: dict[int, float] = {}
        get = acc.get
        for token, gain in gains.items():
            for e, impact in self._postings.get(token, ()):
                acc[e] = get(e, 0.0) + gain * impact
        shortlist = heapq.nlargest(s.shortlist, acc, key=acc.__getitem__)
        q_set = frozenset(gains)
        exact_entry = self._exact.get(q_set) if known_share > 0.999 else None
        if exact_entry is not None and exact_entry not in shortlist:
            shortlist.append(exact_entry)
        # 2. best single alternate: weighted token F1 blended with character similarity
        q_key = " ".join(sorted(q_set))
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
            if known_share < s.min_known_share:
                score *= known_share / s.min_known_share
            scored.append(
                _Scored(
                    min(score, 1.0), e, covered, mass, exact, known_share, best_alt, together, domain_share
                )
            )
        scored.sort(key=lambda c: (-c.score, c.entry))
        return scored

    def features(self, text: str, limit: int = 10) -> list[tuple[str, tuple[float, ...]]]:
        """(entry id, calibration features) of the ranked candidates: for `benchmarks/calibrate.py`."""
        scored = self._score(text)
        return [(self._entries[c.entry].id, _features(c, scored)) for c in scored[:limit]]

    def rank(self, text: str, limit: int = 10) -> list[Candidate]:
        """Entries ranked for ``text``, best first, each with a calibrated confidence in 0..1:
        an estimate of the probability that it is the entry the asker wants."""
        return [r.candidate for r in self._ranked(self._score(text), limit)]

    def _ranked(self, scored: list[_Scored], limit: int) -> list[_Ranked]:
        s = self.settings
        out = []
        for c in scored[:limit]:
            features = _features(c, scored)
            confidence = _logistic(s.calibration, features)
            if c.exact:  # the author's own wording of the question: as sure as it gets
                confidence = max(confidence, s.exact_confidence)
            entry = self._entries[c.entry]
            out.append(_Ranked(Candidate(entry.id, entry.title, round(confidence, 4)), c, features))
        out.sort(key=lambda r: -r.candidate.confidence)  # stable: ties keep the ranking order
        return out

    def on_topic(self, text: str) -> float:
        """The estimated probability that ``text`` is a question this knowledge base is about."""
        scored = self._score(text)
        return (
            _logistic(self.settings.topic_calibration, _topic_features(_features(scored[0], scored)))
            if scored
            else 0.0
        )

    def match(self, text: str) -> MatchResult:
        """Rank, then decide: answer (the top entry is likely right), suggest (on topic, but
        the top entry is not certain: did you mean, by score gap) or decline (off topic)."""
        s = self.settings
        ranked = self._ranked(self._score(text), max(s.max_suggestions, 3))
        if not ranked:
            return MatchResult(Band.DECLINED)
        candidates = tuple(r.candidate for r in ranked)
        top = ranked[0]
        second = ranked[1].candidate.confidence if len(ranked) > 1 else 0.0
        confident = top.candidate.confidence >= s.answer_threshold
        if confident and (top.scored.exact or top.candidate.confidence - second >= s.ambiguity_gap):
            return MatchResult(Band.ANSWERED, candidates)
        if _logistic(s.topic_calibration, _topic_features(top.features)) >= s.topic_threshold:
            best = max(r.scored.score for r in ranked)
            close = [r.candidate for r in ranked if r.scored.score >= best - s.suggestion_gap]
            return MatchResult(Band.SUGGESTED, tuple(close[: s.max_suggestions]))
        return MatchResult(Band.DECLINED, candidates[:3])

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
