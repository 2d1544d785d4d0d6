"""The pod's grace period fits kubebot's shutdown: preStop sleep plus the 20 s budget of bot/runtime.py,
so Kubernetes never sends SIGKILL while replies are drained and the store is flushed."""

from __future__ import annotations

import pytest

from bot.runtime import SHUTDOWN_BUDGET_S

from .conftest import KUBE, PLATFORM_OVERLAYS, container, pod_spec, render


@pytest.mark.parametrize("overlay", PLATFORM_OVERLAYS)
def test_grace_period_covers_prestop_and_the_shutdown_budget(overlay: str) -> None:
    objects = render(KUBE / "overlays" / overlay)
    spec = pod_spec(objects)
    pre_stop = container(objects)["lifecycle"]["preStop"]["exec"]["command"]
    assert pre_stop[0] == "sleep"
    sleep = float(pre_stop[1])
    assert 3 <= sleep <= 10, "long enough for endpoints to update, short enough to matter"
    assert spec["terminationGracePeriodSeconds"] >= sleep + SHUTDOWN_BUDGET_S + 1


def test_the_slack_adapter_stops_within_its_share_of_the_budget() -> None:
    from bot.adapters.slack import runner
    from bot.runtime import ADAPTER_BUDGET_S

    worst = runner.ACK_GRACE_S + runner.DRAIN_SECONDS + 2 * runner.CANCEL_SECONDS  # + outbox worker stop
    assert worst <= ADAPTER_BUDGET_S < SHUTDOWN_BUDGET_S
