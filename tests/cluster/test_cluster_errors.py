"""Every failure is one clear reply: stalls, closed ports, 401, 403, 404, 5xx, garbage; never a traceback."""

from __future__ import annotations

import logging
import socket
import time
from pathlib import Path

import pytest

from bot.cluster.gateway import KubeGateway
from bot.service import KnowledgeHolder, QAService, Snapshot

from .conftest import GatewayFactory, slack, write_kubeconfig
from .fakeapi import FakeKubeAPI, forbidden_message


@pytest.fixture
def chat(gateway: KubeGateway, shipped_snapshot: Snapshot) -> QAService:
    return QAService(KnowledgeHolder(shipped_snapshot), cluster=gateway)


async def ask(service: QAService, text: str) -> tuple[str, str | None]:
    reply = await service.handle(slack(text))
    assert reply.cluster is not None
    assert "Traceback" not in reply.text
    return reply.text, reply.cluster.error


async def test_a_stalled_api_server_times_out_quickly(
    make_gateway: GatewayFactory, api: FakeKubeAPI, shipped_snapshot: Snapshot
) -> None:
    api.stall()
    service = QAService(
        KnowledgeHolder(shipped_snapshot), cluster=make_gateway(timeout=0.3, slack_channels=("C-OPS",))
    )
    started = time.monotonic()
    for text in ("pods", "why api-5f6d8c9b7-x2x4k"):
        _, error = await ask(service, text)
        assert error == f"the cluster API at {api.url} did not answer within 0.3 s; try again in a moment"
    assert time.monotonic() - started < 2.0


async def test_a_closed_port_is_unreachable(
    make_gateway: GatewayFactory, tmp_path: Path, shipped_snapshot: Snapshot
) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    kubeconfig = write_kubeconfig(tmp_path / "closed", f"http://127.0.0.1:{port}")
    gateway = make_gateway(kubeconfig=kubeconfig, slack_channels=("C-OPS",))
    service = QAService(KnowledgeHolder(shipped_snapshot), cluster=gateway)
    text, error = await ask(service, "nodes")
    assert error is not None
    assert error.startswith(f"cannot reach the cluster API at http://127.0.0.1:{port} (connection refused)")
    assert text == f"nodes: {error}"


async def test_rejected_token_is_401(
    make_gateway: GatewayFactory, api: FakeKubeAPI, tmp_path: Path, shipped_snapshot: Snapshot
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "bad-token", api.url, token="expired")
    gateway = make_gateway(kubeconfig=kubeconfig, slack_channels=("C-OPS",))
    _, error = await ask(QAService(KnowledgeHolder(shipped_snapshot), cluster=gateway), "pods")
    assert error is not None and error.startswith(
        "the cluster rejected kubebot's credentials (401 Unauthorized)"
    )
    assert [r.path for r in api.requests] == ["/api/v1/namespaces/shop/pods"]


@pytest.mark.parametrize(
    ("text", "path", "resource", "verb", "needs"),
    [
        ("pods", r"/namespaces/shop/pods$", "pods", "list", "list on pods in shop"),
        ("pods *", r"^/api/v1/pods$", "pods", "list", "list on pods in all namespaces"),
        ("deployments payments", r"/deployments$", "deployments", "list", "list on deployments in payments"),
        ("services", r"/endpointslices$", "endpointslices", "list", "list on endpointslices in shop"),
        ("nodes", r"/nodes$", "nodes", "list", "list on nodes"),
        ("why web-7d9c6b5f4-abcde", r"/pods/web-7d9c6b5f4-abcde$", "pods", "get", "get on pods in shop"),
    ],
)
async def test_forbidden_says_which_permission_is_missing(
    chat: QAService, api: FakeKubeAPI, text: str, path: str, resource: str, verb: str, needs: str
) -> None:
    api.fail(path, 403, forbidden_message(resource, "shop", verb))
    _, error = await ask(chat, text)
    assert error == (
        f"kubebot is not allowed to read that (403 Forbidden): it needs {needs}; "
        "grant it in kubebot's Role (see the RBAC section of the docs)"
    )


async def test_forbidden_optional_evidence_is_noted_not_fatal(chat: QAService, api: FakeKubeAPI) -> None:
    api.fail(r"/events$", 403, forbidden_message("events", "shop"))
    api.fail(r"/log$", 403, forbidden_message("pods/log", "shop", "get"))
    api.fail(r"/deployments/", 403, forbidden_message("deployments", "shop", "get"))
    text, error = await ask(chat, "why worker-6b7c8d9e0-k3l4m")
    assert error is None
    assert "    logs unavailable: kubebot needs get on pods/log in shop" in text
    assert "* namespace shop: some evidence is missing: kubebot needs list on events in shop" in text
    assert "(ask: exit-code-1)" in text


async def test_forbidden_nodes_are_only_noted_for_pods_that_are_not_ready(
    chat: QAService, api: FakeKubeAPI
) -> None:
    api.fail(r"/nodes/", 403, forbidden_message("nodes", None, "get"))
    healthy, _ = await ask(chat, "why web-7d9c6b5f4-abcde")
    assert "evidence is missing" not in healthy
    assert not [r for r in api.requests if r.path.startswith("/api/v1/nodes")]
    sick, _ = await ask(chat, "why legacy-6e7f8a9b0-h5j6k")
    assert "some evidence is missing: kubebot needs get on nodes" in sick


async def test_missing_log_of_a_previous_container_is_evidence_not_failure(
    chat: QAService, api: FakeKubeAPI
) -> None:
    api.store.logs.pop("shop/native-7b8c9d0e1-u7i8o/native/previous")
    text, error = await ask(chat, "why native-7b8c9d0e1-u7i8o")
    assert error is None
    assert (
        'logs unavailable: previous terminated container "native" in pod "native-7b8c9d0e1-u7i8o" not found'
        in text
    )


async def test_404_on_a_listing_and_5xx(chat: QAService, api: FakeKubeAPI) -> None:
    api.fail(r"/namespaces/ghost/pods$", 404, 'namespaces "ghost" not found')
    _, error = await ask(chat, "pods ghost")
    assert error == 'not found: namespaces "ghost" not found'
    api.fail(r"/nodes$", 500, "etcdserver: request timed out", "application/json; charset=utf-8")
    _, error = await ask(chat, "nodes")
    assert error == "the cluster API failed (HTTP 500: etcdserver: request timed out); try again later"
    api.fail(r"/deployments$", 503, "upstream connect error or disconnect/reset before headers", "text/plain")
    _, error = await ask(chat, "deployments")
    assert error == (
        "the cluster API failed (HTTP 503: upstream connect error or disconnect/reset before headers); "
        "try again later"
    )


async def test_an_unreadable_answer(chat: QAService, api: FakeKubeAPI) -> None:
    api.fail(r"/services$", 200, "<html>proxy login</html>", "text/html")
    _, error = await ask(chat, "services")
    assert error is not None and error.startswith("the cluster API failed (bad response: unreadable response")


async def test_an_unexpected_bug_is_logged_and_answered_briefly(
    gateway: KubeGateway, chat: QAService, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def broken() -> None:
        raise RuntimeError("boom")

    monkeypatch.setattr(gateway.reader, "list_nodes", broken)
    caplog.set_level(logging.ERROR, logger="kubebot.cluster")
    text, error = await ask(chat, "nodes")
    assert error == "unexpected error while reading the cluster (RuntimeError); see the bot's log"
    assert "boom" not in text
    assert any(r.exc_info and "boom" in str(r.exc_info[1]) for r in caplog.records)
