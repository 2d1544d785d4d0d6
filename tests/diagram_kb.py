"""A copy of the fixture knowledge base in which the `pod` entry has a diagram: the shipped
diagrams/pod.dot, the shared diagrams/style.dot and the committed diagrams/pod.png."""

from __future__ import annotations

import shutil
from pathlib import Path

from tests.conftest import FIXTURE_KB, SHIPPED_KB

DIAGRAM_FILES = ("style.dot", "pod.dot", "pod.png")


def kb_with_diagram(tmp_path: Path, entry_id: str = "pod", source: str = "diagrams/pod.dot") -> Path:
    """The fixture KB under tmp_path/kb with `diagram: SOURCE` on `entry_id`."""
    kb = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, kb)
    (kb / "diagrams").mkdir()
    for name in DIAGRAM_FILES:
        shutil.copy(SHIPPED_KB / "diagrams" / name, kb / "diagrams" / name)
    entries = kb / "entries.yaml"
    marker = f"  - id: {entry_id}\n"
    text = entries.read_text(encoding="utf-8")
    assert marker in text, f"no entry {entry_id} in the fixture KB"
    entries.write_text(text.replace(marker, f"{marker}    diagram: {source}\n"), encoding="utf-8")
    return kb


def png_bytes(kb: Path, name: str = "pod.png") -> bytes:
    return (kb / "diagrams" / name).read_bytes()
