"""A small kustomize resolver for the tests, used where `kubectl kustomize` is not installed.

It supports exactly what deploy/kubernetes uses, and refuses everything else (so a new feature in
the manifests fails loudly here instead of being silently mis-rendered):

- `resources`: YAML files (one or more documents) and directories holding a Kustomization;
- `components`: directories holding a Component, applied to the resources accumulated so far;
- `patches`: strategic-merge patches given by `path` (or inline `patch`), without `target`,
  matched to one resource by kind, name (and namespace when the patch names one);
- `namespace`: metadata.namespace of namespaced objects, the name of a v1 Namespace, and
  RoleBinding/ClusterRoleBinding subjects named "default" (kustomize's default mode);
- `replicas`: spec.replicas of Deployments, StatefulSets, ReplicaSets, ReplicationControllers.

Each kustomization runs like kustomize's: resources, then components, then its own patches,
namespace and replicas, in that order. Strategic merge follows the patch directives published in
the Kubernetes OpenAPI schemas that kubernetes-validate ships (`x-kubernetes-patch-strategy`,
`x-kubernetes-patch-merge-key`): keyed lists merge by key, patch items first then the remaining
originals (kyaml's order); other lists are replaced; `null` deletes a field. `retainKeys` is
ignored, as kustomize does. File paths may not leave the kustomization's directory (kustomize's
default load restrictor); directories may.
"""

from __future__ import annotations

import copy
import functools
import json
import re
from importlib import resources as importlib_resources
from pathlib import Path
from typing import Any

import yaml

Obj = dict[str, Any]

KUSTOMIZATION_FILES = ("kustomization.yaml", "kustomization.yml", "Kustomization")
SUPPORTED_KEYS = {"apiVersion", "kind", "namespace", "resources", "components", "patches", "replicas"}
CLUSTER_SCOPED_KINDS = {
    "Namespace",
    "Node",
    "PersistentVolume",
    "ClusterRole",
    "ClusterRoleBinding",
    "StorageClass",
    "IngressClass",
    "PriorityClass",
    "RuntimeClass",
    "CustomResourceDefinition",
    "APIService",
    "ValidatingWebhookConfiguration",
    "MutatingWebhookConfiguration",
    "CSIDriver",
    "CSINode",
}
REPLICATED_KINDS = {"Deployment", "StatefulSet", "ReplicaSet", "ReplicationController"}
SCHEMA_VERSION = "v1.30.0-local-strict"


class KustomizeError(Exception):
    """The kustomization is invalid, or uses something this resolver does not support."""


def build(directory: Path | str) -> list[Obj]:
    """Render the kustomization in `directory`, like `kubectl kustomize DIR`."""
    root = Path(directory).resolve()
    kustomization = _load_kustomization(root)
    if kustomization.get("kind", "Kustomization") != "Kustomization":
        raise KustomizeError(f"{root}: a {kustomization['kind']} cannot be built on its own")
    objects: list[Obj] = []
    _accumulate(root, kustomization, objects)
    return objects


def resource_id(obj: Obj) -> tuple[str, str, str, str]:
    meta = obj.get("metadata", {})
    return (obj.get("apiVersion", ""), obj.get("kind", ""), meta.get("namespace", ""), meta.get("name", ""))


# -- accumulation ---------------------------------------------------------------------------------
def _load_kustomization(root: Path) -> Obj:
    for name in KUSTOMIZATION_FILES:
        path = root / name
        if path.is_file():
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
            if not isinstance(data, dict):
                raise KustomizeError(f"{path}: not a mapping")
            unsupported = set(data) - SUPPORTED_KEYS
            if unsupported:
                raise KustomizeError(f"{path}: unsupported field(s) {sorted(unsupported)}")
            return data
    raise KustomizeError(f"{root}: no kustomization file")


def _accumulate(root: Path, kustomization: Obj, objects: list[Obj]) -> None:
    for entry in kustomization.get("resources") or []:
        path = (root / entry).resolve()
        if path.is_dir():
            sub = _load_kustomization(path)
            if sub.get("kind", "Kustomization") != "Kustomization":
                raise KustomizeError(f"{path}: listed under resources but is a {sub['kind']}")
            sub_objects: list[Obj] = []
            _accumulate(path, sub, sub_objects)
            _add(objects, sub_objects, path)
        else:
            _add(objects, _read_documents(_inside(root, entry)), path)
    for entry in kustomization.get("components") or []:
        path = (root / entry).resolve()
        component = _load_kustomization(path)
        if component.get("kind") != "Component":
            raise KustomizeError(f"{path}: listed under components but is not a Component")
        _accumulate(path, component, objects)
    for patch in kustomization.get("patches") or []:
        _apply_patch(root, patch, objects)
    if kustomization.get("namespace"):
        for obj in objects:
            _set_namespace(obj, str(kustomization["namespace"]))
    for replica in kustomization.get("replicas") or []:
        _set_replicas(replica, objects, root)


def _inside(root: Path, entry: str) -> Path:
    path = (root / entry).resolve()
    if not path.is_relative_to(root):
        raise KustomizeError(f"{root}: file {entry} is outside the kustomization directory")
    if not path.is_file():
        raise KustomizeError(f"{root}: {entry} not found")
    return path


def _read_documents(path: Path) -> list[Obj]:
    docs = [d for d in yaml.safe_load_all(path.read_text(encoding="utf-8")) if d is not None]
    for doc in docs:
        if not isinstance(doc, dict) or "kind" not in doc or "name" not in doc.get("metadata", {}):
            raise KustomizeError(f"{path}: every document needs kind and metadata.name")
    return docs


def _add(objects: list[Obj], new: list[Obj], origin: Path) -> None:
    seen = {resource_id(o) for o in objects}
    for obj in new:
        if resource_id(obj) in seen:
            raise KustomizeError(f"{origin}: {resource_id(obj)} is already defined")
        seen.add(resource_id(obj))
        objects.append(obj)


# -- transformers ---------------------------------------------------------------------------------
def _apply_patch(root: Path, spec: Obj, objects: list[Obj]) -> None:
    if "target" in spec or "options" in spec:
        raise KustomizeError(f"{root}: patch target/options are not supported")
    if "path" in spec:
        text = _inside(root, spec["path"]).read_text(encoding="utf-8")
    elif "patch" in spec:
        text = spec["patch"]
    else:
        raise KustomizeError(f"{root}: a patch needs path or patch")
    patch = yaml.safe_load(text)
    if not isinstance(patch, dict):
        raise KustomizeError(f"{root}: only strategic-merge patches are supported (not JSON 6902)")
    meta = patch.get("metadata", {})
    matches = [
        o
        for o in objects
        if o["kind"] == patch.get("kind")
        and _group(o["apiVersion"]) == _group(patch.get("apiVersion", ""))
        and o["metadata"]["name"] == meta.get("name")
        and (not meta.get("namespace") or o["metadata"].get("namespace") == meta["namespace"])
    ]
    if len(matches) != 1:
        raise KustomizeError(
            f"{root}: patch {patch.get('kind')}/{meta.get('name')} matches {len(matches)} objects"
        )
    target = matches[0]
    merged = strategic_merge(target, patch, _schema_for(target))
    target.clear()
    target.update(merged)


def _group(api_version: str) -> str:
    return api_version.rpartition("/")[0]


def _set_namespace(obj: Obj, namespace: str) -> None:
    if obj["kind"] == "Namespace" and obj["apiVersion"] == "v1":
        obj["metadata"]["name"] = namespace
    if obj["kind"] not in CLUSTER_SCOPED_KINDS:
        obj["metadata"]["namespace"] = namespace
    if obj["kind"] in ("RoleBinding", "ClusterRoleBinding"):
        for subject in obj.get("subjects") or []:
            if subject.get("name") == "default":
                subject["namespace"] = namespace


def _set_replicas(replica: Obj, objects: list[Obj], root: Path) -> None:
    matches = [
        o for o in objects if o["kind"] in REPLICATED_KINDS and o["metadata"]["name"] == replica["name"]
    ]
    if not matches:
        raise KustomizeError(f"{root}: replicas: nothing named {replica['name']!r} to scale")
    for obj in matches:
        obj.setdefault("spec", {})["replicas"] = replica["count"]


# -- strategic merge ------------------------------------------------------------------------------
@functools.cache
def _definitions() -> dict[str, Obj]:
    base = importlib_resources.files("kubernetes_validate") / "kubernetes-json-schema" / SCHEMA_VERSION
    data: dict[str, Obj] = json.loads((base / "_definitions.json").read_text(encoding="utf-8"))["$defs"]
    return data


@functools.cache
def _kind_schema(kind: str, api_version: str) -> Obj:
    # The file naming of kubernetes-validate: rbac.authorization.k8s.io/v1 -> rbac-v1.
    version = re.sub(r"^([^./]*)(?:[.][^/]*)?/", r"\1-", api_version)
    name = f"{kind.lower()}-{version}.json"
    base = importlib_resources.files("kubernetes_validate") / "kubernetes-json-schema" / SCHEMA_VERSION
    schema: Obj = json.loads((base / name).read_text(encoding="utf-8"))
    return schema


def _schema_for(obj: Obj) -> Obj:
    return _kind_schema(obj["kind"], obj["apiVersion"])


def _deref(schema: Obj | None) -> Obj:
    if not schema:
        return {}
    if "$ref" in schema:
        merged = {k: v for k, v in schema.items() if k != "$ref"}
        target = _deref(_definitions()[schema["$ref"].rpartition("/")[2]])
        return {**target, **merged}
    return schema


def _child(schema: Obj, key: str) -> Obj:
    schema = _deref(schema)
    if key in schema.get("properties", {}):
        return _deref(schema["properties"][key])
    extra = schema.get("additionalProperties")
    return _deref(extra) if isinstance(extra, dict) else {}


def strategic_merge(original: Any, patch: Any, schema: Obj) -> Any:
    """Merge `patch` into a copy of `original` the way kustomize's strategic merge does."""
    if not isinstance(original, dict) or not isinstance(patch, dict):
        return _without_nulls(patch)
    result = copy.deepcopy(original)
    for key, value in patch.items():
        if key.startswith("$"):
            raise KustomizeError(f"patch directive {key} is not supported")
        field_schema = _child(schema, key)
        if value is None:
            result.pop(key, None)
        elif key not in result:
            result[key] = _without_nulls(value)
        elif isinstance(value, list) and isinstance(result[key], list):
            result[key] = _merge_list(result[key], value, field_schema)
        else:
            result[key] = strategic_merge(result[key], value, field_schema)
    return result


def _merge_list(original: list[Any], patch: list[Any], schema: Obj) -> list[Any]:
    strategy = schema.get("x-kubernetes-patch-strategy", "").split(",")
    key = schema.get("x-kubernetes-patch-merge-key")
    if "merge" not in strategy:
        return [_without_nulls(item) for item in patch]
    if not key:
        raise KustomizeError("merging lists of scalars is not supported")
    items = _deref(schema.get("items"))
    by_key = {item.get(key): item for item in original}
    merged = [strategic_merge(by_key.get(item.get(key), {}), item, items) for item in patch]
    patched = {item.get(key) for item in patch}
    return merged + [copy.deepcopy(item) for item in original if item.get(key) not in patched]


def _without_nulls(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    if isinstance(value, list):
        return [_without_nulls(v) for v in value]
    return value
