"""Each diagnosis rule on realistic objects (decoded by lightkube's models), no server involved."""

from __future__ import annotations

import copy
import json
from typing import Any

import msgspec
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Event, Node, Pod, Service
from lightkube.resources.discovery_v1 import EndpointSlice

from bot.cluster.diagnose import LogTail, PodEvidence, crashed_containers, diagnose_pod
from bot.cluster.workloads import diagnose_deployment, diagnose_node, diagnose_service
from bot.models import Finding

from .conftest import NOW, decode, fixture_pod
from .fakeapi import FIXTURES


def items(name: str) -> list[dict[str, Any]]:
    return list(json.loads((FIXTURES / f"{name}.json").read_text())["items"])


def load(kind: Any, name: str, obj_name: str) -> Any:
    raw = next(o for o in items(name) if o["metadata"]["name"] == obj_name)
    return msgspec.json.decode(json.dumps(raw).encode(), type=kind)


def events_for(pod_name: str) -> list[Event]:
    raw = [e for e in items("events") if e["involvedObject"]["name"] == pod_name]
    return [msgspec.json.decode(json.dumps(e).encode(), type=Event) for e in raw]


def diagnose(name: str, *, logs: dict[str, LogTail] | None = None, node: Node | None = None) -> list[Finding]:
    return diagnose_pod(PodEvidence(decode(fixture_pod(name)), events_for(name), logs or {}, node), NOW)


def entries(findings: list[Finding]) -> list[str | None]:
    return [f.entry_id for f in findings]


def text(finding: Finding) -> str:
    return "\n".join([finding.summary, *finding.evidence])


# -- crashes and exit codes ---------------------------------------------------------------------
def test_crashloop_after_oomkill_names_the_memory_limit_and_shows_logs() -> None:
    logs = {"api": LogTail(("loading product catalogue", "building price cache"), previous=True)}
    findings = diagnose("api-5f6d8c9b7-x2x4k", logs=logs)
    assert entries(findings) == ["crashloopbackoff", "oomkilled"]
    crash, oom = findings
    assert crash.object_ref == "pod shop/api-5f6d8c9b7-x2x4k"
    assert "restarted 7 times" in crash.evidence
    assert "last termination: OOMKilled, exit code 137, 2m ago" in crash.evidence
    assert "memory limit: 256Mi, request: 128Mi" in oom.evidence
    assert oom.evidence[-2:] == ("| loading product catalogue", "| building price cache")
    assert "last log lines (previous container):" in oom.evidence


def test_exit_code_rules_link_their_own_entries() -> None:
    assert entries(diagnose("worker-6b7c8d9e0-k3l4m")) == ["crashloopbackoff", "exit-code-1"]
    assert entries(diagnose("native-7b8c9d0e1-u7i8o"))[1] == "exit-code-139"
    tools = diagnose("tools-6f7a8b9c0-w1e2r")
    assert entries(tools)[1] == "exit-code-126-127"
    assert "command: sh -c run-server --port 8080" in tools[1].evidence
    assert "not found in the image" in tools[1].summary
    assert entries(diagnose("graceful-5a6b7c8d9-t6y7u"))[1] == "exit-code-143"


def test_unknown_exit_code_points_at_the_previous_logs() -> None:
    raw = copy.deepcopy(fixture_pod("worker-6b7c8d9e0-k3l4m"))
    raw["status"]["containerStatuses"][0]["lastState"]["terminated"]["exitCode"] = 3
    findings = diagnose_pod(
        PodEvidence(decode(raw), (), {"worker": LogTail(error="kubebot needs get on pods/log")}), NOW
    )
    assert entries(findings) == ["crashloopbackoff", "logs-previous"]
    assert "exited with code 3 (Error)" in findings[1].summary
    assert "logs unavailable: kubebot needs get on pods/log" in findings[1].evidence


def test_crashloop_with_exit_zero_keeps_the_logs_on_the_crash_finding() -> None:
    raw = copy.deepcopy(fixture_pod("worker-6b7c8d9e0-k3l4m"))
    raw["status"]["containerStatuses"][0]["lastState"]["terminated"].update(exitCode=0, reason="Completed")
    findings = diagnose_pod(PodEvidence(decode(raw), (), {"worker": LogTail(("done",))}), NOW)
    assert entries(findings) == ["crashloopbackoff"]
    assert findings[0].evidence[-1] == "| done"


def test_sigkill_not_oom_while_running_again_and_liveness_probe() -> None:
    findings = diagnose("cache-5c6d7e8f9-l9k8j")
    assert entries(findings) == ["exit-code-137", "liveness-probe"]
    kill, probe = findings
    assert kill.summary.startswith("container cache restarted 4 time(s); last time it exited with code 137")
    assert "memory limit: 512Mi, request: 256Mi" in kill.evidence
    assert "Liveness probe failed" in text(probe)
    assert "livenessProbe (cache): HTTP GET :6379/health, every 10s, timeout 1s" in text(probe)


def test_oomkilled_earlier_but_running_now_is_still_reported() -> None:
    raw = copy.deepcopy(fixture_pod("api-5f6d8c9b7-x2x4k"))
    status = raw["status"]["containerStatuses"][0]
    status.update(ready=True, state={"running": {"startedAt": "2025-06-02T09:58:10Z"}})
    findings = diagnose_pod(PodEvidence(decode(raw)), NOW)
    assert entries(findings) == ["oomkilled"]
    assert "restarted 7 time(s); last time it was OOMKilled" in findings[0].summary


def test_crashed_containers_read_previous_logs_only_after_a_restart() -> None:
    assert crashed_containers(decode(fixture_pod("api-5f6d8c9b7-x2x4k"))) == [("api", True)]
    assert crashed_containers(decode(fixture_pod("migrate-6a5b4c3d2-n8m7b"))) == [("migrate", True)]
    raw = copy.deepcopy(fixture_pod("worker-6b7c8d9e0-k3l4m"))
    raw["status"]["containerStatuses"][0]["state"] = raw["status"]["containerStatuses"][0]["lastState"]
    assert crashed_containers(decode(raw)) == [("worker", False)]
    assert crashed_containers(decode(fixture_pod("web-7d9c6b5f4-abcde"))) == []


# -- images and configuration -------------------------------------------------------------------
def test_private_registry_pull_uses_the_event_message() -> None:
    (finding,) = diagnose("billing-6c5d4b3a2-p0o9i")
    assert finding.entry_id == "image-pull-private-registry"
    assert "image: registry.example.com/shop/billing:2.3.1" in finding.evidence
    assert "imagePullSecrets: none" in finding.evidence
    assert any(
        e.startswith("event: Failed to pull image") and e.endswith("401 Unauthorized")
        for e in finding.evidence
    )


def test_wrong_tag_and_invalid_image_name() -> None:
    (typo,) = diagnose("frontend-84c7d9f5b-z1y2x")
    assert typo.entry_id == "imagepullbackoff"
    assert "ghcr.io/example/frontend:v2.0.O" in typo.summary
    assert sum(1 for e in typo.evidence if "not found" in e) == 1  # the event repeats the message: shown once
    (invalid,) = diagnose("badimage-5d6f7c8b9-m1n2b")
    assert invalid.entry_id == "imagepullbackoff"
    assert invalid.summary == "container badimage has an invalid image name: ghcr.io/example/Shop-Web:latest"


def test_missing_secret_key_is_named_without_reading_the_secret() -> None:
    (finding,) = diagnose("checkout-7f8e9d0c1-s5d6f")
    assert finding.entry_id == "createcontainerconfigerror"
    assert finding.summary == "container checkout cannot start: the Secret db-credentials has no key password"
    assert "used by env DB_PASSWORD (Secret db-credentials, key password)" in finding.evidence
    (missing,) = diagnose("report-5b6c7d8e9-c3v4b")
    assert missing.summary == "container report cannot start: the ConfigMap report-config does not exist"


def test_failed_mount_of_a_missing_configmap() -> None:
    raw = copy.deepcopy(fixture_pod("report-5b6c7d8e9-c3v4b"))
    raw["status"]["phase"] = "Pending"
    raw["status"]["containerStatuses"][0]["state"] = {"waiting": {"reason": "ContainerCreating"}}
    event = copy.deepcopy(items("events")[0])
    event.update(
        reason="FailedMount",
        type="Warning",
        message='MountVolume.SetUp failed for volume "config" : configmap "report-config" not found',
    )
    ev = msgspec.json.decode(json.dumps(event).encode(), type=Event)
    findings = diagnose_pod(PodEvidence(decode(raw), [ev]), NOW)
    assert entries(findings) == ["createcontainerconfigerror"]
    assert 'configmap "report-config" not found' in findings[0].evidence[0]


# -- scheduling ---------------------------------------------------------------------------------
def test_pending_for_resources_then_taints_most_nodes_first() -> None:
    findings = diagnose("ml-trainer-0")
    assert entries(findings) == ["pending-insufficient-resources", "taints-tolerations"]
    assert "no node has enough free cpu and memory" in findings[0].summary
    assert "requests (trainer): cpu 16, memory 64Gi" in findings[0].evidence
    assert findings[0].evidence[0].startswith("scheduler: 0/4 nodes are available")


def test_pending_for_taints_affinity_and_pvc() -> None:
    (taints,) = diagnose("gpu-job-x7c8v")
    assert taints.entry_id == "taints-tolerations"
    assert "taints: {node-role.kubernetes.io/control-plane: } {dedicated: gpu}" in taints.evidence
    assert "tolerations: dedicated=batch:NoSchedule" in taints.evidence
    affinity = diagnose("ssd-cache-0")
    assert entries(affinity) == ["node-affinity-selector", "taints-tolerations"]
    assert "nodeSelector: disktype=ssd" in affinity[0].evidence
    (pvc,) = diagnose("postgres-0")
    assert pvc.entry_id == "pvc-pending"
    assert "claims: data-postgres-0" in pvc.evidence


def test_unknown_scheduler_message_is_shown_without_a_guess() -> None:
    raw = copy.deepcopy(fixture_pod("postgres-0"))
    raw["status"]["conditions"][0]["message"] = "0/4 nodes are available: 4 node(s) had something new."
    (finding,) = diagnose_pod(PodEvidence(decode(raw)), NOW)
    assert finding.entry_id is None
    assert "something new" in finding.evidence[0]


# -- readiness, eviction, nodes, completed --------------------------------------------------------
def test_running_but_not_ready_shows_the_failed_probe() -> None:
    (finding,) = diagnose("search-6d7e8f9a0-r4t5y")
    assert finding.entry_id == "readiness-probe"
    assert "readiness probe fails" in finding.summary
    assert any(
        "Readiness probe failed: HTTP probe failed with statuscode: 503" in e for e in finding.evidence
    )
    assert any("x2871" in e for e in finding.evidence)
    (quiet,) = diagnose_pod(PodEvidence(decode(fixture_pod("search-6d7e8f9a0-r4t5y"))), NOW)
    assert quiet.entry_id == "readiness-probe"
    assert any("no failed-probe events" in e for e in quiet.evidence)


def test_evicted_pod() -> None:
    (finding,) = diagnose("batch-7a8b9c0d1-e2r3t")
    assert finding.entry_id == "evicted-pod"
    assert finding.evidence[0].startswith("The node was low on resource: memory.")
    assert "node: node-2" in finding.evidence


def test_pod_on_a_not_ready_node() -> None:
    node = load(Node, "nodes", "node-3")
    findings = diagnose("legacy-6e7f8a9b0-h5j6k", node=node)
    assert entries(findings)[0] == "node-notready"
    assert "runs on node node-3" in findings[0].summary
    assert findings[0].evidence == ("node node-3: Kubelet stopped posting node status.",)
    assert diagnose("web-7d9c6b5f4-abcde", node=load(Node, "nodes", "node-1")) == []


def test_completed_pods_are_not_problems() -> None:
    assert diagnose("cron-sync-28991234-7xkzp") == []


# -- services, deployments, nodes -----------------------------------------------------------------
def _pods() -> list[Pod]:
    return [decode(p) for p in items("pods") if p["metadata"]["namespace"] == "shop"]


def test_service_selecting_no_pods_shows_the_closest_labels() -> None:
    svc = load(Service, "services", "shop-frontend")
    (finding,) = diagnose_service(
        svc, [], _pods(), [load(EndpointSlice, "endpointslices", "shop-frontend-z7x6c")]
    )
    assert finding.entry_id == "service-no-endpoints"
    assert finding.evidence[0] == "selector: app=shop-frontend,tier=web"
    assert finding.evidence[1] == "pod frontend-84c7d9f5b-z1y2x has app=frontend, no tier label"


def test_service_whose_pods_are_not_ready_and_port_names() -> None:
    svc = load(Service, "services", "search")
    selected = [p for p in _pods() if (p.metadata.labels or {}).get("app") == "search"]
    slices = [load(EndpointSlice, "endpointslices", "search-m3n4b")]
    (finding,) = diagnose_service(svc, selected, _pods(), slices)
    assert finding.summary == "selects 1 pod(s) but none is ready, so it has no endpoints"
    assert "endpoints: 0 ready, 1 not ready" in finding.evidence
    assert "targetPort 'rest' is not a named container port on the selected pods" in finding.evidence
    web = load(Service, "services", "web")
    web_pods = [p for p in _pods() if (p.metadata.labels or {}).get("app") == "web"]
    assert (
        diagnose_service(web, web_pods, _pods(), [load(EndpointSlice, "endpointslices", "web-k2m4p")]) == []
    )
    assert diagnose_service(load(Service, "services", "payments-gw"), [], _pods(), []) == []


def test_deployment_rules() -> None:
    (stuck,) = diagnose_deployment(load(Deployment, "deployments", "billing"))
    assert stuck.entry_id == "rollout-stuck"
    assert "ProgressDeadlineExceeded" in stuck.evidence[1]
    (api,) = diagnose_deployment(load(Deployment, "deployments", "api"))
    assert (api.summary, api.entry_id) == ("only 0 of 2 replicas are ready", None)
    assert diagnose_deployment(load(Deployment, "deployments", "web")) == []
    raw = next(d for d in items("deployments") if d["metadata"]["name"] == "web")
    rolling = copy.deepcopy(raw)
    rolling["status"].update(updatedReplicas=1, readyReplicas=1, replicas=3)
    (finding,) = diagnose_deployment(msgspec.json.decode(json.dumps(rolling).encode(), type=Deployment))
    assert finding.entry_id == "rollout-stuck"
    assert "a rollout is in progress" in finding.summary


def test_node_rules_only_know_standard_conditions() -> None:
    (pressure,) = diagnose_node(load(Node, "nodes", "node-2"), NOW)
    assert (pressure.summary, pressure.entry_id) == (
        "reports DiskPressure: the kubelet evicts pods to recover",
        "evicted-pod",
    )
    (down,) = diagnose_node(load(Node, "nodes", "node-3"), NOW)
    assert down.entry_id == "node-notready"
    assert "last heartbeat 50m ago" in down.evidence
    raw = copy.deepcopy(next(n for n in items("nodes") if n["metadata"]["name"] == "node-1"))
    raw["status"]["conditions"].append(
        {"type": "KernelDeadlock", "status": "True", "reason": "Cloud", "message": "x"}
    )
    assert diagnose_node(msgspec.json.decode(json.dumps(raw).encode(), type=Node), NOW) == []
