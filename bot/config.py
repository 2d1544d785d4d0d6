"""Core settings from the environment (`KUBEBOT_*`), optionally a YAML file (`KUBEBOT_CONFIG`).

Each adapter keeps its own settings next to its code (`bot/adapters/slack/config.py`...); this
module holds only what the core needs. Errors raise ConfigError, never exit.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path


class ConfigError(ValueError):
    """A setting is missing or malformed; the message says which and how to fix it."""


def merged_env(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The environment, with values from the YAML file in KUBEBOT_CONFIG filled in underneath.

    The file is a flat mapping of the same names (`KUBEBOT_KB: /srv/kb`); the environment wins.
    Tokens may come from the file, but the environment (a Kubernetes Secret) is the usual place.
    """
    env = dict(os.environ if env is None else env)
    path = env.get("KUBEBOT_CONFIG")
    if not path:
        return env
    import yaml  # only for a config file: a start from the environment alone never loads PyYAML

    try:
        data = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"cannot read KUBEBOT_CONFIG {path}: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"KUBEBOT_CONFIG {path} must be a mapping of setting names to values")
    merged = {str(k): _scalar(v) for k, v in data.items()}
    merged.update(env)
    return merged


def _scalar(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list | tuple):
        return ",".join(str(v) for v in value)
    return str(value)


def env_bool(env: Mapping[str, str], name: str, default: bool = False) -> bool:
    raw = env.get(name, "").strip().lower()
    if not raw:
        return default
    if raw in ("1", "true", "yes", "on"):
        return True
    if raw in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{name} must be true or false, not {raw!r}")


def env_int(env: Mapping[str, str], name: str, default: int) -> int:
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        return int(raw)
    except ValueError:
        raise ConfigError(f"{name} must be a whole number, not {raw!r}") from None


def env_float(
    env: Mapping[str, str],
    name: str,
    default: float,
    *,
    minimum: float | None = None,
    maximum: float | None = None,
    what: str = "a number",
) -> float:
    """A float setting within [minimum, maximum]; `what` names it in the error ("a number of seconds")."""
    raw = env.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        raise ConfigError(f"{name} must be {what}, not {raw!r}") from None
    if (
        not math.isfinite(value)
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise ConfigError(f"{name} must be {what}, not {raw!r}")
    return value


def env_list(env: Mapping[str, str], name: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in env.get(name, "").split(",") if part.strip())


@dataclass(frozen=True, slots=True)
class CoreSettings:
    kb_dir: Path | None = None  # None: the bundled knowledge base
    db_url: str | None = None  # None: SQLite under the user's data dir
    store_questions: str = "full"  # full | hash | off
    http_port: int = 8080
    log_level: str = "INFO"
    log_format: str = "logfmt"  # logfmt | json

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> CoreSettings:
        e = merged_env(env)
        store = e.get("KUBEBOT_STORE_QUESTIONS", "full").strip().lower() or "full"
        if store not in ("full", "hash", "off"):
            raise ConfigError(f"KUBEBOT_STORE_QUESTIONS must be full, hash or off, not {store!r}")
        log_format = e.get("KUBEBOT_LOG_FORMAT", "").strip().lower() or "logfmt"
        if log_format not in ("logfmt", "json"):
            raise ConfigError(f"KUBEBOT_LOG_FORMAT must be logfmt or json, not {log_format!r}")
        kb = e.get("KUBEBOT_KB", "").strip()
        return cls(
            kb_dir=Path(kb) if kb else None,
            db_url=e.get("KUBEBOT_DB", "").strip() or None,
            store_questions=store,
            http_port=env_int(e, "KUBEBOT_HTTP_PORT", 8080),
            log_level=e.get("KUBEBOT_LOG_LEVEL", "INFO").upper(),
            log_format=log_format,
        )
