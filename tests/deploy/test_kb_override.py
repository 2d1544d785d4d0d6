"""Replacing the baked-in knowledge base with a mounted ConfigMap (components/kb-configmap).

The kubelet writes a ConfigMap volume atomically: the files live in a hidden timestamped
directory, `..data` links to it, and each key is a symlink `name -> ..data/name`. The loader
must read the keys once, not the hidden copies too.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from bot.knowledge import load_knowledge

FIXTURE_KB = Path(__file__).resolve().parents[1] / "fixtures" / "kb"


def configmap_volume(target: Path, source: Path) -> Path:
    """Lay out `source`'s files as the kubelet lays out a ConfigMap volume."""
    hidden = target / "..2026_01_01_00_00_00.000000001"
    hidden.mkdir(parents=True)
    for file in sorted(source.glob("*.yaml")):
        shutil.copy(file, hidden / file.name)
    (target / "..data").symlink_to(hidden.name)
    for file in sorted(hidden.iterdir()):
        (target / file.name).symlink_to(Path("..data") / file.name)
    return target


def test_a_flat_copy_loads(tmp_path: Path) -> None:
    """A ConfigMap has no sub-directories: the flat layout itself must be a valid knowledge base."""
    flat = tmp_path / "kb"
    flat.mkdir()
    for file in FIXTURE_KB.glob("*.yaml"):
        shutil.copy(file, flat / file.name)
    assert len(load_knowledge(flat).entries) == len(load_knowledge(FIXTURE_KB).entries) == 9


def test_a_configmap_volume_loads(tmp_path: Path) -> None:
    kb = load_knowledge(configmap_volume(tmp_path / "kb", FIXTURE_KB))
    assert sorted(kb.entries) == sorted(load_knowledge(FIXTURE_KB).entries)
    assert kb.paths.keys() == load_knowledge(FIXTURE_KB).paths.keys()
