"""What runs next to an adapter while serving: the store recorder, /metrics + probes, hot reload.

The runtime builds the service, then::

    background = start_background(service, settings)
    await background.start()          # store writer thread, HTTP server, KB watcher (+ SIGHUP)
    ...                               # the adapter connects, then: background.set_ready(True)
    await background.stop()           # flushes the store queue (bounded), closes everything

/readyz answers 200 once the knowledge base is loaded and the adapter said it is connected.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from types import TracebackType

from bot.config import ConfigError, CoreSettings, env_float, merged_env
from bot.http import HealthServer
from bot.metrics import METRICS, Metrics
from bot.ports import Recorder
from bot.reload import DEFAULT_INTERVAL_S, KnowledgeReloader
from bot.service import QAService
from bot.store import describe, open_store
from bot.store.recorder import MetricsRecorder, StoreRecorder

log = logging.getLogger("kubebot.background")

STOP_FLUSH_S = 5.0


@dataclass(frozen=True, slots=True)
class BackgroundSettings:
    reload_interval: float = DEFAULT_INTERVAL_S  # KUBEBOT_RELOAD_INTERVAL seconds; 0 = only on SIGHUP
    http_host: str = "0.0.0.0"  # KUBEBOT_HTTP_HOST
    store_retry: float = 30.0  # KUBEBOT_STORE_RETRY: seconds between reconnects while the store is down

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> BackgroundSettings:
        e = merged_env(env)
        return cls(
            reload_interval=env_float(
                e, "KUBEBOT_RELOAD_INTERVAL", DEFAULT_INTERVAL_S, minimum=0, what="a number of seconds"
            ),
            http_host=e.get("KUBEBOT_HTTP_HOST", "").strip() or "0.0.0.0",
            store_retry=env_float(e, "KUBEBOT_STORE_RETRY", 30.0, minimum=0, what="a number of seconds"),
        )


class Background:
    """A handle on the background services; `start()` then `stop()` (or ``async with``)."""

    def __init__(
        self,
        service: QAService,
        settings: CoreSettings,
        *,
        options: BackgroundSettings | None = None,
        metrics: Metrics | None = None,
        env: Mapping[str, str] | None = None,
        wait_for_adapter: bool = True,
    ) -> None:
        self.service = service
        self.settings = settings
        self.options = options or BackgroundSettings.from_env(env)
        self.metrics = metrics or METRICS
        self._env = env
        self._adapter_ready = not wait_for_adapter
        self._started = False
        self._previous: Recorder | None = None
        self.recorder: StoreRecorder | None = None
        self.http: HealthServer | None = None
        self.reloader: KnowledgeReloader | None = None

    # -- readiness -----------------------------------------------------------------------------
    def set_ready(self, ready: bool = True) -> None:
        """The adapter calls this once connected (and with False when it loses the connection)."""
        self._adapter_ready = ready
        log.info("event=adapter_ready ready=%s", ready)

    def is_ready(self) -> bool:
        return self._started and self._adapter_ready and len(self.service.holder.current.kb.entries) > 0

    def _store_detail(self) -> str:
        """The store's state under /readyz (a store outage never makes the bot unready)."""
        return self.recorder.health().line() if self.recorder is not None else "store: not started"

    @property
    def http_port(self) -> int:
        return self.http.port if self.http is not None else self.settings.http_port

    # -- lifecycle -----------------------------------------------------------------------------
    async def start(self) -> None:
        if self._started:
            return
        where = describe(self.settings.db_url, self._env)
        db_url, env = self.settings.db_url, self._env
        self.recorder = StoreRecorder(
            lambda: open_store(db_url, env),
            store_questions=self.settings.store_questions,
            retry_seconds=self.options.store_retry,
            where=where,
            metrics=self.metrics,
        ).start()
        self._previous = self.service.recorder
        self.service.recorder = MetricsRecorder(self.recorder, self.metrics)
        self.http = HealthServer(
            self.settings.http_port,
            host=self.options.http_host,
            ready=self.is_ready,
            detail=self._store_detail,
            metrics=self.metrics,
        )
        try:
            await self.http.start()
        except OSError as exc:
            await self._close_recorder()
            raise ConfigError(
                f"cannot listen on {self.options.http_host}:{self.settings.http_port} for /metrics and "
                f"probes (KUBEBOT_HTTP_PORT): {exc.strerror or exc}"
            ) from None
        self.reloader = KnowledgeReloader(
            self.service.holder,
            self.service.holder.current.kb.root,
            interval=self.options.reload_interval,
            metrics=self.metrics,
        )
        await self.reloader.start()
        self._started = True
        log.info(
            "event=background_started store=%s http_port=%d store_questions=%s",
            where,
            self.http_port,
            self.settings.store_questions,
        )

    async def stop(self) -> None:
        self._started = False
        if self.reloader is not None:
            await self.reloader.stop()
            self.reloader = None
        if self.http is not None:
            await self.http.stop()
            self.http = None
        await self._close_recorder()
        log.info("event=background_stopped")

    async def _close_recorder(self) -> None:
        recorder, self.recorder = self.recorder, None
        if recorder is None:
            return
        if self._previous is not None:
            self.service.recorder = self._previous
            self._previous = None
        await asyncio.to_thread(recorder.close, STOP_FLUSH_S)
        if recorder.dropped:
            log.warning("event=store_records_dropped count=%d", recorder.dropped)

    async def __aenter__(self) -> Background:
        await self.start()
        return self

    async def __aexit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        await self.stop()


def start_background(
    service: QAService,
    settings: CoreSettings,
    *,
    env: Mapping[str, str] | None = None,
    metrics: Metrics | None = None,
    wait_for_adapter: bool = True,
) -> Background:
    """The handle the runtime starts with ``await background.start()`` before the adapter runs."""
    return Background(service, settings, env=env, metrics=metrics, wait_for_adapter=wait_for_adapter)
