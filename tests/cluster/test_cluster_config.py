"""ClusterSettings.from_env, build_gateway, kubeconfig loading and name clean-up."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.cluster.config import ClusterSettings
from bot.cluster.gateway import KubeGateway, build_gateway
from bot.cluster.names import normalise, split_ref, valid_name, valid_namespace
from bot.cluster.reader import load_kube_config
from bot.config import ConfigError

from .conftest import write_kubeconfig


def test_defaults_are_off_and_nobody_in_chat() -> None:
    s = ClusterSettings.from_env({})
    assert s == ClusterSettings()
    assert not s.enabled
    assert s.timeout == 5.0 and s.max_rows == 25
    assert (s.slack_channels, s.slack_users, s.discord_channels, s.discord_users, s.discord_roles) == (
        (),
    ) * 5
    assert s.namespace_allowed("shop") and not s.namespace_allowed("kube-system")
    assert s.describe_namespaces() == "all namespaces except kube-system"


def test_all_variables_are_read() -> None:
    s = ClusterSettings.from_env(
        {
            "KUBEBOT_CLUSTER_ENABLED": "true",
            "KUBEBOT_CLUSTER_KUBECONFIG": "/etc/kubebot/config",
            "KUBEBOT_CLUSTER_CONTEXT": "prod",
            "KUBEBOT_CLUSTER_DEFAULT_NAMESPACE": "shop",
            "KUBEBOT_CLUSTER_NAMESPACES": "shop, payments ,",
            "KUBEBOT_CLUSTER_TIMEOUT": "2.5",
            "KUBEBOT_CLUSTER_MAX_ROWS": "10",
            "KUBEBOT_CLUSTER_LOG_LINES": "0",
            "KUBEBOT_CLUSTER_PROXY": "http://proxy:3128",
            "KUBEBOT_CLUSTER_SLACK_CHANNELS": "C1,C2",
            "KUBEBOT_CLUSTER_SLACK_USERS": "U1",
            "KUBEBOT_CLUSTER_DISCORD_CHANNELS": "111",
            "KUBEBOT_CLUSTER_DISCORD_USERS": "222",
            "KUBEBOT_CLUSTER_DISCORD_ROLES": "sre,oncall",
        }
    )
    assert s.enabled and s.kubeconfig == "/etc/kubebot/config" and s.context == "prod"
    assert s.default_namespace == "shop" and s.namespaces == ("shop", "payments")
    assert (s.timeout, s.max_rows, s.log_lines, s.proxy) == (2.5, 10, 0, "http://proxy:3128")
    assert s.slack_channels == ("C1", "C2") and s.slack_users == ("U1",)
    assert (s.discord_channels, s.discord_users, s.discord_roles) == (("111",), ("222",), ("sre", "oncall"))
    assert s.explicit_namespaces == ("shop", "payments")
    assert not s.namespace_allowed("kube-system") and not s.namespace_allowed("default")
    assert s.with_overrides(kubeconfig=None, context="dev").context == "dev"


def test_star_allows_every_namespace_and_yaml_config_file(tmp_path: Path) -> None:
    config = tmp_path / "kubebot.yaml"
    config.write_text(
        "KUBEBOT_CLUSTER_ENABLED: true\nKUBEBOT_CLUSTER_NAMESPACES: ['*']\nKUBEBOT_CLUSTER_TIMEOUT: 3\n"
    )
    s = ClusterSettings.from_env({"KUBEBOT_CONFIG": str(config)})
    assert s.enabled and s.timeout == 3.0
    assert s.namespace_allowed("kube-system") and s.explicit_namespaces is None
    assert s.describe_namespaces() == "all namespaces"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"KUBEBOT_CLUSTER_TIMEOUT": "soon"}, "KUBEBOT_CLUSTER_TIMEOUT must be a number of seconds"),
        ({"KUBEBOT_CLUSTER_TIMEOUT": "0"}, "between 0 and 120 seconds"),
        ({"KUBEBOT_CLUSTER_ENABLED": "maybe"}, "KUBEBOT_CLUSTER_ENABLED must be true or false"),
        ({"KUBEBOT_CLUSTER_MAX_ROWS": "0"}, "KUBEBOT_CLUSTER_MAX_ROWS must be at least 1"),
        ({"KUBEBOT_CLUSTER_LOG_LINES": "500"}, "KUBEBOT_CLUSTER_LOG_LINES 0..50"),
    ],
)
def test_bad_values_are_config_errors(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        ClusterSettings.from_env(env)


async def test_build_gateway_is_none_unless_enabled(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "config", "http://127.0.0.1:6443")
    assert build_gateway(ClusterSettings(kubeconfig=str(kubeconfig))) is None
    caplog.set_level(logging.INFO, logger="kubebot.cluster")
    gateway = build_gateway(ClusterSettings(enabled=True, kubeconfig=str(kubeconfig)))
    assert isinstance(gateway, KubeGateway)
    assert gateway.reader.server == "http://127.0.0.1:6443"
    assert gateway.reader.default_namespace == "shop"
    assert "event=cluster_enabled server=http://127.0.0.1:6443" in caplog.text
    await gateway.aclose()


def test_enabled_without_a_usable_kubeconfig_fails_at_startup(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with pytest.raises(ConfigError, match=r"cannot load the kubeconfig: Configuration file .* not found"):
        build_gateway(ClusterSettings(enabled=True, kubeconfig=str(tmp_path / "nope")))
    broken = tmp_path / "broken"
    broken.write_text("clusters: 3\n")
    with pytest.raises(ConfigError, match="the kubeconfig is not valid"):
        build_gateway(ClusterSettings(enabled=True, kubeconfig=str(broken)))
    # no kubeconfig setting: not in a pod, so $KUBECONFIG is used
    monkeypatch.setenv("KUBECONFIG", str(write_kubeconfig(tmp_path / "env-config", "http://127.0.0.1:7000")))
    assert load_kube_config(ClusterSettings()).cluster.server == "http://127.0.0.1:7000"


def test_context_selection_and_a_context_without_user(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\n"
        "contexts:\n- name: anon\n  context:\n    cluster: c\n    namespace: team-a\ncurrent-context: anon\n"
    )
    config = load_kube_config(ClusterSettings(kubeconfig=str(kubeconfig)))
    assert config.user is not None and config.namespace == "team-a"
    with pytest.raises(ConfigError, match="Context 'prod' not found"):
        load_kube_config(ClusterSettings(kubeconfig=str(kubeconfig), context="prod"))


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("web", "web"),
        ("“Web-1”", "web-1"),
        ("‘web’", "web"),
        ("`web`", "web"),
        ("*web*", "web"),
        ("web?", "web"),
        ("web–api", "web-api"),
        ("<http://web.shop|web.shop>", "web.shop"),
        ("<web>", "web"),
        ("*", "*"),
        ("-A", "-A"),
    ],
)
def test_normalise(raw: str, clean: str) -> None:
    assert normalise(raw) == clean


def test_name_rules() -> None:
    assert valid_name("web-7d9c6b5f4-abcde") and valid_name("a.b-c") and valid_name("x" * 253)
    assert (
        not valid_name("x" * 254) and not valid_name("Web") and not valid_name("a_b") and not valid_name("")
    )
    assert not valid_name("web.") and not valid_name("-web")
    assert valid_namespace("kube-system") and not valid_namespace("a.b") and not valid_namespace("x" * 64)
    assert split_ref("shop/web") == ("shop", "web") and split_ref("web") == ("", "web")


def test_unsupported_auth_and_bad_proxy_fail_at_startup(tmp_path: Path) -> None:
    kubeconfig = tmp_path / "config"
    kubeconfig.write_text(
        "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: http://127.0.0.1:1\n"
        "contexts:\n- name: gke\n  context:\n    cluster: c\n    user: old\ncurrent-context: gke\n"
        "users:\n- name: old\n  user:\n    auth-provider:\n      name: gcp\n"
    )
    with pytest.raises(
        ConfigError, match=r"cannot set up the client for http://127\.0\.0\.1:1: auth-provider not supported"
    ):
        build_gateway(ClusterSettings(enabled=True, kubeconfig=str(kubeconfig)))
    good = write_kubeconfig(tmp_path / "good", "http://127.0.0.1:1")
    with pytest.raises(ConfigError, match="cannot set up the client"):
        build_gateway(ClusterSettings(enabled=True, kubeconfig=str(good), proxy="ftp://nope"))
