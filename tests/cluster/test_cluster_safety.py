"""Safety: read-only by construction, no Secrets, allowlists, name validation, audit lines."""

from __future__ import annotations

import inspect
import json
import logging
import re
from pathlib import Path

import pytest
from lightkube.resources.core_v1 import Pod, Secret

import bot.cluster.reader as reader_module
from bot.cluster.errors import ReadOnlyViolation
from bot.cluster.gateway import KubeGateway
from bot.cluster.reader import ClusterReader
from bot.models import ClusterReport, Message
from bot.ports import CLUSTER_VERBS, ClusterQuery
from bot.service import QAService
from tests.helpers import sample

from .conftest import FIXTURE_KB, GatewayFactory, console, discord, slack
from .fakeapi import FIXTURES, FakeKubeAPI

ALL_POD_NAMES = [p["metadata"]["name"] for p in json.loads((FIXTURES / "pods.json").read_text())["items"]]


async def test_every_command_sends_only_gets_and_never_touches_secrets(
    service: QAService, api: FakeKubeAPI
) -> None:
    texts = [f"{verb} {ns}" for verb in CLUSTER_VERBS if verb != "why" for ns in ("", "payments", "*")]
    texts += [f"why {name}" for name in ALL_POD_NAMES if not name.startswith(("ledger", "coredns"))]
    texts += [
        "why api",
        "why web",
        "why search",
        "why shop-frontend",
        "why postgres",
        "why payments-gw",
        "why ledger payments",
        "why nothing-here",
    ]
    for text in texts:
        reply = await service.handle(slack(text))
        assert reply.cluster is not None, text
        assert (
            reply.cluster.error is None or "did you mean" in reply.cluster.error or text == "why nothing-here"
        ), text
    assert len(api.requests) > 100
    assert {r.method for r in api.requests} == {"GET"}
    assert not [r.path for r in api.requests if "/secrets" in r.path.lower()]
    paths = {
        re.sub(
            r"/namespaces/[^/]+",
            "/namespaces/NS",
            re.sub(r"/(pods|nodes|deployments|services)/[^/]+", r"/\1/NAME", r.path),
        )
        for r in api.requests
    }
    assert paths == {
        "/api/v1/namespaces/NS/pods",
        "/api/v1/pods",
        "/api/v1/namespaces/NS/pods/NAME",
        "/api/v1/namespaces/NS/pods/NAME/log",
        "/apis/apps/v1/namespaces/NS/deployments",
        "/apis/apps/v1/deployments",
        "/apis/apps/v1/namespaces/NS/deployments/NAME",
        "/api/v1/namespaces/NS/services",
        "/api/v1/services",
        "/api/v1/namespaces/NS/services/NAME",
        "/apis/discovery.k8s.io/v1/namespaces/NS/endpointslices",
        "/apis/discovery.k8s.io/v1/endpointslices",
        "/api/v1/namespaces/NS/events",
        "/api/v1/events",
        "/api/v1/nodes",
        "/api/v1/nodes/NAME",
    }


async def test_transport_refuses_writes_and_secrets_before_sending(
    gateway: KubeGateway, api: FakeKubeAPI
) -> None:
    client = gateway.reader._client
    with pytest.raises(ReadOnlyViolation):
        await client.delete(Pod, "web-7d9c6b5f4-abcde", namespace="shop")
    with pytest.raises(ReadOnlyViolation):
        await client.get(Secret, "db-credentials", namespace="shop")
    with pytest.raises(ReadOnlyViolation):
        [s async for s in client.list(Secret, namespace="shop")]
    assert api.requests == []


def test_reader_exposes_only_read_methods_and_no_secret_kind() -> None:
    public = {
        name for name, _ in inspect.getmembers(ClusterReader, inspect.isfunction) if not name.startswith("_")
    }
    assert public == {
        "aclose",
        "get_deployment",
        "get_node",
        "get_pod",
        "get_service",
        "list_deployments",
        "list_endpoint_slices",
        "list_events",
        "list_nodes",
        "list_pods",
        "list_services",
        "pod_log",
    }
    source = Path(reader_module.__file__).read_text()
    for call in (
        ".delete(",
        ".deletecollection(",
        ".patch(",
        ".create(",
        ".replace(",
        ".apply(",
        ".exec(",
        ".set(",
    ):
        assert call not in source
    assert "import Secret" not in source and "Secret," not in source


# -- who may ask ----------------------------------------------------------------------------------
async def query(
    gateway: KubeGateway,
    message: Message,
    verb: str = "pods",
    name: str | None = None,
    namespace: str | None = None,
) -> ClusterReport:
    return await gateway.query(ClusterQuery(verb, name, namespace), message)


async def test_chat_is_refused_until_configured_but_console_is_allowed(
    make_gateway: GatewayFactory, api: FakeKubeAPI
) -> None:
    gateway = make_gateway()
    for message in (slack("pods"), discord("pods", roles=("sre",))):
        report = await query(gateway, message)
        assert report.error is not None and report.error.startswith(
            "cluster commands are not enabled for you here"
        )
    assert "KUBEBOT_CLUSTER_SLACK_CHANNELS" in (await query(gateway, slack("pods"))).error  # type: ignore[operator]
    assert api.requests == []
    assert (await query(gateway, console("pods"))).error is None


@pytest.mark.parametrize(
    ("settings", "message", "allowed"),
    [
        ({"slack_channels": ("C-OPS",)}, slack("pods", channel="C-OPS"), True),
        ({"slack_channels": ("C-OPS",)}, slack("pods", channel="C-RANDOM"), False),
        ({"slack_users": ("U-ALICE",)}, slack("pods", channel="D-DM"), True),
        ({"slack_users": ("U-ALICE",)}, slack("pods", user="U-MALLORY"), False),
        ({"slack_channels": ("C-OPS",), "slack_users": ("U-BOB",)}, slack("pods"), False),  # both must match
        ({"slack_channels": ("*",)}, slack("pods", channel="C-ANY"), True),
        ({"slack_channels": ("C-OPS",)}, discord("pods", channel="C-OPS"), False),  # lists are per platform
        ({"discord_roles": ("sre",)}, discord("pods", roles=("dev", "sre")), True),
        ({"discord_roles": ("sre",)}, discord("pods", roles=("dev",)), False),
        ({"discord_users": ("42",)}, discord("pods", user="42"), True),
        ({"discord_users": ("42",), "discord_channels": ("D-OPS",)}, discord("pods", channel="D-1"), False),
        ({"discord_users": ("7",), "discord_roles": ("sre",)}, discord("pods", roles=("sre",)), True),
    ],
)
async def test_people_allowlists(
    make_gateway: GatewayFactory,
    api: FakeKubeAPI,
    settings: dict[str, tuple[str, ...]],
    message: Message,
    allowed: bool,
) -> None:
    report = await query(make_gateway(**settings), message)
    assert (report.error is None) is allowed, report.error
    assert bool(api.requests) is allowed


@pytest.mark.parametrize(
    ("allowlist", "namespace", "allowed"),
    [
        ((), "shop", True),
        ((), "kube-system", False),
        (("shop",), "payments", False),
        (("shop", "payments"), "payments", True),
        (("*",), "kube-system", True),
    ],
)
async def test_namespace_allowlist(
    make_gateway: GatewayFactory, api: FakeKubeAPI, allowlist: tuple[str, ...], namespace: str, allowed: bool
) -> None:
    gateway = make_gateway(namespaces=allowlist, slack_channels=("C-OPS",))
    for verb, name in (("pods", None), ("why", "coredns-76f75df574-9wz2k")):
        report = await query(gateway, slack(verb), verb, name, namespace)
        assert (report.error is None or "did you mean" in report.error or "no pod" in report.error) is allowed
        if not allowed:
            allowed_text = gateway.settings.describe_namespaces()
            assert report.error == f"namespace {namespace} is not open to kubebot (allowed: {allowed_text})"
    assert bool(api.requests) is allowed


async def test_default_namespace_setting_and_all_namespaces_for_why(
    make_gateway: GatewayFactory, api: FakeKubeAPI
) -> None:
    gateway = make_gateway(default_namespace="payments")
    report = await query(gateway, console("pods"))
    assert report.title == "pods in payments"
    refused = await query(gateway, console("why"), "why", "web", "*")
    assert refused.error == "why needs one namespace, not all of them"
    usage = await query(gateway, console("why"), "why", None, None)
    assert usage.error == "usage: why NAME [NAMESPACE] (a pod, deployment or service)"
    unknown = await query(gateway, console("delete"), "delete", "web", None)
    assert unknown.error is not None and unknown.error.startswith("unknown cluster command")
    assert [r.path for r in api.requests] == ["/api/v1/namespaces/payments/pods"]


@pytest.mark.parametrize(
    ("name", "namespace", "message"),
    [
        ("../../etc/passwd", None, "is not a name or NAMESPACE/NAME"),
        ("web;rm -rf /", None, '"web;rm -rf /" is not a valid Kubernetes name'),
        ("web_1", None, '"web_1" is not a valid Kubernetes name (a DNS subdomain'),
        ("-web", None, "is not a valid Kubernetes name"),
        ("a" * 254, None, "is not a valid Kubernetes name"),
        ("web", "Shop_1", '"shop_1" is not a valid Kubernetes namespace (a DNS label'),
        ("web", "a.b", "is not a valid Kubernetes namespace"),
        ("other/web", "shop", "other/web names namespace other but shop was asked for"),
    ],
)
async def test_names_are_validated_before_any_request(
    gateway: KubeGateway, api: FakeKubeAPI, name: str, namespace: str | None, message: str
) -> None:
    report = await query(gateway, slack("why"), "why", name, namespace)
    assert report.error is not None and message in report.error
    assert api.requests == []


async def test_chat_links_and_emphasis_are_stripped_from_names(
    gateway: KubeGateway, api: FakeKubeAPI
) -> None:
    report = await query(gateway, slack("why"), "why", "<http://web.shop|web.shop>", None)
    assert report.error is not None and report.error.startswith(
        "no pod/deployment/service named web.shop in shop"
    )
    report = await query(gateway, slack("why"), "why", "*web*?", "“shop”")
    assert report.title.startswith("why deployment/service shop/web")


# -- audit ------------------------------------------------------------------------------------------
async def test_every_query_writes_one_audit_line(
    gateway: KubeGateway, api: FakeKubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="kubebot.audit")
    await query(gateway, slack("why", channel="C-OPS", user="U-ALICE"), "why", "api", "shop")
    await query(gateway, slack("pods", channel="C-RANDOM", user="U-EVE"), "pods", None, "shop")
    api.fail(r"/nodes$", 500, "etcdserver: request timed out")
    await query(gateway, discord("nodes", roles=("sre",)), "nodes")
    await query(gateway, slack("why"), "why", "bad name\nevent=forged", None)
    lines = [r.getMessage() for r in caplog.records if r.name == "kubebot.audit"]
    assert len(lines) == 4
    assert lines[0].startswith(
        "event=cluster_query platform=slack channel=C-OPS user=U-ALICE verb=why name=api namespace=shop "
        "result=ok ms="
    )
    assert lines[1].startswith(
        "event=cluster_query platform=slack channel=C-RANDOM user=U-EVE verb=pods name=- namespace=shop "
        "result=refused reason=not_allowed"
    )
    assert "verb=nodes name=- namespace=- result=error reason=server_error" in lines[2]
    assert 'name="bad name\\nevent=forged"' in lines[3] and "result=refused reason=invalid_name" in lines[3]
    assert all("\n" not in line for line in lines)


def test_fixture_kb_has_the_two_entries_the_fixture_tests_rely_on() -> None:
    text = (FIXTURE_KB / "entries.yaml").read_text()
    assert "id: crashloopbackoff" in text and "id: oomkilled" in text


async def test_every_cluster_query_is_counted_by_result(service: QAService, api: FakeKubeAPI) -> None:
    from bot.metrics import METRICS

    before_ok = sample(METRICS, "kubebot_cluster_lookups_total", result="ok")
    before_refused = sample(METRICS, "kubebot_cluster_lookups_total", result="refused")
    await service.handle(slack("pods payments"))
    await service.handle(slack("why Not_A_Name!"))
    assert sample(METRICS, "kubebot_cluster_lookups_total", result="ok") == before_ok + 1
    assert sample(METRICS, "kubebot_cluster_lookups_total", result="refused") == before_refused + 1
