"""The listing verbs: pods, deployments, services, events, nodes → a ClusterReport table."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar

from lightkube.models.meta_v1 import ObjectMeta
from lightkube.resources.core_v1 import Service
from lightkube.resources.discovery_v1 import EndpointSlice

from bot.cluster.reader import ALL_NAMESPACES, ClusterReader
from bot.cluster.status import (
    age,
    event_time,
    human_duration,
    node_pressures,
    node_roles,
    node_status,
    sort_events,
    summarize_pod,
)
from bot.cluster.workloads import diagnose_node, endpoint_counts
from bot.models import ClusterReport

POD_COLUMNS = ("NAME", "READY", "STATUS", "RESTARTS", "AGE", "NODE")
EVENT_MESSAGE_CHARS = 120


@dataclass(frozen=True, slots=True)
class Scope:
    """Which namespaces a query covers: one, or all the allowlist permits."""

    namespace: str | None  # None: every allowed namespace
    allowed: Callable[[str], bool]
    explicit: tuple[str, ...] | None = None  # the allowlist when it is an explicit list

    @property
    def label(self) -> str:
        return f"in {self.namespace}" if self.namespace else "in all allowed namespaces"


class _HasMeta(Protocol):
    @property
    def metadata(self) -> ObjectMeta | None: ...


M = TypeVar("M", bound=_HasMeta)


async def fetch(scope: Scope, one: Callable[[str], Awaitable[list[M]]]) -> list[M]:
    """One namespace; each allowlisted namespace (namespaced RBAC is enough); or a filtered cluster list."""
    if scope.namespace:
        return await one(scope.namespace)
    if scope.explicit is not None:
        chunks = await asyncio.gather(*(one(ns) for ns in scope.explicit))
        return [item for chunk in chunks for item in chunk]
    return [i for i in await one(ALL_NAMESPACES) if scope.allowed(_ns(i))]


def _ns(obj: _HasMeta) -> str:
    return (obj.metadata.namespace if obj.metadata else None) or ""


def _name(obj: _HasMeta) -> str:
    return (obj.metadata.name if obj.metadata else None) or "?"


def _with_ns(scope: Scope, columns: tuple[str, ...]) -> tuple[str, ...]:
    return columns if scope.namespace else ("NAMESPACE", *columns)


def _row(scope: Scope, obj: _HasMeta, cells: tuple[str, ...]) -> tuple[str, ...]:
    return cells if scope.namespace else (_ns(obj), *cells)


async def pods(reader: ClusterReader, scope: Scope, now: datetime) -> ClusterReport:
    items = await fetch(scope, reader.list_pods)
    rows = tuple(_row(scope, p, summarize_pod(p, now).row()) for p in items)
    return ClusterReport(f"pods {scope.label}", _with_ns(scope, POD_COLUMNS), rows)


async def deployments(reader: ClusterReader, scope: Scope, now: datetime) -> ClusterReport:
    items = await fetch(scope, reader.list_deployments)
    rows = []
    for d in items:
        desired = d.spec.replicas if d.spec and d.spec.replicas is not None else 1
        st = d.status
        ready, updated, available = (
            (st.readyReplicas or 0, st.updatedReplicas or 0, st.availableReplicas or 0) if st else (0, 0, 0)
        )
        created = d.metadata.creationTimestamp if d.metadata else None
        cells = (_name(d), f"{ready}/{desired}", str(updated), str(available), age(created, now))
        rows.append(_row(scope, d, cells))
    columns = _with_ns(scope, ("NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"))
    return ClusterReport(f"deployments {scope.label}", columns, tuple(rows))


def _ports(svc: Service) -> str:
    out = []
    for p in (svc.spec.ports or ()) if svc.spec else ():
        node = f":{p.nodePort}" if p.nodePort else ""
        out.append(f"{p.port}{node}/{p.protocol or 'TCP'}")
    return ",".join(out) or "<none>"


async def services(reader: ClusterReader, scope: Scope, now: datetime) -> ClusterReport:
    items, slices = await asyncio.gather(
        fetch(scope, reader.list_services), fetch(scope, reader.list_endpoint_slices)
    )
    by_service: dict[tuple[str, str], list[EndpointSlice]] = {}
    for s in slices:
        owner = ((s.metadata.labels or {}) if s.metadata else {}).get("kubernetes.io/service-name")
        if owner:
            by_service.setdefault((_ns(s), owner), []).append(s)
    rows = []
    for svc in items:
        spec = svc.spec
        kind = (spec.type if spec else None) or "ClusterIP"
        if kind == "ExternalName":
            endpoints = f"-> {spec.externalName if spec else '?'}"
        else:
            ready, not_ready = endpoint_counts(by_service.get((_ns(svc), _name(svc)), []))
            endpoints = f"{ready} ready" + (f", {not_ready} not ready" if not_ready else "")
            if spec is not None and not spec.selector and not ready:
                endpoints = "no selector"
        created = svc.metadata.creationTimestamp if svc.metadata else None
        ip = (spec.clusterIP if spec else None) or "<none>"
        rows.append(_row(scope, svc, (_name(svc), kind, ip, _ports(svc), endpoints, age(created, now))))
    columns = _with_ns(scope, ("NAME", "TYPE", "CLUSTER-IP", "PORT(S)", "ENDPOINTS", "AGE"))
    return ClusterReport(f"services {scope.label}", columns, tuple(rows))


async def events(reader: ClusterReader, scope: Scope, now: datetime) -> ClusterReport:
    items = sort_events(await fetch(scope, reader.list_events))
    rows = []
    for e in items:
        when = event_time(e)
        seen = human_duration((now - when).total_seconds()) if when else "<unknown>"
        obj = e.involvedObject
        target = f"{(obj.kind or '?').lower()}/{obj.name or '?'}"
        message = " ".join((e.message or "").split())
        if len(message) > EVENT_MESSAGE_CHARS:
            message = message[: EVENT_MESSAGE_CHARS - 1] + "…"
        rows.append(_row(scope, e, (seen, e.type or "?", e.reason or "?", target, message)))
    columns = _with_ns(scope, ("LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"))
    return ClusterReport(f"events {scope.label} (warnings first, newest first)", columns, tuple(rows))


async def nodes(reader: ClusterReader, now: datetime) -> ClusterReport:
    items = await reader.list_nodes()
    rows = []
    findings = []
    for n in items:
        info = n.status.nodeInfo if n.status else None
        created = n.metadata.creationTimestamp if n.metadata else None
        pressure = ",".join(node_pressures(n)) or "-"
        version = info.kubeletVersion if info else "?"
        rows.append((_name(n), node_status(n), node_roles(n), version, pressure, age(created, now)))
        findings += diagnose_node(n, now)
    columns = ("NAME", "STATUS", "ROLES", "VERSION", "PRESSURE", "AGE")
    return ClusterReport("nodes", columns, tuple(rows), tuple(findings))
