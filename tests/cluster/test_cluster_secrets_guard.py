"""Issue 14.7: the transport guard refuses the Secrets *resource*, not any path segment named
"secrets": a pod, a service and a namespace called ``secrets`` can be read (against the fake API
server), and a refused request is worded as a refusal, not as an internal error."""

from __future__ import annotations

import contextlib
import copy
from typing import Any

import pytest
from lightkube.resources.core_v1 import Secret

from bot.cluster.errors import ClusterNotFound, ClusterServerError, ReadOnlyViolation
from bot.cluster.gateway import KubeGateway
from bot.cluster.guard import refusal
from bot.service import QAService

from .conftest import fixture_pod, slack
from .fakeapi import FakeKubeAPI

REFUSED = [
    "/api/v1/secrets",
    "/api/v1/namespaces/shop/secrets",
    "/api/v1/namespaces/shop/secrets/db-credentials",
    "/api/v1/namespaces/secrets/secrets/secrets",
    "/api/v1/watch/secrets",
    "/api/v1/watch/namespaces/shop/secrets",
    "/api/v1/watch/namespaces/shop/secrets/db-credentials",
    "/api/v2/namespaces/shop/secrets",
    "/apis/example.io/v1beta1/namespaces/shop/secrets/x",
    "/apis/example.io/v1/secrets",
    "/api/v1/namespaces/shop/Secrets",
    "//api//v1//namespaces/shop/secrets/",
    "/k8s/clusters/c-m-1/api/v1/namespaces/shop/secrets",  # behind a proxy's path prefix
    "/api/v1/namespaces/shop/pods/../secrets/db-credentials",
]
ALLOWED = [
    "/api/v1/namespaces/secrets",  # the namespace named secrets
    "/api/v1/namespaces/secrets/pods",
    "/api/v1/namespaces/secrets/pods/web-1/log",
    "/api/v1/namespaces/shop/pods/secrets",
    "/api/v1/namespaces/shop/pods/secrets/log",
    "/api/v1/namespaces/shop/services/secrets",
    "/apis/apps/v1/namespaces/secrets/deployments/secrets",
    "/apis/discovery.k8s.io/v1/namespaces/secrets/endpointslices",
    "/api/v1/watch/namespaces/secrets/pods",
    "/api/v1/nodes/secrets",
    "/apis/example.io/v1/namespaces/shop/externalsecrets",
    "/api/v1/namespaces/shop/pods/api/log",  # a pod named api is not an API root
    "/api/v1/namespaces/shop/events",
]


@pytest.mark.parametrize("path", REFUSED)
def test_the_secrets_resource_is_refused_in_every_form(path: str) -> None:
    reason = refusal("GET", path)
    assert reason is not None
    assert reason.startswith(("kubebot never reads Secrets", "kubebot only reads"))


@pytest.mark.parametrize("path", ALLOWED)
def test_things_merely_named_secrets_are_allowed(path: str) -> None:
    assert refusal("GET", path) is None


def test_anything_but_get_is_refused() -> None:
    for method in ("POST", "PUT", "PATCH", "DELETE"):
        assert refusal(method, "/api/v1/namespaces/shop/pods/web") == (
            f"kubebot only reads: refused {method} /api/v1/namespaces/shop/pods/web"
        )


def _named_secrets(api: FakeKubeAPI, namespace: str) -> None:
    pod: dict[str, Any] = copy.deepcopy(fixture_pod(api.store.pods[0]["metadata"]["name"]))
    pod["metadata"] |= {"name": "secrets", "namespace": namespace}
    pod["metadata"].pop("uid", None)
    api.store.pods.append(pod)
    service: dict[str, Any] = copy.deepcopy(api.store.services[0])
    service["metadata"] |= {"name": "secrets", "namespace": namespace}
    api.store.services.append(service)


async def test_a_pod_service_and_namespace_named_secrets_can_be_read(
    gateway: KubeGateway, api: FakeKubeAPI
) -> None:
    _named_secrets(api, "shop")
    _named_secrets(api, "secrets")
    reader = gateway.reader
    assert (await reader.get_pod("shop", "secrets")).metadata.name == "secrets"
    assert (await reader.get_service("shop", "secrets")).metadata.name == "secrets"
    assert [p.metadata.name for p in await reader.list_pods("secrets")] == ["secrets"]
    assert [s.metadata.name for s in await reader.list_services("secrets")] == ["secrets"]
    container = api.store.pods[-1]["spec"]["containers"][0]["name"]
    # the fake server may have no log for that container: an error from the server is fine, a refusal is not
    with contextlib.suppress(ClusterNotFound, ClusterServerError):
        await reader.pod_log("secrets", "secrets", container, tail=10, previous=False)
    assert api.requests[-1].path == "/api/v1/namespaces/secrets/pods/secrets/log"
    assert {r.method for r in api.requests} == {"GET"}
    assert "/api/v1/namespaces/secrets/pods" in {r.path for r in api.requests}


async def test_asking_about_things_named_secrets_answers(service: QAService, api: FakeKubeAPI) -> None:
    _named_secrets(api, "secrets")
    for text in ("pods secrets", "services secrets", "why secrets secrets"):
        reply = await service.handle(slack(text))
        assert reply.cluster is not None, text
        error = reply.cluster.error
        assert error is None or "internal" not in error, (text, error)
    listing = await service.handle(slack("pods secrets"))
    assert listing.cluster is not None and listing.cluster.error is None
    assert "secrets" in listing.text


async def test_a_refused_request_is_worded_as_a_refusal(
    service: QAService, gateway: KubeGateway, api: FakeKubeAPI, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = gateway.reader._client

    async def a_buggy_get_pod(namespace: str, name: str) -> Any:  # a future bug asks for a Secret
        return await client.get(Secret, name, namespace=namespace)

    monkeypatch.setattr(gateway.reader, "get_pod", a_buggy_get_pod)
    with pytest.raises(ReadOnlyViolation, match=r"^kubebot never reads Secrets"):
        await a_buggy_get_pod("shop", "db-credentials")
    reply = await service.handle(slack("why web-7d9c6b5f4-abcde"))
    assert reply.cluster is not None and reply.cluster.error is not None
    assert reply.cluster.error.startswith("kubebot never reads Secrets")
    assert "internal error" not in reply.text
    assert not [r for r in api.requests if "/secrets" in r.path]
