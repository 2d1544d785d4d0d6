"""Rendering the kustomize overlays for the deploy tests, with `kubectl kustomize`.

Without a working kubectl the rendering tests skip, with the reason; in CI (`CI=true`) a skip
fails the run (tests/skips.py), so CI never passes without having rendered the manifests.
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

REPO = Path(__file__).resolve().parents[2]
KUBE = REPO / "deploy" / "kubernetes"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
OVERLAYS = sorted(p.name for p in (KUBE / "overlays").iterdir() if p.is_dir())
COMPONENTS = sorted(p.name for p in (KUBE / "components").iterdir() if p.is_dir())
PLATFORM_OVERLAYS = ("slack-socket", "slack-http", "discord")

Obj = dict[str, Any]


@functools.cache
def kubectl() -> tuple[str | None, str]:
    """The kubectl binary if `kubectl kustomize` renders the base here, else None and why not."""
    path = shutil.which("kubectl")
    if path is None:
        return None, "kubectl is not installed (it renders the manifests: `kubectl kustomize`)"
    probe = subprocess.run(
        [path, "kustomize", str(KUBE / "base")], capture_output=True, text=True, timeout=120, check=False
    )
    if probe.returncode != 0:
        return None, f"`kubectl kustomize` does not work here: {probe.stderr.strip()[:300]}"
    return path, ""


@functools.cache
def _render(directory: str) -> tuple[Obj, ...]:
    binary, why_not = kubectl()
    if binary is None:
        pytest.skip(why_not)
    done = subprocess.run(
        [binary, "kustomize", directory], capture_output=True, text=True, timeout=120, check=False
    )
    assert done.returncode == 0, f"kubectl kustomize {directory} failed:\n{done.stderr}"
    return tuple(doc for doc in yaml.safe_load_all(done.stdout) if doc)


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
