"""The health and metrics endpoints: /healthz, /readyz and /metrics on KUBEBOT_HTTP_PORT.

A deliberately small HTTP/1.1 server on asyncio streams (the core has no web framework): GET
or HEAD, one request per connection, bounded header size and read time.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable

from bot.metrics import CONTENT_TYPE, METRICS, Metrics

log = logging.getLogger("kubebot.http")

READ_TIMEOUT_S = 5.0
MAX_HEADER_BYTES = 16 * 1024
_REASONS = {
    200: "OK",
    400: "Bad Request",
    404: "Not Found",
    405: "Method Not Allowed",
    503: "Service Unavailable",
}


class HealthServer:
    """Serves probes and metrics; ``ready`` decides /readyz (200 when true, 503 otherwise)."""

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
        self._server: asyncio.Server | None = None

    @property
    def port(self) -> int:
        """The bound port (the real one when started on port 0)."""
        if self._server is not None and self._server.sockets:
            return int(self._server.sockets[0].getsockname()[1])
        return self._port

    async def start(self) -> None:
        self._server = await asyncio.start_server(
            self._handle, self.host, self._port, reuse_address=True, limit=MAX_HEADER_BYTES
        )
        log.info("event=http_listening host=%s port=%d paths=/healthz,/readyz,/metrics", self.host, self.port)

    async def stop(self) -> None:
        server, self._server = self._server, None
        if server is not None:
            server.close()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(server.wait_closed(), timeout=2.0)

    def route(self, method: str, path: str) -> tuple[int, str, str]:
        """(status, content type, body) for a request; kept apart from the socket for clarity."""
        path = path.split("?", 1)[0]
        if path not in ("/healthz", "/readyz", "/metrics"):
            return 404, "text/plain; charset=utf-8", "not found: try /healthz, /readyz or /metrics\n"
        if method not in ("GET", "HEAD"):
            return 405, "text/plain; charset=utf-8", "method not allowed\n"
        if path == "/healthz":
            return 200, "text/plain; charset=utf-8", "ok\n"
        if path == "/readyz":
            ready = self._safe_ready()
            detail = self._safe_detail()
            body = ("ready\n" if ready else "not ready\n") + (f"{detail}\n" if detail else "")
            return (200 if ready else 503), "text/plain; charset=utf-8", body
        return 200, CONTENT_TYPE, self._metrics.render()

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

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), READ_TIMEOUT_S)
            request_line = head.split(b"\r\n", 1)[0].decode("latin-1")
            parts = request_line.split()
            if len(parts) != 3 or not parts[2].startswith("HTTP/"):
                status, ctype, body = 400, "text/plain; charset=utf-8", "bad request\n"
                method = "GET"
            else:
                method = parts[0].upper()
                status, ctype, body = self.route(method, parts[1])
            payload = body.encode("utf-8")
            headers = (
                f"HTTP/1.1 {status} {_REASONS.get(status, 'OK')}\r\n"
                f"Content-Type: {ctype}\r\n"
                f"Content-Length: {len(payload)}\r\n"
                "Cache-Control: no-store\r\n"
                "Connection: close\r\n\r\n"
            ).encode("latin-1")
            writer.write(headers if method == "HEAD" else headers + payload)
            await writer.drain()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ConnectionError):
            pass  # a probe that went away or sent garbage: nothing to answer
        except Exception:
            log.exception("event=http_request_failed")
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()
