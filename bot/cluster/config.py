"""Settings of the optional cluster lookup, from `KUBEBOT_CLUSTER_*` variables.

Nothing here imports lightkube: the settings can be read (and rejected) without it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace

from bot.config import ConfigError, env_bool, env_float, env_int, env_list, merged_env

DEFAULT_TIMEOUT = 5.0
DEFAULT_MAX_ROWS = 25
DEFAULT_LOG_LINES = 5
DEFAULT_EXCLUDED = ("kube-system",)
ANY = "*"


@dataclass(frozen=True, slots=True)
class ClusterSettings:
    """Who may ask what about which namespaces, and how to reach the API server.

    `namespaces` empty means every namespace except `excluded_namespaces` (kube-system);
    `("*",)` means every namespace. Access lists default to nobody: the console/CLI is always
    allowed (it runs with the operator's own kubeconfig), chat needs at least one list.
    """

    enabled: bool = False
    kubeconfig: str | None = None  # None: in-cluster service account, then $KUBECONFIG, ~/.kube/config
    context: str | None = None
    default_namespace: str | None = None  # None: the kubeconfig context's namespace
    namespaces: tuple[str, ...] = ()
    excluded_namespaces: tuple[str, ...] = DEFAULT_EXCLUDED
    timeout: float = DEFAULT_TIMEOUT
    max_rows: int = DEFAULT_MAX_ROWS
    log_lines: int = DEFAULT_LOG_LINES
    proxy: str | None = None
    slack_channels: tuple[str, ...] = ()
    slack_users: tuple[str, ...] = ()
    discord_channels: tuple[str, ...] = ()
    discord_users: tuple[str, ...] = ()
    discord_roles: tuple[str, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> ClusterSettings:
        e = merged_env(env)
        timeout = env_float(e, "KUBEBOT_CLUSTER_TIMEOUT", DEFAULT_TIMEOUT, what="a number of seconds")
        if not 0 < timeout <= 120:
            raise ConfigError(f"KUBEBOT_CLUSTER_TIMEOUT must be between 0 and 120 seconds, not {timeout}")
        max_rows = env_int(e, "KUBEBOT_CLUSTER_MAX_ROWS", DEFAULT_MAX_ROWS)
        log_lines = env_int(e, "KUBEBOT_CLUSTER_LOG_LINES", DEFAULT_LOG_LINES)
        if max_rows < 1 or not 0 <= log_lines <= 50:
            raise ConfigError(
                "KUBEBOT_CLUSTER_MAX_ROWS must be at least 1 and KUBEBOT_CLUSTER_LOG_LINES 0..50"
            )
        return cls(
            enabled=env_bool(e, "KUBEBOT_CLUSTER_ENABLED", False),
            kubeconfig=e.get("KUBEBOT_CLUSTER_KUBECONFIG", "").strip() or None,
            context=e.get("KUBEBOT_CLUSTER_CONTEXT", "").strip() or None,
            default_namespace=e.get("KUBEBOT_CLUSTER_DEFAULT_NAMESPACE", "").strip() or None,
            namespaces=env_list(e, "KUBEBOT_CLUSTER_NAMESPACES"),
            timeout=timeout,
            max_rows=max_rows,
            log_lines=log_lines,
            proxy=e.get("KUBEBOT_CLUSTER_PROXY", "").strip() or None,
            slack_channels=env_list(e, "KUBEBOT_CLUSTER_SLACK_CHANNELS"),
            slack_users=env_list(e, "KUBEBOT_CLUSTER_SLACK_USERS"),
            discord_channels=env_list(e, "KUBEBOT_CLUSTER_DISCORD_CHANNELS"),
            discord_users=env_list(e, "KUBEBOT_CLUSTER_DISCORD_USERS"),
            discord_roles=env_list(e, "KUBEBOT_CLUSTER_DISCORD_ROLES"),
        )

    def with_overrides(self, *, kubeconfig: str | None = None, context: str | None = None) -> ClusterSettings:
        """The CLI's --kubeconfig/--context win over the environment."""
        return replace(self, kubeconfig=kubeconfig or self.kubeconfig, context=context or self.context)

    def namespace_allowed(self, namespace: str) -> bool:
        if self.namespaces:
            return ANY in self.namespaces or namespace in self.namespaces
        return namespace not in self.excluded_namespaces

    @property
    def explicit_namespaces(self) -> tuple[str, ...] | None:
        """The allowlisted namespaces when they are an explicit list, else None (all but excluded)."""
        if not self.namespaces or ANY in self.namespaces:
            return None
        return self.namespaces

    def describe_namespaces(self) -> str:
        explicit = self.explicit_namespaces
        if explicit is not None:
            return ", ".join(explicit)
        if self.namespaces:
            return "all namespaces"
        return "all namespaces except " + ", ".join(self.excluded_namespaces)
