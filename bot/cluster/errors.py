"""Errors the reader raises, already translated from HTTP/lightkube terms into what was attempted.

Each carries the permission the request needed ("list on pods in shop") so the gateway can
say exactly what to grant; none carries a traceback into chat.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Access:
    """What a request needed: an RBAC verb on a resource, in a namespace (None: cluster-scoped)."""

    verb: str  # get | list
    resource: str  # pods, pods/log, deployments, services, endpointslices, events, nodes
    namespace: str | None = None
    name: str | None = None

    def describe(self) -> str:
        where = f" in {self.namespace}" if self.namespace else ""
        if self.namespace == "*":
            where = " in all namespaces"
        return f"{self.verb} on {self.resource}{where}"


class ClusterError(Exception):
    """Base class: something went wrong talking to the cluster."""

    def __init__(self, access: Access, detail: str = "") -> None:
        super().__init__(detail or access.describe())
        self.access = access
        self.detail = detail


class ClusterUnreachable(ClusterError):
    """No connection (refused, DNS, TLS)."""


class ClusterTimeout(ClusterError):
    """The API server did not answer in time."""


class ClusterUnauthorized(ClusterError):
    """401: the credentials were rejected."""


class ClusterForbidden(ClusterError):
    """403: RBAC does not allow the request; `access` says what is missing."""


class ClusterNotFound(ClusterError):
    """404: the object (or namespace) does not exist."""


class ClusterServerError(ClusterError):
    """5xx or an unexpected status / unreadable body."""

    def __init__(self, access: Access, detail: str = "", status: int = 0) -> None:
        super().__init__(access, detail)
        self.status = status


class ReadOnlyViolation(RuntimeError):
    """A non-GET request or a request for Secrets reached the transport: refused before sending.
    The message starts with the reason as the user should read it ("kubebot never reads Secrets")."""
