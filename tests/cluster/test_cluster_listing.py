"""The listing verbs in chat (service.handle) and on the command line (`kubebot cluster ... [--json]`)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from bot.cli import main
from bot.service import KnowledgeHolder, QAService, Snapshot

from .conftest import FIXTURE_KB, GatewayFactory, console, discord, slack, write_kubeconfig
from .fakeapi import FakeKubeAPI


def table(text: str) -> list[list[str]]:
    """Rows of a rendered table, split on runs of two or more spaces."""
    import re

    return [re.split(r"\s{2,}", line.strip()) for line in text.splitlines()[1:] if line.strip()]


async def test_pods_in_the_default_namespace(service: QAService, api: FakeKubeAPI) -> None:
    reply = await service.handle(slack("pods"))
    assert reply.text.splitlines()[0] == "pods in shop"
    rows = {row[0]: row for row in table(reply.text)[1:]}
    assert rows["api-5f6d8c9b7-x2x4k"] == [
        "api-5f6d8c9b7-x2x4k",
        "0/1",
        "CrashLoopBackOff",
        "7 (2m ago)",
        "40m",
        "node-1",
    ]
    assert rows["migrate-6a5b4c3d2-n8m7b"][2] == "Init:CrashLoopBackOff"
    assert rows["cron-sync-28991234-7xkzp"][2] == "Completed"
    assert rows["web-5c4b3a291-oldpd"][2] == "Terminating"
    assert rows["postgres-0"][5] == "<none>"
    assert [r.path for r in api.requests] == ["/api/v1/namespaces/shop/pods"]


async def test_chat_output_is_capped_with_and_n_more(service: QAService) -> None:
    reply = await service.handle(slack("events shop"))
    assert reply.cluster is not None
    assert len(reply.cluster.rows) == 25
    assert reply.cluster.omitted == 5
    assert reply.text.endswith("... and 5 more")


async def test_cap_is_configurable_and_console_is_not_capped(
    make_gateway: GatewayFactory, shipped_snapshot: Snapshot
) -> None:
    service = QAService(
        KnowledgeHolder(shipped_snapshot), cluster=make_gateway(max_rows=10, discord_users=("42",))
    )
    chat = await service.handle(discord("pods"))
    assert chat.cluster is not None
    assert (len(chat.cluster.rows), chat.cluster.omitted) == (10, 14)
    local = await service.handle(console("pods shop"))
    assert local.cluster is not None and len(local.cluster.rows) == 24 and local.cluster.omitted == 0


async def test_all_namespaces_uses_one_cluster_list_without_kube_system(
    service: QAService, api: FakeKubeAPI
) -> None:
    reply = await service.handle(console("pods *"))
    assert reply.text.splitlines()[0] == "pods in all allowed namespaces"
    rows = table(reply.text)
    assert rows[0][0] == "NAMESPACE"
    namespaces = {row[0] for row in rows[1:]}
    assert namespaces == {"shop", "payments"}
    assert [r.path for r in api.requests] == ["/api/v1/pods"]


async def test_all_namespaces_with_an_explicit_allowlist_lists_each(
    make_gateway: GatewayFactory, api: FakeKubeAPI
) -> None:
    gateway = make_gateway(namespaces=("payments", "kube-system"))
    from bot.ports import ClusterQuery

    report = await gateway.query(ClusterQuery("deployments", None, "-A"), console("deployments -A"))
    assert sorted(row[:2] for row in report.rows) == [("kube-system", "coredns"), ("payments", "ledger")]
    assert sorted(r.path for r in api.requests) == [
        "/apis/apps/v1/namespaces/kube-system/deployments",
        "/apis/apps/v1/namespaces/payments/deployments",
    ]


async def test_deployments(service: QAService) -> None:
    reply = await service.handle(slack("deployments"))
    rows = table(reply.text)
    assert rows[0] == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert rows[1] == ["web", "2/2", "2", "2", "3d2h"]
    assert rows[2] == ["api", "0/2", "2", "0", "32d"]


async def test_services_show_ports_and_ready_endpoints_from_endpointslices(
    service: QAService, api: FakeKubeAPI
) -> None:
    reply = await service.handle(slack("services"))
    rows = {row[0]: row for row in table(reply.text)[1:]}
    assert rows["web"] == ["web", "NodePort", "10.96.12.34", "80:30080/TCP", "2 ready", "3d2h"]
    assert rows["api"][4] == "0 ready, 2 not ready"
    assert rows["shop-frontend"][4] == "0 ready"
    assert rows["postgres"][2] == "None"
    assert rows["payments-gw"][1:5] == ["ExternalName", "<none>", "<none>", "-> gw.payments.example.com"]
    assert sorted(r.path for r in api.requests) == [
        "/api/v1/namespaces/shop/services",
        "/apis/discovery.k8s.io/v1/namespaces/shop/endpointslices",
    ]


async def test_events_warnings_first_then_newest_first(service: QAService) -> None:
    reply = await service.handle(console("events"))
    rows = table(reply.text)[1:]
    types = [row[1] for row in rows]
    assert types == sorted(types, key=lambda t: t != "Warning")
    assert rows[0][:4] == ["5s", "Warning", "Unhealthy", "pod/search-6d7e8f9a0-r4t5y"]
    warnings = [row for row in rows if row[1] == "Warning"]
    assert warnings[-1][2] == "Evicted"  # the oldest warning
    assert all(len(row[4]) <= 120 for row in rows)
    series = next(row for row in rows if row[3] == "pod/postgres-0")
    assert series[0] == "119s"  # events.k8s.io series: lastObservedTime


async def test_nodes_with_findings(service: QAService, api: FakeKubeAPI) -> None:
    reply = await service.handle(slack("nodes"))
    rows = table(reply.text)
    assert rows[0] == ["NAME", "STATUS", "ROLES", "VERSION", "PRESSURE", "AGE"]
    assert rows[1] == ["cp-1", "Ready", "control-plane", "v1.30.4", "-", "62d"]
    assert rows[3][1:5] == ["Ready", "<none>", "v1.30.4", "DiskPressure"]
    assert rows[4][:2] == ["node-3", "NotReady"]
    assert "* node node-3: is Unknown: the kubelet stopped reporting" in reply.text
    assert "(ask: node-notready)" in reply.text and "(ask: evicted-pod)" in reply.text
    assert [r.path for r in api.requests] == ["/api/v1/nodes"]


# -- the CLI ------------------------------------------------------------------------------------
def run_cli(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    code = main(["cluster", *argv, "--kb", str(FIXTURE_KB)], out=out)
    return code, out.getvalue()


def test_cli_pods_json(threaded_api: FakeKubeAPI, tmp_path: Path, clean_env: pytest.MonkeyPatch) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", threaded_api.url)
    code, output = run_cli("pods", "--kubeconfig", str(kubeconfig), "-n", "payments", "--json")
    assert code == 0
    data = json.loads(output)
    assert data["title"] == "pods in payments"
    assert data["error"] is None
    assert data["columns"] == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"]
    assert len(data["rows"]) == 1
    assert {k: data["rows"][0][k] for k in ("NAME", "READY", "STATUS", "NODE")} == {
        "NAME": "ledger-7b6a5c4d3-a1s2d",
        "READY": "1/1",
        "STATUS": "Running",
        "NODE": "node-1",
    }
    assert [r.path for r in threaded_api.requests] == ["/api/v1/namespaces/payments/pods"]


def test_cli_why_json_links_entries(
    threaded_api: FakeKubeAPI, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", threaded_api.url)
    code, output = run_cli("why", "api-5f6d8c9b7-x2x4k", "--kubeconfig", str(kubeconfig), "--json")
    assert code == 0
    data = json.loads(output)
    assert [(f["entry_id"], f["entry_title"] is not None) for f in data["findings"]] == [
        ("crashloopbackoff", True),
        ("oomkilled", True),
    ]
    assert data["findings"][1]["object"] == "pod shop/api-5f6d8c9b7-x2x4k"
    assert "memory limit: 256Mi, request: 128Mi" in data["findings"][1]["evidence"]


def test_cli_text_context_and_exit_code_on_error(
    threaded_api: FakeKubeAPI, tmp_path: Path, clean_env: pytest.MonkeyPatch
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", threaded_api.url)
    code, output = run_cli("nodes", "--kubeconfig", str(kubeconfig))
    assert code == 0
    assert output.startswith("nodes\nNAME")
    code, output = run_cli("nodes", "--kubeconfig", str(kubeconfig), "--context", "closed")
    assert code == 1
    assert output.startswith("nodes: cannot reach the cluster API at http://127.0.0.1:9 (connection refused)")


def test_cli_uses_kubeconfig_env_and_rejects_a_name_for_listings(
    threaded_api: FakeKubeAPI,
    tmp_path: Path,
    clean_env: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", threaded_api.url)
    clean_env.setenv("KUBEBOT_CLUSTER_KUBECONFIG", str(kubeconfig))
    code, output = run_cli("deployments", "-n", "payments")
    assert code == 0 and "ledger" in output
    code, _ = run_cli("pods", "web")
    assert code == 2
    assert "takes no NAME" in capsys.readouterr().err


def test_cli_bad_kubeconfig_is_a_clear_error(
    tmp_path: Path, clean_env: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _ = run_cli("pods", "--kubeconfig", str(tmp_path / "missing"))
    assert code == 2
    err = capsys.readouterr().err
    assert err.startswith("kubebot: error: cluster lookup: cannot load the kubeconfig")
    assert "Traceback" not in err
    kubeconfig = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:9")
    code, _ = run_cli("pods", "--kubeconfig", str(kubeconfig), "--context", "nope")
    assert code == 2
    assert "Context 'nope' not found" in capsys.readouterr().err
