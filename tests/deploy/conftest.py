"""Rendering the kustomize overlays for the deploy tests.

`render()` uses `kubectl kustomize` when kubectl is installed and works, otherwise the Python
resolver in kustomize.py; KUBEBOT_TEST_KUSTOMIZE=python|kubectl forces one. test_resolver.py
checks that both give the same objects wherever kubectl is available.
"""

from __future__ import annotations

import copy
import functools
import os
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from .kustomize import build

REPO = Path(__file__).resolve().parents[2]
KUBE = REPO / "deploy" / "kubernetes"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
OVERLAYS = sorted(p.name for p in (KUBE / "overlays").iterdir() if p.is_dir())
COMPONENTS = sorted(p.name for p in (KUBE / "components").iterdir() if p.is_dir())
PLATFORM_OVERLAYS = ("slack-socket", "slack-http", "discord")

Obj = dict[str, Any]


@functools.cache
def kubectl() -> str | None:
    """The kubectl binary, if it is installed and can run `kustomize`."""
    choice = os.environ.get("KUBEBOT_TEST_KUSTOMIZE", "")
    if choice == "python":
        return None
    path = shutil.which("kubectl")
    if path:
        probe = subprocess.run([path, "kustomize", "--help"], capture_output=True, timeout=60, check=False)
        if probe.returncode == 0:
            return path
    if choice == "kubectl":
        raise RuntimeError("KUBEBOT_TEST_KUSTOMIZE=kubectl but kubectl kustomize does not work here")
    return None


def kubectl_kustomize(directory: Path) -> list[Obj]:
    binary = kubectl()
    assert binary is not None
    done = subprocess.run(
        [binary, "kustomize", str(directory)], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"kubectl kustomize {directory} failed:\n{done.stderr}"
    return [doc for doc in yaml.safe_load_all(done.stdout) if doc]


@functools.cache
def _render(directory: str) -> tuple[Obj, ...]:
    path = Path(directory)
    return tuple(kubectl_kustomize(path) if kubectl() else build(path))


def render(directory: Path) -> list[Obj]:
    """The objects of a kustomization (a fresh copy each call)."""
    return copy.deepcopy(list(_render(str(directory))))


def combination_dir(root: Path, overlay: str, components: list[str]) -> Path:
    """A kustomization in `root` that adds `components` to an overlay, as a user would.

    kubectl refuses absolute paths to other kustomizations, so the paths are relative.
    """
    target = root / f"{overlay}+{'+'.join(components)}"
    target.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(
        {
            "apiVersion": "kustomize.config.k8s.io/v1beta1",
            "kind": "Kustomization",
            "resources": [os.path.relpath(KUBE / "overlays" / overlay, target)],
            "components": [os.path.relpath(KUBE / "components" / c, target) for c in components],
        }
    )
    (target / "kustomization.yaml").write_text(text, encoding="utf-8")
    return target


# Every overlay, and every platform overlay with each component added: what users can apply.
TARGETS = [f"overlays/{o}" for o in OVERLAYS] + [f"{o}+{c}" for o in PLATFORM_OVERLAYS for c in COMPONENTS]


@pytest.fixture(scope="session")
def combos_root(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("kustomize-combos")


def target_dir(target: str, combos_root: Path) -> Path:
    if target.startswith("overlays/"):
        return KUBE / target
    overlay, _, component = target.partition("+")
    return combination_dir(combos_root, overlay, [component])


@pytest.fixture(params=TARGETS)
def rendered(request: pytest.FixtureRequest, combos_root: Path) -> tuple[str, list[Obj]]:
    target: str = request.param
    return target, render(target_dir(target, combos_root))


# -- small accessors ------------------------------------------------------------------------------
def one(objects: list[Obj], kind: str, name: str | None = None) -> Obj:
    found = [o for o in objects if o["kind"] == kind and (name is None or o["metadata"]["name"] == name)]
    assert len(found) == 1, f"expected one {kind} {name or ''}, found {len(found)}"
    return found[0]


def of_kind(objects: list[Obj], kind: str) -> list[Obj]:
    return [o for o in objects if o["kind"] == kind]


def pod_spec(objects: list[Obj]) -> Obj:
    spec: Obj = one(objects, "Deployment", "kubebot")["spec"]["template"]["spec"]
    return spec


def container(objects: list[Obj]) -> Obj:
    containers = pod_spec(objects)["containers"]
    assert [c["name"] for c in containers] == ["kubebot"]
    c: Obj = containers[0]
    return c


def platform_of(target: str) -> str:
    """slack-socket, slack-http or discord: the platform a render target runs."""
    name = target.removeprefix("overlays/").partition("+")[0]
    return "slack-socket" if name == "cluster-lookup" else name


def settings(objects: list[Obj]) -> dict[str, str]:
    data: dict[str, str] = one(objects, "ConfigMap", "kubebot-settings").get("data", {})
    return data
