"""Load and validate the YAML knowledge base.

Every problem is reported as ``path:line: message`` and loading collects all of them before
failing, so an author sees the whole list at once. The YAML is composed into nodes (with the
C parser when PyYAML has it) so that every value keeps the line it came from.
"""

from __future__ import annotations

import importlib.util
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from bot.models import Entry, LearningPath, Platforms
from bot.problems import KnowledgeError as KnowledgeError  # re-exported: importers predate bot.problems
from bot.problems import Problem as Problem
from bot.text import Normalizer, normalize_basic

SPECIAL_FILES = {"synonyms.yaml", "paths.yaml", "domain.yaml"}


@dataclass(frozen=True)
class KnowledgeBase:
    root: Path
    entries: dict[str, Entry]
    synonyms: dict[str, str] = field(default_factory=dict)
    paths: dict[str, LearningPath] = field(default_factory=dict)
    domain: tuple[str, ...] = ()  # words that mark a question as on topic (domain.yaml)
    specific: tuple[str, ...] = ()  # domain words that on their own mark it (domain.yaml `specific:`)
    platforms: Platforms = ()  # each platform's words (domain.yaml `platforms:`): docker, kubernetes
    versions: dict[str, str] = field(default_factory=dict)  # entry file -> kubernetes_version it states

    def tags(self) -> dict[str, list[Entry]]:
        by_tag: dict[str, list[Entry]] = {}
        for entry in self.entries.values():
            for tag in entry.tags or ("other",):
                by_tag.setdefault(tag, []).append(entry)
        return dict(sorted(by_tag.items()))


def bundled_kb_dir() -> Path:
    """The knowledge base shipped with kubebot: the checkout's, or the wheel's package data."""
    checkout = Path(__file__).resolve().parent.parent / "knowledge"
    if checkout.is_dir():
        return checkout
    spec = importlib.util.find_spec("bot.knowledge_data")  # package data of an installed wheel
    if spec is not None and spec.submodule_search_locations:
        return Path(next(iter(spec.submodule_search_locations)))
    return checkout  # nothing bundled: the loader reports the missing directory


def _entry_files(root: Path) -> Iterable[Path]:
    """Entry files below root, skipping hidden paths: a ConfigMap volume keeps a second copy of
    every file in `..<timestamp>/`, which would otherwise be read twice."""
    return sorted(
        p
        for p in root.rglob("*.yaml")
        if not any(part.startswith(".") for part in p.relative_to(root).parts)
        and (p.name not in SPECIAL_FILES or p.parent != root)
    )


def domain_file(root: Path) -> Path | None:
    """The domain words of the knowledge base in ``root``: its own ``domain.yaml``, else the bundled
    knowledge base's (a team's runbooks are about the same Kubernetes and containers; without any
    domain words a pasted post has no on-topic signal and is rarely answered). A knowledge base
    that wants none has a ``domain.yaml`` with an empty ``terms:`` list."""
    own = root / "domain.yaml"
    if own.is_file():
        return own
    bundled = bundled_kb_dir() / "domain.yaml"
    return bundled if bundled.is_file() else None


def source_files(root: Path) -> list[Path]:
    """Every file `load_knowledge` reads for ``root``, sorted: those under it, then the bundled
    domain words when it has none of its own (`domain_file`)."""
    special = [root / name for name in sorted(SPECIAL_FILES) if (root / name).is_file()]
    domain = domain_file(root)
    outside = [domain] if domain is not None and domain.parent != root else []
    return [*sorted([*_entry_files(root), *special]), *outside]


def _same_words_problems(
    entries: dict[str, Entry], synonyms: dict[str, str], lines: dict[tuple[str, str], int]
) -> list[Problem]:
    """Two entries whose questions read the same to the matcher (same words once stop words and
    synonyms are applied) can never both be found: report the later one."""
    normalizer = Normalizer(synonyms)
    owner: dict[frozenset[str], tuple[str, str]] = {}
    out: list[Problem] = []
    for entry in entries.values():
        for q in entry.questions:
            key = frozenset(normalizer.tokens(q))
            if not key:
                continue
            first = owner.setdefault(key, (entry.id, q))
            if first[0] != entry.id:
                line = lines.get(("question", f"{entry.id}/{q}"), entry.line)
                out.append(
                    Problem(
                        entry.path,
                        line,
                        f"question '{q}' reads the same to the matcher as "
                        f"'{first[1]}' under entry '{first[0]}'; make it more specific",
                    )
                )
    return out


def load_knowledge(root: Path | str) -> KnowledgeBase:
    """Load every ``*.yaml`` under ``root``; raise KnowledgeError listing every problem."""
    from bot import kb_yaml  # PyYAML only when a knowledge base is parsed (not from the index cache)

    root = Path(root)
    if not root.is_dir():
        raise KnowledgeError([Problem(str(root), 0, "knowledge base directory not found")])
    problems: list[Problem] = []
    entries: dict[str, Entry] = {}
    question_owner: dict[str, tuple[str, str]] = {}
    see_also_lines: dict[tuple[str, str], int] = {}
    declared: set[str] = set()
    versions: dict[str, str] = {}
    files = list(_entry_files(root))
    if not files:
        problems.append(Problem(str(root), 0, "no *.yaml entry files found"))
    for file in files:
        c = kb_yaml.Collector(str(file), root)
        for entry in kb_yaml.parse_entries_file(file, c):
            if entry.id in entries:
                first = entries[entry.id]
                c.add(
                    None, f"duplicate id '{entry.id}' (first at {first.path}:{first.line})", line=entry.line
                )
                continue
            entries[entry.id] = entry
            for q in entry.questions:
                key = normalize_basic(q)
                owner = question_owner.get(key)
                if owner and owner[0] != entry.id:
                    line = c.lines.get(("question", f"{entry.id}/{q}"), entry.line)
                    c.add(None, f"question '{q}' is also under entry '{owner[0]}' ({owner[1]})", line)
                else:
                    question_owner[key] = (entry.id, f"{entry.path}:{entry.line}")
        if c.version is not None:
            versions[str(file)] = c.version
        problems.extend(c.problems)
        see_also_lines.update(c.lines)
        declared.update(c.declared)
    for entry in entries.values():
        for ref in entry.see_also:
            if ref not in declared:
                line = see_also_lines.get(("see_also", f"{entry.id}/{ref}"), entry.line)
                problems.append(
                    Problem(entry.path, line, f"see_also '{ref}' of '{entry.id}' is not an entry id")
                )
    domain: tuple[str, ...] = ()
    specific: tuple[str, ...] = ()
    platforms: Platforms = ()
    domain_path = domain_file(root)
    if domain_path is not None:
        c = kb_yaml.Collector(str(domain_path))
        domain, specific, platforms = kb_yaml.parse_domain(domain_path, c)
        problems.extend(c.problems)
    synonyms: dict[str, str] = {}
    if (root / "synonyms.yaml").is_file():
        c = kb_yaml.Collector(str(root / "synonyms.yaml"))
        synonyms = kb_yaml.parse_synonyms(root / "synonyms.yaml", c)
        problems.extend(c.problems)
    paths: dict[str, LearningPath] = {}
    if (root / "paths.yaml").is_file():
        c = kb_yaml.Collector(str(root / "paths.yaml"))
        for path, node in kb_yaml.parse_paths(root / "paths.yaml", c):
            if path.id in paths:
                c.add(node, f"duplicate path id '{path.id}'")
            for step in path.steps:
                if step not in declared:
                    c.add(node, f"step '{step}' of path '{path.id}' is not an entry id")
            paths[path.id] = path
        problems.extend(c.problems)
    if not problems:
        problems.extend(_same_words_problems(entries, synonyms, see_also_lines))
    if problems:
        raise KnowledgeError(problems)
    return KnowledgeBase(
        root=root,
        entries=entries,
        synonyms=synonyms,
        paths=paths,
        domain=domain,
        specific=specific,
        platforms=platforms,
        versions=versions,
    )
