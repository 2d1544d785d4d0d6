"""Group declined questions by similarity, so ten spellings of one missing topic are one row.

Each question becomes the matcher's content tokens (same normaliser, synonyms, stop words and
stemmer as the knowledge base). Identical token sets are merged first; then, most frequent
first, each group joins the closest existing cluster or starts a new one (greedy, average
linkage over the cluster's first few groups, so clusters do not chain).

Two token sets are compared by a weighted fuzzy Jaccard: tokens pair up when equal, when
rapidfuzz ``ratio`` says one is a typo of the other, or when one is a prefix of the other
(set/setup, install/installation). Generic verbs ("set up", "install", "use"...) weigh little,
so "how do i set up istio" and "how do i set up linkerd" stay apart while "installing istio"
joins "set up istio".
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz

from bot.text import normalize_basic

DEFAULT_THRESHOLD = 0.5
TYPO_RATIO = 80.0
GENERIC_WEIGHT = 0.3
_COMPARE_MEMBERS = 5
# words that say what to do, not what about: they weigh little when comparing questions
GENERIC = frozenset(
    {
        "set", "up", "setup", "install", "installation", "configure", "configur", "config", "configuration",
        "use", "using", "create", "make", "get", "run", "work", "fix", "start", "enable", "add", "write",
        "build", "do", "best", "practice", "guide", "tutorial", "example", "step", "cluster", "kubernetes",
        "k8s", "kubectl",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class QuestionGroup:
    """Questions that ask the same thing: the most frequent spelling leads."""

    representative: str
    count: int
    examples: tuple[str, ...]  # distinct spellings, most frequent first


@dataclass
class _SameTokens:
    key: str
    tokens: tuple[str, ...]
    spellings: Counter[str]

    @property
    def count(self) -> int:
        return sum(self.spellings.values())


def _weight(token: str) -> float:
    return GENERIC_WEIGHT if token in GENERIC or token.startswith(("instal", "config", "setup")) else 1.0


def _pair(a: str, b: str) -> float:
    """How much two tokens are the same word: 1 equal, else a typo or prefix score, else 0."""
    if a == b:
        return 1.0
    short, long_ = (a, b) if len(a) <= len(b) else (b, a)
    if len(short) >= 3 and long_.startswith(short):
        return 0.9
    common = next((i for i, (x, y) in enumerate(zip(a, b, strict=False)) if x != y), min(len(a), len(b)))
    if common >= 4 and common >= 0.75 * len(short):  # rotate/rotation, deploying/deployment
        return 0.85
    score = fuzz.ratio(a, b)
    return score / 100.0 if score >= TYPO_RATIO else 0.0


def similarity(a: Iterable[str], b: Iterable[str]) -> float:
    """0..1: weighted fuzzy Jaccard of two token sets."""
    left, right = list(dict.fromkeys(a)), list(dict.fromkeys(b))
    if not left or not right:
        return 1.0 if left == right else 0.0
    total = sum(_weight(t) for t in left) + sum(_weight(t) for t in right)
    matched = 0.0
    free = list(right)
    for token in sorted(left, key=lambda t: -_weight(t)):
        best, best_score = -1, 0.0
        for index, other in enumerate(free):
            score = _pair(token, other) * min(_weight(token), _weight(other))
            if score > best_score:
                best, best_score = index, score
        if best >= 0:
            matched += best_score
            free.pop(best)
    return matched / (total - matched)


def group_questions(
    questions: Iterable[str],
    tokens: Callable[[str], tuple[str, ...]],
    *,
    threshold: float = DEFAULT_THRESHOLD,
) -> list[QuestionGroup]:
    """Groups of similar ``questions``, largest first; ``tokens`` is the matcher's normaliser."""
    groups: dict[str, _SameTokens] = {}
    for text in questions:
        if not text.strip():
            continue
        toks = tokens(text) or tuple(normalize_basic(text).split())
        key = " ".join(sorted(set(toks))) or normalize_basic(text)
        group = groups.get(key)
        if group is None:
            group = groups[key] = _SameTokens(key, tuple(sorted(set(toks))), Counter())
        group.spellings[_display(text)] += 1
    ordered = sorted(groups.values(), key=lambda g: (-g.count, g.key))
    clusters: list[list[_SameTokens]] = []
    for group in ordered:
        best_index, best_score = -1, threshold
        for index, members in enumerate(clusters):
            compared = members[:_COMPARE_MEMBERS]
            score = sum(similarity(group.tokens, m.tokens) for m in compared) / len(compared)
            if score >= best_score:
                best_index, best_score = index, score
        if best_index >= 0:
            clusters[best_index].append(group)
        else:
            clusters.append([group])
    out: list[QuestionGroup] = []
    for members in clusters:
        spellings: Counter[str] = Counter()
        for member in members:
            spellings.update(member.spellings)
        ranked = [text for text, _ in sorted(spellings.items(), key=lambda kv: (-kv[1], kv[0]))]
        out.append(QuestionGroup(ranked[0], sum(spellings.values()), tuple(ranked)))
    out.sort(key=lambda c: (-c.count, c.representative))
    return out


def _display(text: str) -> str:
    """One spelling per normalised form: case and punctuation differences are not new examples."""
    return normalize_basic(text) or text.strip()
