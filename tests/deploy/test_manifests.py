"""Every overlay (and every platform overlay plus each component) renders to valid Kubernetes
objects that are locked down, probed, bounded, and shaped for their platform."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import kubernetes_validate
import pytest

from .conftest import (
    KUBE,
    OVERLAYS,
    REPO,
    Obj,
    container,
    of_kind,
    one,
    platform_of,
    pod_spec,
    render,
    settings,
)

VERSIONS = ("1.28", "1.30", kubernetes_validate.latest_version())
CLUSTER_SCOPED = {"Namespace", "ClusterRole", "ClusterRoleBinding"}
NAMESPACE = "kubebot"


def test_the_expected_overlays_exist() -> None:
    assert {"slack-socket", "slack-http", "discord", "cluster-lookup"} <= set(OVERLAYS)


def test_objects_are_valid_for_kubernetes(rendered: tuple[str, list[Obj]]) -> None:
    target, objects = rendered
    assert objects, f"{target} rendered nothing"
    for obj in objects:
        for version in VERSIONS:
            try:
                kubernetes_validate.validate(obj, version, strict=True)
            except kubernetes_validate.ValidationError as exc:
                pytest.fail(
                    f"{target}: {obj['kind']}/{obj['metadata']['name']} invalid for {version}: {exc.message}"
                )


def test_namespaces_and_no_secrets(rendered: tuple[str, list[Obj]]) -> None:
    target, objects = rendered
    assert not of_kind(objects, "Secret"), "tokens never live in the manifests"
    one(objects, "Namespace", NAMESPACE)
    looked_at = set(filter(None, settings(objects).get("KUBEBOT_CLUSTER_NAMESPACES", "").split(",")))
    for obj in objects:
        meta = obj["metadata"]
        if obj["kind"] in CLUSTER_SCOPED:
            assert "namespace" not in meta
        elif obj["kind"] in ("Role", "RoleBinding"):
            assert meta["namespace"] in looked_at, (
                f"{target}: {obj['kind']} outside KUBEBOT_CLUSTER_NAMESPACES"
            )
        else:
            assert meta.get("namespace") == NAMESPACE, f"{target}: {obj['kind']}/{meta['name']}"
    for key, value in settings(objects).items():
        assert not re.search(r"TOKEN|SECRET|PASSWORD", key), key
        assert not re.search(r"xox[a-z]-|xapp-|postgres(ql)?://", value), f"{key} looks like a credential"


def test_tokens_come_from_the_secret(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    env_from = container(objects)["envFrom"]
    assert env_from == [
        {"configMapRef": {"name": "kubebot-settings"}},
        {"secretRef": {"name": "kubebot-tokens"}},
    ]
    for var in container(objects).get("env", []):
        assert "value" not in var or not re.search(r"TOKEN|SECRET", var["name"]), var


def test_security_context(rendered: tuple[str, list[Obj]]) -> None:
    target, objects = rendered
    pod = pod_spec(objects)
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["runAsUser"] > 0 and pod["securityContext"]["runAsGroup"] > 0
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    for host in ("hostNetwork", "hostPID", "hostIPC"):
        assert not pod.get(host), host
    for volume in pod["volumes"]:
        assert set(volume) - {"name"} <= {
            "emptyDir",
            "configMap",
            "secret",
            "projected",
            "persistentVolumeClaim",
        }
    for c in pod["containers"] + pod.get("initContainers", []):
        sc = c["securityContext"]
        assert sc["runAsNonRoot"] is True, target
        assert sc["allowPrivilegeEscalation"] is False, target
        assert sc["readOnlyRootFilesystem"] is True, target
        assert sc.get("privileged", False) is False, target
        assert sc["capabilities"] == {"drop": ["ALL"]}, target
        assert sc["seccompProfile"] == {"type": "RuntimeDefault"}, target


def test_writable_mounts_are_volumes(rendered: tuple[str, list[Obj]]) -> None:
    """With a read-only root, /tmp (HOME) and the SQLite directory must be mounted volumes."""
    _, objects = rendered
    pod = pod_spec(objects)
    volumes = {v["name"]: v for v in pod["volumes"]}
    mounts = {m["mountPath"]: volumes[m["name"]] for m in container(objects)["volumeMounts"]}
    assert "emptyDir" in mounts["/tmp"]
    assert "emptyDir" in mounts["/var/lib/kubebot"]
    db = settings(objects).get("KUBEBOT_DB")
    if db is not None:
        assert str(Path(db).parent) in mounts and not mounts[str(Path(db).parent)].get("configMap")
    kb = settings(objects)["KUBEBOT_KB"]
    if kb in mounts:  # the knowledge base replaced by a mounted ConfigMap
        assert mounts[kb]["configMap"]["name"] == "kubebot-kb"
        assert next(m for m in container(objects)["volumeMounts"] if m["mountPath"] == kb)["readOnly"] is True


def test_probes_hit_the_health_port(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    c = container(objects)
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    expected = {"livenessProbe": "/healthz", "readinessProbe": "/readyz", "startupProbe": "/healthz"}
    for probe, path in expected.items():
        get = c[probe]["httpGet"]
        assert get["path"] == path
        assert ports[get["port"]] == int(settings(objects)["KUBEBOT_HTTP_PORT"])
    assert c["livenessProbe"]["failureThreshold"] >= 3, "one slow answer must not restart the pod"
    annotations = one(objects, "Deployment", "kubebot")["spec"]["template"]["metadata"]["annotations"]
    assert annotations["prometheus.io/port"] == settings(objects)["KUBEBOT_HTTP_PORT"]
    assert annotations["prometheus.io/path"] == "/metrics"


def quantity(value: str | int) -> float:
    text = str(value)
    units = {"m": 1e-3, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    for suffix, factor in units.items():
        if text.endswith(suffix):
            return float(text[: -len(suffix)]) * factor
    return float(text)


def test_resources_are_bounded(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    resources = container(objects)["resources"]
    for kind in ("cpu", "memory"):
        request, limit = resources["requests"][kind], resources["limits"][kind]
        assert 0 < quantity(request) <= quantity(limit), (kind, request, limit)


def test_image_is_pinned_to_the_package_version(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    version = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))["project"]["version"]
    image = container(objects)["image"]
    assert image == f"kubebot:{version}"
    assert not image.endswith(":latest")


def test_service_selects_the_pods(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    labels = one(objects, "Deployment", "kubebot")["spec"]["template"]["metadata"]["labels"]
    service = one(objects, "Service", "kubebot")
    assert service["spec"]["selector"].items() <= labels.items()
    ports = {p["name"] for p in container(objects)["ports"]}
    assert {p["targetPort"] for p in service["spec"]["ports"]} <= ports
    metrics = next(p for p in service["spec"]["ports"] if p["name"] == "metrics")
    assert metrics["targetPort"] == "http-admin"


def test_cluster_access_only_with_a_component(rendered: tuple[str, list[Obj]]) -> None:
    target, objects = rendered
    rbac = [o for o in objects if o["kind"] in ("Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding")]
    enabled = settings(objects)["KUBEBOT_CLUSTER_ENABLED"]
    automount = pod_spec(objects)["automountServiceAccountToken"]
    assert one(objects, "ServiceAccount", "kubebot")["automountServiceAccountToken"] is False
    if "cluster-lookup" in target:
        assert (enabled, automount) == ("true", True)
        assert len(rbac) == 2
    else:
        assert (enabled, automount) == ("false", False)
        assert rbac == []
        assert "KUBEBOT_CLUSTER_NAMESPACES" not in settings(objects)


# -- per platform ---------------------------------------------------------------------------------
def test_platform_shape(rendered: tuple[str, list[Obj]]) -> None:
    target, objects = rendered
    platform = platform_of(target)
    deployment = one(objects, "Deployment", "kubebot")
    args = container(objects)["args"]
    if platform in ("slack-socket", "discord"):
        # One connection to Slack / the Discord gateway: never two pods at once, even during updates.
        assert deployment["spec"]["replicas"] == 1
        assert deployment["spec"]["strategy"] == {"type": "Recreate"}
        assert args == ["serve", "slack" if platform == "slack-socket" else "discord"]
        assert not of_kind(objects, "HorizontalPodAutoscaler") and not of_kind(objects, "Ingress")
        assert settings(objects)["KUBEBOT_DB"].startswith("/var/lib/kubebot/")
    else:
        assert platform == "slack-http"
        check_slack_http(objects, deployment, args)


def check_slack_http(objects: list[Obj], deployment: Obj, args: list[str]) -> None:
    # The HPA owns the replica count: a `replicas` in the manifest would fight it on every apply.
    assert "replicas" not in deployment["spec"]
    hpa = one(objects, "HorizontalPodAutoscaler", "kubebot")
    assert hpa["spec"]["scaleTargetRef"] == {"apiVersion": "apps/v1", "kind": "Deployment", "name": "kubebot"}
    assert hpa["spec"]["minReplicas"] == 3 and hpa["spec"]["maxReplicas"] > 3
    assert deployment["spec"]["strategy"]["rollingUpdate"]["maxUnavailable"] == 0
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    pdb = one(objects, "PodDisruptionBudget", "kubebot")
    assert pdb["spec"]["selector"]["matchLabels"].items() <= labels.items()
    assert pdb["spec"]["maxUnavailable"] == 1

    assert args[:3] == ["serve", "slack", "--http"]
    port = int(args[args.index("--port") + 1])
    slack_port = next(p for p in container(objects)["ports"] if p["name"] == "http-slack")
    assert slack_port["containerPort"] == port
    service = one(objects, "Service", "kubebot")
    http = next(p for p in service["spec"]["ports"] if p["name"] == "http")
    assert http["targetPort"] == "http-slack"

    ingress = one(objects, "Ingress", "kubebot")
    paths = [p for rule in ingress["spec"]["rules"] for p in rule["http"]["paths"]]
    assert [(p["path"], p["backend"]["service"]["name"], p["backend"]["service"]["port"]) for p in paths] == [
        ("/slack/events", "kubebot", {"name": "http"})
    ], "only Slack's endpoint is public: not /metrics, not the probes"
    assert ingress["spec"]["tls"], "Slack only calls HTTPS request URLs"

    # The shared store: a PostgreSQL URL from the Secret, required, and no SQLite default left.
    assert "KUBEBOT_DB" not in settings(objects)
    db = next(v for v in container(objects)["env"] if v["name"] == "KUBEBOT_DB")
    assert db["valueFrom"]["secretKeyRef"] == {"name": "kubebot-tokens", "key": "KUBEBOT_DB"}


def test_base_has_no_platform() -> None:
    """The base leaves args, replicas and strategy to the overlays."""
    objects = render(KUBE / "base")
    deployment = one(objects, "Deployment", "kubebot")
    assert "args" not in container(objects)
    assert "replicas" not in deployment["spec"] and "strategy" not in deployment["spec"]


def test_every_overlay_is_covered() -> None:
    """A new overlay has to be given a platform shape in test_platform_shape."""
    known = {"slack-socket", "slack-http", "discord", "cluster-lookup"}
    assert set(OVERLAYS) == known, f"add {set(OVERLAYS) - known} to test_platform_shape"


def walk(value: Any) -> list[str]:
    if isinstance(value, dict):
        return [s for v in value.values() for s in walk(v)]
    if isinstance(value, list):
        return [s for v in value for s in walk(v)]
    return [str(value)]


def test_no_placeholder_credentials_anywhere(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    for text in walk(objects):
        assert not re.search(r"xox[abposr]-|xapp-\d|[MN][A-Za-z\d_-]{23,}\.[\w-]{6}\.[\w-]{27,}", text), text
