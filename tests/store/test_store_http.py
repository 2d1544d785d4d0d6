"""Metrics exposition and the health server, scraped over a real loopback socket."""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest

from bot import metrics as metrics_module
from bot.background import BackgroundSettings, start_background
from bot.config import ConfigError, CoreSettings
from bot.http import HealthServer
from bot.metrics import Counter, Histogram, Metrics
from bot.models import ChannelType, Message, Platform, ReplyKind
from bot.service import QAService
from bot.store import open_store


async def http(port: int, request: str) -> tuple[int, dict[str, str], str]:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
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
    return await http(port, f"GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")


def sample(text: str, name: str, labels: str = "") -> float:
    match = re.search(rf"^{re.escape(name + labels)} (\S+)$", text, re.MULTILINE)
    assert match, f"{name}{labels} not in:\n{text}"
    return float(match.group(1))


def test_exposition_format() -> None:
    counter = Counter("t_total", "A test.", ("kind",))
    counter.inc('a "quoted"\nvalue\\')
    counter.inc("b", amount=2.5)
    hist = Histogram("t_seconds", "Latency.", buckets=(0.1, 1.0))
    for v in (0.05, 0.5, 3.0):
        hist.observe(v)
    assert counter.samples() == ['t_total{kind="a \\"quoted\\"\\nvalue\\\\"} 1', 't_total{kind="b"} 2.5']
    assert hist.samples() == [
        't_seconds_bucket{le="0.1"} 1',
        't_seconds_bucket{le="1"} 2',
        't_seconds_bucket{le="+Inf"} 3',
        "t_seconds_sum 3.55",
        "t_seconds_count 3",
    ]
    with pytest.raises(ValueError):
        counter.inc("a", "b")
    with pytest.raises(ValueError):
        counter.inc("a", amount=-1)


def test_the_output_parses_as_prometheus() -> None:
    parser = pytest.importorskip("prometheus_client.parser")
    m = Metrics()
    metrics_module.observe_question("answered", "slack", 0.003, m)
    metrics_module.count_feedback(False, m)
    metrics_module.count_cluster_lookup("denied", m)
    metrics_module.set_kb_entries(9, m)
    families = {f.name: f for f in parser.text_string_to_metric_families(m.render())}
    assert {
        "kubebot_questions",
        "kubebot_answer_latency_seconds",
        "kubebot_feedback",
        "kubebot_cluster_lookups",
        "kubebot_kb_entries",
        "kubebot_kb_reloads",
    } <= set(families)
    answered = [
        s
        for s in families["kubebot_questions"].samples
        if s.labels == {"band": "answered", "platform": "slack"}
    ]
    assert answered[0].value == 1
    assert families["kubebot_kb_entries"].samples[0].value == 9


def test_the_cluster_gateway_counts_on_the_default_registry() -> None:
    before = metrics_module.METRICS.cluster_lookups.value("ok")
    metrics_module.count_cluster_lookup("ok")
    assert metrics_module.METRICS.cluster_lookups.value("ok") == before + 1


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
        assert int(headers["Content-Length"]) == len(body.encode())
        assert (await get(port, "/nope"))[0] == 404
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
        assert sample(body, "kubebot_questions_total", '{band="answered",platform="slack"}') == 2
        assert sample(body, "kubebot_questions_total", '{band="declined",platform="slack"}') == 1
        assert sample(body, "kubebot_answer_latency_seconds_count") == 4
        assert 0 < sample(body, "kubebot_answer_latency_seconds_sum") < 4
        assert sample(body, "kubebot_feedback_total", '{helpful="true"}') == 1
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
