"""`why NAME` end to end: chat message → service → gateway → lightkube → local API server → reply."""

from __future__ import annotations

from bot.app import build_service
from bot.models import ReplyKind
from bot.service import QAService

from .conftest import FIXTURE_KB, GatewayFactory, slack
from .fakeapi import FakeKubeAPI


async def test_why_crashlooping_pod_renders_findings_with_kb_links(
    service: QAService, api: FakeKubeAPI
) -> None:
    reply = await service.handle(slack("why api-5f6d8c9b7-x2x4k"))
    assert reply.kind is ReplyKind.CLUSTER
    assert reply.cluster is not None and reply.cluster.error is None
    lines = reply.text.splitlines()
    assert lines[0] == "why pod shop/api-5f6d8c9b7-x2x4k: 2 problem(s) found"
    assert lines[1].split() == ["NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE"]
    assert lines[2].split() == [
        "api-5f6d8c9b7-x2x4k",
        "0/1",
        "CrashLoopBackOff",
        "7",
        "(2m",
        "ago)",
        "40m",
        "node-1",
    ]
    assert "* pod shop/api-5f6d8c9b7-x2x4k: container api was OOMKilled" in reply.text
    assert "    memory limit: 256Mi, request: 128Mi" in reply.text
    assert "    | 2025-06-02T09:57:59Z INFO building price cache" in reply.text
    assert "(ask: oomkilled)" in reply.text and "(ask: crashloopbackoff)" in reply.text
    assert [e.id for e in reply.linked_entries] == ["crashloopbackoff", "oomkilled"]
    log_requests = [r for r in api.requests if r.path.endswith("/log")]
    assert [(r.path, r.query) for r in log_requests] == [
        (
            "/api/v1/namespaces/shop/pods/api-5f6d8c9b7-x2x4k/log",
            {"container": "api", "tailLines": "5", "limitBytes": "16384", "previous": "true"},
        )
    ]
    events = [r for r in api.requests if r.path.endswith("/events")]
    assert events[0].query == {
        "fieldSelector": "involvedObject.name=api-5f6d8c9b7-x2x4k,involvedObject.kind=Pod"
    }


async def test_fixture_kb_titles_are_used_when_present(make_gateway: GatewayFactory) -> None:
    service = build_service(FIXTURE_KB, cluster=make_gateway(slack_channels=("C-OPS",)))
    reply = await service.handle(slack("why worker-6b7c8d9e0-k3l4m"))
    assert [e.id for e in reply.linked_entries] == [
        "crashloopbackoff"
    ]  # exit-code-1 is not in the fixture KB
    assert "Fix: exit-code-1 (ask: exit-code-1)" in reply.text
    assert "    | KeyError: 'DATABASE_URL'" in reply.text


async def test_why_deployment_follows_its_selector_and_folds_identical_pods(
    service: QAService, api: FakeKubeAPI
) -> None:
    reply = await service.handle(slack("why api"))
    report = reply.cluster
    assert report is not None
    assert report.title == "why deployment/service shop/api: 3 problem(s) found"
    assert [row[0] for row in report.rows] == ["api-5f6d8c9b7-x2x4k", "api-5f6d8c9b7-q8w9e"]
    refs = [(f.object_ref, f.entry_id) for f in report.findings]
    assert refs == [
        ("deployment shop/api", None),
        ("pod shop/api-5f6d8c9b7-x2x4k", "crashloopbackoff"),
        ("pod shop/api-5f6d8c9b7-x2x4k", "oomkilled"),
        ("pod shop/api-5f6d8c9b7-x2x4k", None),
        ("service shop/api", "service-no-endpoints"),
    ]
    assert report.findings[3].summary == "1 more pod(s) have the same problem"
    assert report.findings[3].evidence == ("api-5f6d8c9b7-q8w9e",)
    selector_lists = [r.query for r in api.requests if r.path == "/api/v1/namespaces/shop/pods" and r.query]
    assert selector_lists == [{"labelSelector": "app=api,!tier"}]
    assert sum(1 for r in api.requests if r.path.endswith("/log")) == 1  # read once, not per replica or part


async def test_why_deployment_with_stuck_rollout_and_set_based_selector(
    service: QAService, api: FakeKubeAPI
) -> None:
    reply = await service.handle(slack("why billing"))
    assert reply.text.startswith("why deployment shop/billing: 2 problem(s) found")
    assert "the rollout is stuck" in reply.text
    assert "(ask: rollout-stuck)" in reply.text and "(ask: image-pull-private-registry)" in reply.text
    assert {"labelSelector": "app in (billing)"} in [r.query for r in api.requests]


async def test_why_service_selecting_no_pods(service: QAService) -> None:
    reply = await service.handle(slack("why shop-frontend"))
    assert reply.text.splitlines()[:2] == ["why service shop/shop-frontend: 1 problem(s) found", ""]
    assert "selects no pods" in reply.text
    assert "pod frontend-84c7d9f5b-z1y2x has app=frontend, no tier label" in reply.text
    assert "(ask: service-no-endpoints)" in reply.text


async def test_why_service_and_deployment_with_the_same_name_are_both_checked(service: QAService) -> None:
    reply = await service.handle(slack("why search"))
    report = reply.cluster
    assert report is not None
    assert [f.entry_id for f in report.findings] == [None, "readiness-probe", "service-no-endpoints"]


async def test_why_pending_pod_on_each_scheduler_reason(service: QAService) -> None:
    expected = {
        "ml-trainer-0": "pending-insufficient-resources",
        "gpu-job-x7c8v": "taints-tolerations",
        "ssd-cache-0": "node-affinity-selector",
        "postgres-0": "pvc-pending",
    }
    for name, entry_id in expected.items():
        reply = await service.handle(slack(f"why {name}"))
        assert reply.cluster is not None
        assert reply.cluster.findings[0].entry_id == entry_id, name
        assert reply.cluster.findings[0].summary.startswith("is Pending")


async def test_why_pod_on_not_ready_node_reads_the_node(service: QAService, api: FakeKubeAPI) -> None:
    reply = await service.handle(slack("why legacy-6e7f8a9b0-h5j6k"))
    assert "runs on node node-3, which is Unknown" in reply.text
    assert "(ask: node-notready)" in reply.text
    assert "/api/v1/nodes/node-3" in [r.path for r in api.requests]


async def test_why_completed_pod_reports_no_problem(service: QAService) -> None:
    reply = await service.handle(slack("why cron-sync-28991234-7xkzp"))
    assert reply.text.splitlines()[0] == "why pod shop/cron-sync-28991234-7xkzp: no problems found"
    assert reply.cluster is not None and reply.cluster.findings == ()


async def test_why_in_another_namespace_and_namespace_slash_name(
    service: QAService, api: FakeKubeAPI
) -> None:
    first = await service.handle(slack("why ledger payments"))
    second = await service.handle(slack("why payments/ledger"))
    assert first.text == second.text
    assert first.text.startswith("why deployment/service payments/ledger: no problems found")
    assert "/apis/apps/v1/namespaces/payments/deployments/ledger" in [r.path for r in api.requests]


async def test_missing_name_suggests_close_pod_and_deployment_names(service: QAService) -> None:
    reply = await service.handle(slack("why checkot"))
    assert reply.cluster is not None
    assert reply.cluster.error == (
        "no pod/deployment/service named checkot in shop; did you mean: checkout, checkout-7f8e9d0c1-s5d6f"
    )
    assert reply.text == f"why shop/checkot: {reply.cluster.error}"
    far = await service.handle(slack("why zzzzqqq"))
    assert far.cluster is not None and far.cluster.error == "no pod/deployment/service named zzzzqqq in shop"


async def test_smart_quotes_code_and_case_are_normalised(service: QAService, api: FakeKubeAPI) -> None:
    reply = await service.handle(slack("why “Worker-6b7c8d9e0-K3L4M”"))
    assert reply.text.startswith("why pod shop/worker-6b7c8d9e0-k3l4m:")
    reply = await service.handle(slack("why `checkout-7f8e9d0c1-s5d6f` ‘shop’"))
    assert reply.text.startswith("why pod shop/checkout-7f8e9d0c1-s5d6f:")


async def test_long_questions_stay_knowledge_questions(service: QAService, api: FakeKubeAPI) -> None:
    reply = await service.handle(slack("why is my pod stuck in CrashLoopBackOff"))
    assert reply.kind is not ReplyKind.CLUSTER
    assert api.requests == []
