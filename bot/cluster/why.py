"""`why NAME`: find the pod, deployment or service called NAME, gather evidence, run the rules."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Event, Node, Pod, Service
from rapidfuzz import fuzz

from bot.cluster.diagnose import LogTail, PodEvidence, crashed_containers, diagnose_pod, pod_ref
from bot.cluster.errors import ClusterError, ClusterForbidden, ClusterNotFound
from bot.cluster.reader import ClusterReader, selector_labels
from bot.cluster.status import is_finished, summarize_pod
from bot.cluster.workloads import diagnose_deployment, diagnose_service
from bot.models import ClusterReport, Finding

POD_COLUMNS = ("NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE")
MAX_LOG_PODS = 3  # pods whose logs are read per `why`: one per distinct problem
SUGGEST_CUTOFF = 60.0


class NameNotFound(Exception):
    """Nothing called NAME; carries the closest names for "did you mean"."""

    def __init__(self, name: str, namespace: str, suggestions: Sequence[str]) -> None:
        hint = f"; did you mean: {', '.join(suggestions)}" if suggestions else ""
        super().__init__(f"no pod/deployment/service named {name} in {namespace}{hint}")
        self.suggestions = tuple(suggestions)


@dataclass(frozen=True, slots=True)
class Diagnosis:
    rows: tuple[tuple[str, ...], ...]
    findings: tuple[Finding, ...]


async def why(
    reader: ClusterReader, namespace: str, name: str, now: datetime, log_lines: int
) -> ClusterReport:
    found = await asyncio.gather(
        reader.get_pod(namespace, name),
        reader.get_deployment(namespace, name),
        reader.get_service(namespace, name),
        return_exceptions=True,
    )
    for item in found:
        if isinstance(item, BaseException) and not isinstance(item, ClusterError):
            raise item
    pod, dep, svc = found
    context = _Why(reader, namespace, now, log_lines)
    result: Diagnosis
    if isinstance(pod, Pod):
        result = await context.pods([pod])
        kind = "pod"
    elif isinstance(dep, Deployment) or isinstance(svc, Service):
        parts = []
        if isinstance(dep, Deployment):
            parts.append(await context.deployment(dep))
        if isinstance(svc, Service):
            parts.append(await context.service(svc))
        rows = tuple(dict.fromkeys(row for part in parts for row in part.rows))
        findings = tuple(f for part in parts for f in part.findings)
        result = Diagnosis(rows, tuple(dict.fromkeys(findings)))  # the same pod seen via both
        kind = "/".join(
            k for k, obj in (("deployment", dep), ("service", svc)) if not isinstance(obj, BaseException)
        )
    else:
        errors = [r for r in found if isinstance(r, ClusterError) and not isinstance(r, ClusterNotFound)]
        if errors:
            raise errors[0]
        raise NameNotFound(name, namespace, await _suggestions(reader, namespace, name))
    if context.missing:
        note = "some evidence is missing: kubebot needs " + "; ".join(dict.fromkeys(context.missing))
        result = Diagnosis(result.rows, (*result.findings, Finding(f"namespace {namespace}", note)))
    problems = sum(1 for f in result.findings if f.entry_id is not None)
    verdict = f"{problems} problem(s) found" if problems else "no problems found"
    columns = POD_COLUMNS if result.rows else ()
    return ClusterReport(f"why {kind} {namespace}/{name}: {verdict}", columns, result.rows, result.findings)


async def _suggestions(reader: ClusterReader, namespace: str, name: str) -> list[str]:
    """Closest pod names, and the deployments those pods belong to (from the pod-template-hash).

    Short workload names are compared whole (ratio); long pod names also by their best-matching
    part (WRatio), discounted so "wbe" suggests the deployment "web" before its pods.
    """
    try:
        pods = await reader.list_pods(namespace)
    except ClusterError:
        return []
    scores: dict[str, float] = {}
    for p in pods:
        meta = p.metadata
        if meta is None or not meta.name:
            continue
        scores[meta.name] = max(fuzz.ratio(name, meta.name), 0.9 * fuzz.WRatio(name, meta.name))
        rs_hash = (meta.labels or {}).get("pod-template-hash")
        for owner in meta.ownerReferences or ():
            if owner.kind == "ReplicaSet" and rs_hash and owner.name.endswith(f"-{rs_hash}"):
                workload = owner.name.removesuffix(f"-{rs_hash}")
                scores[workload] = fuzz.ratio(name, workload)
    ranked = sorted(
        (item for item in scores.items() if item[1] >= SUGGEST_CUTOFF), key=lambda kv: (-kv[1], kv[0])
    )
    return [candidate for candidate, _ in ranked[:3]]


class _Why:
    def __init__(self, reader: ClusterReader, namespace: str, now: datetime, log_lines: int) -> None:
        self.reader = reader
        self.namespace = namespace
        self.now = now
        self.log_lines = log_lines
        self.missing: list[str] = []  # permissions that would have given more evidence
        self._log_cache: dict[str, dict[str, LogTail]] = {}  # a pod seen via deployment and service

    async def deployment(self, dep: Deployment) -> Diagnosis:
        selector = dep.spec.selector if dep.spec else None
        pods = await self.reader.list_pods(self.namespace, selector_labels(selector)) if selector else []
        result = await self.pods(pods)
        return Diagnosis(result.rows, (*diagnose_deployment(dep), *result.findings))

    async def service(self, svc: Service) -> Diagnosis:
        name = svc.metadata.name if svc.metadata else None
        all_pods, slices = await asyncio.gather(
            self.reader.list_pods(self.namespace), self.reader.list_endpoint_slices(self.namespace, name)
        )
        selector = {str(k): str(v) for k, v in ((svc.spec.selector if svc.spec else None) or {}).items()}
        selected = [p for p in all_pods if selector and _matches(selector, p)]
        findings = diagnose_service(svc, selected, all_pods, slices)
        if not findings:
            return Diagnosis(tuple(summarize_pod(p, self.now).row() for p in selected), ())
        result = await self.pods(selected)
        return Diagnosis(result.rows, (*findings, *result.findings))

    async def pods(self, pods: Sequence[Pod]) -> Diagnosis:
        """Diagnose each pod; read logs for the first pod of each distinct problem; fold repeats."""
        live = [p for p in pods if not is_finished(p)]
        events, nodes = await asyncio.gather(self._events(live), self._nodes(live))
        first: list[tuple[Pod, tuple[str | None, ...], list[Finding]]] = []
        repeats: dict[tuple[str | None, ...], list[str]] = {}
        for pod in live:
            evidence = PodEvidence(pod, events.get(_pod_name(pod), ()), {}, nodes.get(_node_name(pod)))
            findings = diagnose_pod(evidence, self.now)
            if not findings:
                continue
            signature = tuple(f.entry_id for f in findings)
            if signature in repeats:
                repeats[signature].append(_pod_name(pod))
                continue
            repeats[signature] = []
            if len(first) < MAX_LOG_PODS and crashed_containers(pod):
                logs = await self._logs(pod)
                findings = diagnose_pod(PodEvidence(pod, evidence.events, logs, evidence.node), self.now)
            first.append((pod, signature, findings))
        out: list[Finding] = []
        for pod, signature, findings in first:
            out += findings
            others = repeats[signature]
            if others:
                summary = f"{len(others)} more pod(s) have the same problem"
                out.append(Finding(pod_ref(pod), summary, (", ".join(others),)))
        rows = tuple(summarize_pod(p, self.now).row() for p in pods)
        return Diagnosis(rows, tuple(out))

    async def _events(self, pods: Sequence[Pod]) -> dict[str, list[Event]]:
        if not pods:
            return {}
        try:
            if len(pods) == 1:
                items = await self.reader.list_events(self.namespace, _pod_name(pods[0]), "Pod")
            else:
                items = await self.reader.list_events(self.namespace)
        except ClusterError as exc:
            self.missing.append(exc.access.describe())
            return {}
        by_pod: dict[str, list[Event]] = {}
        for e in items:
            if e.involvedObject.kind == "Pod" and e.involvedObject.name:
                by_pod.setdefault(e.involvedObject.name, []).append(e)
        return by_pod

    async def _nodes(self, pods: Sequence[Pod]) -> dict[str, Node]:
        """The nodes of pods that are not ready (a healthy pod's node is not evidence of anything).

        A namespaced Role cannot grant nodes, so a 403 here is only noted for those pods."""
        names = sorted({_node_name(p) for p in pods if not _ready(p)} - {""})
        results = await asyncio.gather(*(self.reader.get_node(n) for n in names), return_exceptions=True)
        out: dict[str, Node] = {}
        for name, result in zip(names, results, strict=True):
            if isinstance(result, Node):
                out[name] = result
            elif isinstance(result, ClusterForbidden):
                self.missing.append(result.access.describe())
            elif isinstance(result, BaseException) and not isinstance(result, ClusterError):
                raise result
        return out

    async def _logs(self, pod: Pod) -> dict[str, LogTail]:
        if self.log_lines <= 0:
            return {}
        if _pod_name(pod) not in self._log_cache:
            self._log_cache[_pod_name(pod)] = await self._read_logs(pod)
        return self._log_cache[_pod_name(pod)]

    async def _read_logs(self, pod: Pod) -> dict[str, LogTail]:
        wanted = crashed_containers(pod)
        results = await asyncio.gather(
            *(
                self.reader.pod_log(self.namespace, _pod_name(pod), c, self.log_lines, prev)
                for c, prev in wanted
            ),
            return_exceptions=True,
        )
        out: dict[str, LogTail] = {}
        for (container, previous), result in zip(wanted, results, strict=True):
            if isinstance(result, list):
                out[container] = LogTail(tuple(result), previous)
            elif isinstance(result, ClusterForbidden):
                out[container] = LogTail((), previous, f"kubebot needs {result.access.describe()}")
            elif isinstance(result, ClusterError):
                out[container] = LogTail((), previous, result.detail or type(result).__name__)
            else:
                raise result
        return out


def _matches(selector: dict[str, str], pod: Pod) -> bool:
    labels = (pod.metadata.labels or {}) if pod.metadata else {}
    return all(labels.get(k) == v for k, v in selector.items())


def _ready(pod: Pod) -> bool:
    conditions = (pod.status.conditions or []) if pod.status else []
    return any(c.type == "Ready" and c.status == "True" for c in conditions)


def _pod_name(pod: Pod) -> str:
    return (pod.metadata.name if pod.metadata else None) or "?"


def _node_name(pod: Pod) -> str:
    return (pod.spec.nodeName if pod.spec else None) or ""
