"""What kubebot may never send to the API server: anything but GET, and any request for Secrets.

The Secrets check reads the path the way the API server routes it (``/api/{version}/...`` or
``/apis/{group}/{version}/...``, optionally ``watch/``, then ``namespaces/{ns}/{resource}`` or
``{resource}``) and refuses when the *resource* is ``secrets``: a list, a get, a watch, in any
namespace, under any API version or group, behind any path prefix (a proxy's
``/k8s/clusters/c-1/api/v1/...``). A pod, service or namespace that is merely *named* ``secrets``
is fine. Paths it cannot read safely (``.`` or ``..`` segments) are refused too.
"""

from __future__ import annotations

SECRETS = "secrets"
NEVER_SECRETS = "kubebot never reads Secrets"
ONLY_READS = "kubebot only reads"


def _resources(segments: list[str]) -> list[str]:
    """Every resource the path can name, reading it from each ``api``/``apis`` segment."""
    found: list[str] = []
    for i, segment in enumerate(segments):
        if segment == "api":
            rest = segments[i + 2 :]  # api/{version}/...
        elif segment == "apis":
            rest = segments[i + 3 :]  # apis/{group}/{version}/...
        else:
            continue
        if rest[:1] == ["watch"]:
            rest = rest[1:]
        if rest[:1] == ["namespaces"]:
            # namespaces/{ns}/{resource}/...; namespaces and namespaces/{ns} are the namespaces resource
            found.append(rest[2] if len(rest) >= 3 else "namespaces")
        elif rest:
            found.append(rest[0])
    return found


def refusal(method: str, path: str) -> str | None:
    """Why the request must not be sent, or None when it may be."""
    if method.upper() != "GET":
        return f"{ONLY_READS}: refused {method} {path}"
    segments = [s for s in path.split("/") if s]
    if any(s in (".", "..") for s in segments):
        return f"{ONLY_READS}: refused a path with dot segments ({path})"
    if any(r.lower() == SECRETS for r in _resources(segments)):
        return f"{NEVER_SECRETS}: refused GET {path}"
    return None
