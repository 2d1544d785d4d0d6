"""The one use of lightkube internals (bot/cluster/lightkube_internals.py): a crashed container's
log with previous=true. These tests fail on a lightkube release that moves what it relies on."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cluster.config import ClusterSettings
from bot.cluster.errors import ClusterServerError
from bot.cluster.lightkube_internals import NEEDED, lightkube_version, missing
from bot.cluster.reader import LOG_LIMIT_BYTES, ClusterReader, load_kube_config

from .fakeapi import FakeKubeAPI

POD, CONTAINER = "native-7b8c9d0e1-u7i8o", "native"


def reader(kubeconfig: Path) -> ClusterReader:
    settings = ClusterSettings(enabled=True, kubeconfig=str(kubeconfig))
    return ClusterReader(load_kube_config(settings), settings)


async def test_this_lightkube_has_every_internal_the_log_reader_uses(kubeconfig: Path) -> None:
    r = reader(kubeconfig)
    try:
        gaps = missing(r._client)
        assert gaps == [], (
            f"lightkube {lightkube_version()} moved {gaps}: AsyncClient.log() may take `previous` now; "
            "otherwise update bot/cluster/lightkube_internals.py"
        )
        assert set(NEEDED) == {"prepare_request", "build_adapter_request", "send", "raise_for_status"}
    finally:
        await r.aclose()


async def test_the_previous_log_is_asked_for_as_kubectl_logs_previous(
    kubeconfig: Path, api: FakeKubeAPI
) -> None:
    api.store.logs[f"shop/{POD}/{CONTAINER}/previous"] = "one\ntwo\nthree\n"
    r = reader(kubeconfig)
    try:
        assert await r.pod_log("shop", POD, CONTAINER, 2, previous=True) == ["two", "three"]
        assert await r.pod_log("shop", POD, CONTAINER, 0, previous=True) == []
    finally:
        await r.aclose()
    logs = [req for req in api.requests if req.path.endswith(f"/pods/{POD}/log")]
    assert logs[0].method == "GET" and logs[0].query == {
        "container": CONTAINER,
        "tailLines": "2",
        "limitBytes": str(LOG_LIMIT_BYTES),
        "previous": "true",
    }


async def test_without_the_internals_log_reading_reports_itself_unavailable(
    kubeconfig: Path, api: FakeKubeAPI, caplog: pytest.LogCaptureFixture
) -> None:
    r = reader(kubeconfig)

    class Upgraded:  # a release without `send`, and whose prepare_request lost its keyword arguments
        build_adapter_request = raise_for_status = staticmethod(lambda *a, **k: None)

        def prepare_request(self, method: str, res: object) -> None: ...

    real, r._client._client = r._client._client, Upgraded()  # type: ignore[assignment]
    try:
        assert missing(r._client) == ["_client.prepare_request() arguments", "_client.send()"]
        with pytest.raises(ClusterServerError, match=r"needs lightkube internals that lightkube \S+ lacks"):
            await r.pod_log("shop", POD, CONTAINER, 5, previous=True)
    finally:
        r._client._client = real
        await r.aclose()
    assert "event=lightkube_internals_changed" in caplog.text and ",_client.send()" in caplog.text
    assert not [req for req in api.requests if req.path.endswith("/log")]  # nothing was sent
