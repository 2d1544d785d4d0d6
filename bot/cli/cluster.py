"""`kubebot cluster {pods,deployments,services,events,nodes,why} [NAME] [-n NS] [--context C] [--json]`.

The CLI runs with the operator's own kubeconfig, so no people allowlist applies; the namespace
allowlist, validation, deadline, error replies and audit line are the gateway's, as in chat.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
from typing import Any, TextIO

from bot.app import kb_dir, load_snapshot, service_for
from bot.cluster.config import ClusterSettings
from bot.cluster.gateway import KubeGateway
from bot.config import ConfigError, CoreSettings
from bot.models import ChannelType, ClusterReport, Entry, Message, Person, Platform, Reply
from bot.ports import ClusterQuery


def cmd_cluster(args: argparse.Namespace, core: CoreSettings, out: TextIO) -> int:
    """Run one query and print it; exit 0, or 1 when the query failed or was refused."""
    snapshot = load_snapshot(kb_dir(args.kb, core))
    verb: str = args.verb
    if verb != "why" and args.name:
        raise ConfigError(f"`kubebot cluster {verb}` takes no NAME (use -n NAMESPACE)")
    settings = ClusterSettings.from_env().with_overrides(kubeconfig=args.kubeconfig, context=args.context)
    gateway = KubeGateway.connect(settings)
    service = service_for(snapshot, cluster=gateway)
    query = ClusterQuery(verb, args.name, args.namespace)
    text = " ".join(part for part in ("cluster", verb, args.name, args.namespace) if part)
    message = Message(text, Platform.CONSOLE, ChannelType.CONSOLE, "cli", Person(id=_operator()))

    async def run() -> Reply:
        try:
            return await service.cluster_reply(query, message)
        finally:
            await gateway.aclose()

    reply = asyncio.run(run())
    report = reply.cluster
    assert report is not None  # a cluster reply always carries its report
    if args.json:
        out.write(json.dumps(report_json(report, reply.linked_entries), ensure_ascii=False) + "\n")
    else:
        out.write(reply.text + "\n")
    return 1 if report.error else 0


def report_json(report: ClusterReport, linked: tuple[Entry, ...] = ()) -> dict[str, Any]:
    titles = {e.id: e.title for e in linked}
    return {
        "title": report.title,
        "error": report.error,
        "columns": list(report.columns),
        "rows": [dict(zip(report.columns, row, strict=True)) for row in report.rows],
        "omitted": report.omitted,
        "findings": [
            {
                "object": f.object_ref,
                "summary": f.summary,
                "evidence": list(f.evidence),
                "entry_id": f.entry_id,
                "entry_title": titles.get(f.entry_id) if f.entry_id else None,
            }
            for f in report.findings
        ],
    }


def _operator() -> str:
    try:
        return getpass.getuser()
    except (OSError, KeyError):
        return "unknown"
