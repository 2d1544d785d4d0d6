"""The cluster-lookup roles: read-only, an explicit list, the right API groups, never Secrets."""

from __future__ import annotations

from pathlib import Path

import pytest

from .conftest import KUBE, Obj, combination_dir, of_kind, one, render, settings

READ = {"get", "list", "watch"}
# resource -> the API groups it is served from (events from both the core and events.k8s.io).
EXPECTED = {
    "pods": {""},
    "pods/log": {""},
    "events": {"", "events.k8s.io"},
    "services": {""},
    "endpoints": {""},
    "endpointslices": {"discovery.k8s.io"},
    "nodes": {""},
    "namespaces": {""},
    "deployments": {"apps"},
    "replicasets": {"apps"},
    "statefulsets": {"apps"},
    "daemonsets": {"apps"},
    "jobs": {"batch"},
    "cronjobs": {"batch"},
    "persistentvolumeclaims": {""},
    "ingresses": {"networking.k8s.io"},
}
CLUSTER_SCOPED = {"nodes", "namespaces"}


def grants(role: Obj) -> dict[tuple[str, str], set[str]]:
    """(apiGroup, resource) -> verbs, after checking every rule is read-only and explicit."""
    out: dict[tuple[str, str], set[str]] = {}
    assert "aggregationRule" not in role
    for rule in role["rules"]:
        assert set(rule) <= {"apiGroups", "resources", "verbs"}, f"unexpected keys in {rule}"
        verbs = set(rule["verbs"])
        assert verbs <= READ, f"write verbs in {rule}"
        for field in ("apiGroups", "resources", "verbs"):
            assert not any("*" in value for value in rule[field]), f"wildcard in {field} of {rule}"
        assert not {"secrets", "configmaps"} & set(rule["resources"]), f"secrets readable via {rule}"
        for group in rule["apiGroups"]:
            for resource in rule["resources"]:
                out.setdefault((group, resource), set()).update(verbs)
    return out


def expected_pairs(resources: set[str]) -> set[tuple[str, str]]:
    return {(group, r) for r in resources for group in EXPECTED[r]}


@pytest.fixture(scope="module")
def cluster_wide() -> list[Obj]:
    return render(KUBE / "overlays" / "cluster-lookup")


@pytest.fixture(scope="module")
def namespaced(tmp_path_factory: pytest.TempPathFactory) -> list[Obj]:
    root: Path = tmp_path_factory.mktemp("rbac")
    return render(combination_dir(root, "slack-socket", ["cluster-lookup-namespaced"]))


def test_cluster_role_grants_exactly_the_list(cluster_wide: list[Obj]) -> None:
    role = one(cluster_wide, "ClusterRole", "kubebot-cluster-lookup")
    found = grants(role)
    assert set(found) == expected_pairs(set(EXPECTED))
    assert found[("", "pods/log")] == {"get"}, "reading logs needs get only"
    assert all(verbs == READ for pair, verbs in found.items() if pair != ("", "pods/log"))


def test_namespaced_role_is_the_namespaced_half(namespaced: list[Obj]) -> None:
    assert not of_kind(namespaced, "ClusterRole") and not of_kind(namespaced, "ClusterRoleBinding")
    role = one(namespaced, "Role", "kubebot-cluster-lookup")
    assert set(grants(role)) == expected_pairs(set(EXPECTED) - CLUSTER_SCOPED)
    assert role["metadata"]["namespace"] in settings(namespaced)["KUBEBOT_CLUSTER_NAMESPACES"].split(",")


@pytest.mark.parametrize(
    ("fixture", "binding_kind", "role_kind"),
    [
        ("cluster_wide", "ClusterRoleBinding", "ClusterRole"),
        ("namespaced", "RoleBinding", "Role"),
    ],
)
def test_binding_names_the_bot(
    request: pytest.FixtureRequest, fixture: str, binding_kind: str, role_kind: str
) -> None:
    objects: list[Obj] = request.getfixturevalue(fixture)
    binding = one(objects, binding_kind)
    role = one(objects, role_kind)
    account = one(objects, "ServiceAccount", "kubebot")
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": role_kind,
        "name": role["metadata"]["name"],
    }
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "kubebot", "namespace": account["metadata"]["namespace"]}
    ]
    if role_kind == "Role":
        assert binding["metadata"]["namespace"] == role["metadata"]["namespace"]


def test_every_role_in_every_render_is_read_only(rendered: tuple[str, list[Obj]]) -> None:
    _, objects = rendered
    for role in of_kind(objects, "Role") + of_kind(objects, "ClusterRole"):
        grants(role)


def test_checker_rejects_bad_rules() -> None:
    bad_rules = [
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "delete"]},
        {"apiGroups": ["*"], "resources": ["pods"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["*"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["secrets"], "verbs": ["get"]},
        {"apiGroups": [""], "resources": ["pods"], "verbs": ["*"]},
        {"nonResourceURLs": ["/metrics"], "verbs": ["get"]},
    ]
    for rule in bad_rules:
        with pytest.raises(AssertionError):
            grants({"rules": [rule]})
