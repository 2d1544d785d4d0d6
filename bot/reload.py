"""Knowledge-base hot reload: poll the YAML files' mtimes every few seconds, and reload on SIGHUP.

A reload loads and validates the whole directory and indexes it off the event loop, builds a new
`Snapshot` and swaps it into the holder in one reference assignment, so questions in flight finish
on the snapshot they started with. When the new knowledge base does not validate, the last good
one keeps serving and every problem is logged as ``path:line: message``.

A big knowledge base (more than ``ISOLATE_BYTES`` of YAML) is parsed and indexed in a separate
process, which writes the index cache (`bot.kbcache`) that the server then reads: a thread would
hold the interpreter lock for seconds and hold up the answers meanwhile. Reading the cache takes a
fraction of the build and yields the lock often.
"""

from __future__ import annotations

import asyncio
import contextlib
import gc
import json
import logging
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import asdict
from pathlib import Path

from bot.kbcache import default_dirs
from bot.knowledge import KnowledgeError, Problem, source_files
from bot.match_settings import MatchSettings
from bot.memory import paused_gc
from bot.metrics import METRICS, Metrics, count_reload, set_kb_entries
from bot.pacing import pace, paced
from bot.service import KnowledgeHolder, Snapshot

log = logging.getLogger("kubebot.reload")

DEFAULT_INTERVAL_S = 2.0
SETTLE_S = 0.2  # a change must hold still this long, so a half-saved file is not loaded
ISOLATE_BYTES = 2_000_000  # YAML beyond this is loaded and indexed in a separate process
BUILD_TIMEOUT_S = 600.0
SWITCH_INTERVAL_S = 0.0005  # the interpreter's thread switch interval while a snapshot is loaded
RELEASE_SLICE = 100  # entries of a replaced snapshot freed at a time (~0.4 ms under the interpreter lock)
RELEASE_REST_S = 0.008  # the freeing thread's rest after each 2 ms of work (`bot.pacing`)
RELEASE_WAIT_S = 2.0  # how long a replaced snapshot may stay busy with questions before it is freed

Fingerprint = tuple[tuple[str, int, int], ...]


def fingerprint(root: Path) -> Fingerprint:
    """(path, mtime_ns, size) of every YAML file under ``root``: any edit, add or delete changes it."""
    out: list[tuple[str, int, int]] = []
    try:
        files = sorted(p for p in root.rglob("*") if p.suffix in (".yaml", ".yml"))
    except OSError:
        return ()
    for path in files:
        try:
            st = path.stat()
        except OSError:  # deleted between the listing and the stat
            continue
        out.append((str(path), st.st_mtime_ns, st.st_size))
    return tuple(out)


@contextlib.contextmanager
def _yielding_often() -> Iterator[None]:
    """While this thread builds the new snapshot, hand the interpreter lock to the event loop
    every half millisecond rather than every five: an answer waits for the lock at each step, and
    at the default interval a second of loading holds answers up by tens of milliseconds."""
    interval = sys.getswitchinterval()
    sys.setswitchinterval(min(interval, SWITCH_INTERVAL_S))
    try:
        yield
    finally:
        sys.setswitchinterval(interval)


def release_gradually(box: list[Snapshot], wait_s: float = RELEASE_WAIT_S) -> None:
    """Free a replaced snapshot (the one in ``box``, the caller's last reference to it) a slice of
    entries at a time, handing the interpreter lock over between slices: freed in one go, a
    10,000-entry knowledge base is ~35 ms of deallocation under the lock, and every answer waits
    that long. Waits (up to ``wait_s``) for the questions still running on it."""
    previous = box.pop()
    deadline = time.monotonic() + wait_s
    # references: this frame's and getrefcount's own; more while questions still use it
    while sys.getrefcount(previous) > 2 and time.monotonic() < deadline:
        time.sleep(0.005)
    doomed = list(previous.kb.entries.values())
    matcher = previous.matcher
    # gentler than a build (freeing is not urgent): at an even share, answers on the new snapshot
    # fell behind for the ~0.2 s the freeing took at 10k entries
    with _yielding_often(), paced(rest_s=RELEASE_REST_S):
        del previous  # the entries stay alive through ``doomed``, the matcher through ``matcher``
        if sys.getrefcount(matcher) == 2:  # nothing else uses it: a part at a time (~35 ms in one go)
            for _ in matcher.release():
                pace()
        del matcher
        while doomed:
            del doomed[-RELEASE_SLICE:]
            pace()  # the event loop's turn now and then


def _warm(snapshot: Snapshot, stop: Callable[[], bool] | None = None) -> None:
    """`Matcher.warm`, logged; a failure is logged and costs only speed (the questions do the same
    work on their way), never the snapshot."""
    started = time.perf_counter()
    try:
        entries = snapshot.matcher.warm(stop=stop)
    except Exception:
        log.exception("event=kb_warm_error")
        return
    log.info(
        "event=kb_warmed entries=%d stopped=%s took_ms=%d",
        entries,
        stop is not None and stop(),
        (time.perf_counter() - started) * 1000,
    )


class KnowledgeReloader:
    """Watches ``kb_dir`` and swaps a freshly built snapshot into ``holder`` when it changes."""

    def __init__(
        self,
        holder: KnowledgeHolder,
        kb_dir: Path,
        *,
        interval: float = DEFAULT_INTERVAL_S,
        metrics: Metrics | None = None,
        settle: float = SETTLE_S,
        isolate: bool | None = None,
        cache: tuple[Path, ...] | None = None,
    ) -> None:
        """``isolate``: build in a separate process (None: when the knowledge base is big and the
        index cache is on); ``cache``: the index cache's directories (default: from the environment)."""
        self.holder = holder
        self.kb_dir = Path(kb_dir)
        self.interval = interval
        self.settle = settle
        self._metrics = metrics or METRICS
        self._last = fingerprint(self.kb_dir)
        self._lock = threading.Lock()
        self._wake: asyncio.Event | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task[None] | None = None
        self.warmed = threading.Event()  # set once the snapshot served at start-up is warm
        self._again = threading.Event()  # a reload was requested (the warm-up after a swap stops)
        self._sighup = False
        self._isolate = isolate
        self._cache = default_dirs() if cache is None else cache
        self.failures = 0
        set_kb_entries(len(holder.current.kb.entries), self._metrics)

    # -- synchronous core (also what tests drive) ----------------------------------------------
    def check(self) -> bool | None:
        """Reload when the files changed since the last look: True ok, False failed, None unchanged."""
        current = fingerprint(self.kb_dir)
        if current == self._last:
            return None
        self._last = current
        return self.reload()

    def reload(self) -> bool:
        """Load, validate and swap in the knowledge base now; keep the old one on any failure."""
        with self._lock:
            self._again.clear()
            started = time.perf_counter()
            previous = self.holder.current
            isolated = False
            settings = previous.matcher.settings
            try:
                if self._isolated():
                    isolated = True
                    self._build_elsewhere(settings)
                with _yielding_often(), paused_gc(trim=False), paced():
                    snapshot = Snapshot.load(self.kb_dir, settings, self._cache)
                    # warm before it serves, while the warm snapshot before it answers: a snapshot
                    # swapped in cold reads each candidate's answer text on the answer's time, and
                    # with this thread taking turns for the rest, answers fell behind and queued
                    # for ~0.5 s after the swap (p99 10-180 ms at 10k entries, bench_reload.py).
                    # A reload requested meanwhile stops it (the rest is read when asked).
                    _warm(snapshot, stop=self._again.is_set)
                    # a knowledge base is a few hundred thousand objects without cycles: left to
                    # the cycle collector, the first collection once it is back on would walk them
                    # all (60-90 ms at 10k entries, answers waiting); frozen before it is back on,
                    # they are left out (and freed by reference counting)
                    gc.freeze()
                kb = snapshot.kb
            except KnowledgeError as exc:
                for problem in exc.problems:
                    log.error(
                        "event=kb_reload_problem location=%s:%d message=%r",
                        problem.path,
                        problem.line,
                        problem.message,
                    )
                return self._failed(len(exc.problems), previous)
            except Exception:  # anything else (I/O, a bug): still keep serving the last good one
                log.exception("event=kb_reload_error dir=%s", self.kb_dir)
                return self._failed(1, previous)
            self.holder.swap(snapshot)
            count_reload(True, self._metrics)
            set_kb_entries(len(kb.entries), self._metrics)
            log.info(
                "event=kb_reloaded dir=%s entries=%d previous=%d took_ms=%d isolated=%s",
                self.kb_dir,
                len(kb.entries),
                len(previous.kb.entries),
                (time.perf_counter() - started) * 1000,
                isolated,
            )
            box = [previous]  # hand the last reference over
            del previous
            release_gradually(box)
            return True

    def _isolated(self) -> bool:
        if not self._cache:
            return False  # the separate process hands its result over through the cache
        if self._isolate is not None:
            return self._isolate
        return sum(f.stat().st_size for f in source_files(self.kb_dir) if f.is_file()) > ISOLATE_BYTES

    def _build_elsewhere(self, settings: MatchSettings) -> None:
        """Load, validate and index the knowledge base in a separate process (`kubebot kb index`,
        at a lower priority), into the cache; raise `KnowledgeError` with its problems when it
        does not validate."""
        command = [sys.executable, "-m", "bot", "kb", "index", str(self.kb_dir), "--json", "--nice"]
        command += ["--settings", json.dumps(asdict(settings))]
        for folder in self._cache:
            command += ["--cache", str(folder)]
        done = subprocess.run(command, capture_output=True, text=True, timeout=BUILD_TIMEOUT_S, check=False)
        if done.returncode == 0:
            return
        if done.returncode == 1:
            raise KnowledgeError([Problem(**p) for p in json.loads(done.stdout)["problems"]])
        raise RuntimeError(f"kubebot kb index exited {done.returncode}: {done.stderr.strip()[-500:]}")

    def _failed(self, problems: int, previous: Snapshot) -> bool:
        self.failures += 1
        count_reload(False, self._metrics)
        log.error(
            "event=kb_reload_failed dir=%s problems=%d kept_entries=%d",
            self.kb_dir,
            problems,
            len(previous.kb.entries),
        )
        return False

    # -- the asyncio side ----------------------------------------------------------------------
    def request_reload(self) -> None:
        """Reload as soon as possible (SIGHUP); safe to call from any thread."""
        loop, wake = self._loop, self._wake
        self._again.set()  # a warm-up in progress gives way
        if loop is not None and wake is not None:
            loop.call_soon_threadsafe(wake.set)

    async def start(self, *, sighup: bool = True) -> None:
        self._loop = asyncio.get_running_loop()
        self._wake = asyncio.Event()
        if sighup:
            try:
                self._loop.add_signal_handler(signal.SIGHUP, self.request_reload)
                self._sighup = True
            except (NotImplementedError, RuntimeError, ValueError, AttributeError):
                log.info("event=sighup_unavailable note=polling_only")
        self._task = asyncio.create_task(self._run(), name="kubebot-kb-reload")
        log.info("event=kb_watch dir=%s interval_s=%s sighup=%s", self.kb_dir, self.interval, self._sighup)

    async def stop(self) -> None:
        if self._sighup and self._loop is not None:
            with contextlib.suppress(Exception):
                self._loop.remove_signal_handler(signal.SIGHUP)
            self._sighup = False
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def warm(self) -> None:
        """Warm the serving snapshot's matcher (`Matcher.warm`) on this thread, pacing itself."""
        with _yielding_often(), paced():
            _warm(self.holder.current)
        self.warmed.set()

    async def _run(self) -> None:
        assert self._wake is not None
        await asyncio.to_thread(self.warm)  # the snapshot served from start-up; reloads warm their own
        timeout = self.interval if self.interval > 0 else None
        while True:
            forced = False
            try:
                await asyncio.wait_for(self._wake.wait(), timeout)
                forced = True
            except TimeoutError:
                pass
            self._wake.clear()
            try:
                await self._tick(forced)
            except Exception:  # the watcher must outlive any single failure
                log.exception("event=kb_watch_error")

    async def _tick(self, forced: bool) -> None:
        current = await asyncio.to_thread(fingerprint, self.kb_dir)
        if not forced:
            if current == self._last:
                return
            await asyncio.sleep(self.settle)
            if await asyncio.to_thread(fingerprint, self.kb_dir) != current:
                return  # still being written: look again next tick
        else:
            log.info("event=kb_reload_requested reason=sighup")
        self._last = current
        await asyncio.to_thread(self.reload)
