"""The health and metrics endpoints: /healthz, /readyz and /metrics on KUBEBOT_HTTP_PORT.

An aiohttp application: /metrics is prometheus-client's own handler (it negotiates the text or
OpenMetrics format and compression); /healthz and /readyz are plain text. GET and HEAD only.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from bot.metrics import METRICS, Metrics

log = logging.getLogger("kubebot.http")

STOP_TIMEOUT_S = 2.0  # the probe server's share of the shutdown budget (bot.runtime)
PATHS = ("/healthz", "/readyz", "/metrics")
Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


class HealthServer:
    """Serves probes and metrics; ``ready`` decides /readyz (200 when true, 503 otherwise) and
    ``detail`` adds a line under it (the store's state)."""

    def __init__(
        self,
        port: int,
        *,
        host: str = "0.0.0.0",
        ready: Callable[[], bool] = lambda: True,
        detail: Callable[[], str] = lambda: "",
        metrics: Metrics | None = None,
    ) -> None:
        self.host = host
        self._port = port
        self._ready = ready
        self._detail = detail
        self._metrics = metrics or METRICS
        self._runner: web.AppRunner | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when started on port 0)."""
        addresses = self._runner.addresses if self._runner is not None else []
        return int(addresses[0][1]) if addresses else self._port

    def build_app(self) -> web.Application:
        app = web.Application(middlewares=[_no_store])
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._readyz)
        app.router.add_get("/metrics", make_aiohttp_handler(self._metrics.registry))
        return app

    async def start(self) -> None:
        runner = web.AppRunner(self.build_app(), access_log=None, shutdown_timeout=STOP_TIMEOUT_S)
        await runner.setup()
        try:
            await web.TCPSite(runner, self.host, self._port, reuse_address=True).start()
        except BaseException:
            await runner.cleanup()
            raise
        self._runner = runner
        log.info("event=http_listening host=%s port=%d paths=%s", self.host, self.port, ",".join(PATHS))

    async def stop(self) -> None:
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def _healthz(self, _: web.Request) -> web.Response:
        return web.Response(text="ok\n")

    async def _readyz(self, _: web.Request) -> web.Response:
        ready = self._safe_ready()
        detail = self._safe_detail()
        body = ("ready\n" if ready else "not ready\n") + (f"{detail}\n" if detail else "")
        return web.Response(text=body, status=200 if ready else 503)

    def _safe_detail(self) -> str:
        try:
            return self._detail()
        except Exception:
            log.exception("event=readiness_detail_failed")
            return ""

    def _safe_ready(self) -> bool:
        try:
            return bool(self._ready())
        except Exception:
            log.exception("event=readiness_check_failed")
            return False


@web.middleware
async def _no_store(request: web.Request, handler: Handler) -> web.StreamResponse:
    """Probes and scrapes are never cached; an unknown path names the three that exist."""
    try:
        response = await handler(request)
    except web.HTTPNotFound:
        response = web.Response(status=404, text=f"not found: try {', '.join(PATHS)}\n")
    response.headers["Cache-Control"] = "no-store"
    return response
