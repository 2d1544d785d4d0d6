"""Text normalisation shared by the loader and the matcher.

The same pipeline runs over knowledge-base questions (once, at load) and over user questions
(once per question), so the two always agree: Unicode folding, lower-case, punctuation to
spaces, synonyms and abbreviations, stop words, and a tiny suffix stemmer.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping

# A paste can be a whole log: the matcher reads its head and its tail (errors are often last).
MAX_INPUT_HEAD = 48_000
MAX_INPUT_TAIL = 16_000
GIST_CHARS = 160  # how much of a question a reply quotes back
MAX_QUESTION_CHARS = 4_000  # how much of a question is kept with its reply (records, JSON)

_NON_WORD = re.compile(r"[^a-z0-9]+")
_APOSTROPHES = re.compile(r"(?<=[a-z])['’](?=[a-z])")
_ASCII_APOSTROPHES = re.compile(r"'(?<=[a-z]')(?=[a-z])")  # the same in ASCII, led by its literal: found fast
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")  # keeps \t \n \r
_BLANK_RUN = re.compile(r"\n{3,}")

STOP_WORDS = frozenset(
    """
    a about above across after afterwards again against all almost alone along already also although always
    am among amongst an and another any anyhow anyone anything anyway anywhere are aren around as at be
    became because become becomes been before beforehand being below beside besides between beyond both but
    by can cannot could couldn did didn do does doesn doing don done down during each eg either else
    elsewhere enough etc even ever every everyone everything everywhere except few for former formerly from
    further had has hasn have haven having he hence her here hereafter hereby herein hers herself him
    himself his how however i ie if in indeed into is isn it its itself just keep keeps kept last latter
    least less let lets ll ltd made many may maybe me meanwhile might mine more moreover most mostly much
    must my myself namely neither never nevertheless next nobody none noone nor nothing now nowhere
    of off often on once one only onto or other others otherwise our ours ourselves out over own per
    perhaps please quite rather re really s same seem seemed seeming seems several she should shouldn
    since so some somehow someone something sometime sometimes somewhere still such t than that thats the
    their theirs them themselves then thence there thereafter thereby therefore therein thereupon these they
    thing things this those though through throughout thru thus to together too toward towards un under
    until upon us ve very via was wasn we well were weren what whatever whats when whence whenever where
    whereafter whereas whereby wherein whereupon wherever whether which while whither who whoever whole whom
    whose why will with within won would wouldn yet you your yours yourself yourselves
    hi hey hello thanks thank thx ty guys folks pls plz u ur im ive id youre hows wheres whys
    actually basically exactly literally kinda sorta gonna wanna gotta want need know tell
    mean means meaning way stuff question quick help tldr eli5 like vs versus difference
    differences compared compare comparison understand anybody somebody okay ok yeah yes oh ah
    trying tried try right good bad best better simple simply correct proper properly
    work works worked working use uses used using
    doesnt dont isnt cant wont didnt arent wasnt werent shouldnt couldnt wouldnt hasnt havent theres
    """.split()
)


def clean_input(text: str) -> str:
    """Make arbitrary user input safe to process, keeping its lines (a paste's structure tells
    output from prose): drop control characters and lone surrogates, unify line ends, trim each
    line, and keep only the head and tail of a huge paste."""
    if len(text) > MAX_INPUT_HEAD + MAX_INPUT_TAIL:
        text = text[:MAX_INPUT_HEAD] + "\n" + text[-MAX_INPUT_TAIL:]
    if text.isascii():  # no surrogates, and NFKC leaves ASCII as it is
        text = _CONTROL.sub(" ", text.replace("\r\n", "\n").replace("\r", "\n"))
    else:
        # UTF-16 round trip: a valid surrogate pair becomes its character, a lone surrogate is dropped
        text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "ignore")
        text = text.replace("\r\n", "\n").replace("\r", "\n")
        text = unicodedata.normalize("NFKC", _CONTROL.sub(" ", text))
    text = "\n".join(line.rstrip() for line in text.split("\n"))
    return _BLANK_RUN.sub("\n\n", text).strip()


def gist(text: str, limit: int = GIST_CHARS) -> str:
    """One line that stands for a question when a reply quotes it: its first line, shortened."""
    first = next((line for line in text.split("\n") if line.strip()), "")
    line = " ".join(first.split())
    if len(line) > limit:
        return line[: limit - 1].rstrip() + "…"
    return line + (" …" if "\n" in text.strip() else "")


# ASCII fast path of `normalize_basic`: every character that is not [a-z0-9] becomes a space
_ASCII_NON_WORD = str.maketrans({chr(c): " " for c in range(128) if not chr(c).isalnum() or chr(c).isupper()})


def normalize_basic(text: str) -> str:
    """Lower-case ASCII-ish words separated by single spaces: the key for duplicate checks."""
    return " ".join(_basic_words(text))


_IP_ADDRESS = re.compile(r"\b\d{1,3}(?:\.\d{1,3}){3}(?::\d+)?\b")
_DIGIT_DOT_DIGIT = re.compile(r"\d\.\d")


def basic_words(text: str) -> list[str]:
    """The normalised words of ``text`` before synonyms: lower-case letter-digit runs, accents and
    apostrophes inside words dropped, an IP address as the word "ip"."""
    if "." in text and _DIGIT_DOT_DIGIT.search(text):  # an IP address needs these (a quicker scan)
        text = _IP_ADDRESS.sub(" ip ", text)
    return _basic_words(text)


def _basic_words(text: str) -> list[str]:
    if text.isascii():  # NFKD and accent stripping change nothing in ASCII text
        text = text.lower()
        if "'" in text:
            text = _ASCII_APOSTROPHES.sub("", text)
        return text.translate(_ASCII_NON_WORD).split()
    text = unicodedata.normalize("NFKD", text.lower())
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    text = _APOSTROPHES.sub("", text)
    return _NON_WORD.sub(" ", text).split()


def stem(token: str) -> str:
    """A deliberately small suffix stripper; it only has to be consistent, not linguistic:
    "scale", "scales", "scaled" and "scaling" all become "scal"."""
    if len(token) <= 3 or not token.isalpha():
        return token
    if token.endswith("sses"):
        token = token[:-2]
    elif token.endswith(("ies", "ied")) and len(token) > 4:
        token = token[:-3] + "y"  # copies, copied -> copy
    elif token.endswith("es") and token[:-2].endswith(("ch", "sh", "x", "z", "ss")):
        token = token[:-2]
    elif token.endswith(("ing", "ed")) and len(token) >= (7 if token.endswith("ing") else 5):
        token = token[:-3] if token.endswith("ing") else token[:-2]
        if len(token) > 3 and token[-1] == token[-2] and token[-1] not in "lsz":
            token = token[:-1]  # running -> run, stopped -> stop
    elif token.endswith("ly") and len(token) >= 6:
        token = token[:-2]
    elif token.endswith("s") and not token.endswith(("ss", "us", "is")):
        token = token[:-1]
    if token.endswith("e") and len(token) > 4:
        token = token[:-1]
    return token


_PLAIN_PHRASE = re.compile(r"[a-z0-9]+(?: [a-z0-9]+)+")
_CACHE_LIMIT = 100_000  # distinct words remembered per normalizer (a bound for hostile input)

Pairs = tuple[tuple[str, str], ...]


class Normalizer:
    """Turns text into content tokens; synonyms are compiled once, and what each distinct word
    becomes (synonyms, stop words, stem) is remembered."""

    def __init__(self, synonyms: Mapping[str, str] | None = None) -> None:
        synonyms = dict(synonyms or {})
        self._phrases = {k: v for k, v in synonyms.items() if " " in k}
        self._words = {k: v for k, v in synonyms.items() if " " not in k}
        # single-word synonyms also apply to inflected forms: "deploying" -> "deploy" -> deployment
        self._stemmed_words = {stem(k): v for k, v in self._words.items()}
        ordered = sorted(self._phrases, key=len, reverse=True)  # the regex tries the longest first
        self._phrase_re = (
            re.compile(r"\b(" + "|".join(re.escape(k) for k in ordered) + r")\b") if self._phrases else None
        )
        # phrases of plain words are found word by word (much faster than the alternation above, and
        # the same: keys start and end on word boundaries); first word -> second word -> (words,
        # replacement), in the order the regex would try them
        self._phrase_starts: dict[str, dict[str, list[tuple[list[str], list[str]]]]] | None = None
        if all(_PLAIN_PHRASE.fullmatch(k) for k in ordered):
            self._phrase_starts = {}
            for key in ordered:
                words = key.split()
                by_second = self._phrase_starts.setdefault(words[0], {})
                by_second.setdefault(words[1], []).append((words, self._phrases[key].split()))
        self._stems: dict[str, tuple[str, ...]] = {}
        self._expanded: dict[str, Pairs] = {}

    def tokens(self, text: str) -> tuple[str, ...]:
        """Content tokens of ``text``: normalised, synonyms expanded, stop words dropped, stemmed."""
        return tuple(token for _word, token in self.analyze(text, phrases=False)[0])

    def pairs(self, text: str) -> Pairs:
        """(word as written after synonyms, its token) for each distinct content token."""
        return self.analyze(text, phrases=False)[0]

    def analyze(self, text: str, phrases: bool = True) -> tuple[Pairs, tuple[str, ...]]:
        """The distinct (word, token) pairs of ``text`` and its phrases: adjacent content tokens
        joined as "a_b", so "too many open files" also yields the rare "open_file" (none when
        ``phrases`` is false)."""
        words = self.words(text)
        out: dict[str, str] = {}
        found: dict[str, None] = {}
        previous = ""
        expanded = self._expanded
        # without phrases a word met again adds nothing: each distinct one, in order (posts repeat)
        for word in words if phrases else dict.fromkeys(words):
            pairs = expanded.get(word)
            if pairs is None:
                pairs = self._expand(word)
            for part, token in pairs:
                if token not in out:
                    out[token] = part
                if phrases:
                    if previous and previous != token:
                        found[f"{previous}_{token}"] = None
                    previous = token
        return tuple((word, token) for token, word in out.items()), tuple(found)

    def words(self, text: str) -> list[str]:
        """The normalised words of ``text``, synonym phrases replaced (before stop words and stems)."""
        words = basic_words(text)
        return self._replace_phrases(words) if self._phrases else words

    def expand(self, word: str) -> Pairs:
        """(part, token) for each part of a normalised word's synonym expansion that is not a stop word."""
        pairs = self._expanded.get(word)
        return self._expand(word) if pairs is None else pairs

    def phrase_tokens(self) -> frozenset[str]:
        """Tokens that stand for a synonym phrase of several words ("too many open files" ->
        toomanyopenfiles): found in a question, they are several words found together."""
        out = set()
        for key, value in self._phrases.items():
            words = key.split()
            tokens = self.tokens(value)
            # not a word dropped ("aws lambda" -> lambda), nor two stop words renamed ("how many")
            content = sum(w not in STOP_WORDS for w in words)
            if len(tokens) == 1 and value not in words and (content > 1 or len(words) > 2):
                out.add(tokens[0])
        return frozenset(out)

    @property
    def phrase_keys(self) -> dict[str, dict[str, list[tuple[list[str], list[str]]]]] | None:
        """Synonym phrases made of plain words: first word -> second word -> (words, replacement),
        in the order they are tried; None when some key is not plain words (see `words`)."""
        return self._phrase_starts if self._phrases else {}

    def _replace_phrases(self, words: list[str]) -> list[str]:
        starts = self._phrase_starts
        if starts is None:  # keys that are not plain words: the regex itself
            assert self._phrase_re is not None
            return self._phrase_re.sub(lambda m: self._phrases[m.group(1)], " ".join(words)).split()
        if starts.keys().isdisjoint(words):
            return words
        out: list[str] = []
        done = 0  # words before this are copied or replaced
        last = len(words) - 1
        for i in [i for i, word in enumerate(words) if word in starts]:
            if i < done or i == last:
                continue  # inside a phrase just replaced, or no word after it
            for key, replacement in starts[words[i]].get(words[i + 1], ()):
                if words[i : i + len(key)] == key:
                    out += words[done:i]
                    out += replacement
                    done = i + len(key)
                    break
        if not done:
            return words
        out += words[done:]
        return out

    def _expand(self, word: str) -> Pairs:
        pairs = tuple(
            (part, token)
            for part in self._words.get(word, word).split()
            if part not in STOP_WORDS
            for token in self._stem(part)
        )
        if len(self._expanded) < _CACHE_LIMIT:
            self._expanded[word] = pairs
        return pairs

    def _stem(self, word: str) -> tuple[str, ...]:
        cached = self._stems.get(word)
        if cached is None:
            token = stem(word)
            replacement = self._stemmed_words.get(token)
            if replacement is not None:
                cached = tuple(stem(w) for w in replacement.split() if w not in STOP_WORDS)
            else:
                cached = () if token in _STEMMED_STOP_WORDS else (token,)  # "needs" -> "need"
            if len(self._stems) < _CACHE_LIMIT:
                self._stems[word] = cached
        return cached


# stop words also catch their inflected forms ("needs" -> "need"), but "-ly" adverbs do not
# take their adjective with them ("really" must not drop "real", "namely" must not drop "name")
_STEMMED_STOP_WORDS = frozenset(stem(w) for w in STOP_WORDS if not w.endswith("ly"))
