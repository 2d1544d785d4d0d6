"""Passive mode's rule, the same on every platform: which overheard channel messages the bot may
answer unasked. A message qualifies when it reads like a question (this module); the service
then answers it only when the knowledge base is confident (`QAService.passive_answer`).
"""

from __future__ import annotations

import re

QUESTION_WORDS = frozenset(
    {
        "how",
        "what",
        "why",
        "when",
        "where",
        "which",
        "who",
        "whom",
        "whose",
        "can",
        "could",
        "does",
        "do",
        "did",
    }
    | {"is", "are", "was", "were", "should", "will", "would", "has", "have", "shall", "may", "might", "am"}
)
_FIRST_WORD = re.compile(r"[a-z]+")


def looks_like_question(text: str) -> bool:
    """Passive mode only considers questions: ends with '?' or starts with how/what/why/is/can..."""
    stripped = text.strip()
    if len(stripped.split()) < 2:
        return False
    if stripped.rstrip(" )\"'").endswith("?"):
        return True
    first = _FIRST_WORD.match(stripped.lower())
    return first is not None and first.group(0) in QUESTION_WORDS
