"""Pod, deployment and node summaries computed the way `kubectl get` prints them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lightkube.models.core_v1 import ContainerStatus, PodCondition
from lightkube.resources.core_v1 import Event, Node, Pod

PRESSURE_CONDITIONS = ("MemoryPressure", "DiskPressure", "PIDPressure", "NetworkUnavailable")


@dataclass(frozen=True, slots=True)
class PodSummary:
    name: str
    namespace: str
    ready: str  # "1/2"
    status: str  # as kubectl prints it: Running, CrashLoopBackOff, Init:0/1, Completed, Terminating...
    restarts: str  # "5 (2m ago)"
    age: str
    node: str

    def row(self) -> tuple[str, ...]:
        return (self.name, self.ready, self.status, self.restarts, self.age, self.node)


def human_duration(seconds: float) -> str:
    """kubectl's duration.HumanDuration: 45s, 5m30s, 3h, 2d4h, 400d, 2y."""
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        return f"{minutes}m" if s % 60 == 0 else f"{minutes}m{s % 60}s"
    if minutes < 180:
        return f"{minutes}m"
    hours = minutes // 60
    if hours < 8:
        return f"{hours}h" if minutes % 60 == 0 else f"{hours}h{minutes % 60}m"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        return f"{hours // 24}d" if hours % 24 == 0 else f"{hours // 24}d{hours % 24}h"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = hours // 24
        return f"{days // 365}y" if days % 365 == 0 else f"{days // 365}y{days % 365}d"
    return f"{hours // 24 // 365}y"


def age(when: datetime | None, now: datetime) -> str:
    return human_duration((now - when).total_seconds()) if when else "<unknown>"


def _has_ready_condition(conditions: list[PodCondition] | None) -> bool:
    return any(c.type == "Ready" and c.status == "True" for c in conditions or ())


def pod_status(pod: Pod) -> str:
    """The STATUS column of `kubectl get pods` (printPod in kubectl's printers)."""
    status = pod.status
    spec = pod.spec
    meta = pod.metadata
    reason = (status.reason or status.phase or "Unknown") if status else "Unknown"
    if status is None:
        return "Terminating" if meta and meta.deletionTimestamp else reason
    for cond in status.conditions or ():
        if cond.type == "PodScheduled" and cond.reason == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = spec.initContainers or [] if spec else []
    initializing = False
    for i, cs in enumerate(status.initContainerStatuses or []):
        state = cs.state
        if state and state.terminated and state.terminated.exitCode == 0:
            continue
        if state and state.running and _is_sidecar(pod, cs.name):
            continue  # restartable init containers (sidecars) keep running
        if state and state.terminated:
            term = state.terminated
            if term.reason:
                reason = f"Init:{term.reason}"
            else:
                reason = f"Init:Signal:{term.signal}" if term.signal else f"Init:ExitCode:{term.exitCode}"
        elif state and state.waiting and state.waiting.reason and state.waiting.reason != "PodInitializing":
            reason = f"Init:{state.waiting.reason}"
        else:
            reason = f"Init:{i}/{len(init_specs)}"
        initializing = True
        break
    if not initializing:
        has_running = False
        for cs in reversed(status.containerStatuses or []):
            state = cs.state
            if state and state.waiting and state.waiting.reason:
                reason = state.waiting.reason
            elif state and state.terminated and state.terminated.reason:
                reason = state.terminated.reason
            elif state and state.terminated:
                term = state.terminated
                reason = f"Signal:{term.signal}" if term.signal else f"ExitCode:{term.exitCode}"
            elif cs.ready and state and state.running:
                has_running = True
        if reason == "Completed" and has_running:
            reason = "Running" if _has_ready_condition(status.conditions) else "NotReady"
    if meta and meta.deletionTimestamp and status.reason == "NodeLost":
        reason = "Unknown"
    elif meta and meta.deletionTimestamp and status.phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    return reason


def _is_sidecar(pod: Pod, name: str) -> bool:
    for c in (pod.spec.initContainers or []) if pod.spec else []:
        if c.name == name:
            return c.restartPolicy == "Always"
    return False


def ready_count(pod: Pod) -> tuple[int, int]:
    total = len(pod.spec.containers) if pod.spec else 0
    statuses = pod.status.containerStatuses or [] if pod.status else []
    ready = sum(1 for cs in statuses if cs.ready and cs.state is not None and cs.state.running is not None)
    return ready, total


def restarts(pod: Pod, now: datetime) -> str:
    """RESTARTS: init containers while initializing, else containers and sidecars, with the last restart."""
    statuses: list[ContainerStatus] = []
    if pod.status:
        inits = pod.status.initContainerStatuses or []
        if pod_status(pod).startswith("Init:"):
            statuses = list(inits)
        else:
            sidecars = [cs for cs in inits if _is_sidecar(pod, cs.name)]
            statuses = [*sidecars, *(pod.status.containerStatuses or [])]
    count = sum(cs.restartCount for cs in statuses)
    last: datetime | None = None
    for cs in statuses:
        term = cs.lastState.terminated if cs.lastState else None
        if term and term.finishedAt and (last is None or term.finishedAt > last):
            last = term.finishedAt
    if count and last is not None:
        return f"{count} ({human_duration((now - last).total_seconds())} ago)"
    return str(count)


def summarize_pod(pod: Pod, now: datetime) -> PodSummary:
    meta = pod.metadata
    ready, total = ready_count(pod)
    return PodSummary(
        name=(meta.name if meta else None) or "?",
        namespace=(meta.namespace if meta else None) or "",
        ready=f"{ready}/{total}",
        status=pod_status(pod),
        restarts=restarts(pod, now),
        age=age(meta.creationTimestamp if meta else None, now),
        node=(pod.spec.nodeName if pod.spec else None) or "<none>",
    )


def is_finished(pod: Pod) -> bool:
    """Succeeded pods (Completed jobs) are not problems; K8sGPT reported them and was wrong (#1581)."""
    return bool(pod.status and pod.status.phase == "Succeeded")


def node_ready(node: Node) -> tuple[str, str]:
    """(status, message) of the node's Ready condition: ("True"|"False"|"Unknown", why)."""
    for cond in (node.status.conditions or []) if node.status else []:
        if cond.type == "Ready":
            return cond.status, (cond.message or cond.reason or "")
    return "Unknown", "the node reports no Ready condition"


def node_status(node: Node) -> str:
    ready, _ = node_ready(node)
    text = "Ready" if ready == "True" else "NotReady"  # kubectl prints NotReady for False and Unknown
    if node.spec and node.spec.unschedulable:
        text += ",SchedulingDisabled"
    return text


def node_pressures(node: Node) -> list[str]:
    """Known pressure conditions that are True (only these: cloud conditions are not alarms)."""
    conditions = (node.status.conditions or []) if node.status else []
    return [c.type for c in conditions if c.type in PRESSURE_CONDITIONS and c.status == "True"]


def node_roles(node: Node) -> str:
    labels = (node.metadata.labels or {}) if node.metadata else {}
    prefix = "node-role.kubernetes.io/"
    roles = sorted(k[len(prefix) :] for k in labels if k.startswith(prefix) and k[len(prefix) :])
    return ",".join(roles) or "<none>"


def event_time(event: Event) -> datetime | None:
    """When an event last happened: lastTimestamp, the series, eventTime, then creation."""
    if event.lastTimestamp:
        return event.lastTimestamp
    if event.series and event.series.lastObservedTime:
        return event.series.lastObservedTime
    return (
        event.eventTime
        or event.firstTimestamp
        or (event.metadata.creationTimestamp if event.metadata else None)
    )


def event_count(event: Event) -> int:
    if event.series and event.series.count:
        return event.series.count
    return event.count or 1


def sort_events(events: list[Event]) -> list[Event]:
    """Warnings first, newest first within each type."""
    epoch = datetime.min.replace(tzinfo=UTC)
    return sorted(events, key=lambda e: (e.type != "Warning", -(event_time(e) or epoch).timestamp()))


def event_line(event: Event, now: datetime, limit: int = 300) -> str:
    when = event_time(event)
    count = event_count(event)
    seen = f"x{count}, " if count > 1 else ""
    ago = f"{human_duration((now - when).total_seconds())} ago" if when else "time unknown"
    return f"event {event.reason or '?'} ({seen}{ago}): {one_line(event.message or '', limit)}"


def one_line(text: str, limit: int = 300) -> str:
    """Whitespace collapsed; when too long, the middle is cut: error messages put the cause last."""
    flat = " ".join(text.split())
    if len(flat) <= limit:
        return flat
    head = limit // 3
    return flat[:head] + " … " + flat[-(limit - head - 3) :]
