"""Freshness warnings for `kubebot kb lint`: a file whose facts were checked against an old
Kubernetes version is flagged, without failing the lint (exit code stays 0).

Definitions, tested in tests/core/test_kb_lint.py:

* A file's version is its top-level ``kubernetes_version: "1.NN"`` (validated by the loader).
* A *version fact* in entry text (title, questions, analogy, answer, tip text; not commands,
  whose image tags like ``busybox:1.36`` are not Kubernetes versions) is ``1.NN`` (optionally
  ``v1.NN`` or ``1.NN.P``) that either follows the word Kubernetes, k8s, since, in, from, until,
  before, after, by or "as of" ("GA in 1.33", "since Kubernetes 1.29"), or is followed by ``+``
  ("1.24+"). "Go 1.21", "TLS 1.2" and "HTTP/1.1" are not version facts.
* The newest version the KB names is the highest minor among the files' versions and the
  version facts.
* A file is stale when its minor is more than ``MAX_MINORS_BEHIND`` below that newest minor
  (newest 1.35: 1.32 is fine, 1.31 is warned about). A file that states no version is warned
  about too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from bot.knowledge import KnowledgeBase
from bot.models import Entry
from bot.problems import Problem

MAX_MINORS_BEHIND = 3

_MINOR = r"v?1\.(?P<{name}>\d{{1,3}})(?:\.\d+)?(?!\d)"
VERSION_FACT_RE = re.compile(
    r"\b(?:kubernetes|k8s|since|in|from|until|before|after|by|as\s+of)\s+"
    + _MINOR.format(name="after_word")
    + r"|(?<![\w:@/.=-])"
    + _MINOR.format(name="with_plus")
    + r"\+",
    re.IGNORECASE,
)
_VERSION_KEY_RE = re.compile(r"^kubernetes_version\s*:")


@dataclass(frozen=True, slots=True)
class LintWarning(Problem):
    """Something an author should look at, not an error; printed as ``path:line: warning: message``."""

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: warning: {self.message}"


@dataclass(frozen=True, slots=True)
class NamedVersion:
    """A Kubernetes minor version the KB names, and where."""

    minor: int
    path: str
    line: int

    @property
    def version(self) -> str:
        return f"1.{self.minor}"


def version_facts(text: str) -> list[int]:
    """The Kubernetes minor versions a text states facts about ("removed in 1.25" -> [25])."""
    out = []
    for match in VERSION_FACT_RE.finditer(text):
        minor = match.group("after_word") or match.group("with_plus")
        out.append(int(minor))
    return out


def _entry_texts(entry: Entry) -> list[str]:
    texts = [entry.title, *entry.questions, entry.answer, *(tip.text for tip in entry.tips)]
    if entry.analogy:
        texts.append(entry.analogy)
    return texts


def _minor(version: str) -> int:
    return int(version.split(".", 1)[1])


def _version_line(path: str) -> int:
    """The line of a file's `kubernetes_version:` key (1 when it cannot be found)."""
    try:
        lines = Path(path).read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError):
        return 1
    return next((i for i, line in enumerate(lines, 1) if _VERSION_KEY_RE.match(line)), 1)


def newest_named_version(kb: KnowledgeBase) -> NamedVersion | None:
    """The newest Kubernetes version the KB names: in a file's version or in a version fact."""
    named = [NamedVersion(_minor(v), path, _version_line(path)) for path, v in kb.versions.items()]
    for entry in kb.entries.values():
        named += [
            NamedVersion(minor, entry.path, entry.line)
            for text in _entry_texts(entry)
            for minor in version_facts(text)
        ]
    # highest minor; among equals the first by path and line, so the message is stable
    return min(named, key=lambda n: (-n.minor, n.path, n.line), default=None)


def freshness_warnings(kb: KnowledgeBase) -> list[LintWarning]:
    """A warning per entry file that states no version or one too far behind the newest."""
    newest = newest_named_version(kb)
    files = sorted({entry.path for entry in kb.entries.values()} | set(kb.versions))
    out = []
    for path in files:
        version = kb.versions.get(path)
        if version is None:
            out.append(
                LintWarning(path, 1, 'states no kubernetes_version (add e.g. kubernetes_version: "1.35")')
            )
            continue
        if newest is not None and newest.minor - _minor(version) > MAX_MINORS_BEHIND:
            out.append(
                LintWarning(
                    path,
                    _version_line(path),
                    f"kubernetes_version {version} is {newest.minor - _minor(version)} minor versions "
                    f"behind {newest.version}, the newest the knowledge base names "
                    f"({newest.path}:{newest.line}); re-check this file's facts against "
                    f"{newest.version} and update its version",
                )
            )
    return out
