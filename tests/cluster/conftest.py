"""Fixtures: the fake API server on loopback, a kubeconfig pointing at it, gateways and messages."""

from __future__ import annotations

import asyncio
import json
import os
import threading
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import msgspec
import pytest
from lightkube.resources.core_v1 import Pod

from bot.cluster.config import ClusterSettings
from bot.cluster.gateway import KubeGateway
from bot.models import ChannelType, Message, Person, Platform
from bot.service import KnowledgeHolder, QAService, Snapshot

from .fakeapi import FIXTURES, TOKEN, FakeKubeAPI

NOW = datetime(2025, 6, 2, 10, 0, tzinfo=UTC)
FIXTURE_KB = Path(__file__).parents[1] / "fixtures" / "kb"

GatewayFactory = Callable[..., KubeGateway]


def write_kubeconfig(path: Path, server: str, token: str = TOKEN, namespace: str = "shop") -> Path:
    path.write_text(
        "apiVersion: v1\nkind: Config\n"
        f"clusters:\n- name: fake\n  cluster:\n    server: {server}\n"
        "- name: closed\n  cluster:\n    server: http://127.0.0.1:9\n"
        "contexts:\n"
        f"- name: fake\n  context:\n    cluster: fake\n    user: tester\n    namespace: {namespace}\n"
        "- name: closed\n  context:\n    cluster: closed\n    user: tester\n"
        "current-context: fake\n"
        f"users:\n- name: tester\n  user:\n    token: {token}\n",
        encoding="utf-8",
    )
    return path


@pytest.fixture
async def api() -> AsyncIterator[FakeKubeAPI]:
    server = FakeKubeAPI()
    await server.start()
    yield server
    await server.close()


@pytest.fixture
def kubeconfig(tmp_path: Path, api: FakeKubeAPI) -> Path:
    return write_kubeconfig(tmp_path / "kubeconfig", api.url)


@pytest.fixture
async def make_gateway(kubeconfig: Path) -> AsyncIterator[GatewayFactory]:
    made: list[KubeGateway] = []

    def factory(**overrides: Any) -> KubeGateway:
        settings = ClusterSettings(enabled=True, kubeconfig=str(overrides.pop("kubeconfig", kubeconfig)))
        for key, value in overrides.items():
            settings = _replace(settings, key, value)
        gateway = KubeGateway.connect(settings, clock=lambda: NOW)
        made.append(gateway)
        return gateway

    yield factory
    for gateway in made:
        await gateway.aclose()


def _replace(settings: ClusterSettings, key: str, value: Any) -> ClusterSettings:
    from dataclasses import replace

    return replace(settings, **{key: value})


@pytest.fixture
async def gateway(make_gateway: GatewayFactory) -> KubeGateway:
    return make_gateway(slack_channels=("C-OPS",), discord_roles=("sre",))


@pytest.fixture
def service(gateway: KubeGateway, shipped_snapshot: Snapshot) -> QAService:
    """The real service with the shipped KB (loaded once per session), so every linked id resolves."""
    return QAService(KnowledgeHolder(shipped_snapshot), cluster=gateway)


def slack(text: str, channel: str = "C-OPS", user: str = "U-ALICE") -> Message:
    return Message(text, Platform.SLACK, ChannelType.CHANNEL, channel, Person(user, "alice"))


def discord(text: str, channel: str = "D-1", user: str = "42", roles: tuple[str, ...] = ()) -> Message:
    return Message(text, Platform.DISCORD, ChannelType.CHANNEL, channel, Person(user, "bob", roles))


def console(text: str) -> Message:
    return Message(text, Platform.CONSOLE, ChannelType.CONSOLE)


def fixture_pod(name: str) -> dict[str, Any]:
    pods = json.loads((FIXTURES / "pods.json").read_text())["items"]
    return next(p for p in pods if p["metadata"]["name"] == name)


def decode(obj: dict[str, Any], kind: type[Pod] = Pod) -> Pod:
    """As lightkube decodes API responses (msgspec, from JSON bytes)."""
    return msgspec.json.decode(json.dumps(obj).encode(), type=kind)


@pytest.fixture
def threaded_api() -> Iterator[FakeKubeAPI]:
    """The fake server on its own loop in a thread, for synchronous callers (the CLI runs asyncio.run)."""
    loop = asyncio.new_event_loop()
    server = FakeKubeAPI()
    started = threading.Event()

    def run() -> None:
        asyncio.set_event_loop(loop)
        loop.run_until_complete(server.start())
        started.set()
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True)
    thread.start()
    assert started.wait(5)
    yield server
    asyncio.run_coroutine_threadsafe(server.close(), loop).result(5)
    loop.call_soon_threadsafe(loop.stop)
    thread.join(5)
    loop.close()


@pytest.fixture
def clean_env(monkeypatch: pytest.MonkeyPatch) -> pytest.MonkeyPatch:
    for key in list(os.environ):
        if key.startswith("KUBEBOT_") or key == "KUBECONFIG":
            monkeypatch.delenv(key)
    return monkeypatch
