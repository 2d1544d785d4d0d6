"""The index cache: keyed by content, rebuilt when stale, ignored (with one log line) when broken,
and never a format that runs code when loaded."""

from __future__ import annotations

import json
import logging
import os
import shutil
import zipfile
from pathlib import Path

import numpy as np
import pytest

from bot.index import Index
from bot.kbcache import cache_key, default_dirs, load_indexed, read
from bot.knowledge import KnowledgeBase, KnowledgeError
from bot.match_settings import MatchSettings
from bot.matching import Matcher
from bot.service import Snapshot
from bot.text import Normalizer
from tests.conftest import FIXTURE_KB

SETTINGS = MatchSettings()


class Builds:
    """A build function that counts how often the cache missed."""

    def __init__(self) -> None:
        self.count = 0

    def __call__(self, kb: KnowledgeBase) -> Index:
        self.count += 1
        return Matcher.build_index(list(kb.entries.values()), Normalizer(kb.synonyms), SETTINGS)


@pytest.fixture
def kb_copy(tmp_path: Path) -> Path:
    target = tmp_path / "kb"
    shutil.copytree(FIXTURE_KB, target)
    return target


def load(kb_dir: Path, cache: Path, builds: Builds) -> tuple[KnowledgeBase, Index]:
    return load_indexed(kb_dir, SETTINGS.index_settings(), builds, (cache,))


def test_a_second_load_reads_the_cache_and_gives_the_same_answers(kb_copy: Path, tmp_path: Path) -> None:
    builds = Builds()
    kb, index = load(kb_copy, tmp_path / "cache", builds)
    again, cached = load(kb_copy, tmp_path / "cache", builds)
    assert builds.count == 1 and len(list((tmp_path / "cache").glob("index-*.npz"))) == 1
    assert again == kb  # entries, synonyms, tours, domain words: all of them
    for name, value in index.arrays().items():
        assert np.array_equal(value, getattr(cached, name)), name
    assert (cached.tokens, cached.words, cached.ascii) == (index.tokens, index.words, index.ascii)
    fresh, from_cache = Snapshot.build(kb, index=index), Snapshot.build(again, index=cached)
    for q in ("what is a pod", "pod keeps crashing crashloopbackof", "how do I scale a deployment"):
        assert fresh.matcher.evidence(q) == from_cache.matcher.evidence(q)


def test_a_changed_file_misses_and_an_untouched_one_hits_whatever_its_mtime(
    kb_copy: Path, tmp_path: Path
) -> None:
    builds = Builds()
    cache = tmp_path / "cache"
    load(kb_copy, cache, builds)
    entries = kb_copy / "entries.yaml"
    stamp = entries.stat().st_mtime_ns
    os.utime(entries, ns=(stamp + 5_000_000_000, stamp + 5_000_000_000))  # touched, same bytes
    load(kb_copy, cache, builds)
    assert builds.count == 1
    text = entries.read_text(encoding="utf-8")
    changed = text.replace("what is a pod", "what is a pod anyway", 1)
    assert changed != text
    entries.write_text(changed, encoding="utf-8")
    os.utime(entries, ns=(stamp, stamp))  # even with the old timestamp: keyed by content
    kb, _ = load(kb_copy, cache, builds)
    assert builds.count == 2
    assert "what is a pod anyway" in kb.entries["pod"].questions
    load(kb_copy, cache, builds)
    assert builds.count == 2


def test_the_key_covers_content_settings_and_location(kb_copy: Path, tmp_path: Path) -> None:
    base = cache_key(kb_copy, SETTINGS.index_settings())
    assert cache_key(kb_copy, SETTINGS.index_settings()) == base
    assert cache_key(kb_copy, MatchSettings(postings_cap=5).index_settings()) != base
    moved = tmp_path / "elsewhere"
    shutil.copytree(kb_copy, moved)
    assert cache_key(moved, SETTINGS.index_settings()) != base  # entries remember their paths
    (kb_copy / "more.yaml").write_text("entries: []\n", encoding="utf-8")
    assert cache_key(kb_copy, SETTINGS.index_settings()) != base


def test_a_corrupt_cache_is_ignored_with_one_log_line_and_rewritten(
    kb_copy: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    builds = Builds()
    cache = tmp_path / "cache"
    load(kb_copy, cache, builds)
    (path,) = cache.glob("index-*.npz")
    path.write_bytes(path.read_bytes()[:300])  # truncated
    with caplog.at_level(logging.INFO, logger="kubebot.cache"):
        kb, _ = load(kb_copy, cache, builds)
    lines = [r.getMessage() for r in caplog.records if r.name == "kubebot.cache"]
    assert len(lines) == 1 and "event=index_cache_unreadable" in lines[0] and str(path) in lines[0]
    assert builds.count == 2 and "pod" in kb.entries
    caplog.clear()
    load(kb_copy, cache, builds)  # rewritten: read quietly now
    assert builds.count == 2 and not caplog.records


def test_a_pickle_in_the_cache_is_refused_not_run(kb_copy: Path, tmp_path: Path) -> None:
    builds = Builds()
    cache = tmp_path / "cache"
    load(kb_copy, cache, builds)
    (path,) = cache.glob("index-*.npz")
    key = cache_key(kb_copy, SETTINGS.index_settings())
    with zipfile.ZipFile(path) as z:
        members = {name: z.read(name) for name in z.namelist()}
    with zipfile.ZipFile(path, "w") as z:  # an object array (a pickle) where numbers belong
        for name, data in members.items():
            if name != "ix_idf.npy":
                z.writestr(name, data)
        with z.open("ix_idf.npy", "w") as fh:
            np.save(fh, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with pytest.raises(ValueError, match="allow_pickle"):
        read(path, key)
    load(kb_copy, cache, builds)
    assert builds.count == 2


def test_a_file_written_for_another_key_is_not_trusted(kb_copy: Path, tmp_path: Path) -> None:
    builds = Builds()
    cache = tmp_path / "cache"
    load(kb_copy, cache, builds)
    (path,) = cache.glob("index-*.npz")
    with pytest.raises(ValueError, match="another"):
        read(path, "0" * 64)
    with np.load(path) as data:
        meta = json.loads(data["meta"].tobytes())
    assert meta["key"] == cache_key(kb_copy, SETTINGS.index_settings())


def test_a_broken_knowledge_base_is_never_cached(kb_copy: Path, tmp_path: Path) -> None:
    (kb_copy / "entries.yaml").write_text("entries: [{id: x}]\n", encoding="utf-8")
    with pytest.raises(KnowledgeError):
        load(kb_copy, tmp_path / "cache", Builds())
    assert not list((tmp_path / "cache").glob("*.npz"))


def test_where_the_cache_lives() -> None:
    assert default_dirs({"KUBEBOT_INDEX_CACHE": "off"}) == ()
    assert default_dirs({"KUBEBOT_INDEX_CACHE": "/srv/cache"}) == (Path("/srv/cache"),)
    xdg = default_dirs({"XDG_CACHE_HOME": "/x", "KUBEBOT_DB": "/data/kubebot.db"})
    assert xdg == (Path("/x/kubebot"), Path("/data/index-cache"))
    home = default_dirs({"HOME": "/home/u", "KUBEBOT_DB": "postgresql://db/kubebot"})
    assert home == (Path("/home/u/.cache/kubebot"),)


def test_an_unwritable_first_directory_falls_back_to_the_next(kb_copy: Path, tmp_path: Path) -> None:
    blocked = tmp_path / "blocked"
    blocked.write_text("a file where a directory should be")
    builds = Builds()
    dirs = (blocked, tmp_path / "next-to-db")
    load_indexed(kb_copy, SETTINGS.index_settings(), builds, dirs)
    load_indexed(kb_copy, SETTINGS.index_settings(), builds, dirs)
    assert builds.count == 1 and len(list((tmp_path / "next-to-db").glob("index-*.npz"))) == 1


def test_the_key_covers_every_module_and_data_file_the_index_is_built_from() -> None:
    """The build's own imports within `bot`, transitively, and the semantic vectors: a change to any
    of them must miss (a new bot/data/semantic.npz once met stale entry vectors from the cache)."""
    import ast

    from bot import kbcache

    package = Path(kbcache.__file__).parent
    needed, todo = {"matching.py"}, ["index.py", "semantic.py"]  # Matcher.build_index calls these
    while todo:
        name = todo.pop()
        if name in needed:
            continue
        needed.add(name)
        for node in ast.walk(ast.parse((package / name).read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("bot."):
                path = node.module.removeprefix("bot.").replace(".", "/") + ".py"
                if (package / path).is_file():
                    todo.append(path)
            elif isinstance(node, ast.ImportFrom) and node.module == "bot":
                todo += [
                    f"{alias.name}.py" for alias in node.names if (package / f"{alias.name}.py").is_file()
                ]
    assert {"index.py", "corpus.py", "analysis.py", "semantic.py"} <= needed
    assert needed | {"data/semantic.npz"} <= set(kbcache._ENGINE)
