"""`KubeGateway`: the service's ClusterGateway. Everything between a chat command and the reader:
who may ask, which namespaces, name validation, the deadline, error replies, the chat cap, the audit line.

Refusals never reach the API server; errors become one clear sentence, never a traceback.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from bot.cluster import errors, queries
from bot.cluster.config import ClusterSettings
from bot.cluster.names import (
    ALL_NAMESPACE_TOKENS,
    InvalidName,
    normalise,
    split_ref,
    valid_name,
    valid_namespace,
)
from bot.cluster.reader import ClusterReader, load_kube_config
from bot.cluster.why import NameNotFound, why
from bot.metrics import count_cluster_lookup
from bot.models import ClusterReport, Finding, Message, Platform
from bot.ports import CLUSTER_VERBS, ClusterQuery

audit = logging.getLogger("kubebot.audit")
log = logging.getLogger("kubebot.cluster")

MAX_CHAT_FINDINGS = 10
_SAFE_VALUE = re.compile(r"[A-Za-z0-9._:/@*-]+")


@dataclass(frozen=True, slots=True)
class _Outcome:
    report: ClusterReport
    result: str  # ok | refused | error
    reason: str = ""
    name: str = ""
    namespace: str = ""


class _Refused(Exception):
    """A refusal with its reply text; raised before any request is made."""

    def __init__(self, reason: str, text: str) -> None:
        super().__init__(text)
        self.reason = reason
        self.text = text


def _now() -> datetime:
    return datetime.now(UTC)


class KubeGateway:
    """Read-only cluster queries for the service (chat) and `kubebot cluster` (CLI)."""

    def __init__(
        self, settings: ClusterSettings, reader: ClusterReader, *, clock: Callable[[], datetime] = _now
    ) -> None:
        self.settings = settings
        self.reader = reader
        self.clock = clock

    @classmethod
    def connect(cls, settings: ClusterSettings, *, clock: Callable[[], datetime] = _now) -> KubeGateway:
        """Load the kubeconfig (or the in-cluster service account); raises ConfigError when it cannot."""
        return cls(settings, ClusterReader(load_kube_config(settings), settings), clock=clock)

    async def aclose(self) -> None:
        await self.reader.aclose()

    async def query(self, query: ClusterQuery, message: Message) -> ClusterReport:
        started = time.monotonic()
        outcome = await self._run(query, message)
        report = outcome.report
        if message.platform is not Platform.CONSOLE:
            report = self._cap(report)
        self._audit(query, message, outcome, time.monotonic() - started)
        return report

    # -- the pipeline -----------------------------------------------------------------------
    async def _run(self, query: ClusterQuery, message: Message) -> _Outcome:
        verb = query.verb.strip().lower()
        name = normalise(query.name) if query.name else ""
        namespace = normalise(query.namespace) if query.namespace else ""
        title = f"{verb} {name}".strip()
        try:
            if verb not in CLUSTER_VERBS:
                raise _Refused(
                    "unknown_verb", f"unknown cluster command; use one of: {', '.join(CLUSTER_VERBS)}"
                )
            self._check_person(message)
            if verb == "why":
                name, namespace = self._check_why_name(name, namespace)
            scope = self._scope(verb, namespace)
            namespace = scope.namespace or ("*" if verb != "nodes" else "")
            title = _title(verb, name, scope)
        except _Refused as refused:
            return _Outcome(
                ClusterReport(title, error=refused.text), "refused", refused.reason, name, namespace
            )
        try:
            async with asyncio.timeout(self.settings.timeout):
                report = await self._dispatch(verb, name, scope)
            return _Outcome(report, "ok", "", name, namespace)
        except Exception as exc:  # timeouts included: every failure becomes a reply, never a traceback
            reason, text = self._explain(exc)
            return _Outcome(ClusterReport(title, error=text), "error", reason, name, namespace)

    def _check_person(self, message: Message) -> None:
        s = self.settings
        if message.platform is Platform.CONSOLE:
            return
        roles: tuple[str, ...] = ()
        if message.platform is Platform.SLACK:
            channels, users = s.slack_channels, s.slack_users
            names = "KUBEBOT_CLUSTER_SLACK_CHANNELS or KUBEBOT_CLUSTER_SLACK_USERS"
        elif message.platform is Platform.DISCORD:
            channels, users, roles = s.discord_channels, s.discord_users, s.discord_roles
            names = "KUBEBOT_CLUSTER_DISCORD_CHANNELS, _USERS or _ROLES"
        else:  # a platform without cluster allowlists
            raise _Refused("not_allowed", "cluster commands are not available on this platform")
        refusal = _Refused(
            "not_allowed",
            f"cluster commands are not enabled for you here; an admin can allow this channel or user "
            f"with {names}",
        )
        if not (channels or users or roles):
            raise refusal
        if channels and not _member(message.channel_id, channels):
            raise refusal
        if (users or roles) and not (
            _member(message.person.id, users) or any(_member(r, roles) for r in message.person.roles)
        ):
            raise refusal

    def _check_why_name(self, name: str, namespace: str) -> tuple[str, str]:
        if not name:
            raise _Refused("usage", "usage: why NAME [NAMESPACE] (a pod, deployment or service)")
        try:
            ref_ns, ref_name = split_ref(name)
        except InvalidName as exc:
            raise _Refused("invalid_name", str(exc)) from None
        if ref_ns and namespace and ref_ns != namespace:
            raise _Refused("invalid_name", f"{name} names namespace {ref_ns} but {namespace} was asked for")
        if not valid_name(ref_name) or (ref_ns and not valid_namespace(ref_ns)):
            raise _Refused("invalid_name", _invalid(name, "name"))
        return ref_name, ref_ns or namespace

    def _scope(self, verb: str, namespace: str) -> queries.Scope:
        s = self.settings
        if verb == "nodes":  # cluster-scoped: no namespace involved
            return queries.Scope("", s.namespace_allowed)
        if namespace in ALL_NAMESPACE_TOKENS:
            if verb == "why":
                raise _Refused("invalid_namespace", "why needs one namespace, not all of them")
            return queries.Scope(None, s.namespace_allowed, s.explicit_namespaces)
        if not namespace:
            namespace = s.default_namespace or self.reader.default_namespace
        if not valid_namespace(namespace):
            raise _Refused("invalid_namespace", _invalid(namespace, "namespace"))
        if not s.namespace_allowed(namespace):
            text = f"namespace {namespace} is not open to kubebot (allowed: {s.describe_namespaces()})"
            raise _Refused("namespace_not_allowed", text)
        return queries.Scope(namespace, s.namespace_allowed)

    async def _dispatch(self, verb: str, name: str, scope: queries.Scope) -> ClusterReport:
        now = self.clock()
        if verb == "why":
            assert scope.namespace
            return await why(self.reader, scope.namespace, name, now, self.settings.log_lines)
        if verb == "nodes":
            return await queries.nodes(self.reader, now)
        listing = {
            "pods": queries.pods,
            "deployments": queries.deployments,
            "services": queries.services,
            "events": queries.events,
        }[verb]
        return await listing(self.reader, scope, now)

    # -- replies ----------------------------------------------------------------------------
    def _explain(self, exc: BaseException) -> tuple[str, str]:
        server = self.reader.server
        t = f"{self.settings.timeout:g}"
        if isinstance(exc, NameNotFound):
            return "not_found", str(exc)
        if isinstance(exc, errors.ClusterTimeout | TimeoutError):
            return (
                "timeout",
                f"the cluster API at {server} did not answer within {t} s; try again in a moment",
            )
        if isinstance(exc, errors.ClusterUnreachable):
            return "unreachable", (
                f"cannot reach the cluster API at {server} ({exc.detail}); "
                "check that the cluster is up and the kubeconfig or service account points at it"
            )
        if isinstance(exc, errors.ClusterUnauthorized):
            return "unauthorized", (
                "the cluster rejected kubebot's credentials (401 Unauthorized): the token or certificate "
                "in its kubeconfig or service account is missing, wrong or expired"
            )
        if isinstance(exc, errors.ClusterForbidden):
            return "forbidden", (
                f"kubebot is not allowed to read that (403 Forbidden): it needs {exc.access.describe()}; "
                "grant it in kubebot's Role (see the RBAC section of the docs)"
            )
        if isinstance(exc, errors.ClusterNotFound):
            return "not_found", f"not found: {exc.detail or exc.access.describe()}"
        if isinstance(exc, errors.ClusterServerError):
            status = f"HTTP {exc.status}" if exc.status else "bad response"
            return (
                "server_error",
                f"the cluster API failed ({status}: {exc.detail or 'no details'}); try again later",
            )
        if isinstance(exc, errors.ClusterError):
            return "error", f"the cluster query failed: {exc.detail or type(exc).__name__}"
        # a refusal, worded as one ("kubebot never reads Secrets")
        if isinstance(exc, errors.ReadOnlyViolation):
            log.error("event=read_only_refused detail=%s", exc)
            reason = str(exc).split(": refused", 1)[0]
            return "refused", f"{reason}; that request was refused before it was sent"
        log.exception("event=cluster_query_failed", exc_info=exc)
        return (
            "internal",
            f"unexpected error while reading the cluster ({type(exc).__name__}); see the bot's log",
        )

    def _cap(self, report: ClusterReport) -> ClusterReport:
        limit = self.settings.max_rows
        rows, omitted = report.rows, report.omitted
        if len(rows) > limit:
            rows, omitted = rows[:limit], omitted + len(rows) - limit
        findings = report.findings
        if len(findings) > MAX_CHAT_FINDINGS:
            more = len(findings) - MAX_CHAT_FINDINGS + 1
            findings = (*findings[: MAX_CHAT_FINDINGS - 1], Finding("…", f"{more} more findings not shown"))
        return replace(report, rows=rows, omitted=omitted, findings=findings)

    def _audit(self, query: ClusterQuery, message: Message, outcome: _Outcome, seconds: float) -> None:
        fields = {
            "platform": message.platform.value,
            "channel": message.channel_id,
            "user": message.person.id,
            "verb": query.verb,
            "name": outcome.name,
            "namespace": outcome.namespace,
            "result": outcome.result,
        }
        if outcome.reason:
            fields["reason"] = outcome.reason
        fields["ms"] = str(int(seconds * 1000))
        audit.info("event=cluster_query " + " ".join(f"{k}={_value(v)}" for k, v in fields.items()))
        count_cluster_lookup(outcome.result)


def _title(verb: str, name: str, scope: queries.Scope) -> str:
    if verb == "nodes":
        return "nodes"
    if verb == "why":
        return f"why {scope.namespace}/{name}"
    return f"{verb} {scope.label}"


def _invalid(value: str, what: str) -> str:
    shown = value if len(value) <= 60 else value[:59] + "…"
    rule = "a DNS subdomain: lowercase letters, digits, '-' and '.', at most 253 characters"
    if what == "namespace":
        rule = "a DNS label: lowercase letters, digits and '-', at most 63 characters"
    return f"{json.dumps(shown, ensure_ascii=False)} is not a valid Kubernetes {what} ({rule})"


def _member(value: str, allowed: tuple[str, ...]) -> bool:
    return "*" in allowed or (bool(value) and value in allowed)


def _value(value: str) -> str:
    if not value:
        return "-"
    if _SAFE_VALUE.fullmatch(value):
        return value
    return json.dumps(value[:120], ensure_ascii=True)


def build_gateway(settings: ClusterSettings) -> KubeGateway | None:
    """The gateway for `kubebot serve`, or None when KUBEBOT_CLUSTER_ENABLED is not true."""
    if not settings.enabled:
        return None
    gateway = KubeGateway.connect(settings)
    log.info(
        "event=cluster_enabled server=%s namespaces=%s",
        gateway.reader.server,
        _value(settings.describe_namespaces()),
    )
    return gateway
