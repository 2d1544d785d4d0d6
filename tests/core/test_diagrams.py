"""Diagrams: the `diagram:` key, the PNG metadata, `kb lint` on missing or stale PNGs, `kb render`,
the alt text, and the diagram path in `kubebot ask` and `kubebot chat`."""

from __future__ import annotations

import io
import json
import shutil
import struct
import zlib
from pathlib import Path

import pytest

from bot import png
from bot.adapters.console import run_chat
from bot.cli import main
from bot.diagrams import (
    HASH_KEY,
    MAX_SIDE,
    alt_text,
    diagram_problems,
    diagram_ref,
    rendered_source,
    shown_diagram,
    source_hash,
)
from bot.knowledge import KnowledgeError, load_knowledge
from bot.models import Entry, Reply, ReplyKind
from bot.service import KnowledgeHolder, QAService, Snapshot
from tests.diagram_kb import kb_with_diagram, png_bytes


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, out=out), out.getvalue()


def diagram_line(kb: Path) -> int:
    """The line of the `diagram:` key in the fixture copy."""
    lines = (kb / "entries.yaml").read_text().splitlines()
    return next(i for i, line in enumerate(lines, 1) if line.strip().startswith("diagram:"))


def synthetic_png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    row = b"\x00" + b"\xff\xff\xff" * width
    idat = chunk(b"IDAT", zlib.compress(row * height))
    return png.SIGNATURE + chunk(b"IHDR", ihdr) + idat + chunk(b"IEND", b"")


# -- PNG metadata ----------------------------------------------------------------------------------
def test_png_text_chunk_round_trip_keeps_the_image_valid() -> None:
    data = synthetic_png(3, 2)
    tagged = png.with_text(data, HASH_KEY, "abc123")
    assert png.text(tagged, HASH_KEY) == "abc123" and png.text(data, HASH_KEY) is None
    assert png.size(tagged) == (3, 2)
    retagged = png.with_text(tagged, HASH_KEY, "def456")
    assert png.text(retagged, HASH_KEY) == "def456"
    assert retagged.count(b"tEXt") == 1  # replaced, not added twice
    # every chunk still has a correct CRC, and the tEXt chunk sits right after IHDR
    pos, kinds = len(png.SIGNATURE), []
    while pos < len(retagged):
        (length,) = struct.unpack(">I", retagged[pos : pos + 4])
        kind, body = retagged[pos + 4 : pos + 8], retagged[pos + 8 : pos + 8 + length]
        (crc,) = struct.unpack(">I", retagged[pos + 8 + length : pos + 12 + length])
        assert crc == zlib.crc32(kind + body)
        kinds.append(kind)
        pos += 12 + length
    assert kinds == [b"IHDR", b"tEXt", b"IDAT", b"IEND"]


def test_png_errors_are_reported_not_crashed() -> None:
    with pytest.raises(png.PngError):
        png.size(b"GIF89a....")
    with pytest.raises(png.PngError):
        png.text(synthetic_png(2, 2)[:-6], HASH_KEY)  # cut inside IEND


# -- the `diagram:` key ------------------------------------------------------------------------------
def test_diagram_ref_accepts_a_dot_file_inside_the_kb(tmp_path: Path) -> None:
    assert diagram_ref("diagrams/pod.dot", tmp_path) == str(tmp_path / "diagrams" / "pod.dot")
    for bad in ("/etc/pod.dot", "../pod.dot", "diagrams/../../x.dot", "diagrams/pod.png", "~/pod.dot"):
        with pytest.raises(ValueError):
            diagram_ref(bad, tmp_path)


def test_the_loader_keeps_the_diagram_and_its_line(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    entry = load_knowledge(kb_dir).entries["pod"]
    assert entry.diagram == str(kb_dir / "diagrams" / "pod.dot")
    assert entry.diagram_line == diagram_line(kb_dir)


def test_a_bad_diagram_value_is_a_loader_problem_at_its_line(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path, source="../outside.png")
    with pytest.raises(KnowledgeError) as err:
        load_knowledge(kb_dir)
    [problem] = err.value.problems
    assert (problem.path, problem.line) == (str(kb_dir / "entries.yaml"), diagram_line(kb_dir))
    assert "inside the knowledge base" in problem.message


# -- lint -------------------------------------------------------------------------------------------
def test_lint_passes_with_the_committed_png(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    code, out = run(["kb", "lint", str(kb_dir)])
    assert code == 0, out


def lint_problem(kb_dir: Path) -> str:
    code, out = run(["kb", "lint", str(kb_dir)])
    assert code == 1, out
    lines = out.splitlines()
    assert lines[-1] == f"1 problem(s) in {kb_dir}"
    return lines[0]


def test_lint_fails_on_a_missing_png_with_path_and_line(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    (kb_dir / "diagrams" / "pod.png").unlink()
    line = lint_problem(kb_dir)
    assert line.startswith(f"{kb_dir / 'entries.yaml'}:{diagram_line(kb_dir)}: ")
    assert "pod.png is missing" in line and "kubebot kb render" in line


def test_lint_fails_on_a_missing_source(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    (kb_dir / "diagrams" / "pod.dot").unlink()
    assert lint_problem(kb_dir).endswith(f"diagram source {kb_dir / 'diagrams' / 'pod.dot'} does not exist")


def test_lint_fails_when_the_source_changed_after_rendering(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    with (kb_dir / "diagrams" / "pod.dot").open("a") as fh:
        fh.write("// an edit after the PNG was rendered\n")
    line = lint_problem(kb_dir)
    assert line.startswith(f"{kb_dir / 'entries.yaml'}:{diagram_line(kb_dir)}: ") and "is stale" in line


def test_lint_fails_when_the_shared_style_changed(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    style = kb_dir / "diagrams" / "style.dot"
    style.write_text(style.read_text().replace("DejaVu Sans", "Liberation Sans"))
    assert "is stale" in lint_problem(kb_dir)


def test_lint_fails_on_a_png_without_the_hash(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    (kb_dir / "diagrams" / "pod.png").write_bytes(synthetic_png(400, 300))
    assert "was not rendered by `kubebot kb render`" in lint_problem(kb_dir)


def test_lint_fails_on_a_png_too_big_for_chat(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    current = source_hash(rendered_source(kb_dir / "diagrams" / "pod.dot", kb_dir))
    big = png.with_text(synthetic_png(MAX_SIDE + 200, 300), HASH_KEY, current)
    (kb_dir / "diagrams" / "pod.png").write_bytes(big)
    assert f"is {MAX_SIDE + 200}x300 px" in lint_problem(kb_dir)


def test_the_style_is_spliced_after_the_opening_brace(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    text = rendered_source(kb_dir / "diagrams" / "pod.dot", kb_dir).decode()
    header = text.index("digraph pod {")
    assert header < text.index('fontname="DejaVu Sans"') < text.index("cluster_vm")


# -- render -----------------------------------------------------------------------------------------
def test_render_without_graphviz_says_how_to_get_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    assert run(["kb", "render", str(kb_dir)])[0] == 2
    assert "apt-get install graphviz" in capsys.readouterr().err


@pytest.mark.skipif(
    shutil.which("dot") is None, reason="Graphviz `dot` is not installed (apt-get install graphviz)"
)
def test_render_draws_missing_pngs_that_lint_then_accepts(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    (kb_dir / "diagrams" / "pod.png").unlink()
    code, out = run(["kb", "render", str(kb_dir)])
    assert code == 0 and out.startswith(f"rendered: {kb_dir / 'diagrams' / 'pod.png'} (")
    assert out.endswith("1 of 1 diagram(s) rendered\n")
    assert run(["kb", "lint", str(kb_dir)])[0] == 0
    assert run(["kb", "render", str(kb_dir)])[1].endswith("0 of 1 diagram(s) rendered\n")
    assert run(["kb", "render", "--force", str(kb_dir)])[1].endswith("1 of 1 diagram(s) rendered\n")


# -- what surfaces show ------------------------------------------------------------------------------
def pod_entry(**overrides: object) -> Entry:
    base: dict[str, object] = {
        "id": "pod",
        "title": "What is a Pod?",
        "questions": ("a", "b", "c"),
        "answer": "A *Pod* is a group. It has one IP.",
        "sources": ("https://kubernetes.io/",),
        "analogy": "A Pod is to containers what a VM was to processes. Each container is one program.",
    }
    base.update(overrides)
    return Entry(**base)  # type: ignore[arg-type]


def test_alt_text_is_the_title_and_the_first_sentence_of_the_analogy() -> None:
    expected = "Diagram: What is a Pod? A Pod is to containers what a VM was to processes."
    assert alt_text(pod_entry()) == expected
    assert alt_text(pod_entry(analogy=None, title="Pods")) == "Diagram: Pods. A Pod is a group."
    long = pod_entry(analogy="word " * 400)
    assert 900 < len(alt_text(long)) <= 1000 and alt_text(long).endswith("…")


def test_only_answers_and_tour_steps_with_a_rendered_png_show_a_diagram(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    entry = load_knowledge(kb_dir).entries["pod"]
    image = shown_diagram(Reply(ReplyKind.ANSWER, "q", "t", entry=entry))
    assert image is not None and image.filename == "pod.png" and image.read() == png_bytes(kb_dir)
    assert image.alt.startswith("Diagram: What is a Pod? A Pod is to containers")
    assert shown_diagram(Reply(ReplyKind.TOUR, "q", "t", entry=entry)) is not None
    assert shown_diagram(Reply(ReplyKind.SUGGEST, "q", "t", entry=entry)) is None
    (kb_dir / "diagrams" / "pod.png").unlink()  # e.g. a knowledge base served without its PNGs
    assert shown_diagram(Reply(ReplyKind.ANSWER, "q", "t", entry=entry)) is None
    assert diagram_problems(kb_dir, [entry])  # ... which lint reports


def test_ask_prints_the_diagram_path_and_json_has_it(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    picture = (kb_dir / "diagrams" / "pod.png").resolve()
    code, out = run(["ask", "--kb", str(kb_dir), "what is a pod"])
    assert code == 0 and out.endswith(f"\n\nDiagram: {picture}\n")
    data = json.loads(run(["ask", "--kb", str(kb_dir), "--json", "what is a pod"])[1])
    assert data["diagram"] == str(picture)
    other = json.loads(run(["ask", "--kb", str(kb_dir), "--json", "what is a node"])[1])
    assert other["id"] == "node" and other["diagram"] is None


def test_chat_prints_the_diagram_path_for_answers_and_tour_steps(tmp_path: Path) -> None:
    kb_dir = kb_with_diagram(tmp_path)
    service = QAService(KnowledgeHolder(Snapshot.build(load_knowledge(kb_dir))))
    out = io.StringIO()
    # the fixture tour: vms-old-way, container, pod (step 3), ...
    run_chat(service, stdin=io.StringIO("what is a pod\nlearn\nnext\nnext\n"), stdout=out)
    line = f"Diagram: {(kb_dir / 'diagrams' / 'pod.png').resolve()}"
    assert out.getvalue().count(line) == 2
    step3 = out.getvalue().split("step 3 of 7")[1]
    assert line in step3
