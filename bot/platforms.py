"""Which platform a question is about, against which one its candidate entry is about.

Many problems exist on both sides — exec into a container, the logs of a crashed one, no internet
inside it, DNS between containers — and the Docker entry and the Kubernetes entry share most of
their words, so the lexical scores, the examples and the wording model often put the twin first.
`knowledge/domain.yaml` lists the words that name each platform (`platforms:`). For a question,
which platforms its words name (0 or 1 each); for an entry, the share of its title and questions
that name each. The `platform` feature is the agreement minus the conflict: the sum over platforms of
question × entry, minus the sum over pairs of different platforms. Out of fold on the fit set it
raised answered-correctly by 0.6 and 1.9 points on two sets of five grouped splits
(`benchmarks/decide_lab_columns.py platform`, `PLATFORM_ONE=1`).

An entry's shares are read the first time it is a candidate (its title and questions, ~0.02 ms),
or by the server's warm-up after a load (`warm`), so a large knowledge base does not pay for them
at load.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from bot.examples import words
from bot.models import Entry, Platforms
from bot.pacing import pace


class PlatformSides:
    """The platforms of ``platforms`` for questions and for ``entries`` (by entry number)."""

    def __init__(self, platforms: Platforms, entries: Sequence[Entry]) -> None:
        self._words = [frozenset(ws) for _, ws in platforms]
        self._entries = entries
        self._shares: dict[int, tuple[float, ...]] = {}  # entry number -> its share per platform

    def named(self, said: Iterable[str]) -> tuple[float, ...]:
        """Per platform, 1 when ``said`` (words, `bot.examples.words`) names it, else 0."""
        present = set(said)
        return tuple(1.0 if present & ws else 0.0 for ws in self._words)

    def shares(self, entry: int) -> tuple[float, ...]:
        """Per platform, the share of the entry's title and questions that name it."""
        known = self._shares.get(entry)
        if known is None:
            e = self._entries[entry]
            texts = [e.title, *e.questions]
            marks = [self.named(words(t)) for t in texts]
            known = self._shares[entry] = tuple(sum(col) / len(texts) for col in zip(*marks, strict=True))
        return known

    def warm(self, stop: Callable[[], bool] | None = None) -> int:
        """Read every entry's shares not read yet, ready to rest after each (`bot.pacing`), until
        ``stop()`` is true: for a server after a load. Returns how many it read."""
        if not self._words:
            return 0
        made = 0
        for entry in range(len(self._entries)):
            if stop is not None and stop():
                break
            if entry not in self._shares:
                self.shares(entry)
                made += 1
                pace()  # (~0.06 ms an entry: often enough to give way to an answer soon)
        return made

    def match(self, said: Sequence[str], entries: Sequence[int]) -> list[float]:
        """Per entry number: agreement minus conflict between the platforms ``said`` names and the
        entry's (0 when the question names none, or no platform is listed)."""
        asked = self.named(said)
        if not any(asked):
            return [0.0] * len(entries)
        out = []
        for entry in entries:
            share = self.shares(entry)
            same = sum(a * s for a, s in zip(asked, share, strict=True))
            out.append(same - (sum(asked) * sum(share) - same))
        return out
