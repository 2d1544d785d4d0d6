"""Rules for Deployments, Services and Nodes (pod rules are in diagnose.py). Pure, no I/O."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Node, Pod, Service
from lightkube.resources.discovery_v1 import EndpointSlice
from rapidfuzz import fuzz

from bot.cluster.status import human_duration, node_pressures, node_ready
from bot.models import Finding

PRESSURE_ENTRY = {
    "MemoryPressure": "evicted-pod",
    "DiskPressure": "evicted-pod",
    "PIDPressure": "evicted-pod",
}


def deployment_ref(dep: Deployment) -> str:
    meta = dep.metadata
    return f"deployment {meta.namespace if meta else '?'}/{meta.name if meta else '?'}"


def diagnose_deployment(dep: Deployment) -> list[Finding]:
    ref = deployment_ref(dep)
    desired = dep.spec.replicas if dep.spec and dep.spec.replicas is not None else 1
    status = dep.status
    ready = (status.readyReplicas or 0) if status else 0
    updated = (status.updatedReplicas or 0) if status else 0
    total = (status.replicas or 0) if status else 0
    conditions = {c.type: c for c in (status.conditions or ()) if c.type} if status else {}
    progressing = conditions.get("Progressing")
    counts = f"{ready}/{desired} ready, {updated} up to date, {total} total"
    if progressing is not None and progressing.status == "False":
        stuck = (counts, f"Progressing=False {progressing.reason or ''}: {progressing.message or ''}".strip())
        return [Finding(ref, "the rollout is stuck: new pods never became ready", stuck, "rollout-stuck")]
    if dep.spec and dep.spec.paused:
        return [Finding(ref, "the rollout is paused", (counts,), "rollout-stuck")]
    if desired == 0:
        return [Finding(ref, "is scaled to 0 replicas", (counts,), None)]
    if ready < desired:
        rolling = updated < desired or total > desired
        available = conditions.get("Available")
        evidence: list[str] = [counts]
        if available is not None and available.message:
            evidence.append(f"Available={available.status}: {available.message}")
        summary = f"only {ready} of {desired} replicas are ready"
        if rolling:
            summary += " (a rollout is in progress)"
        return [Finding(ref, summary, tuple(evidence), "rollout-stuck" if rolling else None)]
    return []


def service_ref(svc: Service) -> str:
    meta = svc.metadata
    return f"service {meta.namespace if meta else '?'}/{meta.name if meta else '?'}"


def endpoint_counts(slices: Sequence[EndpointSlice]) -> tuple[int, int]:
    """(ready, not ready) endpoints over a Service's EndpointSlices."""
    ready = not_ready = 0
    for s in slices:
        for ep in s.endpoints or ():
            if ep.conditions is None or ep.conditions.ready is not False:
                ready += 1
            else:
                not_ready += 1
    return ready, not_ready


def selector_text(selector: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in selector.items())


def diagnose_service(
    svc: Service, selected: Sequence[Pod], namespace_pods: Sequence[Pod], slices: Sequence[EndpointSlice]
) -> list[Finding]:
    """A Service whose selector matches no pod, or only pods that are not ready."""
    ref = service_ref(svc)
    spec = svc.spec
    if spec is None or spec.type == "ExternalName":
        return []
    ready, not_ready = endpoint_counts(slices)
    selector = {str(k): str(v) for k, v in (spec.selector or {}).items()}
    if not selector:
        if ready:
            return []
        manual = ("no selector: its EndpointSlices are managed by hand or by another controller",)
        return [Finding(ref, "has no ready endpoints", manual, "service-no-endpoints")]
    live = [p for p in selected if not (p.status and p.status.phase in ("Succeeded", "Failed"))]
    if not live:
        misses = (f"selector: {selector_text(selector)}", *_near_misses(selector, namespace_pods))
        summary = "selects no pods: no pod in the namespace has every label of its selector"
        return [Finding(ref, summary, misses, "service-no-endpoints")]
    if ready == 0:
        evidence = [
            f"selector: {selector_text(selector)} matches {len(live)} pod(s)",
            f"endpoints: 0 ready, {not_ready} not ready",
            *_port_evidence(svc, live),
        ]
        summary = f"selects {len(live)} pod(s) but none is ready, so it has no endpoints"
        return [Finding(ref, summary, tuple(evidence), "service-no-endpoints")]
    return []


def _near_misses(selector: Mapping[str, str], pods: Sequence[Pod], limit: int = 3) -> list[str]:
    """Pods whose labels come closest to the selector (same keys, similar values): show what differs."""
    scored: list[tuple[float, str, str]] = []
    for pod in pods:
        labels = {str(k): str(v) for k, v in ((pod.metadata.labels or {}) if pod.metadata else {}).items()}
        if not any(k in labels for k in selector):
            continue
        score = sum(
            100.0 if labels.get(k) == v else fuzz.ratio(v, labels.get(k, "")) for k, v in selector.items()
        )
        diffs = [
            f"{k}={labels[k]}" if k in labels else f"no {k} label"
            for k, v in selector.items()
            if labels.get(k) != v
        ]
        name = (pod.metadata.name if pod.metadata else None) or "?"
        scored.append((score, name, ", ".join(diffs)))
    scored.sort(key=lambda t: (-t[0], t[1]))
    if not scored:
        if not pods:
            return ["the namespace has no pods"]
        return [f"no pod in the namespace has any of the labels {', '.join(selector)}"]
    return [f"pod {name} has {diffs}" for _, name, diffs in scored[:limit]]


def _port_evidence(svc: Service, pods: Sequence[Pod]) -> list[str]:
    """Named targetPorts the pods do not declare (numeric ones need no declaration)."""
    names = {
        p.name
        for pod in pods
        for c in (pod.spec.containers if pod.spec else ())
        for p in c.ports or ()
        if p.name
    }
    out = []
    for port in (svc.spec.ports or ()) if svc.spec else ():
        if isinstance(port.targetPort, str) and port.targetPort not in names:
            out.append(f"targetPort {port.targetPort!r} is not a named container port on the selected pods")
    return out


def diagnose_node(node: Node, now: datetime) -> list[Finding]:
    """NotReady/Unknown nodes and the standard pressure conditions only (cloud conditions are not alarms)."""
    name = node.metadata.name if node.metadata else "?"
    ref = f"node {name}"
    ready, message = node_ready(node)
    conditions = {c.type: c for c in (node.status.conditions or ())} if node.status else {}
    findings: list[Finding] = []
    if ready != "True":
        cond = conditions.get("Ready")
        lines = [f"Ready={ready}: {message}"]
        if cond is not None and cond.lastHeartbeatTime:
            lines.append(
                f"last heartbeat {human_duration((now - cond.lastHeartbeatTime).total_seconds())} ago"
            )
        state = "NotReady" if ready == "False" else "Unknown: the kubelet stopped reporting"
        findings.append(Finding(ref, f"is {state}", tuple(lines), "node-notready"))
    for pressure in node_pressures(node):
        cond = conditions[pressure]
        evidence = (f"{pressure}=True: {cond.message or cond.reason or ''}".strip(),)
        findings.append(
            Finding(
                ref,
                f"reports {pressure}: the kubelet evicts pods to recover",
                evidence,
                PRESSURE_ENTRY.get(pressure, "node-notready"),
            )
        )
    return findings
