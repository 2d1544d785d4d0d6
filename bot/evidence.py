"""The evidence the matcher measures for each ranked candidate and the decision reads: the names
of its columns (`FEATURES`, in the models' order), the ones the topic model reads, and `Evidence`.

Every feature is a share, a 0..1 similarity or a count capped to a small range, so none of them
grows or shrinks with the number of entries in the knowledge base (the columns are described in
`docs/matching.md`).
"""

from __future__ import annotations

from typing import NamedTuple

# The evidence behind one candidate, in this order (the models' feature vector).
FEATURES = (
    "score",  # the ranking score, 0..1
    "covered",  # share of the question's weight found in the entry's vocabulary
    "best_alt",  # similarity to the entry's closest single question, 0..1
    "margin",  # score minus the runner-up's (negative for candidates below the top)
    "exact",  # 1 when the question is one of the entry's questions word for word
    "known_share",  # share of the question's weight the knowledge base knows at all
    "together",  # most question words found together in one question of the entry, /4, capped
    "domain_share",  # share of the question's weight made of domain words (domain.yaml)
    "evidence",  # matched weight in units of the rarest word's weight, log1p, /3, capped at 1
    "pasted",  # 1 when the input was a pasted post (several lines or pasted output)
    "length",  # words in what the matcher read, log1p, /5, capped at 1
    "title_score",  # the ranking score of a post's title alone (= score for a one-line question)
    "title_best_alt",  # the title's similarity to the entry's closest question
    "title_covered",  # share of the title's weight found in the entry's vocabulary
    "rarest",  # the rarest question word this entry knows, as a share of the rarest possible
    "anchors",  # distinct domain words in the question (kubectl, pod, docker...), /4, capped
    "semantic",  # cosine of the question and the entry in static word-piece vectors (bot/semantic.py)
    "semantic_gap",  # that cosine minus the best among the ranked candidates (0 for the closest)
    "specific",  # distinct specific domain words (kubectl, pod, docker; not node, nginx), /2, capped
    # the entry itself (bot/entry_facts.py)
    "answer_covered",  # share of the question's weight found in the entry's answer text
    "answer_gap",  # that share minus the best among the ranked candidates (0 for the highest)
    "answer_rarest",  # the heaviest question word the answer text has, as a share of the rarest possible
    "answer_new",  # share of the question's weight in the answer text but not in the entry's questions
    "entry_questions",  # the entry's questions, log1p, /4, capped
    "entry_words",  # distinct words of its title and questions, log1p, /6, capped
    "entry_idf",  # the mean IDF share of those words
    "entry_idf_top",  # the mean IDF share of its five rarest words
    # the labelled questions the calibration was fitted on (bot/examples.py), for a pasted post
    # (`Digest.pasted`); 0 for the others
    "example",  # the highest cosine between the question and an example of the entry (0: none)
    "example_gap",  # that cosine minus the best among the ranked candidates (0 for the closest)
    "example_share",  # its examples' share of the cosine of the 10 closest of the candidates' examples
    # the wording model fitted on the same labelled questions and the entries' own (bot/wording.py)
    "wording",  # the classifier's score of the entry (-1 when it has no row for it)
    "wording_gap",  # that score minus the best among the ranked candidates (0 for the highest)
    "platform",  # the platforms (docker, kubernetes) the question and the entry name: agreement - conflict
    # leads (bot/leads.py): the gap column's value, but for the highest its value minus the runner-up's
    "wording_lead",
    "example_lead",
    "semantic_lead",
    "answer_lead",
    "title_lead",  # of title_score
    # the wording model's off-topic class (trained on the off-topic labelled questions): its score
    # (-1 without one), and the best candidate's score minus it; the same for every candidate
    "wording_off",
    "wording_above_off",
)
_FEATURE_INDEX = {name: i for i, name in enumerate(FEATURES)}
# the topic model reads the question's evidence, not the facts of one entry (bot/entry_facts.py)
TOPIC_FEATURES = tuple(f for f in FEATURES[: FEATURES.index("answer_covered")] if f != "margin")
TOPIC_INDEX = tuple(FEATURES.index(f) for f in TOPIC_FEATURES)


class Evidence(NamedTuple):
    """One ranked candidate and the evidence behind it (a named tuple: the matcher makes six a
    question, and a frozen dataclass costs ten times a tuple to build)."""

    entry_id: str
    title: str
    features: tuple[float, ...]
    matched: tuple[str, ...] = ()  # the question's words this entry knows (for explanations)

    def feature(self, name: str) -> float:
        return self.features[_FEATURE_INDEX[name]]
