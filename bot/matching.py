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
    answer_threshold: float = 0.62
    suggest_threshold: float = 0.40
    ambiguity_gap: float = 0.03  # top two closer than this (and not near-exact): ask back
    suggestion_gap: float = 0.12  # did-you-mean keeps candidates within this of the top
    max_suggestions: int = 5
    min_recall: float = 0.4  # share of the question's weight that must be recognised to answer
    shortlist: int = 32
    postings_cap: int = 600
    typo_cutoff: float = 80.0
    token_weight: float = 0.75  # blend of token F1 and character similarity


@dataclass(frozen=True, slots=True)
class _QueryToken:
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
    ) -> None:
        self.settings = settings or MatchSettings()
        self.normalizer = Normalizer(synonyms)
        self._entries: list[Entry] = list(entries)
        alt_entry: list[int] = []
        alt_tokens: list[frozenset[str]] = []
        alt_keys: list[str] = []
        entry_tokens: list[set[str]] = []
        for index, entry in enumerate(self._entries):
            seen: set[str] = set()
            for text in (entry.title, *entry.questions):
                tokens = self.normalizer.tokens(text)
                if not tokens:
                    continue
                alt_entry.append(index)
                alt_tokens.append(frozenset(tokens))
                alt_keys.append(" ".join(sorted(tokens)))
                seen.update(tokens)
            entry_tokens.append(seen)
        df: dict[str, int] = {}
        for tokens in entry_tokens:
            for token in tokens:
                df[token] = df.get(token, 0) + 1
        n = max(len(self._entries), 1)
        self._idf = {t: math.log(1.0 + n / d) for t, d in df.items()}
        self._unknown_weight = math.log(1.0 + n)
        self._alt_entry = alt_entry
        self._alt_tokens = alt_tokens
        self._alt_keys = alt_keys
        self._alt_weight = [sum(self._idf[t] for t in toks) for toks in alt_tokens]
        postings: dict[str, list[int]] = {}
        for alt, tokens in enumerate(alt_tokens):
            for token in tokens:
                postings.setdefault(token, []).append(alt)
        cap = self.settings.postings_cap
        # impact order: a token weighs most in the lightest alternates, so keep those first
        self._postings = {
            t: tuple(sorted(alts, key=self._alt_weight.__getitem__)[:cap]) for t, alts in postings.items()
        }
        self._vocab_by_len: dict[int, list[str]] = {}
        for token in self._idf:
            self._vocab_by_len.setdefault(len(token), []).append(token)
        self._titles = [normalize_basic(e.title) for e in self._entries]

    @property
    def entries(self) -> list[Entry]:
        return self._entries

    def __len__(self) -> int:
        return len(self._entries)

    # -- per question -------------------------------------------------------------------
    def _query(self, text: str) -> list[_QueryToken]:
        out: list[_QueryToken] = []
        for token in self.normalizer.tokens(text):
            weight = self._idf.get(token)
            if weight is not None:
                out.append(_QueryToken(token, weight, 1.0))
                continue
            fixed = self._correct(token)
            if fixed is not None:
                out.append(_QueryToken(fixed[0], self._idf[fixed[0]], fixed[1]))
            else:
                unknown = self._unknown_weight * (0.3 if any(ch.isdigit() for ch in token) else 1.0)
                out.append(_QueryToken(None, unknown, 0.0))
        return out

    def _correct(self, token: str) -> tuple[str, float] | None:
        """The closest vocabulary token for a misspelt one, with its similarity in 0..1."""
        if len(token) < 4 or token.isdigit():
            return None
        best: tuple[str, float] | None = None
        for length in range(len(token) - 2, len(token) + 3):
            bucket = self._vocab_by_len.get(length)
            if not bucket:
                continue
            found = process.extractOne(token, bucket, scorer=fuzz.ratio, score_cutoff=self.settings.typo_cutoff)
            if found is not None and (best is None or found[1] / 100.0 > best[1]):
                best = (found[0], found[1] / 100.0)
        return best

    def rank(self, text: str, limit: int = 10) -> list[Candidate]:
        """Entries ranked for ``text`` with their confidence, best first (no banding)."""
        query = self._query(clean_input(text))
        known = [q for q in query if q.vocab is not None]
        if not known:
            return []
        q_total = sum(q.weight for q in query)
        acc: dict[int, float] = {}
        for q in known:
            gain = q.weight * q.similarity
            for alt in self._postings.get(q.vocab or "", ()):
                acc[alt] = acc.get(alt, 0.0) + gain
        weights = self._alt_weight
        shortlist = heapq.nlargest(
            self.settings.shortlist, acc, key=lambda a: acc[a] / (q_total + weights[a])
        )
        q_key = " ".join(sorted(q.vocab or "" for q in known))
        by_entry: dict[int, float] = {}
        tw = self.settings.token_weight
        for alt in shortlist:
            tokens = self._alt_tokens[alt]
            matched = sum(q.weight * q.similarity for q in known if q.vocab in tokens)
            recall = matched / q_total
            precision = matched / weights[alt] if weights[alt] else 0.0
            if recall < self.settings.min_recall * 0.5:
                continue
            f1 = 2 * recall * precision / (recall + precision) if matched else 0.0
            char = fuzz.ratio(q_key, self._alt_keys[alt]) / 100.0
            score = min(1.0, tw * f1 + (1 - tw) * char) * (1.0 if recall >= self.settings.min_recall else 0.8)
            entry = self._alt_entry[alt]
            if score > by_entry.get(entry, -1.0):
                by_entry[entry] = score
        ranked = sorted(by_entry.items(), key=lambda kv: (-kv[1], kv[0]))[:limit]
        return [
            Candidate(self._entries[i].id, self._entries[i].title, round(score, 4)) for i, score in ranked
        ]

    def match(self, text: str) -> MatchResult:
        """Rank, then decide: answer, suggest (did you mean) or decline."""
        s = self.settings
        ranked = self.rank(text, limit=max(s.max_suggestions, 3))
        if not ranked:
            return MatchResult(Band.DECLINED)
        top = ranked[0].confidence
        second = ranked[1].confidence if len(ranked) > 1 else 0.0
        if top >= s.answer_threshold and (top - second >= s.ambiguity_gap or top >= 0.9):
            return MatchResult(Band.ANSWERED, tuple(ranked))
        if top >= s.suggest_threshold:
            close = [c for c in ranked if c.confidence >= max(s.suggest_threshold, top - s.suggestion_gap)]
            return MatchResult(Band.SUGGESTED, tuple(close[: s.max_suggestions]))
        return MatchResult(Band.DECLINED, tuple(ranked[:3]))

    def complete(self, prefix: str, limit: int = 25) -> list[Candidate]:
        """Autocomplete: entries whose title or questions fit what the user has typed so far."""
        ranked = self.rank(prefix, limit=limit) if prefix.strip() else []
        seen = {c.entry_id for c in ranked}
        needle = normalize_basic(prefix)
        if len(ranked) < limit:
            extra = process.extract(
                needle, self._titles, scorer=fuzz.partial_ratio, limit=limit * 2, score_cutoff=60 if needle else 0
            )
            for _title, score, index in extra:
                entry = self._entries[index]
                if entry.id not in seen:
                    ranked.append(Candidate(entry.id, entry.title, round(score / 100.0 * 0.6, 4)))
                    seen.add(entry.id)
                if len(ranked) >= limit:
                    break
        return ranked[:limit]
