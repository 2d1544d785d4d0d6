"""Clean up and validate what people type as Kubernetes names, before any request is made."""

from __future__ import annotations

import re

ALL_NAMESPACE_TOKENS = frozenset({"*", "-A", "--all-namespaces", "all-namespaces"})
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")
_DNS_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_SLACK_LINK = re.compile(r"<(?:[a-z]+://)?([^|>]*)(?:\|([^>]*))?>")
_TRANSLATE = str.maketrans(
    {
        "“": '"',
        "”": '"',
        "„": '"',
        "‘": "'",
        "’": "'",
        "‚": "'",
        "‐": "-",
        "‑": "-",
        "–": "-",
        "—": "-",
        "−": "-",
    }
)
_QUOTES = "\"'`*_ "  # quotes, and Slack/Markdown emphasis around a name


class InvalidName(ValueError):
    """Text that cannot be a Kubernetes object reference."""


def normalise(raw: str) -> str:
    """Undo what chat clients do to a name: smart quotes and dashes, `code`, *bold*, Slack
    auto-links (<http://web.shop|web.shop>), a trailing question mark, upper case."""
    text = raw.translate(_TRANSLATE).strip()
    if text in ALL_NAMESPACE_TOKENS:
        return text
    match = _SLACK_LINK.fullmatch(text)
    if match:
        text = match.group(2) or match.group(1)
    text = text.strip(_QUOTES).rstrip("?!.,;:").strip(_QUOTES)
    if text in ALL_NAMESPACE_TOKENS:
        return text
    return text.lower()


def split_ref(ref: str) -> tuple[str, str]:
    """`shop/web` → ("shop", "web"); `web` → ("", "web")."""
    if ref.count("/") > 1:
        raise InvalidName(f"{ref!r} is not a name or NAMESPACE/NAME")
    if "/" in ref:
        namespace, name = ref.split("/")
        return namespace, name
    return "", ref


def valid_name(name: str) -> bool:
    """An RFC 1123 DNS subdomain (pod, deployment and service names are all valid ones)."""
    return len(name) <= 253 and _DNS_SUBDOMAIN.fullmatch(name) is not None


def valid_namespace(namespace: str) -> bool:
    """An RFC 1123 DNS label."""
    return _DNS_LABEL.fullmatch(namespace) is not None
