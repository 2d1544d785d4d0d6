"""The `kubebot` command line: `bot.cli.main` parses it; each command lives in its own module here.

A command module is imported only when its command runs, so `kubebot ask` never imports Slack,
Discord, lightkube, aiohttp or a database driver.
"""

from bot.cli.main import build_parser, main

__all__ = ["build_parser", "main"]
