"""Why a Pending pod cannot be scheduled, from the scheduler's `Unschedulable` message.

"0/3 nodes are available: 1 node(s) had untolerated taint {...}, 2 Insufficient memory. preemption: ..."
becomes one finding per cause (most nodes first), each linked to its KB entry.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from lightkube.resources.core_v1 import Event, Pod

from bot.cluster.status import one_line
from bot.models import Finding

# (entry id, pattern) in matching order: volume node affinity is a storage problem, not an affinity one
CAUSES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("pvc-pending", re.compile(r"persistentvolumeclaim|unbound|volume node affinity|volume binding", re.I)),
    ("pending-insufficient-resources", re.compile(r"insufficient|too many pods", re.I)),
    ("taints-tolerations", re.compile(r"taint|were unschedulable", re.I)),
    ("node-affinity-selector", re.compile(r"affinity|selector", re.I)),
)
SUMMARIES = {
    "pvc-pending": "is Pending: its PersistentVolumeClaim is not bound to a volume",
    "pending-insufficient-resources": "is Pending: no node has enough free {what} for its requests",
    "taints-tolerations": "is Pending: the nodes have taints it does not tolerate",
    "node-affinity-selector": "is Pending: no node matches its node selector or affinity rules",
}
_SEGMENT_SPLIT = re.compile(r",\s+(?=\d+\s)")
_INSUFFICIENT = re.compile(r"Insufficient ([\w./-]+)")
_TAINT = re.compile(r"\{[^}]*\}")


def scheduling_findings(
    ref: str, pod: Pod, message: str, events: Sequence[Event], now: datetime
) -> list[Finding]:
    """One finding per cause in the scheduler's message, the cause affecting most nodes first."""
    if not message:
        failed = [e for e in events if e.reason == "FailedScheduling" and e.message]
        message = failed[0].message or "" if failed else ""
    main = message.split(". preemption:")[0].split("preemption:")[0]
    tail = main.split("available:", 1)[1] if "available:" in main else main
    counts: dict[str, int] = {}
    resources: list[str] = []
    for segment in _SEGMENT_SPLIT.split(tail.strip().rstrip(".")):
        match = re.match(r"(\d+)\s+(.*)", segment.strip())
        nodes, text = (int(match.group(1)), match.group(2)) if match else (0, segment)
        for entry_id, pattern in CAUSES:
            if pattern.search(text):
                counts[entry_id] = counts.get(entry_id, 0) + max(nodes, 1)
                resources += [r for r in _INSUFFICIENT.findall(text) if r not in resources]
                break
    scheduler = f"scheduler: {one_line(message) or 'no message'}"
    if not counts:
        return [Finding(ref, "is Pending: the scheduler cannot place it", (scheduler,), None)]
    findings = []
    for entry_id in sorted(counts, key=lambda k: -counts[k]):
        summary = SUMMARIES[entry_id].format(what=" and ".join(resources) or "pod slots")
        findings.append(Finding(ref, summary, (scheduler, *_evidence(entry_id, pod, message)), entry_id))
    return findings


def _evidence(entry_id: str, pod: Pod, message: str) -> list[str]:
    spec = pod.spec
    if spec is None:
        return []
    if entry_id == "pending-insufficient-resources":
        out = []
        for c in spec.containers:
            requests = (c.resources.requests or {}) if c.resources else {}
            shown = ", ".join(f"{k} {v}" for k, v in requests.items()) or "none"
            out.append(f"requests ({c.name}): {shown}")
        return out
    if entry_id == "taints-tolerations":
        taints = _TAINT.findall(message)
        tolerations = [
            f"{t.key or '*'}{'=' + t.value if t.value else ''}:{t.effect or '*'}"
            for t in spec.tolerations or ()
            if not (t.key or "").startswith("node.kubernetes.io/")  # the defaults every pod gets
        ]
        out = [f"taints: {' '.join(taints)}"] if taints else []
        return [*out, f"tolerations: {', '.join(tolerations) or 'none'}"]
    if entry_id == "node-affinity-selector":
        out = []
        if spec.nodeSelector:
            out.append("nodeSelector: " + ", ".join(f"{k}={v}" for k, v in spec.nodeSelector.items()))
        affinity = spec.affinity
        if (
            affinity
            and affinity.nodeAffinity
            and affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution
        ):
            out.append("nodeAffinity: required rules are set")
        if affinity and (affinity.podAffinity or affinity.podAntiAffinity):
            out.append("pod (anti-)affinity rules are set")
        return out
    claims = [v.persistentVolumeClaim.claimName for v in spec.volumes or () if v.persistentVolumeClaim]
    return [f"claims: {', '.join(claims)}"] if claims else []
