"""How a command fails: one line on stderr, exit code 2."""

from __future__ import annotations

EXIT_USAGE = 2


class CliError(Exception):
    """A clear, one-line failure: printed as `kubebot: error: ...`, exit code 2."""
