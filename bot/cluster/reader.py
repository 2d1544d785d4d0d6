"""The only module that talks to the Kubernetes API: a fixed set of typed GET queries.

Read-only by construction, twice over:
- `ClusterReader` exposes only get/list/log methods for a fixed set of kinds (no Secrets);
- every request goes through `ReadOnlyTransport`, which refuses anything but GET and any request
  for the Secrets resource (`bot.cluster.guard`) before a byte is sent.
lightkube 1.0 sits on httpx2 (not httpx): transport and exception classes come from there.
"""

from __future__ import annotations

import logging
import socket
import ssl
from collections.abc import AsyncIterable, Awaitable, Iterable, Mapping
from typing import Any, TypeVar

import httpx2
import msgspec
import yaml
from lightkube import AsyncClient, operators
from lightkube.config.client_adapter import verify_cluster
from lightkube.config.kubeconfig import KubeConfig, SingleConfig
from lightkube.config.models import User
from lightkube.core.client import FieldSelector
from lightkube.core.exceptions import ApiError
from lightkube.core.exceptions import ConfigError as LightkubeConfigError
from lightkube.core.resource import NamespacedResource
from lightkube.models.meta_v1 import LabelSelector
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Event, Node, Pod, Service
from lightkube.resources.discovery_v1 import EndpointSlice

from bot.cluster.config import ClusterSettings
from bot.cluster.errors import (
    Access,
    ClusterError,
    ClusterForbidden,
    ClusterNotFound,
    ClusterServerError,
    ClusterTimeout,
    ClusterUnauthorized,
    ClusterUnreachable,
    ReadOnlyViolation,
)
from bot.cluster.guard import refusal
from bot.cluster.lightkube_internals import LightkubeChanged, read_log
from bot.config import ConfigError

log = logging.getLogger("kubebot.cluster")

ALL_NAMESPACES = "*"
LOG_LIMIT_BYTES = 16_384
T = TypeVar("T")
N = TypeVar("N", bound=NamespacedResource)
Labels = dict[str, "str | operators.Operator[Any] | Iterable[str] | None"]


class ReadOnlyTransport(httpx2.AsyncBaseTransport):
    """Wraps the real transport; refuses every method but GET and every request for Secrets."""

    def __init__(self, inner: httpx2.AsyncBaseTransport) -> None:
        self._inner = inner

    async def handle_async_request(self, request: httpx2.Request) -> httpx2.Response:
        path = request.url.path
        refused = refusal(request.method, path)
        if refused is not None:
            log.error("event=read_only_violation method=%s path=%s", request.method, path)
            raise ReadOnlyViolation(refused)
        return await self._inner.handle_async_request(request)

    async def aclose(self) -> None:
        await self._inner.aclose()


def load_kube_config(settings: ClusterSettings) -> SingleConfig:
    """The context to use: --kubeconfig/--context, else in-cluster, $KUBECONFIG, ~/.kube/config."""
    try:
        config = KubeConfig.from_file(settings.kubeconfig) if settings.kubeconfig else KubeConfig.from_env()
        single = config.get(context_name=settings.context)
    except LightkubeConfigError as exc:
        raise ConfigError(f"cluster lookup: cannot load the kubeconfig: {exc}") from None
    except (
        OSError,
        KeyError,
        ValueError,
        TypeError,
        AttributeError,
        yaml.YAMLError,
        msgspec.MsgspecError,
    ) as exc:
        raise ConfigError(
            f"cluster lookup: the kubeconfig is not valid ({type(exc).__name__}: {exc})"
        ) from None
    if single is None:  # pragma: no cover - get() without a default never returns None
        raise ConfigError("cluster lookup: the kubeconfig has no current context; pass --context")
    if single.user is None:
        single = single._replace(user=User())
    return single


def selector_labels(selector: LabelSelector | Mapping[str, str] | None) -> Labels:
    """A Deployment/Service selector as lightkube label-selector arguments (server-side filtering)."""
    if selector is None:
        return {}
    if isinstance(selector, Mapping):
        return {str(k): str(v) for k, v in selector.items()}
    labels: Labels = {str(k): str(v) for k, v in (selector.matchLabels or {}).items()}
    for req in selector.matchExpressions or ():
        values = [str(v) for v in req.values or ()]
        if req.operator == "In":
            labels[req.key] = operators.in_(values)
        elif req.operator == "NotIn":
            labels[req.key] = operators.not_in(values)
        elif req.operator == "Exists":
            labels[req.key] = None
        elif req.operator == "DoesNotExist":
            labels[req.key] = operators.not_exists()
    return labels


class ClusterReader:
    """Typed, fixed GET queries. Every method says which permission it needs when it fails."""

    def __init__(self, config: SingleConfig, settings: ClusterSettings) -> None:
        self.config = config
        user = config.user or User()
        try:
            verify = verify_cluster(config.cluster, user, config.abs_file)
            inner = httpx2.AsyncHTTPTransport(verify=verify, proxy=settings.proxy, trust_env=False)
            self._client = AsyncClient(
                config,
                timeout=httpx2.Timeout(settings.timeout),
                trust_env=False,  # env proxies would route around the read-only transport
                transport=ReadOnlyTransport(inner),
            )
        except (OSError, ValueError, httpx2.InvalidURL, LightkubeConfigError) as exc:
            server = config.cluster.server
            raise ConfigError(f"cluster lookup: cannot set up the client for {server}: {exc}") from None

    @property
    def server(self) -> str:
        return self.config.cluster.server

    @property
    def default_namespace(self) -> str:
        return self.config.namespace

    async def aclose(self) -> None:
        await self._client.aclose()

    # -- pods -------------------------------------------------------------------------------
    async def list_pods(self, namespace: str, labels: Labels | None = None) -> list[Pod]:
        return await self._list(Pod, "pods", namespace, labels=labels or None)

    async def get_pod(self, namespace: str, name: str) -> Pod:
        return await self._get(Pod, "pods", namespace, name)

    async def pod_log(
        self, namespace: str, name: str, container: str, tail: int, previous: bool
    ) -> list[str]:
        """The last `tail` lines of a container's log; `previous` for the crashed instance."""
        access = Access("get", "pods/log", namespace, name)
        params = {
            "container": container,
            "tailLines": tail,
            "limitBytes": LOG_LIMIT_BYTES,
            "previous": "true" if previous else None,
        }

        async def fetch() -> list[str]:
            try:
                text = await read_log(self._client, name, namespace, params)
            except LightkubeChanged as exc:
                raise ClusterServerError(access, str(exc)) from None
            return text.splitlines()[-tail:] if tail else []

        return await self._call(access, fetch())

    # -- workloads and networking -----------------------------------------------------------
    async def list_deployments(self, namespace: str) -> list[Deployment]:
        return await self._list(Deployment, "deployments", namespace)

    async def get_deployment(self, namespace: str, name: str) -> Deployment:
        return await self._get(Deployment, "deployments", namespace, name)

    async def list_services(self, namespace: str) -> list[Service]:
        return await self._list(Service, "services", namespace)

    async def get_service(self, namespace: str, name: str) -> Service:
        return await self._get(Service, "services", namespace, name)

    async def list_endpoint_slices(self, namespace: str, service: str | None = None) -> list[EndpointSlice]:
        labels: Labels | None = {"kubernetes.io/service-name": service} if service else None
        return await self._list(EndpointSlice, "endpointslices", namespace, labels=labels)

    # -- events and nodes -------------------------------------------------------------------
    async def list_events(
        self, namespace: str, name: str | None = None, kind: str | None = None
    ) -> list[Event]:
        fields: FieldSelector = {}
        if name:
            fields["involvedObject.name"] = name
        if kind:
            fields["involvedObject.kind"] = kind
        return await self._list(Event, "events", namespace, fields=fields or None)

    async def list_nodes(self) -> list[Node]:
        return await self._collect(Access("list", "nodes"), self._client.list(Node))

    async def get_node(self, name: str) -> Node:
        return await self._call(Access("get", "nodes", None, name), self._client.get(Node, name))

    # -- the namespaced queries, and error translation --------------------------------------
    async def _list(
        self,
        kind: type[N],
        resource: str,
        namespace: str,
        labels: Labels | None = None,
        fields: FieldSelector | None = None,
    ) -> list[N]:
        listing = self._client.list(kind, namespace=namespace, labels=labels, fields=fields)
        return await self._collect(Access("list", resource, namespace), listing)

    async def _get(self, kind: type[N], resource: str, namespace: str, name: str) -> N:
        access = Access("get", resource, namespace, name)
        return await self._call(access, self._client.get(kind, name, namespace=namespace))

    async def _collect(self, access: Access, items: AsyncIterable[T]) -> list[T]:
        async def gather() -> list[T]:
            return [item async for item in items]

        return await self._call(access, gather())

    async def _call(self, access: Access, awaitable: Awaitable[T]) -> T:
        try:
            return await awaitable
        except httpx2.HTTPStatusError as exc:
            raise _status_error(access, exc) from None
        except KeyError as exc:
            # lightkube reads the Content-Type header of an error response without a default
            if isinstance(exc.__context__, httpx2.HTTPStatusError):
                raise _status_error(access, exc.__context__) from None
            raise ClusterServerError(access, f"unexpected response ({exc})") from None
        except httpx2.TimeoutException:
            raise ClusterTimeout(access, f"no answer from {self.server}") from None
        except httpx2.TransportError as exc:
            raise ClusterUnreachable(access, _transport_detail(exc)) from None
        except msgspec.MsgspecError as exc:
            raise ClusterServerError(access, f"unreadable response: {exc}") from None


def _status_error(access: Access, exc: httpx2.HTTPStatusError) -> ClusterError:
    status = exc.response.status_code
    if isinstance(exc, ApiError) and exc.status.message:
        message = exc.status.message
    else:  # not literally "application/json" (a proxy, a charset): still try the Status body
        message = _status_message(exc.response.content)
    if status == 401:
        return ClusterUnauthorized(access, message)
    if status == 403:
        return ClusterForbidden(access, message)
    if status == 404:
        return ClusterNotFound(access, message)
    return ClusterServerError(access, message, status=status)


def _status_message(body: bytes) -> str:
    try:
        status = msgspec.json.decode(body, type=dict[str, Any])
    except msgspec.MsgspecError:
        text = body.decode("utf-8", "replace").strip()
        return text.splitlines()[0][:200] if text else ""
    return str(status.get("message") or "")[:300]


def _transport_detail(exc: httpx2.TransportError) -> str:
    """The root cause of a connection failure, in a few words (anyio hides it in the chain)."""
    cause: BaseException | None = exc
    seen = 0
    while cause is not None and seen < 10:
        if isinstance(cause, ConnectionRefusedError):
            return "connection refused"
        if isinstance(cause, socket.gaierror):
            return "cannot resolve the host name"
        if isinstance(cause, ssl.SSLError):
            return f"TLS error: {cause.reason or cause}"
        cause = cause.__cause__ or cause.__context__
        seen += 1
    text = str(exc) or type(exc).__name__
    return text[:200]
