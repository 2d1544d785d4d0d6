"""A question as the index sees it: its words weighed by their IDF, typos corrected against the
knowledge base's vocabulary, unknown words (names, hosts, paths) weighing less and less as the input
grows, a post's title words weighing more (`QueryReader.read`)."""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable
from dataclasses import dataclass

from bot.index import Index
from bot.match_settings import MatchSettings
from bot.paste import Digest, digest
from bot.text import Normalizer
from bot.typos import TypoIndex

_CORRECTIONS_KEPT = 50_000  # misspelt words remembered with their correction


@dataclass(frozen=True, slots=True)
class Query:
    """A question as the index sees it."""

    digest: Digest
    gains: dict[str, float]  # vocabulary token (or "a_b" phrase) -> its weight in this question
    unigrams: frozenset[str]  # the single-word tokens of gains
    total: float  # the whole question's weight, unknown words included
    known_share: float
    domain_share: float
    words: int
    anchors: int  # distinct domain words
    specific: int  # distinct specific domain words (kubectl, pod, docker: not node, nginx, api)
    weights: dict[str, float]  # every content token as written (known or not) -> its weight

    def features(self) -> tuple[float, float, float, float, float, float]:
        """The evidence that is the same for every candidate (`bot.evidence.FEATURES`: known_share,
        domain_share, pasted, length, anchors, specific)."""
        return (
            self.known_share,
            self.domain_share,
            float(self.digest.pasted),
            min(math.log1p(self.words) / 5.0, 1.0),
            min(self.anchors, 4) / 4,
            min(self.specific, 2) / 2,
        )


class QueryReader:
    """Reads questions against one index's vocabulary."""

    def __init__(
        self,
        index: Index,
        normalizer: Normalizer,
        settings: MatchSettings,
        max_idf: float,
        domain: Iterable[str] = (),
        specific: Iterable[str] = (),
    ) -> None:
        self.normalizer = normalizer
        self.settings = settings
        self.max_idf = max_idf
        # domain words, as tokens; a phrase counts only when synonyms make it one token ("exit code")
        tokens = normalizer.tokens
        self._domain = frozenset(t for term in domain if len(ts := tokens(term)) == 1 for t in ts)
        self._specific = frozenset(t for term in specific if len(ts := tokens(term)) == 1 for t in ts)
        self.idf: dict[str, float] = dict(zip(index.tokens, index.idf.tolist(), strict=True))
        # typos are corrected against words as written (before stemming): "scalling" -> "scaling"
        self._words = dict(zip(index.words, (index.tokens[t] for t in index.word_tok.tolist()), strict=True))
        self._known_words = index.words
        self._typos: TypoIndex | None = None  # made for the first word to correct (~6 ms at 400 entries)
        self._typos_lock = threading.Lock()
        self._corrections: dict[str, tuple[str, float] | None] = {}

    def read(self, text: str) -> Query:
        """Weigh the words of what the digest kept of ``text``: known words by their IDF (typos
        corrected), unknown ones less and less as the input grows (names, hosts, paths)."""
        s = self.settings
        d = digest(text)
        pairs, phrases = self.normalizer.analyze(d.text, phrases=bool(s.phrase_weight))
        unknown = self.max_idf * s.unknown_weight
        unknown *= min(1.0, s.unknown_reference / max(len(pairs), 1))
        idf, domain, specific = self.idf, self._domain, self._specific
        gains: dict[str, float] = {}
        weights: dict[str, float] = {}
        total = domain_mass = 0.0
        anchors = specifics = 0
        emphasis = s.title_weight
        title = (
            frozenset(t for _w, t in self.normalizer.pairs(d.title))
            if emphasis != 1.0 and d.title and d.lines > 1
            else frozenset()
        )
        for word, token in pairs:
            weight = idf.get(token)
            vocab: str | None = token
            similarity = 1.0
            if weight is None:
                fixed = self._correct(word)
                if fixed is not None and fixed[0] in idf:
                    vocab, similarity = fixed[0], fixed[1] ** 2
                    weight = idf[vocab]
                else:
                    vocab = None
                    digits = not token.isalpha() and any(ch.isdigit() for ch in token)  # (letters: none)
                    weight = unknown * (0.3 if digits else 1.0)
            if token in title:
                weight *= emphasis
            total += weight
            weights[token] = weights.get(token, 0.0) + weight
            if vocab is not None:
                gains[vocab] = gains.get(vocab, 0.0) + weight * similarity
            if token in domain or vocab in domain:
                domain_mass += weight
                anchors += 1
            if token in specific or vocab in specific:
                specifics += 1
        unigrams = frozenset(gains)
        known = sum(gains.values())
        if s.phrase_weight:
            for phrase in phrases:  # phrases the KB never uses are no evidence either way
                weight = idf.get(phrase)
                if weight is not None:
                    weight *= s.phrase_weight
                    gains[phrase] = weight
                    total += weight
                    known += weight
        total = max(total, 1e-9)
        return Query(
            d,
            gains,
            unigrams,
            total,
            known / total,
            domain_mass / total,
            len(pairs),
            anchors,
            specifics,
            weights,
        )

    def warm(self) -> None:
        """Make the typo index now (a server's warm-up), not for the first misspelt word."""
        self._typo_index()

    def _typo_index(self) -> TypoIndex:
        """The known words' typo index, made the first time a word needs correcting: a chat line
        of known words (most of them) never waits for it, nor does `kubebot ask` with one."""
        if self._typos is None:
            with self._typos_lock:
                if self._typos is None:
                    self._typos = TypoIndex([w for w in self._known_words if not w.isdigit()])
        return self._typos

    def _correct(self, word: str) -> tuple[str, float] | None:
        """The token of the closest known word for a misspelt one, with its similarity in 0..1."""
        if len(word) < 6 or not word.isalpha():  # short words are too easy to "correct" into others
            return None
        if word in self._corrections:
            return self._corrections[word]
        found = self._typo_index().closest(word, self.settings.typo_cutoff)
        best = (self._words[found[0]], found[1]) if found is not None else None
        if len(self._corrections) < _CORRECTIONS_KEPT:
            self._corrections[word] = best
        return best
