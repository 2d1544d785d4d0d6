"""Rules read from events: failing probes (`Unhealthy`) and volumes that cannot be mounted."""

from __future__ import annotations

from datetime import datetime

from lightkube.models.core_v1 import Probe
from lightkube.resources.core_v1 import Event, Pod

from bot.cluster.status import event_line
from bot.models import Finding


def probe_findings(ref: str, pod: Pod, events: list[Event], now: datetime, has_other: bool) -> list[Finding]:
    unhealthy = [e for e in events if e.reason == "Unhealthy" and e.message]
    liveness = [e for e in unhealthy if (e.message or "").startswith(("Liveness", "Startup"))]
    readiness = [e for e in unhealthy if (e.message or "").startswith("Readiness")]
    out: list[Finding] = []
    if liveness:
        kind = "startup" if (liveness[0].message or "").startswith("Startup") else "liveness"
        evidence = [event_line(liveness[0], now), *_probe_specs(pod, kind)]
        summary = f"its {kind} probe fails, so the kubelet kills and restarts the container"
        out.append(Finding(ref, summary, tuple(evidence), "liveness-probe"))
    status = pod.status
    running = bool(status and status.phase == "Running")
    ready = any(
        c.type == "Ready" and c.status == "True" for c in ((status.conditions or []) if status else [])
    )
    statuses = (status.containerStatuses or []) if status else []
    all_running = bool(statuses) and all(cs.state is not None and cs.state.running for cs in statuses)
    if running and not ready and all_running and not has_other:
        not_ready = [cs.name for cs in statuses if not cs.ready]
        evidence = [f"not ready: {', '.join(not_ready) or 'pod readiness gates'}"]
        if readiness:
            evidence.append(event_line(readiness[0], now))
        else:
            evidence.append("no failed-probe events recorded (events expire after about an hour)")
        evidence += _probe_specs(pod, "readiness")
        summary = "is running but not ready, so Services send it no traffic"
        if readiness:
            summary = "is running but not ready: its readiness probe fails, so Services send it no traffic"
        out.append(Finding(ref, summary, tuple(evidence), "readiness-probe"))
    return out


def _probe_specs(pod: Pod, kind: str) -> list[str]:
    out: list[str] = []
    for c in (pod.spec.containers if pod.spec else ()) or ():
        probe: Probe | None = getattr(c, f"{kind}Probe")
        if probe is None:
            continue
        if probe.httpGet:
            target = f"HTTP GET :{probe.httpGet.port}{probe.httpGet.path or '/'}"
        elif probe.tcpSocket:
            target = f"TCP :{probe.tcpSocket.port}"
        elif probe.exec:
            target = "exec " + " ".join(probe.exec.command or ())
        else:
            target = "gRPC" if probe.grpc else "?"
        timing = (
            f"every {probe.periodSeconds or 10}s, timeout {probe.timeoutSeconds or 1}s, "
            f"after {probe.initialDelaySeconds or 0}s, fails after {probe.failureThreshold or 3}"
        )
        out.append(f"{kind}Probe ({c.name}): {target}, {timing}")
    return out


def mount_findings(ref: str, phase: str | None, events: list[Event], now: datetime) -> list[Finding]:
    if phase != "Pending":
        return []
    for e in events:
        if e.reason in ("FailedMount", "FailedAttachVolume") and e.message:
            text = e.message.lower()
            if "configmap" in text or "secret" in text:
                return [
                    Finding(
                        ref,
                        "cannot mount a volume: a ConfigMap or Secret it mounts is missing",
                        (event_line(e, now),),
                        "createcontainerconfigerror",
                    )
                ]
            return [Finding(ref, "cannot mount a volume", (event_line(e, now),), "pvc-pending")]
    return []
