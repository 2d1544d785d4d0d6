"""The composition root: from a knowledge-base directory to a ready `QAService`.

The command line (`bot.cli`), the chat runtime (`bot.runtime`) and the console server
(`bot.console.server`) all build their service here, so they resolve the directory, load it and
report a broken knowledge base the same way. Nothing here imports a platform, the cluster
client or a database driver: the optional ports (a recorder, a cluster gateway) are passed in.
"""

from __future__ import annotations

from pathlib import Path

from bot.config import CoreSettings
from bot.decision import CalibrationError
from bot.knowledge import KnowledgeBase, KnowledgeError, bundled_kb_dir, load_knowledge
from bot.ports import ClusterGateway, Recorder
from bot.service import KnowledgeHolder, QAService, Snapshot


class StartupError(Exception):
    """The knowledge base cannot be used (a load problem, a broken calibration): one clear line."""


def kb_dir(arg: str | None, settings: CoreSettings) -> Path:
    """The knowledge base to use: ``--kb``/the positional DIR, else $KUBEBOT_KB, else the bundled one."""
    if arg:
        return Path(arg)
    return settings.kb_dir or bundled_kb_dir()


def _startup_error(directory: Path, exc: KnowledgeError) -> StartupError:
    first = exc.problems[0]
    more = ""
    if len(exc.problems) > 1:
        more = f" (and {len(exc.problems) - 1} more; run `kubebot kb lint {directory}`)"
    return StartupError(f"cannot load knowledge base: {first}{more}")


def load_kb(directory: Path) -> KnowledgeBase:
    """Load and validate the knowledge base; the first problem (and how many more) as StartupError."""
    try:
        return load_knowledge(directory)
    except KnowledgeError as exc:
        raise _startup_error(directory, exc) from None


def load_snapshot(directory: Path) -> Snapshot:
    """The knowledge base and its matcher, ready to answer: through the index cache
    (`bot.kbcache`), so an unchanged knowledge base is neither parsed nor indexed again."""
    try:
        return Snapshot.load(directory)
    except KnowledgeError as exc:
        raise _startup_error(directory, exc) from None
    except CalibrationError as exc:
        raise StartupError(f"{exc}") from None


def service_for(
    snapshot: Snapshot, *, recorder: Recorder | None = None, cluster: ClusterGateway | None = None
) -> QAService:
    """A service over a loaded snapshot, with the optional recorder and cluster ports."""
    return QAService(KnowledgeHolder(snapshot), recorder=recorder, cluster=cluster)


def build_service(
    directory: Path, *, recorder: Recorder | None = None, cluster: ClusterGateway | None = None
) -> QAService:
    """A service over the knowledge base in ``directory``, with the optional recorder and cluster ports."""
    return service_for(load_snapshot(directory), recorder=recorder, cluster=cluster)
