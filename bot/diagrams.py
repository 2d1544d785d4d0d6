"""Diagrams: an entry's optional picture, written in Graphviz DOT and committed as a PNG next to it.

- `diagram: diagrams/pod.dot` on an entry names the source, relative to the knowledge-base root;
  the picture is the PNG beside it (`diagrams/pod.png`).
- `kubebot kb render` runs Graphviz `dot` on each source with the shared look of
  `diagrams/style.dot` spliced in, and records the SHA-256 of exactly the text it rendered in a
  PNG tEXt chunk (`kubebot-source-sha256`). Only authors and CI need Graphviz.
- `kubebot kb lint` recomputes that hash: a missing source or PNG, or a PNG whose hash differs
  (the source or the style changed since), is a `path:line` problem at the entry's `diagram:` line.
- At run time nothing is rendered: `shown_diagram` hands the adapters the committed PNG when the
  file is there, and nothing otherwise (a knowledge base served without its PNGs still answers).
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from bot import png
from bot.models import Entry, Reply, ReplyKind
from bot.problems import Problem

STYLE_FILE = "diagrams/style.dot"  # relative to the knowledge-base root
HASH_KEY = "kubebot-source-sha256"
MAX_SIDE = 1000  # pixels: a chat client shows ~400-800 px; bigger pictures shrink into unreadable text
ALT_LIMIT = 1000  # Slack's alt_txt and Discord's attachment description both fit in this
RENDER_TIMEOUT = 60.0

_GRAPH_HEADER = re.compile(r"^\s*(?:strict\s+)?(?:di)?graph\b[^{]*\{", re.MULTILINE | re.IGNORECASE)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z`\"'(])")
_MARKUP = re.compile(r"[*`]")


class RenderError(Exception):
    """A diagram could not be rendered: Graphviz is missing, or `dot` rejected a source."""


def diagram_ref(value: str, root: Path) -> str:
    """The path of an entry's diagram source; ValueError with the reason when `value` is not a
    relative path to a `.dot` file inside the knowledge base."""
    ref = PurePosixPath(value)
    if ref.is_absolute() or ".." in ref.parts or "\\" in value or value.startswith("~"):
        raise ValueError(f"diagram '{value}' must be a path inside the knowledge base, like diagrams/pod.dot")
    if ref.suffix != ".dot":
        raise ValueError(f"diagram '{value}' must name a Graphviz source ending in .dot")
    return str(root / ref)


def png_of(source: str | Path) -> Path:
    """Where the PNG rendered from `source` lives: beside it, same name."""
    return Path(source).with_suffix(".png")


def alt_text(entry: Entry) -> str:
    """What a screen reader says for the picture: the title and the first sentence of the analogy
    (or of the answer when there is none), without markdown."""
    first = _SENTENCE_END.split(entry.analogy or entry.answer, maxsplit=1)[0].strip()
    title = entry.title.strip()
    text = _MARKUP.sub("", f"Diagram: {title}{'' if title[-1:] in '.?!' else '.'} {first}")
    return text if len(text) <= ALT_LIMIT else text[: ALT_LIMIT - 1].rstrip() + "…"


@dataclass(frozen=True, slots=True)
class DiagramImage:
    """A committed diagram, ready to attach: the PNG file, the name to show and the alt text."""

    path: Path
    filename: str  # "<entry id>.png": safe in an `attachment://` URL
    title: str
    alt: str
    entry_id: str

    def read(self) -> bytes:
        return self.path.read_bytes()


def diagram_for(entry: Entry | None) -> DiagramImage | None:
    """The entry's PNG when it has a diagram and the file is there."""
    if entry is None or not entry.diagram:
        return None
    path = png_of(entry.diagram)
    if not path.is_file():
        return None
    return DiagramImage(path, f"{entry.id}.png", entry.title, alt_text(entry), entry.id)


def shown_diagram(reply: Reply) -> DiagramImage | None:
    """The picture that goes with a reply: only answers and tour steps show an entry's diagram."""
    if reply.kind not in (ReplyKind.ANSWER, ReplyKind.TOUR):
        return None
    return diagram_for(reply.entry)


def diagram_note(reply: Reply) -> str | None:
    """The line text surfaces print instead of the picture: "Diagram: /abs/path/pod.png"."""
    image = shown_diagram(reply)
    return f"Diagram: {image.path.resolve()}" if image else None


# -- what gets rendered, and whether the PNG is up to date ---------------------------------------
def rendered_source(source: Path, root: Path) -> bytes:
    """The DOT text `dot` is given: the source with the body of diagrams/style.dot inserted right
    after its opening brace, so the shared look comes first and the diagram may override it."""
    text = source.read_text(encoding="utf-8")
    style_file = root / STYLE_FILE
    if style_file.is_file() and source.resolve() != style_file.resolve():
        style = style_file.read_text(encoding="utf-8")
        body = style[_graph_start(style, style_file) : style.rfind("}")].strip("\n")
        start = _graph_start(text, source)
        text = f"{text[:start]}\n// -- {STYLE_FILE}\n{body}\n// --\n{text[start:]}"
    return text.encode("utf-8")


def _graph_start(text: str, path: Path) -> int:
    """Where the graph's statements begin: just after `digraph NAME {` (comments before it allowed)."""
    header = _GRAPH_HEADER.search(text)
    if header is None:
        raise ValueError(f"{path} does not start a graph (digraph NAME {{ ... }})")
    return header.end()


def source_hash(rendered: bytes) -> str:
    return hashlib.sha256(rendered).hexdigest()


def _problem(entry: Entry, message: str) -> Problem:
    return Problem(entry.path, entry.diagram_line or entry.line, message)


def entry_problems(entry: Entry, root: Path) -> list[Problem]:
    """What is wrong with one entry's diagram: source or PNG missing, PNG stale or too big."""
    if not entry.diagram:
        return []
    source, picture = Path(entry.diagram), png_of(entry.diagram)
    if not source.is_file():
        return [_problem(entry, f"diagram source {source} does not exist")]
    try:
        expected = source_hash(rendered_source(source, root))
    except (OSError, UnicodeDecodeError, ValueError) as exc:
        return [_problem(entry, f"cannot read diagram source {source}: {exc}")]
    if not picture.is_file():
        return [_problem(entry, f"diagram {picture} is missing: run `kubebot kb render`")]
    try:
        data = picture.read_bytes()
        recorded = png.text(data, HASH_KEY)
        width, height = png.size(data)
    except (OSError, png.PngError) as exc:
        return [_problem(entry, f"diagram {picture} is not a readable PNG ({exc}): run `kubebot kb render`")]
    problems = []
    if recorded != expected:
        why = "was not rendered by `kubebot kb render`" if recorded is None else "is stale"
        problems.append(
            _problem(
                entry,
                f"diagram {picture} {why}: {source} or {STYLE_FILE} changed since; run `kubebot kb render`",
            )
        )
    if max(width, height) > MAX_SIDE:
        problems.append(
            _problem(
                entry,
                f"diagram {picture} is {width}x{height} px; keep both sides at most {MAX_SIDE} px "
                "(fewer nodes, or a smaller graph size) so it stays readable in chat",
            )
        )
    return problems


def diagram_problems(root: Path, entries: Iterable[Entry]) -> list[Problem]:
    return [p for entry in entries for p in entry_problems(entry, root)]


# -- rendering (authors and CI only) ---------------------------------------------------------------
@dataclass(frozen=True, slots=True)
class Rendered:
    png: Path
    width: int
    height: int
    changed: bool  # False: it was already up to date


def find_dot() -> str:
    dot = shutil.which("dot")
    if dot is None:
        raise RenderError(
            "rendering diagrams needs Graphviz's `dot` on PATH (Debian/Ubuntu: apt-get install graphviz; "
            "macOS: brew install graphviz)"
        )
    return dot


def render_png(source: Path, root: Path, dot: str) -> bytes:
    """Run `dot -Tpng` on the styled source; the PNG carries the hash of what was rendered."""
    rendered = rendered_source(source, root)
    try:
        result = subprocess.run(
            [dot, "-Tpng"], input=rendered, capture_output=True, timeout=RENDER_TIMEOUT, check=False
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        raise RenderError(f"{source}: could not run {dot}: {exc}") from None
    if result.returncode != 0 or not result.stdout.startswith(png.SIGNATURE):
        detail = result.stderr.decode("utf-8", "replace").strip() or f"exit code {result.returncode}"
        raise RenderError(f"{source}: dot failed: {detail}")
    return png.with_text(result.stdout, HASH_KEY, source_hash(rendered))


def render_all(
    root: Path, entries: Iterable[Entry], *, force: bool = False, dot: str | None = None
) -> list[Rendered]:
    """Render every diagram the entries name (each source once) whose PNG is missing or stale,
    or all of them with `force`. Raises RenderError for a missing source or a failed render."""
    dot = dot or find_dot()
    out: list[Rendered] = []
    seen: set[str] = set()
    for entry in entries:
        if not entry.diagram or entry.diagram in seen:
            continue
        seen.add(entry.diagram)
        source, picture = Path(entry.diagram), png_of(entry.diagram)
        if not source.is_file():
            raise RenderError(f"{entry.path}:{entry.diagram_line}: diagram source {source} does not exist")
        fresh = not force and not entry_problems(entry, root)
        data = picture.read_bytes() if fresh else render_png(source, root, dot)
        if not fresh:
            tmp = picture.with_name(f".{picture.name}.tmp")
            tmp.write_bytes(data)
            os.replace(tmp, picture)
        width, height = png.size(data)
        out.append(Rendered(picture, width, height, changed=not fresh))
    return out
