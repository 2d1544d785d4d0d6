"""The Python kustomize resolver: equal to `kubectl kustomize` on every overlay, and on small
cases that pin down the behaviour it copies (keyed-list order, null deletion, namespace)."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
import yaml

from .conftest import KUBE, TARGETS, kubectl, kubectl_kustomize, target_dir
from .kustomize import KustomizeError, build, resource_id

needs_kubectl = pytest.mark.skipif(kubectl() is None, reason="kubectl (with kustomize) is not installed")


def by_id(objects: list[dict[str, object]]) -> dict[tuple[str, str, str, str], dict[str, object]]:
    ids = [resource_id(o) for o in objects]
    assert len(ids) == len(set(ids)), f"duplicate objects in {ids}"
    return {resource_id(o): o for o in objects}


@needs_kubectl
@pytest.mark.parametrize("target", TARGETS)
def test_resolver_matches_kubectl(target: str, combos_root: Path) -> None:
    directory = target_dir(target, combos_root)
    assert by_id(build(directory)) == by_id(kubectl_kustomize(directory))


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text), encoding="utf-8")
    return root


BASE = {
    "base/kustomization.yaml": """
        namespace: team
        resources: [objects.yaml]
    """,
    "base/objects.yaml": """
        apiVersion: v1
        kind: Namespace
        metadata: {name: placeholder}
        ---
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          selector: {matchLabels: {app: web}}
          strategy: {type: RollingUpdate, rollingUpdate: {maxSurge: 1}}
          template:
            metadata: {labels: {app: web}}
            spec:
              containers:
                - name: app
                  image: app:1
                  args: [a, b]
                  env: [{name: A, value: "1"}, {name: B, value: "2"}]
                - name: sidecar
                  image: side:1
              volumes: [{name: v1, emptyDir: {}}, {name: v2, emptyDir: {}}]
        ---
        apiVersion: rbac.authorization.k8s.io/v1
        kind: ClusterRoleBinding
        metadata: {name: crb}
        roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
        subjects:
          - {kind: ServiceAccount, name: default}
          - {kind: ServiceAccount, name: web, namespace: elsewhere}
    """,
    "overlay/kustomization.yaml": """
        resources: [../base]
        components: [../component]
        patches:
          - path: patch.yaml
        replicas:
          - {name: web, count: 2}
    """,
    "overlay/patch.yaml": """
        apiVersion: apps/v1
        kind: Deployment
        metadata: {name: web}
        spec:
          strategy: {type: Recreate, rollingUpdate: null}
          template:
            spec:
              containers:
                - name: extra
                  image: extra:1
                - name: app
                  args: [c]
                  env: [{name: B, value: null}, {name: C, value: "3"}]
              volumes: [{name: v2, emptyDir: {medium: Memory}}]
    """,
    "component/kustomization.yaml": """
        apiVersion: kustomize.config.k8s.io/v1alpha1
        kind: Component
        patches:
          - patch: |-
              {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "web"},
               "spec": {"template": {"spec": {"automountServiceAccountToken": false}}}}
    """,
}

EXPECTED_DEPLOYMENT = """
    apiVersion: apps/v1
    kind: Deployment
    metadata: {name: web, namespace: team}
    spec:
      replicas: 2
      selector: {matchLabels: {app: web}}
      strategy: {type: Recreate}
      template:
        metadata: {labels: {app: web}}
        spec:
          automountServiceAccountToken: false
          containers:
            - {name: extra, image: extra:1}
            - name: app
              image: app:1
              args: [c]
              env: [{name: B}, {name: C, value: "3"}, {name: A, value: "1"}]
            - {name: sidecar, image: side:1}
          volumes: [{name: v2, emptyDir: {medium: Memory}}, {name: v1, emptyDir: {}}]
"""


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    return write(tmp_path, BASE) / "overlay"


def check_sample(objects: list[dict[str, object]]) -> None:
    found = by_id(objects)
    assert found[("apps/v1", "Deployment", "team", "web")] == yaml.safe_load(
        textwrap.dedent(EXPECTED_DEPLOYMENT)
    )
    # The namespace transformer renames the Namespace object...
    assert ("v1", "Namespace", "", "team") in found
    # ...and, in kustomize's default mode, sets it only on subjects named "default".
    crb = found[("rbac.authorization.k8s.io/v1", "ClusterRoleBinding", "", "crb")]
    assert crb["subjects"] == [
        {"kind": "ServiceAccount", "name": "default", "namespace": "team"},
        {"kind": "ServiceAccount", "name": "web", "namespace": "elsewhere"},
    ]


def test_resolver_sample(sample: Path) -> None:
    check_sample(build(sample))


@needs_kubectl
def test_sample_expectations_hold_for_kubectl(sample: Path) -> None:
    """The expectations above are kustomize's behaviour, not just the resolver's."""
    check_sample(kubectl_kustomize(sample))


@pytest.mark.parametrize(
    ("files", "message"),
    [
        (
            {"kustomization.yaml": "resources: [a.yaml]\nimages: [{name: x, newTag: '2'}]\n"},
            "unsupported field",
        ),
        ({"kustomization.yaml": "resources: [../outside.yaml]\n"}, "outside the kustomization"),
        ({"kustomization.yaml": "resources: [missing.yaml]\n"}, "not found"),
        (
            {
                "kustomization.yaml": "resources: [a.yaml]\npatches: [{patch: '[{op: remove, path: /a}]'}]\n",
                "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            },
            "JSON 6902",
        ),
        (
            {
                "kustomization.yaml": "resources: [a.yaml]\npatches: [{path: p.yaml}]\n",
                "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
                "p.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: b}\ndata: {x: y}\n",
            },
            "matches 0 objects",
        ),
        (
            {
                "kustomization.yaml": "resources: [a.yaml, a.yaml]\n",
                "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            },
            "already defined",
        ),
        (
            {
                "kustomization.yaml": "resources: [a.yaml]\nreplicas: [{name: nope, count: 2}]\n",
                "a.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n",
            },
            "nothing named",
        ),
    ],
)
def test_resolver_refuses(tmp_path: Path, files: dict[str, str], message: str) -> None:
    root = write(tmp_path / "k", files)
    with pytest.raises(KustomizeError, match=message):
        build(root)


def test_components_cannot_be_built_alone() -> None:
    with pytest.raises(KustomizeError, match="cannot be built on its own"):
        build(KUBE / "components" / "cluster-lookup")
