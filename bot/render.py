"""Plain-text rendering of replies: the console, `kubebot ask`, and the `text` field of --json.

Chat adapters have their own renderers (Block Kit, embeds) built from the same Reply fields.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Candidate, ClusterReport, Entry, LearningPath, TopicGroup, TourStep


def entry_text(entry: Entry) -> str:
    parts = [entry.title]
    if entry.analogy:
        parts.append(f"Analogy: {entry.analogy}")
    parts.append(entry.answer)
    if entry.tips:
        lines = ["Try:"]
        for tip in entry.tips:
            lines.append(f"  - {tip.text}")
            if tip.command:
                lines.append(f"      $ {tip.command}")
        parts.append("\n".join(lines))
    if entry.see_also:
        parts.append("See also: " + ", ".join(entry.see_also))
    parts.append("Docs: " + " ".join(entry.sources))
    return "\n\n".join(parts)


def with_alternatives(answer: str, alternatives: Sequence[Candidate]) -> str:
    lines = ["Not this? Maybe:"] + [f"  - {c.title} (ask: {c.entry_id})" for c in alternatives]
    return answer + "\n\n" + "\n".join(lines)


def suggestions_text(question: str, candidates: Sequence[Candidate]) -> str:
    lines = [f'I\'m not sure what you mean by "{question}". Did you mean:']
    lines += [f"  - {c.title} (ask: {c.entry_id})" for c in candidates]
    return "\n".join(lines)


def decline_text(question: str, tags: Sequence[str]) -> str:
    shown = ", ".join(tags[:12])
    if not question:
        return (
            'Ask me a Kubernetes or container question, for example "what is a pod" or '
            '"why is my pod in CrashLoopBackOff". Type "topics" to see what I know.'
        )
    return (
        f'Sorry, I don\'t have an answer for "{question}". I know about Kubernetes and containers: '
        f"{shown}. Try asking with the error message or the Kubernetes object it is about; "
        'type "topics" for the full list.'
    )


def topics_text(groups: Sequence[TopicGroup]) -> str:
    lines = ["Topics I can explain (ask by title or in your own words):"]
    for group in groups:
        lines.append(f"\n{group.tag}:")
        lines += [f"  - {title} ({entry_id})" for entry_id, title in group.entries]
    return "\n".join(lines)


def help_text(paths: Sequence[LearningPath], cluster_enabled: bool) -> str:
    lines = [
        "I answer Kubernetes and container questions: first an analogy, then the commands.",
        '  <question>        ask in your own words, e.g. "what is a pod", or paste an error',
        "  topics            list what I know about",
        "  learn [PATH]      a guided tour, one step at a time",
        "  help              this message",
    ]
    if cluster_enabled:
        lines += [
            "  pods [NS]         pods and their status (also deployments, services, events, nodes)",
            "  why NAME [NS]     diagnose a pod, deployment or service",
        ]
    if paths:
        lines.append("Tours: " + ", ".join(f"{p.id} ({p.title})" for p in paths))
    return "\n".join(lines)


def tour_text(step: TourStep) -> str:
    head = f"{step.path_title}: step {step.index + 1} of {step.total}"
    nav = []
    if step.has_previous:
        nav.append("back")
    if step.has_next:
        nav.append("next")
    return f"{head}\n\n{entry_text(step.entry)}" + (f"\n\n[{' / '.join(nav)}]" if nav else "")


def cluster_text(report: ClusterReport, linked: Sequence[Entry] = ()) -> str:
    if report.error:
        return f"{report.title}: {report.error}"
    lines = [report.title]
    if report.columns:
        table = [report.columns, *report.rows]
        widths = [max(len(row[i]) for row in table) for i in range(len(report.columns))]
        lines += [
            "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip() for row in table
        ]
    if report.omitted:
        lines.append(f"... and {report.omitted} more")
    titles = {e.id: e.title for e in linked}
    for finding in report.findings:
        lines.append(f"\n* {finding.object_ref}: {finding.summary}")
        lines += [f"    {ev}" for ev in finding.evidence]
        if finding.entry_id:
            lines.append(
                f"    Fix: {titles.get(finding.entry_id, finding.entry_id)} (ask: {finding.entry_id})"
            )
    if not report.rows and not report.findings:
        lines.append("Nothing found.")
    return "\n".join(lines)
