"""The console's settings (`KUBEBOT_CONSOLE_*`) and the rule that keeps it private.

It shows what people typed, so it listens on 127.0.0.1 unless told otherwise; any other address
needs `KUBEBOT_CONSOLE_TOKEN`, and once a token is set it is required on every address.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field

from bot.config import ConfigError, env_int

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8090
MIN_TOKEN_CHARS = 16


def is_loopback(host: str) -> bool:
    """True for localhost and the loopback addresses (127.0.0.0/8, ::1); False for 0.0.0.0 and names."""
    host = host.strip().strip("[]")
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True, slots=True)
class ConsoleSettings:
    host: str = DEFAULT_HOST  # KUBEBOT_CONSOLE_HOST or --host
    port: int = DEFAULT_PORT  # KUBEBOT_CONSOLE_PORT or --port
    token: str | None = field(default=None, repr=False)  # KUBEBOT_CONSOLE_TOKEN: never printed
    prefix: str = ""  # where the pages live: "" standalone, KUBEBOT_CONSOLE_PATH when mounted
    store_questions: str = "full"  # KUBEBOT_STORE_QUESTIONS: hash shows hashes only, off shows none

    @classmethod
    def from_env(
        cls,
        env: Mapping[str, str],
        *,
        host: str | None = None,
        port: int | None = None,
        prefix: str = "",
        store_questions: str = "full",
    ) -> ConsoleSettings:
        token = env.get("KUBEBOT_CONSOLE_TOKEN", "").strip() or None
        settings = cls(
            host=host or env.get("KUBEBOT_CONSOLE_HOST", "").strip() or DEFAULT_HOST,
            port=port if port is not None else env_int(env, "KUBEBOT_CONSOLE_PORT", DEFAULT_PORT),
            token=token,
            prefix=normalize_prefix(prefix),
            store_questions=store_questions,
        )
        settings.check()
        return settings

    def check(self, *, public: bool | None = None) -> None:
        """Refuse to run where anyone else could reach the console without a token.

        `public` overrides the address test (a console mounted on the Slack HTTP port is public)."""
        if self.token is not None and len(self.token) < MIN_TOKEN_CHARS:
            raise ConfigError(
                f"KUBEBOT_CONSOLE_TOKEN must be at least {MIN_TOKEN_CHARS} characters "
                "(e.g. the output of `openssl rand -hex 32`)"
            )
        exposed = (not is_loopback(self.host)) if public is None else public
        if exposed and self.token is None:
            where = f"{self.host}:{self.port}" if public is None else "the Slack HTTP port"
            raise ConfigError(
                f"the console would be reachable on {where}: set KUBEBOT_CONSOLE_TOKEN "
                "(or listen on 127.0.0.1 and use an SSH tunnel or kubectl port-forward)"
            )
        if not 0 <= self.port <= 65535:
            raise ConfigError(f"console port must be 0..65535, not {self.port}")


def normalize_prefix(prefix: str) -> str:
    """ "/console/" → "/console"; "" and "/" → "" (the root)."""
    prefix = prefix.strip()
    if not prefix or prefix == "/":
        return ""
    if not prefix.startswith("/") or "//" in prefix or any(c in prefix for c in "?#%\\ "):
        raise ConfigError(f"KUBEBOT_CONSOLE_PATH must be a path like /console, not {prefix!r}")
    return prefix.rstrip("/")
