"""A local Kubernetes API server (aiohttp) that serves the JSON fixtures and records every request.

It speaks the REST paths kubebot uses, checks the bearer token, filters by namespace, label
selector and field selector like the real server, and can inject faults (status codes, stalls).
Any verb other than GET is recorded and answered 405, so tests can assert none was sent.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aiohttp import web

from tests.helpers import serve_on_loopback

FIXTURES = Path(__file__).parent / "fixtures"
TOKEN = "test-token"

Obj = dict[str, Any]


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]


@dataclass
class Fault:
    pattern: re.Pattern[str]
    status: int = 500
    message: str = ""
    content_type: str = "application/json"
    stall: bool = False


@dataclass
class Store:
    pods: list[Obj] = field(default_factory=list)
    events: list[Obj] = field(default_factory=list)
    deployments: list[Obj] = field(default_factory=list)
    services: list[Obj] = field(default_factory=list)
    endpointslices: list[Obj] = field(default_factory=list)
    nodes: list[Obj] = field(default_factory=list)
    logs: dict[str, str] = field(default_factory=dict)

    @classmethod
    def load(cls) -> Store:
        def items(name: str) -> list[Obj]:
            return list(json.loads((FIXTURES / f"{name}.json").read_text())["items"])

        return cls(
            pods=items("pods"),
            events=items("events"),
            deployments=items("deployments"),
            services=items("services"),
            endpointslices=items("endpointslices"),
            nodes=items("nodes"),
            logs=json.loads((FIXTURES / "logs.json").read_text()),
        )


# (kind of list, apiVersion, store attribute, resource plural, path regex)
ROUTES: list[tuple[str, str, str, re.Pattern[str]]] = []


def _route(list_kind: str, api_version: str, attr: str, prefix: str, plural: str) -> None:
    ROUTES.append(
        (
            list_kind,
            api_version,
            attr,
            re.compile(rf"^{prefix}(?:/namespaces/(?P<ns>[^/]+))?/{plural}(?:/(?P<name>[^/]+))?$"),
        )
    )


_route("PodList", "v1", "pods", "/api/v1", "pods")
_route("EventList", "v1", "events", "/api/v1", "events")
_route("ServiceList", "v1", "services", "/api/v1", "services")
_route("NodeList", "v1", "nodes", "/api/v1", "nodes")
_route("DeploymentList", "apps/v1", "deployments", "/apis/apps/v1", "deployments")
_route(
    "EndpointSliceList",
    "discovery.k8s.io/v1",
    "endpointslices",
    "/apis/discovery.k8s.io/v1",
    "endpointslices",
)
_LOG = re.compile(r"^/api/v1/namespaces/(?P<ns>[^/]+)/pods/(?P<name>[^/]+)/log$")


def status_body(code: int, reason: str, message: str, kind: str = "", name: str = "") -> Obj:
    details: Obj = {}
    if kind:
        details["kind"] = kind
    if name:
        details["name"] = name
    body: Obj = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details:
        body["details"] = details
    return body


REASONS = {
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    500: "InternalError",
    503: "ServiceUnavailable",
}


def forbidden_message(resource: str, namespace: str | None, verb: str = "list") -> str:
    where = f' in the namespace "{namespace}"' if namespace else " at the cluster scope"
    group = (
        "apps" if resource == "deployments" else ("discovery.k8s.io" if resource == "endpointslices" else "")
    )
    return (
        f'{resource} is forbidden: User "system:serviceaccount:tools:kubebot" cannot {verb} resource '
        f'"{resource}" in API group "{group}"{where}'
    )


# -- selectors, as the API server applies them ---------------------------------------------------
_SET_EXPR = re.compile(r"^(?P<key>[^\s!=]+)\s+(?P<op>in|notin)\s+\((?P<values>[^)]*)\)$")


def _split_selector(selector: str) -> list[str]:
    parts, depth, current = [], 0, ""
    for ch in selector:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append(current.strip())
            current = ""
        else:
            current += ch
    if current.strip():
        parts.append(current.strip())
    return parts


def label_matcher(selector: str) -> Callable[[dict[str, str]], bool]:
    tests: list[Callable[[dict[str, str]], bool]] = []
    for req in _split_selector(selector):
        m = _SET_EXPR.match(req)
        if m:
            key, values = m["key"], {v.strip() for v in m["values"].split(",")}
            if m["op"] == "in":
                tests.append(lambda labels, k=key, vs=values: labels.get(k) in vs)
            else:
                tests.append(lambda labels, k=key, vs=values: labels.get(k) not in vs)
        elif "!=" in req:
            key, value = req.split("!=", 1)
            tests.append(lambda labels, k=key, v=value: labels.get(k) != v)
        elif "==" in req or "=" in req:
            key, value = re.split("==?", req, maxsplit=1)
            tests.append(lambda labels, k=key, v=value: labels.get(k) == v)
        elif req.startswith("!"):
            tests.append(lambda labels, k=req[1:]: k not in labels)
        else:
            tests.append(lambda labels, k=req: k in labels)
    return lambda labels: all(t(labels) for t in tests)


def _field(obj: Obj, path: str) -> str:
    value: Any = obj
    for part in path.split("."):
        value = value.get(part) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def field_matcher(selector: str) -> Callable[[Obj], bool]:
    tests: list[Callable[[Obj], bool]] = []
    for req in _split_selector(selector):
        if "!=" in req:
            key, value = req.split("!=", 1)
            tests.append(lambda o, k=key, v=value: _field(o, k) != v)
        else:
            key, value = re.split("==?", req, maxsplit=1)
            tests.append(lambda o, k=key, v=value: _field(o, k) == v)
    return lambda obj: all(t(obj) for t in tests)


def _json(body: Obj, status: int = 200, content_type: str = "application/json") -> web.Response:
    """JSON with the exact Content-Type the API server sends (lightkube compares it literally)."""
    return web.Response(body=json.dumps(body).encode(), status=status, headers={"Content-Type": content_type})


class FakeKubeAPI:
    """Start with `await api.start()`; `api.url`, `api.requests`, `api.fail(...)`, `api.stall(...)`."""

    def __init__(self, store: Store | None = None) -> None:
        self.store = store or Store.load()
        self.requests: list[Recorded] = []
        self.faults: list[Fault] = []
        self._release = asyncio.Event()
        self._runner: web.AppRunner | None = None
        self.port = 0

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner, self.port = await serve_on_loopback(app, shutdown_timeout=0.5)

    async def close(self) -> None:
        self._release.set()
        if self._runner is not None:
            await self._runner.cleanup()

    def fail(
        self, path_regex: str, status: int, message: str = "", content_type: str = "application/json"
    ) -> None:
        self.faults.append(Fault(re.compile(path_regex), status, message, content_type))

    def stall(self, path_regex: str = ".*") -> None:
        self.faults.append(Fault(re.compile(path_regex), stall=True))

    # -- request handling --------------------------------------------------------------------------
    async def _handle(self, request: web.Request) -> web.StreamResponse:
        path = request.path
        self.requests.append(Recorded(request.method, path, dict(request.query)))
        if request.method != "GET":
            body = status_body(405, "MethodNotAllowed", f"the fake API is read-only: {request.method} {path}")
            return _json(body, status=405)
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _json(status_body(401, "Unauthorized", "Unauthorized"), status=401)
        for fault in self.faults:
            if fault.pattern.search(path):
                if fault.stall:
                    await self._release.wait()
                    return _json(status_body(504, "Timeout", "released"), status=504)
                if fault.content_type.startswith("application/json"):
                    reason = REASONS.get(fault.status, "InternalError")
                    body = status_body(fault.status, reason, fault.message or reason)
                    return _json(body, fault.status, fault.content_type)
                return web.Response(status=fault.status, text=fault.message, content_type=fault.content_type)
        m = _LOG.match(path)
        if m:
            return self._log(m["ns"], m["name"], request.query)
        for list_kind, api_version, attr, pattern in ROUTES:
            m = pattern.match(path)
            if m:
                return self._objects(list_kind, api_version, attr, m["ns"], m["name"], request.query)
        return _json(
            status_body(404, "NotFound", "the server could not find the requested resource"), status=404
        )

    def _objects(
        self, list_kind: str, api_version: str, attr: str, ns: str | None, name: str | None, query: Any
    ) -> web.Response:
        items: list[Obj] = getattr(self.store, attr)
        if ns is not None:
            items = [o for o in items if o["metadata"].get("namespace") == ns]
        if name is not None:
            for obj in items:
                if obj["metadata"]["name"] == name:
                    kind = list_kind.removesuffix("List")
                    return _json({"kind": kind, "apiVersion": api_version, **obj})
            plural = attr
            group = {"deployments": "apps", "endpointslices": "discovery.k8s.io"}.get(attr, "")
            what = f"{plural}.{group}" if group else plural
            body = status_body(404, "NotFound", f'{what} "{name}" not found', kind=plural, name=name)
            return _json(body, status=404)
        if "labelSelector" in query:
            match = label_matcher(query["labelSelector"])
            items = [o for o in items if match(o["metadata"].get("labels") or {})]
        if "fieldSelector" in query:
            fmatch = field_matcher(query["fieldSelector"])
            items = [o for o in items if fmatch(o)]
        return _json(
            {
                "kind": list_kind,
                "apiVersion": api_version,
                "metadata": {"resourceVersion": "4817263"},
                "items": items,
            }
        )

    def _log(self, ns: str, name: str, query: Any) -> web.Response:
        pod = next(
            (
                p
                for p in self.store.pods
                if p["metadata"]["namespace"] == ns and p["metadata"]["name"] == name
            ),
            None,
        )
        if pod is None:
            return _json(status_body(404, "NotFound", f'pods "{name}" not found', "pods", name), status=404)
        container = query.get("container") or pod["spec"]["containers"][0]["name"]
        previous = query.get("previous") == "true"
        key = f"{ns}/{name}/{container}/{'previous' if previous else 'current'}"
        text = self.store.logs.get(key)
        if text is None:
            which = "previous terminated container" if previous else "container"
            message = f'{which} "{container}" in pod "{name}" not found'
            return _json(status_body(400, "BadRequest", message), status=400)
        lines = text.splitlines(keepends=True)
        if "tailLines" in query:
            lines = lines[-int(query["tailLines"]) :]
        return web.Response(text="".join(lines), content_type="text/plain")
