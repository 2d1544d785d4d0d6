"""components/console: the maintainer console beside the bot, on the shared store, not exposed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cli import build_parser
from bot.config import ConfigError, CoreSettings
from bot.console.config import ConsoleSettings
from bot.store.base import is_postgres_url

from .conftest import DOCKERFILE, PLATFORM_OVERLAYS, Obj, combination_dir, of_kind, one, render
from .dockerfile import parse, stages

SECRETS = {
    "kubebot-tokens": {"KUBEBOT_DB": "postgresql://kubebot:fake@postgres:5432/kubebot"},
    "kubebot-console": {"KUBEBOT_CONSOLE_TOKEN": "f" * 64},
}


def console_objects(tmp_path: Path, overlay: str) -> list[Obj]:
    return render(combination_dir(tmp_path, overlay, ["console"]))


def console_env(objects: list[Obj], secrets: dict[str, dict[str, str]]) -> dict[str, str]:
    """The console container's environment, resolved the way the kubelet does it."""
    env = dict(stages(parse(DOCKERFILE.read_text(encoding="utf-8")))[-1].env())
    (c,) = one(objects, "Deployment", "kubebot-console")["spec"]["template"]["spec"]["containers"]
    for source in c.get("envFrom", []):
        env.update(one(objects, "ConfigMap", source["configMapRef"]["name"]).get("data", {}))
    for var in c.get("env", []):
        ref = var["valueFrom"]["secretKeyRef"]
        assert not ref.get("optional"), "a console without its token or store must not start"
        env[var["name"]] = secrets[ref["name"]][ref["key"]]
    return env


@pytest.mark.parametrize("overlay", PLATFORM_OVERLAYS)
def test_console_runs_beside_the_bot_and_is_not_exposed(tmp_path: Path, overlay: str) -> None:
    objects = console_objects(tmp_path, overlay)
    bot = one(objects, "Deployment", "kubebot")
    deployment = one(objects, "Deployment", "kubebot-console")
    assert deployment["metadata"]["namespace"] == "kubebot"
    pod = deployment["spec"]["template"]["spec"]
    (c,) = pod["containers"]
    assert c["image"] == bot["spec"]["template"]["spec"]["containers"][0]["image"]

    # exposed to nobody: a ClusterIP Service, no Ingress rule, not selected by the bot's Service
    service = one(objects, "Service", "kubebot-console")
    assert service["spec"]["type"] == "ClusterIP" and "nodePort" not in str(service)
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert service["spec"]["selector"].items() <= labels.items()
    assert not one(objects, "Service", "kubebot")["spec"]["selector"].items() <= labels.items()
    for ingress in of_kind(objects, "Ingress"):
        assert "kubebot-console" not in str(ingress)

    # locked down like the bot
    assert pod["automountServiceAccountToken"] is False
    sc = c["securityContext"]
    assert sc["readOnlyRootFilesystem"] is True and sc["allowPrivilegeEscalation"] is False
    assert sc["capabilities"] == {"drop": ["ALL"]} and pod["securityContext"]["runAsNonRoot"] is True

    # what the manifests say is what `kubebot serve console` accepts: the shared store, the token
    env = console_env(objects, SECRETS)
    args = build_parser().parse_args(c["args"])
    assert (args.command, args.platform) == ("serve", "console")
    settings = ConsoleSettings.from_env(env, host=args.host, port=args.port)
    assert settings.token == SECRETS["kubebot-console"]["KUBEBOT_CONSOLE_TOKEN"]
    assert is_postgres_url(CoreSettings.from_env(env).db_url or "")
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    assert ports[c["readinessProbe"]["httpGet"]["port"]] == settings.port == 8090
    assert c["readinessProbe"]["httpGet"]["path"] == "/healthz"
    # and without the token Secret it would refuse to start (it listens on the pod address)
    with pytest.raises(ConfigError, match="KUBEBOT_CONSOLE_TOKEN"):
        ConsoleSettings.from_env(
            {k: v for k, v in env.items() if k != "KUBEBOT_CONSOLE_TOKEN"}, host=args.host
        )
    # the bot pods never get the console token
    assert "kubebot-console" not in str(bot)


def test_no_console_unless_the_component_is_added() -> None:
    for overlay in PLATFORM_OVERLAYS:
        objects = render(Path(__file__).resolve().parents[2] / "deploy" / "kubernetes" / "overlays" / overlay)
        assert not [o for o in objects if o["metadata"]["name"] == "kubebot-console"]
