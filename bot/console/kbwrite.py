"""`kubebot kb suggest --apply`: add accepted alternates to the entries' YAML files, keeping every
comment, quote, folded block and blank line as it was (ruamel.yaml round-trip).

Before anything is written: the file must round-trip unchanged with the layout ruamel.yaml is given
(else it is left alone, with the YAML to add by hand), the only difference after the edit must be
the added lines, and the whole knowledge base must load (the linter's checks) from a copy with the
edits. Files are replaced atomically; the change is then reviewed in git like any other.
"""

from __future__ import annotations

import difflib
import io
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bot.knowledge import KnowledgeBase, KnowledgeError, load_knowledge

# (mapping, sequence, offset) indentations tried in order: the bundled KB uses the first
LAYOUTS = ((2, 4, 2), (2, 2, 0), (4, 6, 4), (4, 4, 2))


class ApplyError(Exception):
    """The edit could not be made safely; the message says why and where."""


@dataclass(frozen=True, slots=True)
class FileChange:
    path: Path
    before: str
    after: str
    added: tuple[tuple[str, str], ...]  # (entry id, question)


def _yaml(layout: tuple[int, int, int]) -> Any:
    try:
        from ruamel.yaml import YAML
    except ImportError:  # pragma: no cover - depends on the install
        raise ApplyError("kb suggest --apply needs ruamel.yaml: pip install 'kubebot[console]'") from None
    y = YAML()  # round-trip
    y.preserve_quotes = True
    y.width = 4096
    mapping, sequence, offset = layout
    y.indent(mapping=mapping, sequence=sequence, offset=offset)
    return y


def _dump(y: Any, data: Any) -> str:
    out = io.StringIO()
    y.dump(data, out)
    return out.getvalue()


def _round_trip(text: str, path: Path) -> tuple[Any, Any]:
    """A loader whose dump of the untouched file is the file itself, and the loaded document."""
    for layout in LAYOUTS:
        y = _yaml(layout)
        data = y.load(text)
        if _dump(y, data) == text:
            return y, data
    raise ApplyError(
        f"{path}: its layout does not survive a YAML round-trip unchanged; add the questions by hand"
    )


def edit_file(path: Path, additions: Mapping[str, Sequence[str]]) -> FileChange:
    """The file's text with `additions` (entry id -> questions) appended to those entries' questions."""
    before = path.read_text(encoding="utf-8")
    y, data = _round_trip(before, path)
    entries = data.get("entries") if hasattr(data, "get") else None
    if entries is None:
        raise ApplyError(f"{path}: no `entries:` list")
    by_id = {str(item.get("id")): item for item in entries if hasattr(item, "get")}
    added: list[tuple[str, str]] = []
    for entry_id, questions in additions.items():
        item = by_id.get(entry_id)
        if item is None or not hasattr(item.get("questions"), "append"):
            raise ApplyError(f"{path}: entry {entry_id!r} with a `questions:` list not found")
        existing = {str(q) for q in item["questions"]}
        for question in questions:
            if question not in existing:
                item["questions"].append(question)
                existing.add(question)
                added.append((entry_id, question))
    after = _dump(y, data)
    _only_insertions(path, before, after, len(added))
    return FileChange(path, before, after, tuple(added))


def _only_insertions(path: Path, before: str, after: str, expected: int) -> None:
    old, new = before.splitlines(keepends=True), after.splitlines(keepends=True)
    inserted = 0
    for tag, _i1, _i2, j1, j2 in difflib.SequenceMatcher(a=old, b=new, autojunk=False).get_opcodes():
        if tag == "equal":
            continue
        if tag != "insert":
            raise ApplyError(f"{path}: adding the questions would change other lines; add them by hand")
        inserted += j2 - j1
    if inserted < expected:  # a long question may take more than one line, never fewer
        raise ApplyError(f"{path}: the questions did not land as new lines; add them by hand")


def plan(kb: KnowledgeBase, additions: Sequence[tuple[str, str]]) -> list[FileChange]:
    """The file edits for (entry id, question) pairs, grouped by the entry's file."""
    per_file: dict[Path, dict[str, list[str]]] = {}
    for entry_id, question in additions:
        entry = kb.entries.get(entry_id)
        if entry is None:
            raise ApplyError(f"entry {entry_id!r} is not in {kb.root}")
        per_file.setdefault(Path(entry.path), {}).setdefault(entry_id, []).append(question)
    return [edit_file(path, wanted) for path, wanted in sorted(per_file.items())]


def validate(kb: KnowledgeBase, changes: Sequence[FileChange]) -> None:
    """Load a copy of the knowledge base with the edits: every linter problem stops the apply."""
    root = kb.root.resolve()
    with tempfile.TemporaryDirectory(prefix="kubebot-suggest-") as tmp:
        copy = Path(tmp) / "kb"
        shutil.copytree(root, copy, symlinks=False, ignore=shutil.ignore_patterns(".*"))
        for change in changes:
            (copy / change.path.resolve().relative_to(root)).write_text(change.after, encoding="utf-8")
        try:
            load_knowledge(copy)
        except KnowledgeError as exc:
            problems = [str(p).replace(str(copy), str(root)) for p in exc.problems]
            raise ApplyError("the knowledge base would not load:\n  " + "\n  ".join(problems)) from None


def write(changes: Sequence[FileChange]) -> None:
    for change in changes:
        if change.path.read_text(encoding="utf-8") != change.before:
            raise ApplyError(f"{change.path} changed while the suggestions were prepared; run again")
        fd, tmp = tempfile.mkstemp(prefix=".suggest-", dir=change.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8", newline="") as handle:
                handle.write(change.after)
            os.chmod(tmp, change.path.stat().st_mode & 0o777)
            os.replace(tmp, change.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def apply(kb: KnowledgeBase, additions: Sequence[tuple[str, str]]) -> list[FileChange]:
    """Plan, validate, then write; nothing is written unless every file can be."""
    changes = [c for c in plan(kb, additions) if c.added]
    validate(kb, changes)
    write(changes)
    return changes
