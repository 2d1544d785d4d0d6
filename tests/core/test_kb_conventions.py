"""The placeholder convention of knowledge/README.md, checked on every command of the shipped KB."""

from __future__ import annotations

import re

import pytest

from bot.knowledge import KnowledgeBase

# a kubectl command that names a namespaced object by placeholder must say which namespace
NAMESPACED = re.compile(
    r"\b(POD|DEPLOY|SVC|INGRESS|PVC|SECRET|CONFIGMAP|HPA|STS|JOB|CRONJOB|ROUTE)\b|"
    r"\b(deploy|deployment|svc|pod|job|sts)/[A-Z]+\b"
)
HAS_NAMESPACE = re.compile(r"\s-n\s+\S+|--namespace[ =]\S+|\s-A\b|--all-namespaces|\bNS/|namespaces/NS/")
NOT_A_PLACEHOLDER = re.compile(
    r"<[a-z][a-z_-]*>|\$\{?(pod|namespace|ns|deploy|svc)\}?\b|\bmy-(pod|ns|svc|namespace|deployment)\b"
)


def _kubectl_parts(command: str) -> list[str]:
    """Each kubectl invocation of a command line, up to the next pipe, redirect or `&&`."""
    return [
        re.split(r"\s(?:\||>|<|&&|;)\s", part, maxsplit=1)[0]
        for part in re.split(r"(?=\bkubectl\s)", command)
        if part.startswith("kubectl ")
    ]


@pytest.mark.parametrize(
    ("command", "ok"),
    [
        ("kubectl logs POD -n NS --previous", True),
        ("kubectl exec -it POD -- sh", False),
        ("kubectl get pods -A --field-selector spec.nodeName=NODE", True),
        ("kubectl cp NS/POD:/tmp/a ./a", True),
        ("kubectl get nodes -L kubernetes.io/arch", True),
        ("docker exec -it CONTAINER sh | kubectl apply -f FILE.yaml", True),
        ("kubectl get pod POD -n NS -o name | xargs kubectl describe pod/POD", False),
    ],
)
def test_namespace_rule(command: str, ok: bool) -> None:
    missing = [p for p in _kubectl_parts(command) if NAMESPACED.search(p) and not HAS_NAMESPACE.search(p)]
    assert (missing == []) is ok


def test_shipped_commands_say_their_namespace_with_minus_n(shipped_kb: KnowledgeBase) -> None:
    missing = [
        f"{entry.id}: {tip.command}"
        for entry in shipped_kb.entries.values()
        for tip in entry.tips
        if tip.command
        for part in _kubectl_parts(tip.command)
        if NAMESPACED.search(part) and not HAS_NAMESPACE.search(part)
    ]
    assert missing == []


def test_shipped_commands_use_capital_placeholders(shipped_kb: KnowledgeBase) -> None:
    other_styles = [
        f"{entry.id}: {tip.command}"
        for entry in shipped_kb.entries.values()
        for tip in entry.tips
        if tip.command and NOT_A_PLACEHOLDER.search(tip.command)
    ]
    assert other_styles == []
