"""Text normalisation shared by the loader and the matcher.

The same pipeline runs over knowledge-base questions (once, at load) and over user questions
(once per question), so the two always agree: Unicode folding, lower-case, punctuation to
spaces, synonyms and abbreviations, stop words, and a tiny suffix stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

MAX_QUESTION_CHARS = 500  # longer input is cut: nobody asks a 1 MB question in chat

_NON_WORD = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"(?<=[a-z])['’](?=[a-z])")
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")

STOP_WORDS = frozenset(
    """
    a about above after again all am an and any are aren as at be because been before being below
    between both but by can cannot could did didn do does doesn doing don down during each few for from
    further had has have having he her here hers herself him himself his how i if in into is isn it its
    itself just let lets me more most my myself no nor not now of off on once only or other our ours
    out over own same she should so some such than that thats the their theirs them then there these they
    this those through to too under until up very was we were what whats when where which while who whom
    why will with would you your yours yourself hi hey hello please thanks thank anyone someone somebody
    guys folks pls plz u ur im ive id youre whats hows wheres whys really actually basically exactly
    want wanna need know tell explain mean means meaning way thing things stuff something kind sort
    question quick help tldr eli5 like vs versus difference differences between compared compare
    """.split()
)


def clean_input(text: str) -> str:
    """Make arbitrary user input safe to process: drop control characters, cap the length."""
    text = _CONTROL.sub(" ", text[: MAX_QUESTION_CHARS * 4])
    text = unicodedata.normalize("NFKC", text)
    return " ".join(text.split())[:MAX_QUESTION_CHARS]


def normalize_basic(text: str) -> str:
    """Lower-case ASCII-ish words separated by single spaces: the key for duplicate checks."""
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", text)
    return " ".join(_NON_WORD.sub(" ", text).split())


def stem(token: str) -> str:
    """A deliberately small suffix stripper; it only has to be consistent, not linguistic."""
    if len(token) <= 3 or token.isdigit():
        return token
    for suffix, repl, min_len in (("sses", "ss", 5), ("ies", "y", 5), ("ing", "", 6), ("ed", "", 5)):
        if token.endswith(suffix) and len(token) >= min_len:
            token = token[: len(token) - len(suffix)] + repl
            if repl == "" and len(token) > 3 and token[-1] == token[-2] and token[-1] not in "lsz":
                token = token[:-1]
            return token
    if token.endswith("s") and not token.endswith(("ss", "us", "is")) and len(token) > 3:
        return token[:-1]
    return token


class Normalizer:
    """Turns text into content tokens; synonyms are compiled once."""

    def __init__(self, synonyms: Mapping[str, str] | None = None) -> None:
        synonyms = dict(synonyms or {})
        self._phrases = {k: v for k, v in synonyms.items() if " " in k}
        self._words = {k: v for k, v in synonyms.items() if " " not in k}
        self._phrase_re = (
            re.compile(r"\b(" + "|".join(re.escape(k) for k in sorted(self._phrases, key=len, reverse=True)) + r")\b")
            if self._phrases
            else None
        )
        self._stems: dict[str, str] = {}

    def tokens(self, text: str) -> tuple[str, ...]:
        """Content tokens of ``text``: normalised, synonyms expanded, stop words dropped, stemmed."""
        base = normalize_basic(text)
        if self._phrase_re is not None:
            base = self._phrase_re.sub(lambda m: self._phrases[m.group(1)], base)
        out: list[str] = []
        for word in base.split():
            for part in self._words.get(word, word).split():
                if part in STOP_WORDS:
                    continue
                token = self._stems.get(part)
                if token is None:
                    token = stem(part)
                    if len(self._stems) < 200_000:
                        self._stems[part] = token
                if token not in out:
                    out.append(token)
        return tuple(out)
