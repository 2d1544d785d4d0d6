"""Metrics exposition and the health server, scraped over a real loopback socket."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest
from prometheus_client.parser import text_string_to_metric_families

from bot import metrics as metrics_module
from bot.background import BackgroundSettings, start_background
from bot.config import ConfigError, CoreSettings
from bot.http import HealthServer
from bot.metrics import Metrics
from bot.models import ChannelType, Message, Platform, ReplyKind
from bot.service import QAService
from bot.store import open_store
from tests.helpers import sample

# the metric families the README documents (a counter's family drops `_total`)
DOCUMENTED = {
    "kubebot_questions",
    "kubebot_answer_latency_seconds",
    "kubebot_feedback",
    "kubebot_cluster_lookups",
    "kubebot_kb_entries",
    "kubebot_kb_reloads",
    "kubebot_store_dropped",
    "kubebot_store_up",
    "kubebot_claims_failed_open",
    "kubebot_replies_deferred",
    "kubebot_replies_redelivered",
    "kubebot_replies_given_up",
    "kubebot_requests_rejected",
}


async def http(port: int, request: str) -> tuple[int, dict[str, str], str]:
    """One raw request on its own connection (asked to close, so the response ends at EOF)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    request = request.replace("\r\n\r\n", "\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n", 1)
    writer.write(request.encode("latin-1"))
    await writer.drain()
    raw = await asyncio.wait_for(reader.read(), 5)
    writer.close()
    await writer.wait_closed()
    head, _, body = raw.partition(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    headers = dict(line.split(": ", 1) for line in lines[1:])
    return int(lines[0].split()[1]), headers, body.decode("utf-8")


async def get(port: int, path: str) -> tuple[int, dict[str, str], str]:
    return await http(port, f"GET {path} HTTP/1.1\r\n\r\n")


def test_the_scrape_parses_and_escapes_what_it_is_given() -> None:
    m = Metrics()
    metrics_module.observe_question("answered", "slack", 0.003, m)
    metrics_module.observe_question("declined", "discord", 0.2, m)
    metrics_module.count_feedback(False, m)
    metrics_module.count_cluster_lookup("denied", m)
    metrics_module.set_kb_entries(9, m)
    awkward = 'a "quoted"\nvalue\\'
    m.requests_rejected.labels(awkward).inc()
    families = {f.name: f for f in text_string_to_metric_families(m.render().decode())}
    assert sample(m, "kubebot_questions_total", band="answered", platform="slack") == 1
    assert sample(m, "kubebot_questions_total", band="suggested", platform="console") == 0  # touched
    assert sample(m, "kubebot_feedback_total", helpful="false") == 1
    assert sample(m, "kubebot_cluster_lookups_total", result="denied") == 1
    assert sample(m, "kubebot_kb_entries") == 9
    assert sample(m, "kubebot_requests_rejected_total", reason=awkward) == 1  # escaped and read back
    # the latency histogram takes the platform label
    assert sample(m, "kubebot_answer_latency_seconds_count", platform="slack") == 1
    assert sample(m, "kubebot_answer_latency_seconds_bucket", platform="slack", le="0.005") == 1
    assert sample(m, "kubebot_answer_latency_seconds_bucket", platform="discord", le="0.1") == 0
    assert sample(m, "kubebot_answer_latency_seconds_bucket", platform="discord", le="0.25") == 1
    assert sample(m, "kubebot_answer_latency_seconds_count", platform="console") == 0
    # every documented name, and the library's process, platform and GC collectors
    assert set(families) >= DOCUMENTED
    library = {"process_cpu_seconds", "process_resident_memory_bytes", "python_info"}
    library.add("python_gc_objects_collected")
    assert library <= set(families)
    assert not [f for f in families if f.endswith("_created")]


def test_the_cluster_gateway_counts_on_the_default_registry() -> None:
    before = sample(metrics_module.METRICS, "kubebot_cluster_lookups_total", result="ok")
    metrics_module.count_cluster_lookup("ok")
    assert sample(metrics_module.METRICS, "kubebot_cluster_lookups_total", result="ok") == before + 1


async def test_probes_and_errors_over_a_socket() -> None:
    ready = False
    server = HealthServer(0, host="127.0.0.1", ready=lambda: ready, metrics=Metrics())
    await server.start()
    try:
        port = server.port
        assert port > 0
        assert (await get(port, "/healthz"))[0::2] == (200, "ok\n")
        assert (await get(port, "/readyz"))[0::2] == (503, "not ready\n")
        ready = True
        assert (await get(port, "/readyz?verbose=1"))[0::2] == (200, "ready\n")
        status, headers, body = await get(port, "/metrics")
        assert status == 200 and headers["Content-Type"].startswith("text/plain; version=0.0.4")
        assert headers["Cache-Control"] == "no-store"
        assert int(headers["Content-Length"]) == len(body.encode()) and "kubebot_kb_entries 0.0" in body
        status, headers, body = await http(
            port, "GET /metrics HTTP/1.1\r\nAccept: application/openmetrics-text; version=1.0.0\r\n\r\n"
        )
        assert headers["Content-Type"].startswith("application/openmetrics-text") and body.endswith("# EOF\n")
        status, _, body = await get(port, "/nope")
        assert (status, body) == (404, "not found: try /healthz, /readyz, /metrics\n")
        assert (await http(port, "POST /metrics HTTP/1.1\r\nContent-Length: 0\r\n\r\n"))[0] == 405
        status, headers, body = await http(port, "HEAD /healthz HTTP/1.1\r\n\r\n")
        assert (status, body, headers["Content-Length"]) == (200, "", "3")
        assert (await http(port, "garbage\r\n\r\n"))[0] == 400
    finally:
        await server.stop()


async def test_background_serves_metrics_records_and_reports_readiness(
    service: QAService, tmp_path: Path
) -> None:
    db = tmp_path / "k.db"
    m = Metrics()
    settings = CoreSettings(db_url=str(db), http_port=0)
    background = start_background(service, settings, env={"KUBEBOT_HTTP_HOST": "127.0.0.1"}, metrics=m)
    async with background:
        port = background.http_port
        assert (await get(port, "/readyz"))[0] == 503  # the adapter has not connected yet
        background.set_ready(True)
        assert (await get(port, "/readyz"))[0] == 200
        for text in ("what is a pod", "what is a node", "how do i set up istio"):
            await service.handle(Message(text, Platform.SLACK, ChannelType.CHANNEL))
        reply = await service.handle(Message("pod", Platform.DISCORD, ChannelType.COMMAND))
        assert reply.kind in (ReplyKind.ANSWER, ReplyKind.SUGGEST)
        service.feedback("pod", True, Message("what is a pod", Platform.SLACK, ChannelType.CHANNEL))
        _, _, body = await get(port, "/metrics")
        assert sample(body, "kubebot_questions_total", band="answered", platform="slack") == 2
        assert sample(body, "kubebot_questions_total", band="declined", platform="slack") == 1
        assert sample(body, "kubebot_answer_latency_seconds_count", platform="slack") == 3
        assert sample(body, "kubebot_answer_latency_seconds_count", platform="discord") == 1
        assert 0 < sample(body, "kubebot_answer_latency_seconds_sum", platform="slack") < 3
        assert sample(body, "kubebot_feedback_total", helpful="true") == 1
        assert sample(body, "kubebot_kb_entries") == 9
        assert sample(body, "kubebot_store_dropped_total") == 0
        background.set_ready(False)
        assert (await get(port, "/readyz"))[0] == 503
    store = open_store(str(db))  # stop() flushed the queue
    try:
        assert [q.text for q in store.questions_since(0)] == [
            "what is a pod",
            "what is a node",
            "how do i set up istio",
            "pod",
        ]
        assert len(store.feedback_since(0)) == 1
    finally:
        store.close()
    with pytest.raises(OSError):
        await asyncio.open_connection("127.0.0.1", port)  # the server is gone


async def test_a_taken_port_is_a_config_error(service: QAService, tmp_path: Path) -> None:
    blocker = HealthServer(0, host="127.0.0.1", metrics=Metrics())
    await blocker.start()
    try:
        settings = CoreSettings(db_url=str(tmp_path / "k.db"), http_port=blocker.port)
        background = start_background(
            service, settings, env={"KUBEBOT_HTTP_HOST": "127.0.0.1"}, metrics=Metrics()
        )
        recorder_before = service.recorder
        with pytest.raises(ConfigError, match="KUBEBOT_HTTP_PORT"):
            await background.start()
        assert service.recorder is recorder_before
    finally:
        await blocker.stop()


async def test_store_down_while_serving_still_answers(service: QAService, tmp_path: Path) -> None:
    (tmp_path / "file").write_text("x")
    settings = CoreSettings(db_url=str(tmp_path / "file" / "k.db"), http_port=0)
    m = Metrics()
    env = {"KUBEBOT_HTTP_HOST": "127.0.0.1"}
    async with start_background(service, settings, env=env, metrics=m, wait_for_adapter=False) as background:
        started = time.perf_counter()
        reply = await service.handle(Message("what is a pod", Platform.SLACK, ChannelType.CHANNEL))
        assert reply.kind is ReplyKind.ANSWER and time.perf_counter() - started < 1
        assert (await get(background.http_port, "/readyz"))[0] == 200  # readiness does not hang on the store
        assert background.recorder is not None and background.recorder.flush(5)
        status, _, detail = await get(background.http_port, "/readyz")
        assert status == 200 and detail.startswith("ready\nstore: down since ")  # ready, and says why
        _, _, body = await get(background.http_port, "/metrics")
        assert sample(body, "kubebot_store_up") == 0
        assert sample(body, "kubebot_store_dropped_total") == 1


def test_background_settings_from_env() -> None:
    s = BackgroundSettings.from_env({"KUBEBOT_RELOAD_INTERVAL": "0.5", "KUBEBOT_HTTP_HOST": "127.0.0.1"})
    assert (s.reload_interval, s.http_host) == (0.5, "127.0.0.1")
    assert BackgroundSettings.from_env({}).reload_interval == 2.0
    with pytest.raises(ConfigError, match="KUBEBOT_RELOAD_INTERVAL"):
        BackgroundSettings.from_env({"KUBEBOT_RELOAD_INTERVAL": "soon"})
