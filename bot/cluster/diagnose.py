"""Deterministic pod rules: status fields and events in, `Finding`s linked to KB entries out.

Pure functions, no I/O: the `why` orchestration (why.py) fetches what a rule needs. Each finding
says what is wrong in one line, shows the evidence, and names the entry with the fix. The
knowledge base holds the explanations; this module only decides which one applies.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from lightkube.models.core_v1 import Container, ContainerStateTerminated, ContainerStatus
from lightkube.resources.core_v1 import Event, Node, Pod

from bot.cluster.probes import mount_findings, probe_findings
from bot.cluster.scheduling import scheduling_findings
from bot.cluster.status import human_duration, is_finished, node_ready, one_line, sort_events
from bot.models import Finding

IMAGE_REASONS = frozenset(
    {
        "ImagePullBackOff",
        "ErrImagePull",
        "InvalidImageName",
        "ErrImageNeverPull",
        "ImageInspectError",
        "RegistryUnavailable",
    }
)
_PRIVATE_REGISTRY = re.compile(
    r"unauthori[sz]ed|authentication required|no basic auth credentials|pull access denied|"
    r"insufficient_scope|403 forbidden|denied:",
    re.IGNORECASE,
)
_MISSING_OBJECT = re.compile(r'(secret|configmap)s? "([^"]+)" not found', re.IGNORECASE)
_MISSING_KEY = re.compile(
    r"couldn't find key (\S+) in (Secret|ConfigMap) (?:([\w.-]+)/)?([\w.-]+)", re.IGNORECASE
)
EXIT_ENTRIES = {
    137: "exit-code-137",
    1: "exit-code-1",
    126: "exit-code-126-127",
    127: "exit-code-126-127",
    139: "exit-code-139",
    143: "exit-code-143",
}
EXIT_MEANINGS = {
    1: "the application failed (an error in the app or its configuration)",
    126: "the command exists but cannot be executed (permissions or wrong format)",
    127: "the command was not found in the image",
    137: "it was killed with SIGKILL, but not by the OOM killer (a failed liveness probe or a forced stop)",
    139: "it crashed with a segmentation fault (SIGSEGV)",
    143: "it was stopped with SIGTERM (a probe restart, a rollout, or a node drain)",
}


@dataclass(frozen=True, slots=True)
class LogTail:
    """The last lines of one container's log, or why they could not be read."""

    lines: tuple[str, ...] = ()
    previous: bool = True
    error: str | None = None


@dataclass(frozen=True, slots=True)
class PodEvidence:
    """Everything the pod rules look at; fetched by why.py."""

    pod: Pod
    events: Sequence[Event] = ()
    logs: Mapping[str, LogTail] = field(default_factory=dict)
    node: Node | None = None


def pod_ref(pod: Pod) -> str:
    meta = pod.metadata
    return f"pod {meta.namespace if meta else '?'}/{meta.name if meta else '?'}"


def crashed_containers(pod: Pod) -> list[tuple[str, bool]]:
    """(container, previous) pairs whose logs explain a crash: restarted ones read the previous instance."""
    out: list[tuple[str, bool]] = []
    for cs, _ in _all_statuses(pod):
        state = cs.state
        if state and state.waiting and state.waiting.reason == "CrashLoopBackOff":
            out.append((cs.name, True))
        elif state and state.terminated and state.terminated.exitCode != 0:
            out.append((cs.name, False))
    return out


def diagnose_pod(ev: PodEvidence, now: datetime) -> list[Finding]:
    """Every finding for one pod; empty for healthy or Succeeded (Completed) pods."""
    pod = ev.pod
    if is_finished(pod) or pod.status is None:
        return []
    ref = pod_ref(pod)
    status = pod.status
    events = sort_events(list(ev.events))
    if status.phase == "Failed" and status.reason == "Evicted":
        node = pod.spec.nodeName if pod.spec else None
        evidence = (one_line(status.message or "the kubelet gave no message"), f"node: {node or 'unknown'}")
        return [Finding(ref, "was evicted by the kubelet to free node resources", evidence, "evicted-pod")]
    findings: list[Finding] = []
    if ev.node is not None:
        findings += _node_findings(ref, ev.node, now)
    for cond in status.conditions or ():
        if cond.type == "PodScheduled" and cond.status == "False" and cond.reason == "Unschedulable":
            findings += scheduling_findings(ref, pod, cond.message or "", events, now)
    for cs, init in _all_statuses(pod):
        findings += _container_findings(ref, pod, cs, init, ev, now)
    findings += probe_findings(ref, pod, events, now, bool(findings))
    findings += mount_findings(ref, status.phase, events, now)
    return _dedupe(findings)


# -- containers -------------------------------------------------------------------------------
def _all_statuses(pod: Pod) -> list[tuple[ContainerStatus, bool]]:
    if pod.status is None:
        return []
    inits = [(cs, True) for cs in pod.status.initContainerStatuses or ()]
    return [*inits, *((cs, False) for cs in pod.status.containerStatuses or ())]


def _spec(pod: Pod, name: str, init: bool) -> Container | None:
    containers = (pod.spec.initContainers if init else pod.spec.containers) if pod.spec else None
    return next((c for c in containers or () if c.name == name), None)


def _container_findings(
    ref: str, pod: Pod, cs: ContainerStatus, init: bool, ev: PodEvidence, now: datetime
) -> list[Finding]:
    label = f"{'init container' if init else 'container'} {cs.name}"
    spec = _spec(pod, cs.name, init)
    state = cs.state
    waiting = state.waiting if state else None
    reason = waiting.reason if waiting else None
    last = cs.lastState.terminated if cs.lastState else None
    logs = ev.logs.get(cs.name)
    if reason == "CrashLoopBackOff":
        evidence = [f"restarted {cs.restartCount} times"]
        if last is not None:
            evidence.append(f"last termination: {_termination(last, now)}")
        crash = Finding(
            ref,
            f"{label} is in CrashLoopBackOff: it keeps exiting and is restarted with a growing delay",
            tuple(evidence),
            "crashloopbackoff",
        )
        cause = _exit_finding(ref, label, last, spec, logs, now) if last is not None else None
        if cause is None:
            return [
                Finding(crash.object_ref, crash.summary, crash.evidence + _log_evidence(logs), crash.entry_id)
            ]
        return [crash, cause]
    if reason in IMAGE_REASONS:
        return [_image_finding(ref, label, cs, spec, waiting.message if waiting else None, ev.events, pod)]
    if reason in ("CreateContainerConfigError", "CreateContainerError"):
        return [_config_finding(ref, label, waiting.message if waiting else None, spec)]
    if reason == "RunContainerError":
        run_error = (waiting.message or "no message",) if waiting else ()
        return [
            Finding(
                ref, f"{label} could not be started by the container runtime", run_error, "exit-code-126-127"
            )
        ]
    if state and state.terminated and state.terminated.exitCode != 0:
        cause = _exit_finding(ref, label, state.terminated, spec, logs, now)
        return [cause] if cause else []
    if state and state.running and last is not None and (last.reason == "OOMKilled" or last.exitCode == 137):
        cause = _exit_finding(ref, label, last, spec, logs, now)
        if cause is not None:
            what = cause.summary.removeprefix(label + " ")
            summary = f"{label} restarted {cs.restartCount} time(s); last time it {what}"
            return [Finding(ref, summary, cause.evidence, cause.entry_id)]
    return []


def _termination(term: ContainerStateTerminated, now: datetime) -> str:
    text = f"{term.reason or 'Error'}, exit code {term.exitCode}"
    if term.signal:
        text += f", signal {term.signal}"
    if term.finishedAt:
        text += f", {human_duration((now - term.finishedAt).total_seconds())} ago"
    return text


def _exit_finding(
    ref: str,
    label: str,
    term: ContainerStateTerminated,
    spec: Container | None,
    logs: LogTail | None,
    now: datetime,
) -> Finding | None:
    code = term.exitCode
    evidence = [f"terminated: {_termination(term, now)}"]
    if term.message:
        evidence.append(f"message: {one_line(term.message)}")
    if term.reason == "OOMKilled":
        evidence += _memory_evidence(spec)
        summary = f"{label} was OOMKilled: it used more memory than its limit (exit code {code})"
        return Finding(ref, summary, (*evidence, *_log_evidence(logs)), "oomkilled")
    if code == 0:
        return None
    if code == 137:
        evidence += _memory_evidence(spec)
    if code in (126, 127) and spec is not None:
        evidence.append(
            f"command: {' '.join([*(spec.command or ()), *(spec.args or ())]) or '(image default)'}"
        )
    meaning = EXIT_MEANINGS.get(code)
    summary = (
        f"{label} exited with code {code}: {meaning}"
        if meaning
        else (f"{label} exited with code {code} ({term.reason or 'Error'}); its logs say why")
    )
    return Finding(ref, summary, (*evidence, *_log_evidence(logs)), EXIT_ENTRIES.get(code, "logs-previous"))


def _memory_evidence(spec: Container | None) -> list[str]:
    res = spec.resources if spec else None
    limit = (res.limits or {}).get("memory") if res else None
    request = (res.requests or {}).get("memory") if res else None
    line = f"memory limit: {limit}" if limit else "memory limit: none set (the node ran out of memory)"
    return [line + (f", request: {request}" if request else "")]


def _log_evidence(logs: LogTail | None) -> tuple[str, ...]:
    if logs is None:
        return ()
    if logs.error:
        return (f"logs unavailable: {logs.error}",)
    if not logs.lines:
        return ("the log is empty",)
    which = "previous container" if logs.previous else "container"
    return (f"last log lines ({which}):", *(f"| {_log_line(line)}" for line in logs.lines))


def _image_finding(
    ref: str,
    label: str,
    cs: ContainerStatus,
    spec: Container | None,
    message: str | None,
    events: Sequence[Event],
    pod: Pod,
) -> Finding:
    image = (spec.image if spec else None) or cs.image
    evidence = [f"image: {image}"]
    if message:
        evidence.append(f"message: {one_line(message)}")
    failed = [e for e in sort_events(list(events)) if e.reason in ("Failed", "ErrImagePull") and e.message]
    latest = one_line(failed[0].message or "") if failed else ""
    if latest and (not message or (one_line(message) not in latest and latest not in one_line(message))):
        evidence.append(f"event: {latest}")
    text = " ".join([message or "", *(e.message or "" for e in failed[:1])])
    reason = cs.state.waiting.reason if cs.state and cs.state.waiting else "ImagePullBackOff"
    if reason == "InvalidImageName":
        return Finding(
            ref, f"{label} has an invalid image name: {image}", tuple(evidence), "imagepullbackoff"
        )
    if _PRIVATE_REGISTRY.search(text):
        secrets = [s.name for s in (pod.spec.imagePullSecrets or ()) if s.name] if pod.spec else []
        evidence.append(f"imagePullSecrets: {', '.join(secrets) if secrets else 'none'}")
        summary = f"{label} cannot pull {image}: the registry refused access ({reason})"
        return Finding(ref, summary, tuple(evidence), "image-pull-private-registry")
    return Finding(
        ref, f"{label} cannot pull its image {image} ({reason})", tuple(evidence), "imagepullbackoff"
    )


def _config_finding(ref: str, label: str, message: str | None, spec: Container | None) -> Finding:
    text = message or ""
    evidence = [f"message: {one_line(text)}"] if text else []
    key_match = _MISSING_KEY.search(text)
    obj_match = _MISSING_OBJECT.search(text)
    if key_match:
        key, kind, _, name = key_match.groups()
        kind = "Secret" if kind.lower() == "secret" else "ConfigMap"
        summary = f"{label} cannot start: the {kind} {name} has no key {key}"
        evidence += _references(spec, kind, name, key)
    elif obj_match:
        kind = "Secret" if obj_match.group(1).lower() == "secret" else "ConfigMap"
        name = obj_match.group(2)
        summary = f"{label} cannot start: the {kind} {name} does not exist"
        evidence += _references(spec, kind, name, None)
    else:
        summary = f"{label} cannot be created: its configuration is invalid"
    return Finding(ref, summary, tuple(evidence), "createcontainerconfigerror")


def _references(spec: Container | None, kind: str, name: str, key: str | None) -> list[str]:
    """Where the container spec refers to the missing object (names only; Secrets are never read)."""
    if spec is None:
        return []
    out: list[str] = []
    for env in spec.env or ():
        src = env.valueFrom
        ref = (src.secretKeyRef if kind == "Secret" else src.configMapKeyRef) if src else None
        if ref is not None and ref.name == name and (key is None or ref.key == key):
            out.append(f"used by env {env.name} ({kind} {name}, key {ref.key})")
    for env_from in spec.envFrom or ():
        ref_from = env_from.secretRef if kind == "Secret" else env_from.configMapRef
        if ref_from is not None and ref_from.name == name:
            out.append(f"used by envFrom ({kind} {name})")
    return out


# -- node ---------------------------------------------------------------------------------------
def _node_findings(ref: str, node: Node, now: datetime) -> list[Finding]:
    ready, message = node_ready(node)
    if ready == "True":
        return []
    name = node.metadata.name if node.metadata else "?"
    state = "NotReady" if ready == "False" else "Unknown (the kubelet stopped reporting)"
    evidence = (f"node {name}: {one_line(message)}",)
    return [Finding(ref, f"runs on node {name}, which is {state}", evidence, "node-notready")]


def _log_line(line: str, limit: int = 200) -> str:
    text = line.rstrip().expandtabs(4)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _dedupe(findings: list[Finding]) -> list[Finding]:
    seen: set[tuple[str, str | None, str]] = set()
    out: list[Finding] = []
    for f in findings:
        key = (f.object_ref, f.entry_id, f.summary)
        if key not in seen:
            seen.add(key)
            out.append(f)
    return out
