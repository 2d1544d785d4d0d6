"""The one use of lightkube internals: a pod's log with ``previous=true`` and a byte limit.

lightkube 1.0.1's ``AsyncClient.log()`` takes neither ``previous`` (the crashed instance's log, as
``kubectl logs --previous``) nor ``limitBytes``, so the request is built with the client's generic
client, ``AsyncClient._client``, exactly as ``log()`` builds its own. Everything this needs is
checked by `missing()`; tests/cluster/test_lightkube_internals.py fails on a lightkube release
that moves any of it, and at run time a missing piece makes log reading report itself unavailable
(the rest of cluster lookup keeps working) instead of failing with an AttributeError.
"""

from __future__ import annotations

import inspect
import logging
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from lightkube import AsyncClient
from lightkube.resources.core_v1 import PodLog

log = logging.getLogger("kubebot.cluster")

# what `AsyncClient._client` must offer, called as here: (positional arguments, keyword arguments)
NEEDED: dict[str, tuple[int, tuple[str, ...]]] = {
    "prepare_request": (2, ("name", "namespace", "params")),
    "build_adapter_request": (1, ()),
    "send": (1, ()),
    "raise_for_status": (1, ()),
}


class LightkubeChanged(RuntimeError):
    """This lightkube no longer has the internals `read_log` relies on."""


def lightkube_version() -> str:
    try:
        return version("lightkube")
    except PackageNotFoundError:  # pragma: no cover - imported above, so installed
        return "unknown"


def missing(client: AsyncClient) -> list[str]:
    """What `read_log` needs and this client lacks (empty when all is there)."""
    generic = getattr(client, "_client", None)
    if generic is None:
        return ["AsyncClient._client"]
    gaps: list[str] = []
    for name, (positional, keywords) in NEEDED.items():
        method = getattr(generic, name, None)
        if not callable(method):
            gaps.append(f"_client.{name}()")
            continue
        try:
            inspect.signature(method).bind(*range(positional), **dict.fromkeys(keywords))
        except TypeError:
            gaps.append(f"_client.{name}() arguments")
        except ValueError:  # pragma: no cover - a builtin without a signature
            continue
    if not gaps and not inspect.iscoroutinefunction(generic.send):
        gaps.append("async _client.send()")
    return gaps


async def read_log(client: AsyncClient, name: str, namespace: str, params: dict[str, Any]) -> str:
    """The log text of a pod's container; `params` are the API's query parameters (None: omitted)."""
    gaps = missing(client)
    if gaps:
        release = lightkube_version()
        log.error("event=lightkube_internals_changed lightkube=%s missing=%s", release, ",".join(gaps))
        raise LightkubeChanged(f"log reading needs lightkube internals that lightkube {release} lacks")
    generic: Any = client._client  # partly unannotated upstream
    request = generic.prepare_request("get", PodLog, name=name, namespace=namespace, params=params)
    response = await generic.send(generic.build_adapter_request(request))
    generic.raise_for_status(response)
    return str(response.text)
