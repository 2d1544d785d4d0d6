"""Shared fixtures: the small fixture KB and the shipped one, each loaded once per session."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from bot.knowledge import KnowledgeBase, load_knowledge
from bot.service import KnowledgeHolder, QAService, Snapshot

ROOT = Path(__file__).resolve().parent.parent
FIXTURE_KB = ROOT / "tests" / "fixtures" / "kb"
SHIPPED_KB = ROOT / "knowledge"
EVAL_DIR = ROOT / "tests" / "eval"


@pytest.fixture(scope="session", autouse=True)
def _index_cache_in_a_temporary_directory(tmp_path_factory: pytest.TempPathFactory) -> Iterator[None]:
    """The index cache (`bot.kbcache`) goes to a temporary directory, never the user's home, also
    for the kubebot processes tests start with the KUBEBOT_* settings cleared."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("KUBEBOT_INDEX_CACHE", str(tmp_path_factory.mktemp("index-cache")))
        mp.setenv("XDG_CACHE_HOME", str(tmp_path_factory.mktemp("xdg-cache")))
        yield


@pytest.fixture(scope="session")
def fixture_kb() -> KnowledgeBase:
    return load_knowledge(FIXTURE_KB)


@pytest.fixture(scope="session")
def shipped_kb() -> KnowledgeBase:
    return load_knowledge(SHIPPED_KB)


@pytest.fixture(scope="session")
def shipped_snapshot(shipped_kb: KnowledgeBase) -> Snapshot:
    return Snapshot.build(shipped_kb)


@pytest.fixture
def fixture_service(fixture_kb: KnowledgeBase) -> QAService:
    return QAService(KnowledgeHolder(Snapshot.build(fixture_kb)))


pytest_plugins = ["tests.skips"]  # with CI=true, a skip fails unless tests/allowed_skips.py lists it
