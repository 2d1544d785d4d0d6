"""The YAML side of the knowledge-base loader (`bot.knowledge.load_knowledge`): each file composed
into nodes (with the C parser when PyYAML has it) so that every value keeps its line, and checked
key by key; every problem is collected as ``path:line: message``. Imported only when a knowledge
base is parsed: a start from the index cache (`bot.kbcache`) never loads PyYAML."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml

from bot.diagrams import diagram_ref
from bot.models import Entry, LearningPath, Platforms, Tip
from bot.problems import Problem
from bot.text import normalize_basic

try:  # the C parser is several times faster on a large knowledge base
    _Loader: type = yaml.CSafeLoader
except AttributeError:  # pragma: no cover - depends on how PyYAML was built
    _Loader = yaml.SafeLoader


def load_yaml(text: str) -> Any:
    """``yaml.safe_load`` with the C parser when PyYAML has it (the same values, ~8 times faster on
    the real-question sets: 0.7 s instead of 5.4 s for all of them)."""
    return yaml.load(text, Loader=_Loader)


ID_RE = re.compile(r"^[a-z0-9][a-z0-9-]*$")
VERSION_RE = re.compile(r"^1\.\d{1,3}$")  # the Kubernetes minor version a file's facts were checked against
URL_RE = re.compile(r"^https?://[^\s/$.?#][^\s]*$")
MIN_QUESTIONS = 3
REQUIRED_KEYS = ("id", "title", "questions", "answer", "sources")
ENTRY_KEYS = {*REQUIRED_KEYS, "tags", "analogy", "tips", "see_also", "diagram"}
TIP_KEYS = {"text", "command"}
PATH_KEYS = {"id", "title", "steps"}


class Collector:
    def __init__(self, path: str, root: Path | None = None) -> None:
        self.path = path
        self.root = root or Path(path).parent  # what an entry's `diagram:` is relative to
        self.problems: list[Problem] = []
        self.lines: dict[tuple[str, str], int] = {}  # (kind, value) -> line, for cross-file checks
        self.declared: set[str] = set()  # ids seen, even on entries with other problems
        self.version: str | None = None  # the file's kubernetes_version, when it states one

    def add(self, node: yaml.Node | None, message: str, line: int = 0) -> None:
        if node is not None:
            line = node.start_mark.line + 1
        self.problems.append(Problem(self.path, line, message))

    def text(self, node: yaml.Node, what: str) -> str | None:
        """A non-empty string scalar, or None with a problem recorded."""
        if not isinstance(node, yaml.ScalarNode) or node.tag != "tag:yaml.org,2002:str":
            if isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null":
                self.add(node, f"{what} is empty")
            else:
                self.add(node, f"{what} must be text")
            return None
        value = str(node.value).strip()
        if not value:
            self.add(node, f"{what} is empty")
            return None
        return value

    def texts(self, node: yaml.Node, what: str) -> list[tuple[str, yaml.Node]]:
        if not isinstance(node, yaml.SequenceNode):
            self.add(node, f"{what} must be a list")
            return []
        out = []
        for item in node.value:
            value = self.text(item, f"an item of {what}")
            if value is not None:
                out.append((value, item))
        return out

    def mapping(self, node: yaml.Node, what: str, allowed: set[str]) -> dict[str, yaml.Node]:
        if not isinstance(node, yaml.MappingNode):
            self.add(node, f"{what} must be a mapping")
            return {}
        out: dict[str, yaml.Node] = {}
        for key_node, value_node in node.value:
            key = str(key_node.value)
            if key not in allowed:
                self.add(key_node, f"unknown key '{key}' in {what} (allowed: {', '.join(sorted(allowed))})")
            elif key in out:
                self.add(key_node, f"duplicate key '{key}' in {what}")
            else:
                out[key] = value_node
        return out


def _compose(file: Path, collector: Collector) -> yaml.Node | None:
    try:
        with file.open("rb") as fh:
            node: yaml.Node | None = yaml.compose(fh, Loader=_Loader)
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        collector.add(None, f"YAML syntax error: {exc.problem or exc}", line=(mark.line + 1) if mark else 0)
        return None
    except (yaml.YAMLError, OSError, UnicodeDecodeError) as exc:
        collector.add(None, f"cannot read: {exc}")
        return None
    if node is None:
        collector.add(None, "file is empty", line=1)
    return node


def _parse_entry(node: yaml.Node, c: Collector) -> Entry | None:
    fields = c.mapping(node, "an entry", ENTRY_KEYS)
    if not fields:
        return None
    missing = [k for k in REQUIRED_KEYS if k not in fields]
    for key in missing:
        c.add(node, f"entry is missing required key '{key}'")
    values: dict[str, str | None] = {}
    for key in ("id", "title", "answer", "analogy"):
        if key in fields:
            values[key] = c.text(fields[key], key)
    entry_id = values.get("id")
    if entry_id is not None and not ID_RE.match(entry_id):
        c.add(fields["id"], f"bad id '{entry_id}': use lower-case letters, digits and '-'")
        entry_id = None
    if entry_id is not None:
        c.declared.add(entry_id)
    questions = c.texts(fields["questions"], "questions") if "questions" in fields else []
    if "questions" in fields and len(questions) < MIN_QUESTIONS:
        c.add(fields["questions"], f"needs at least {MIN_QUESTIONS} questions, has {len(questions)}")
    seen: dict[str, int] = {}
    for text, qnode in questions:
        key = normalize_basic(text)
        if key in seen:
            c.add(qnode, f"question '{text}' repeats an earlier question of this entry")
        seen[key] = 1
    sources = c.texts(fields["sources"], "sources") if "sources" in fields else []
    for url, snode in sources:
        if not URL_RE.match(url):
            c.add(snode, f"source '{url}' is not an http(s) URL")
    if "sources" in fields and not sources:
        c.add(fields["sources"], "needs at least one source URL")
    tags = [t for t, _ in c.texts(fields["tags"], "tags")] if "tags" in fields else []
    see_also_nodes = c.texts(fields["see_also"], "see_also") if "see_also" in fields else []
    see_also = [s for s, _ in see_also_nodes]
    for ref, rnode in see_also_nodes:
        c.lines[("see_also", f"{entry_id}/{ref}")] = rnode.start_mark.line + 1
    for text, qnode in questions:
        c.lines[("question", f"{entry_id}/{text}")] = qnode.start_mark.line + 1
    tips: list[Tip] = []
    if "tips" in fields:
        if isinstance(fields["tips"], yaml.SequenceNode):
            for tip_node in fields["tips"].value:
                tip = c.mapping(tip_node, "a tip", TIP_KEYS)
                tip_text = c.text(tip["text"], "tip text") if "text" in tip else None
                if tip and "text" not in tip:
                    c.add(tip_node, "tip is missing 'text'")
                command = c.text(tip["command"], "tip command") if "command" in tip else None
                if tip_text:
                    tips.append(Tip(text=tip_text, command=command))
        else:
            c.add(fields["tips"], "tips must be a list")
    diagram = c.text(fields["diagram"], "diagram") if "diagram" in fields else None
    try:
        diagram = diagram_ref(diagram, c.root) if diagram else None
    except ValueError as exc:
        c.add(fields["diagram"], str(exc))
        diagram = None
    if missing or entry_id is None or not values.get("title") or not values.get("answer") or not questions:
        return None
    return Entry(
        id=entry_id,
        title=values["title"] or "",
        questions=tuple(q for q, _ in questions),
        answer=values["answer"] or "",
        sources=tuple(u for u, _ in sources),
        analogy=values.get("analogy"),
        tags=tuple(tags),
        tips=tuple(tips),
        see_also=tuple(see_also),
        diagram=diagram,
        diagram_line=fields["diagram"].start_mark.line + 1 if diagram else 0,
        path=c.path,
        line=node.start_mark.line + 1,
    )


def parse_entries_file(file: Path, c: Collector) -> list[Entry]:
    root = _compose(file, c)
    if root is None:
        return []
    top = c.mapping(root, "the file", {"entries", "kubernetes_version"})
    if "kubernetes_version" in top:
        version = c.text(top["kubernetes_version"], "kubernetes_version")
        if version is not None and not VERSION_RE.match(version):
            c.add(top["kubernetes_version"], f"kubernetes_version '{version}' must look like 1.35")
        elif version is not None:
            c.version = version
    if "entries" not in top:
        if isinstance(root, yaml.MappingNode):
            c.add(root, "file has no 'entries:' list")
        return []
    if not isinstance(top["entries"], yaml.SequenceNode):
        c.add(top["entries"], "'entries' must be a list")
        return []
    return [e for n in top["entries"].value if (e := _parse_entry(n, c)) is not None]


def parse_domain(file: Path, c: Collector) -> tuple[tuple[str, ...], tuple[str, ...], Platforms]:
    """The domain words (`terms:`, then the `specific:` words not among them), the specific ones
    and the platforms' words (`platforms:`, a list of words per platform)."""
    root = _compose(file, c)
    if root is None:
        return (), (), ()
    top = c.mapping(root, "domain.yaml", {"terms", "specific", "platforms"})
    if "terms" not in top:
        if isinstance(root, yaml.MappingNode):
            c.add(root, "domain.yaml has no 'terms:' list")
        return (), (), ()
    terms = tuple(normalize_basic(t) for t, _ in c.texts(top["terms"], "terms"))
    specific = (
        tuple(normalize_basic(t) for t, _ in c.texts(top["specific"], "specific"))
        if "specific" in top
        else ()
    )
    platforms: Platforms = ()
    if "platforms" in top:
        named = c.mapping(top["platforms"], "platforms", AnyKey())
        platforms = tuple(
            (name, tuple(normalize_basic(t) for t, _ in c.texts(node, f"platform '{name}'")))
            for name, node in named.items()
        )
    known = set(terms)
    return terms + tuple(dict.fromkeys(t for t in specific if t not in known)), specific, platforms


def parse_synonyms(file: Path, c: Collector) -> dict[str, str]:
    root = _compose(file, c)
    if root is None:
        return {}
    top = c.mapping(root, "synonyms.yaml", {"synonyms"})
    if "synonyms" not in top:
        return {}
    out: dict[str, str] = {}
    for key, value in c.mapping(top["synonyms"], "synonyms", AnyKey()).items():
        text = c.text(value, f"synonym '{key}'")
        if text:
            out[normalize_basic(key)] = normalize_basic(text)
    return out


def parse_paths(file: Path, c: Collector) -> list[tuple[LearningPath, yaml.Node]]:
    root = _compose(file, c)
    if root is None:
        return []
    top = c.mapping(root, "paths.yaml", {"paths"})
    if "paths" not in top or not isinstance(top["paths"], yaml.SequenceNode):
        if "paths" in top:
            c.add(top["paths"], "'paths' must be a list")
        return []
    out = []
    for node in top["paths"].value:
        f = c.mapping(node, "a path", PATH_KEYS)
        pid = c.text(f["id"], "path id") if "id" in f else None
        title = c.text(f["title"], "path title") if "title" in f else None
        steps = c.texts(f["steps"], "steps") if "steps" in f else []
        for key in sorted(PATH_KEYS - f.keys()):
            c.add(node, f"path is missing required key '{key}'")
        if pid and title and steps:
            out.append((LearningPath(pid, title, tuple(s for s, _ in steps)), node))
    return out


class AnyKey(set[str]):
    def __contains__(self, item: object) -> bool:
        return True
