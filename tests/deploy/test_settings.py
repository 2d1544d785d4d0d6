"""The environment each rendered pod gets (image ENV < ConfigMap < Secret < env), read by kubebot's
own settings classes and command-line parser: what the manifests say is what the bot accepts."""

from __future__ import annotations

from pathlib import Path

from bot.adapters.discord.config import DiscordSettings
from bot.adapters.slack.config import SlackSettings
from bot.background import BackgroundSettings
from bot.cli import build_parser
from bot.cluster.config import ClusterSettings
from bot.config import CoreSettings
from bot.store.base import is_postgres_url, sqlite_path

from .conftest import DOCKERFILE, Obj, container, one, platform_of
from .dockerfile import parse, stages

# What the README tells users to put in the Secret `kubebot-tokens`, per platform (fake values).
SECRETS = {
    "slack-socket": {"SLACK_BOT_TOKEN": "xoxb-1-fake", "SLACK_APP_TOKEN": "xapp-1-fake"},
    "slack-http": {
        "SLACK_BOT_TOKEN": "xoxb-1-fake",
        "SLACK_SIGNING_SECRET": "fake-signing-secret",
        "KUBEBOT_DB": "postgresql://kubebot:fake@postgres:5432/kubebot",
    },
    "discord": {"DISCORD_TOKEN": "fake-discord-token"},
}


def pod_env(objects: list[Obj], secret: dict[str, str]) -> dict[str, str]:
    """The container's environment, resolved the way the kubelet does it."""
    env = dict(stages(parse(DOCKERFILE.read_text(encoding="utf-8")))[-1].env())
    c = container(objects)
    for source in c.get("envFrom", []):
        if "configMapRef" in source:
            env.update(one(objects, "ConfigMap", source["configMapRef"]["name"]).get("data", {}))
        else:
            assert source["secretRef"]["name"] == "kubebot-tokens"
            env.update(secret)
    for var in c.get("env", []):
        if "value" in var:
            env[var["name"]] = var["value"]
        else:
            ref = var["valueFrom"]["secretKeyRef"]
            assert ref["name"] == "kubebot-tokens"
            env[var["name"]] = secret[ref["key"]]
    return env


def test_the_bot_accepts_its_environment(rendered: tuple[str, list[Obj]]) -> None:
    target, objects = rendered
    platform = platform_of(target)
    env = pod_env(objects, SECRETS[platform])
    c = container(objects)
    args = build_parser().parse_args(c["args"])
    assert args.command == "serve"

    core = CoreSettings.from_env(env)
    assert core.kb_dir == Path("/app/knowledge")
    assert core.log_format == "logfmt"
    health = next(p for p in c["ports"] if p["name"] == c["readinessProbe"]["httpGet"]["port"])
    assert core.http_port == health["containerPort"]
    assert BackgroundSettings.from_env(env).http_host == "0.0.0.0", "the kubelet probes the pod IP"

    if platform == "slack-http":
        assert is_postgres_url(core.db_url or ""), "replicas must share one store"
        slack_port = next(p for p in c["ports"] if p["name"] == "http-slack")
        assert (args.platform, args.http, args.port) == ("slack", True, slack_port["containerPort"])
    else:
        assert sqlite_path(core.db_url, env).parent == Path("/var/lib/kubebot")
    if platform.startswith("slack"):
        SlackSettings.from_env(env, http=args.http)
    else:
        assert args.platform == "discord"
        DiscordSettings.from_env(env)

    cluster = ClusterSettings.from_env(env)
    assert cluster.enabled == ("cluster-lookup" in target)
    if cluster.enabled:
        assert cluster.kubeconfig is None, "in the cluster: the ServiceAccount token"
        assert cluster.default_namespace and cluster.namespace_allowed(cluster.default_namespace)
