"""The STATUS/READY/RESTARTS/AGE columns computed the way `kubectl get pods` prints them."""

from __future__ import annotations

import copy

import pytest

from bot.cluster.status import human_duration, one_line, pod_status, ready_count, restarts, summarize_pod

from .conftest import NOW, decode, fixture_pod


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (-5, "<invalid>"),
        (-1, "0s"),
        (45, "45s"),
        (119, "119s"),
        (300, "5m"),
        (330, "5m30s"),
        (7200, "120m"),
        (3 * 3600, "3h"),
        (5 * 3600 + 20 * 60, "5h20m"),
        (30 * 3600, "30h"),
        (3 * 86400 + 2 * 3600, "3d2h"),
        (32 * 86400, "32d"),
        (3 * 365 * 86400 + 10 * 86400, "3y10d"),
        (9 * 365 * 86400, "9y"),
    ],
)
def test_human_duration_matches_kubectl(seconds: int, text: str) -> None:
    assert human_duration(seconds) == text


@pytest.mark.parametrize(
    ("name", "status"),
    [
        ("web-7d9c6b5f4-abcde", "Running"),
        ("api-5f6d8c9b7-x2x4k", "CrashLoopBackOff"),
        ("billing-6c5d4b3a2-p0o9i", "ImagePullBackOff"),
        ("frontend-84c7d9f5b-z1y2x", "ErrImagePull"),
        ("badimage-5d6f7c8b9-m1n2b", "InvalidImageName"),
        ("checkout-7f8e9d0c1-s5d6f", "CreateContainerConfigError"),
        ("ml-trainer-0", "Pending"),
        ("search-6d7e8f9a0-r4t5y", "Running"),
        ("batch-7a8b9c0d1-e2r3t", "ContainerStatusUnknown"),  # kubectl shows the container reason
        ("migrate-6a5b4c3d2-n8m7b", "Init:CrashLoopBackOff"),
        ("cron-sync-28991234-7xkzp", "Completed"),
        ("web-5c4b3a291-oldpd", "Terminating"),
    ],
)
def test_status_column(name: str, status: str) -> None:
    assert pod_status(decode(fixture_pod(name))) == status


def test_init_progress_and_terminated_without_reason() -> None:
    raw = copy.deepcopy(fixture_pod("migrate-6a5b4c3d2-n8m7b"))
    raw["status"]["initContainerStatuses"][0]["state"] = {"running": {"startedAt": "2025-06-02T09:59:00Z"}}
    assert pod_status(decode(raw)) == "Init:0/1"
    raw["status"]["initContainerStatuses"][0]["state"] = {"terminated": {"exitCode": 3, "signal": 0}}
    assert pod_status(decode(raw)) == "Init:ExitCode:3"
    running = copy.deepcopy(fixture_pod("web-7d9c6b5f4-abcde"))
    running["status"]["containerStatuses"][0]["state"] = {"terminated": {"exitCode": 0, "signal": 9}}
    assert pod_status(decode(running)) == "Signal:9"


def test_oomkilled_while_terminated_and_evicted_reason_without_containers() -> None:
    raw = copy.deepcopy(fixture_pod("api-5f6d8c9b7-x2x4k"))
    raw["status"]["containerStatuses"][0]["state"] = raw["status"]["containerStatuses"][0]["lastState"]
    assert pod_status(decode(raw)) == "OOMKilled"
    evicted = copy.deepcopy(fixture_pod("batch-7a8b9c0d1-e2r3t"))
    del evicted["status"]["containerStatuses"]
    assert pod_status(decode(evicted)) == "Evicted"


def test_scheduling_gated_and_node_lost() -> None:
    raw = copy.deepcopy(fixture_pod("ml-trainer-0"))
    raw["status"]["conditions"][0].update(reason="SchedulingGated", message="Scheduling is blocked")
    assert pod_status(decode(raw)) == "SchedulingGated"
    lost = copy.deepcopy(fixture_pod("legacy-6e7f8a9b0-h5j6k"))
    lost["metadata"]["deletionTimestamp"] = "2025-06-02T09:20:00Z"
    lost["status"]["reason"] = "NodeLost"
    assert pod_status(decode(lost)) == "Unknown"


def test_ready_restarts_age_and_node_columns() -> None:
    summary = summarize_pod(decode(fixture_pod("cache-5c6d7e8f9-l9k8j")), NOW)
    assert summary.row() == ("cache-5c6d7e8f9-l9k8j", "1/1", "Running", "4 (8m2s ago)", "5h", "node-2")
    pending = summarize_pod(decode(fixture_pod("postgres-0")), NOW)
    assert (pending.ready, pending.restarts, pending.node) == ("0/1", "0", "<none>")
    assert ready_count(decode(fixture_pod("search-6d7e8f9a0-r4t5y"))) == (0, 1)
    # while initializing, RESTARTS counts the init container's restarts
    assert restarts(decode(fixture_pod("migrate-6a5b4c3d2-n8m7b")), NOW) == "9 (3m56s ago)"


def test_one_line_keeps_the_end_of_long_messages() -> None:
    text = "Failed to pull image: " + "x" * 400 + " 401 Unauthorized"
    clipped = one_line(text, 120)
    assert len(clipped) <= 120
    assert clipped.startswith("Failed to pull image")
    assert clipped.endswith("401 Unauthorized")
    assert one_line("a\n  b\tc") == "a b c"
