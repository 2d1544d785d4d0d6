"""The one use of slack_sdk internals: giving the Socket Mode client the WebSocket URL we opened.

The runner asks for the URL itself (``apps.connections.open``) so that a bad app token is a clear
startup error; bolt's handler would retry it forever. The handler takes no URL: slack_sdk's
aiohttp ``SocketModeClient`` keeps it in the attribute ``wss_uri`` and asks Slack for a new one
only while that is None. A release without the attribute costs one more ``apps.connections.open``,
nothing worse, so the runner logs it and goes on; tests/slack/test_slack_runner.py fails on it.
"""

from __future__ import annotations

import logging
from importlib.metadata import PackageNotFoundError, version

log = logging.getLogger("kubebot.slack")


def use_connection_url(client: object, url: str) -> bool:
    """Make `client` (a slack_sdk Socket Mode client) connect to `url` first; False when it can't."""
    if not hasattr(client, "wss_uri"):
        try:
            release = version("slack_sdk")
        except PackageNotFoundError:  # pragma: no cover - the client came from it
            release = "unknown"
        log.warning(
            "event=slack_sdk_internals_changed slack_sdk=%s missing=%s then=%s",
            release,
            f"{type(client).__name__}.wss_uri",
            "the handler opens its own connection",
        )
        return False
    client.wss_uri = url
    return True
