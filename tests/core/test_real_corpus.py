"""The real-question corpus (benchmarks/real): its size, its labels and its by-thread split."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

from bot.evaluate import load_eval_file
from bot.knowledge import KnowledgeBase
from tests.conftest import ROOT

REAL = ROOT / "benchmarks" / "real"


def test_the_split_files_are_what_the_script_makes_of_the_pool() -> None:
    proc = subprocess.run(
        [sys.executable, str(REAL / "split.py"), "--check"], capture_output=True, text=True, timeout=120
    )
    assert proc.returncode == 0, proc.stderr


def test_corpus_size_forms_and_sources() -> None:
    items = [i for name in ("fit", "dev", "test") for i in load_eval_file(REAL / f"{name}.yaml")]
    on = [i for i in items if i.on_topic]
    assert len(on) >= 400 and len(items) - len(on) >= 120
    forms = Counter(i.form for i in items)
    assert all(forms[f] >= 0.15 * len(items) for f in ("short", "post", "paste")), forms
    threads = Counter(i.source.split("#", 1)[0] for i in items)
    assert all(i.source.startswith("https://") for i in items)
    assert max(threads.values()) == 1, "one item per thread"


def test_every_label_is_an_entry_or_a_known_gap(shipped_kb: KnowledgeBase) -> None:
    for name in ("fit", "dev", "test"):
        for item in load_eval_file(REAL / f"{name}.yaml"):
            if item.on_topic and not item.gap:
                assert item.expect in shipped_kb.entries, (name, item.expect)
            assert set(item.also) <= set(shipped_kb.entries), (name, item.also)


def test_no_thread_straddles_two_splits() -> None:
    seen: dict[str, str] = {}
    for name in ("fit", "dev", "test"):
        for item in load_eval_file(REAL / f"{name}.yaml"):
            thread = item.source.split("#", 1)[0].rstrip("/")
            assert seen.setdefault(thread, name) == name, thread
