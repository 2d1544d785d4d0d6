"""Hot reload of a copied fixture KB: good edits are served, broken ones are logged and ignored."""

from __future__ import annotations

import asyncio
import gc
import logging
import os
import signal
import sys
import threading
import time
import weakref
from pathlib import Path

import pytest

from bot.app import build_service
from bot.matching import Matcher
from bot.metrics import Metrics
from bot.models import ReplyKind
from bot.reload import KnowledgeReloader, fingerprint
from bot.service import QAService
from tests.helpers import sample

NEW_QUESTION = "what is a pod anyway in plain words"


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    stamp = path.stat().st_mtime_ns
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    # make the change visible even on a filesystem with coarse timestamps
    os.utime(path, ns=(stamp + 1_000_000_000, max(stamp + 1_000_000_000, path.stat().st_mtime_ns)))


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


POD_QUESTIONS = "questions: [what is a pod,"
POD_ANSWER = "answer: A Pod is a group"


def test_check_reloads_only_on_change_and_keeps_the_last_good_kb(
    kb_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    service = build_service(kb_dir)
    m = Metrics()
    reloader = KnowledgeReloader(service.holder, kb_dir, metrics=m)
    entries = kb_dir / "entries.yaml"
    assert reloader.check() is None  # nothing changed

    edit(entries, POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")
    first = service.holder.current
    assert reloader.check() is True
    assert service.holder.current is not first
    assert service.answer(NEW_QUESTION).entry is not None
    assert service.answer(NEW_QUESTION).entry.id == "pod"  # type: ignore[union-attr]

    good = service.holder.current
    broken_line = line_of(entries, POD_ANSWER)
    edit(entries, POD_ANSWER, "answr: A Pod is a group")  # an unknown key, and no answer any more
    with caplog.at_level(logging.INFO, logger="kubebot.reload"):
        assert reloader.check() is False
    assert service.holder.current is good  # still serving the last good knowledge base
    assert service.answer(NEW_QUESTION).kind is ReplyKind.ANSWER
    problems = [r.getMessage() for r in caplog.records if "event=kb_reload_problem" in r.getMessage()]
    assert problems and all(f"location={entries}:" in p for p in problems)
    assert any(f"location={entries}:{broken_line} " in p for p in problems), problems
    assert any(
        "event=kb_reload_failed" in r.getMessage() and "kept_entries=9" in r.getMessage()
        for r in caplog.records
    )
    assert reloader.check() is None  # the same broken files are not reloaded again and again

    edit(entries, "answr: A Pod is a group", POD_ANSWER)
    assert reloader.check() is True
    assert sample(m, "kubebot_kb_reloads_total", result="ok") == 2
    assert sample(m, "kubebot_kb_reloads_total", result="failed") == 1
    assert sample(m, "kubebot_kb_entries") == 9


def test_adding_and_deleting_files_is_a_change(kb_dir: Path) -> None:
    before = fingerprint(kb_dir)
    extra = kb_dir / "more" / "extra.yaml"
    extra.parent.mkdir()
    extra.write_text("entries: []\n")
    assert fingerprint(kb_dir) != before
    extra.unlink()
    assert fingerprint(kb_dir) == before
    (kb_dir / "notes.txt").write_text("editors leave files around")
    assert fingerprint(kb_dir) == before


async def test_questions_in_flight_during_reloads_all_get_answers(kb_dir: Path) -> None:
    service: QAService = build_service(kb_dir)
    reloader = KnowledgeReloader(service.holder, kb_dir, interval=0.02, settle=0.01, metrics=Metrics())
    entries = kb_dir / "entries.yaml"
    answers: list[str | None] = []
    errors: list[BaseException] = []
    stop = threading.Event()

    def ask_in_a_loop() -> None:  # another thread, like a platform SDK's worker
        while not stop.is_set():
            try:
                reply = service.answer("what is a pod")
                answers.append(reply.entry.id if reply.entry else None)
            except BaseException as exc:
                errors.append(exc)

    async def wait_for(condition: object, what: str) -> None:
        deadline = time.monotonic() + 5
        while not callable(condition) or not condition():
            assert time.monotonic() < deadline, what
            await asyncio.sleep(0.01)

    worker = threading.Thread(target=ask_in_a_loop)
    worker.start()
    await reloader.start(sighup=False)
    try:
        reloads = service.holder.reloads
        edit(entries, POD_ANSWER, "answr: A Pod is a group")  # broken
        await wait_for(lambda: reloader.failures == 1, "the broken edit was looked at")
        edit(entries, "answr: A Pod is a group", POD_ANSWER)  # fixed
        await wait_for(lambda: service.holder.reloads == reloads + 1, "the fixed edit was loaded")
        edit(entries, POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")  # a new alternate
        await wait_for(lambda: service.holder.reloads == reloads + 2, "the new alternate was loaded")
        await asyncio.sleep(0.05)
    finally:
        stop.set()
        worker.join(5)
        await reloader.stop()
    assert errors == []
    assert len(answers) > 50 and set(answers) == {"pod"}  # every question answered, none failed
    assert service.answer(NEW_QUESTION).kind is ReplyKind.ANSWER


async def test_the_served_and_each_reloaded_matcher_are_warmed_before_questions_pay_for_it(
    kb_dir: Path,
) -> None:
    service = build_service(kb_dir)
    first = service.holder.current.matcher
    assert not any(first._alternates._spelt)  # nothing asked yet
    reloader = KnowledgeReloader(service.holder, kb_dir, interval=0, metrics=Metrics())
    await reloader.start(sighup=False)
    try:
        assert await asyncio.to_thread(reloader.warmed.wait, 5), "the served matcher was not warmed"
        assert all(first._alternates._spelt) and None not in first._facts._facts
        edit(kb_dir / "entries.yaml", POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")
        assert await asyncio.to_thread(reloader.check) is True
        swapped = service.holder.current.matcher
        assert swapped is not first and all(swapped._alternates._spelt)  # warm when it was swapped in
        assert None not in swapped._facts._facts  # its answer texts too
        assert swapped.warm() == 0  # nothing left for the questions to do
    finally:
        await reloader.stop()


async def test_a_reload_is_warm_before_it_serves(kb_dir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The keys and the answer texts are read before the swap, while the warm snapshot before it
    serves: swapped in cold, a 10k-entry knowledge base's answers read the answer texts on their
    own time and fell behind for ~0.5 s (`benchmarks/bench_reload.py`)."""
    service = build_service(kb_dir)
    reloader = KnowledgeReloader(service.holder, kb_dir, interval=0, metrics=Metrics())
    seen: list[tuple[bool, bool, bool]] = []  # (keys, answers, served yet) per warm-up
    warm = Matcher.warm

    def watched(self: Matcher, keys: bool = True, answers: bool = True, stop: object = None) -> int:
        seen.append((keys, answers, service.holder.current.matcher is self))
        return warm(self, keys, answers, stop)  # type: ignore[arg-type]

    monkeypatch.setattr(Matcher, "warm", watched)
    edit(kb_dir / "entries.yaml", POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")
    assert await asyncio.to_thread(reloader.check) is True
    assert seen == [(True, True, False)]


def test_a_replaced_matcher_is_freed_a_part_at_a_time_unless_a_question_still_holds_it(kb_dir: Path) -> None:
    alone = build_service(kb_dir).holder.current.matcher
    alone.warm()
    parts = len(vars(alone))
    steps = sum(1 for _ in alone.release())
    assert steps > parts and vars(alone) == {}  # each part in its own step, the entry facts in more

    # the swap hands the last reference over; a question still holding the matcher keeps it whole
    service = build_service(kb_dir)
    reloader = KnowledgeReloader(service.holder, kb_dir, interval=0, metrics=Metrics())
    edit(kb_dir / "entries.yaml", POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")
    assert reloader.check() is True
    held = service.holder.current.matcher
    gone = weakref.ref(service.holder.current)
    edit(kb_dir / "entries.yaml", NEW_QUESTION, "what is a pod in plain words please")
    assert reloader.check() is True
    best = held.match("what is a pod").best  # still whole: it answers
    assert gone() is None and best is not None and best.entry_id == "pod"
    freed = weakref.ref(service.holder.current.matcher)
    edit(kb_dir / "entries.yaml", "what is a pod in plain words please", NEW_QUESTION)
    assert reloader.check() is True
    assert freed() is None


async def test_a_failing_warm_up_costs_speed_only(
    kb_dir: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A bug in the warm-up (forced here: nothing real fails it) neither stops the watcher nor
    fails a reload: the new snapshot serves, cold."""

    def broken(self: Matcher, keys: bool = True, answers: bool = True, stop: object = None) -> int:
        raise RuntimeError("warm-up bug")

    monkeypatch.setattr(Matcher, "warm", broken)
    service = build_service(kb_dir)
    reloader = KnowledgeReloader(service.holder, kb_dir, interval=0.02, settle=0.01, metrics=Metrics())
    caplog.set_level(logging.INFO, logger="kubebot.reload")
    await reloader.start(sighup=False)
    try:
        edit(kb_dir / "entries.yaml", POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")
        deadline = time.monotonic() + 5
        # start-up, then the reload's, before the swap
        while sum("event=kb_warm_error" in r.getMessage() for r in caplog.records) < 2:
            assert time.monotonic() < deadline, "the edit was not reloaded and warmed"
            await asyncio.sleep(0.01)
    finally:
        await reloader.stop()
    assert reloader.failures == 0 and service.holder.reloads == 1
    assert service.answer(NEW_QUESTION).kind is ReplyKind.ANSWER


async def test_sighup_reloads_without_polling(kb_dir: Path) -> None:
    service = build_service(kb_dir)
    reloader = KnowledgeReloader(service.holder, kb_dir, interval=0, metrics=Metrics())
    await reloader.start()
    try:
        edit(kb_dir / "entries.yaml", POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")
        await asyncio.sleep(0.05)
        assert service.holder.reloads == 0  # no polling with interval 0
        os.kill(os.getpid(), signal.SIGHUP)
        deadline = time.monotonic() + 5
        while service.holder.reloads == 0:
            assert time.monotonic() < deadline, "SIGHUP did not reload"
            await asyncio.sleep(0.01)
        assert service.answer(NEW_QUESTION).kind is ReplyKind.ANSWER
    finally:
        await reloader.stop()
    assert signal.getsignal(signal.SIGHUP) == signal.SIG_DFL  # the handler is removed on stop


def test_a_configmap_style_symlink_swap_is_a_change(tmp_path: Path) -> None:
    """Kubernetes updates a mounted ConfigMap by pointing ..data at a new directory."""
    root = tmp_path / "kb"
    first = root / "..2026_01_01_00_00_00.1"
    first.mkdir(parents=True)
    (first / "entries.yaml").write_text("entries: []\n")
    (root / "..data").symlink_to(first.name)
    (root / "entries.yaml").symlink_to("..data/entries.yaml")
    before = fingerprint(root)
    second = root / "..2026_01_01_00_05_00.2"
    second.mkdir()
    (second / "entries.yaml").write_text("entries: [] # edited\n")
    (root / "..data_tmp").symlink_to(second.name)
    (root / "..data_tmp").rename(root / "..data")
    assert fingerprint(root) != before


def test_a_big_knowledge_base_is_rebuilt_in_a_separate_process(
    kb_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    cache = (tmp_path / "cache",)
    service = build_service(kb_dir)
    reloader = KnowledgeReloader(service.holder, kb_dir, metrics=Metrics(), isolate=True, cache=cache)
    entries = kb_dir / "entries.yaml"

    def no_build_here(*args: object) -> None:
        raise AssertionError("indexed in the serving process")

    monkeypatch.setattr(Matcher, "build_index", no_build_here)  # the build process starts afresh
    edit(entries, POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")
    with caplog.at_level(logging.INFO, logger="kubebot.reload"):
        assert reloader.reload() is True
    done = [r.getMessage() for r in caplog.records if "event=kb_reloaded" in r.getMessage()]
    assert len(done) == 1 and "isolated=True" in done[0]
    assert len(list(cache[0].glob("index-*.npz"))) == 1  # written there, read here
    assert service.answer(NEW_QUESTION).entry.id == "pod"  # type: ignore[union-attr]
    good = service.holder.current
    broken_line = line_of(entries, POD_ANSWER)
    edit(entries, POD_ANSWER, "answr: A Pod is a group")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="kubebot.reload"):
        assert reloader.reload() is False
    assert service.holder.current is good
    problems = [r.getMessage() for r in caplog.records if "event=kb_reload_problem" in r.getMessage()]
    assert any(f"location={entries}:{broken_line} " in p for p in problems), problems


def test_a_small_knowledge_base_or_no_cache_builds_in_this_process(kb_dir: Path, tmp_path: Path) -> None:
    service = build_service(kb_dir)
    small = KnowledgeReloader(service.holder, kb_dir, metrics=Metrics(), cache=(tmp_path / "c",))
    uncached = KnowledgeReloader(service.holder, kb_dir, metrics=Metrics(), isolate=True, cache=())
    assert not small._isolated() and not uncached._isolated()
    assert KnowledgeReloader(service.holder, kb_dir, metrics=Metrics(), isolate=True)._isolated()


def test_a_reload_leaves_the_cycle_collector_nothing_to_walk_and_frees_the_old_kb(kb_dir: Path) -> None:
    """The new snapshot is frozen before cyclic collection resumes (else the first collection walks
    every object of the new knowledge base while answers wait), and the replaced one is freed."""
    service = build_service(kb_dir)
    reloader = KnowledgeReloader(service.holder, kb_dir, metrics=Metrics())
    old_entry = service.holder.current.kb.entries["pod"]
    edit(kb_dir / "entries.yaml", POD_QUESTIONS, f"questions: [{NEW_QUESTION}, what is a pod,")
    collections: list[int] = []

    def record(phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            collections.append(info["generation"])

    gc.collect()
    gc.callbacks.append(record)
    try:
        assert reloader.reload() is True
    finally:
        gc.callbacks.remove(record)
    assert collections == []
    assert service.holder.current.kb.entries["pod"] is not old_entry
    assert sys.getrefcount(old_entry) == 2  # this test's reference and getrefcount's: the old KB is gone
