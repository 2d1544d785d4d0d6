"""The matcher's knobs (`bot.matching`, `bot.query`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.index import IndexSettings


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

    def index_settings(self) -> IndexSettings:
        """The settings the index depends on (`bot.kbcache` keys its files by them)."""
        return IndexSettings(
            phrases=bool(self.phrase_weight),
            title_boost=self.title_boost,
            tf_saturation=self.tf_saturation,
            small_number_weight=self.small_number_weight,
            postings_cap=self.postings_cap,
        )
