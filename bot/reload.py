"""Knowledge-base hot reload: poll the YAML files' mtimes every few seconds, and reload on SIGHUP.

A reload loads and validates the whole directory in a worker thread, builds a new `Snapshot`
and swaps it into the holder in one reference assignment, so questions in flight finish on the
snapshot they started with. When the new knowledge base does not validate, the last good one
keeps serving and every problem is logged as ``path:line: message``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import threading
import time
from pathlib import Path

from bot.knowledge import KnowledgeError
from bot.metrics import METRICS, Metrics, count_reload, set_kb_entries
from bot.service import KnowledgeHolder, Snapshot

log = logging.getLogger("kubebot.reload")

DEFAULT_INTERVAL_S = 2.0
SETTLE_S = 0.2  # a change must hold still this long, so a half-saved file is not loaded

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
    ) -> None:
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
        self._sighup = False
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
            started = time.perf_counter()
            previous = self.holder.current
            try:
                snapshot = Snapshot.load(self.kb_dir, previous.matcher.settings)
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
                "event=kb_reloaded dir=%s entries=%d previous=%d took_ms=%d",
                self.kb_dir,
                len(kb.entries),
                len(previous.kb.entries),
                (time.perf_counter() - started) * 1000,
            )
            return True

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

    async def _run(self) -> None:
        assert self._wake is not None
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
