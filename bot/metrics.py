"""kubebot's Prometheus metrics, on `prometheus-client`.

`Metrics` holds the project's metric objects on a registry of its own, with the library's
process, platform and garbage-collector collectors beside them; `bot.http` serves that registry
at /metrics. The module-level functions update the default instance, so any layer can count
without knowing about HTTP: the cluster gateway calls ``count_cluster_lookup("ok")``, the
reloader ``count_reload(True)``, the recorder wrapper ``observe_question(...)`` and
``count_feedback(...)``.
"""

from __future__ import annotations

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    GCCollector,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
    generate_latest,
)

# The `<name>_created` series (a timestamp per counter child) only double what scrapes show;
# it is a process-wide switch in the library and must be set before any metric exists.
disable_created_metrics()  # type: ignore[no-untyped-call]  # unannotated upstream

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BANDS = ("answered", "answered_with_alternatives", "suggested", "declined")
PLATFORMS = ("slack", "discord", "console")


class Metrics:
    """Every kubebot metric on one registry; one instance is the process default, tests make their own."""

    def __init__(self) -> None:
        self.registry = r = CollectorRegistry()
        ProcessCollector(registry=r)
        PlatformCollector(registry=r)
        GCCollector(registry=r)

        def counter(name: str, doc: str, *labels: str) -> Counter:
            return Counter(name, doc, labels, registry=r)

        self.questions = counter(
            "kubebot_questions_total", "Questions answered, by band and platform.", "band", "platform"
        )
        self.latency = Histogram(
            "kubebot_answer_latency_seconds",
            "Time to answer a knowledge-base question, by platform.",
            ("platform",),
            buckets=LATENCY_BUCKETS,
            registry=r,
        )
        self.feedback = counter(
            "kubebot_feedback_total", "Feedback clicks, by whether the answer helped.", "helpful"
        )
        self.cluster_lookups = counter(
            "kubebot_cluster_lookups_total", "Read-only cluster queries, by result.", "result"
        )
        self.kb_entries = Gauge(
            "kubebot_kb_entries", "Entries in the knowledge base being served.", registry=r
        )
        self.kb_reloads = counter("kubebot_kb_reloads_total", "Knowledge-base reloads, by result.", "result")
        self.store_dropped = counter(
            "kubebot_store_dropped_total", "Records not stored (store down or queue full)."
        )
        self.store_up = Gauge(
            "kubebot_store_up", "1 when the last store write succeeded, else 0.", registry=r
        )
        self.claims_failed_open = counter(
            "kubebot_claims_failed_open_total",
            "Shared dedupe claims answered without PostgreSQL (down or over the time budget).",
        )
        self.replies_deferred = counter(
            "kubebot_replies_deferred_total",
            "Replies the platform did not take at once, kept in the outbox to be sent again.",
            "platform",
        )
        self.replies_redelivered = counter(
            "kubebot_replies_redelivered_total", "Replies sent from the outbox.", "platform"
        )
        self.replies_given_up = counter(
            "kubebot_replies_given_up_total", "Replies never delivered, by reason.", "platform", "reason"
        )
        self.requests_rejected = counter(
            "kubebot_requests_rejected_total",
            "Inbound platform requests refused before parsing (bad signature, malformed body).",
            "reason",
        )
        # the label combinations that exist from the first scrape, so rate() works at once
        for platform in PLATFORMS:
            self.latency.labels(platform)
            for band in BANDS:
                self.questions.labels(band, platform)
        for helpful in ("true", "false"):
            self.feedback.labels(helpful)
        for result in ("ok", "failed"):
            self.kb_reloads.labels(result)

    def render(self) -> bytes:
        """The text exposition (format 0.0.4) of this registry, as /metrics serves it by default."""
        return generate_latest(self.registry)


METRICS = Metrics()


# -- the functions other layers call (default registry) ----------------------------------------
def observe_question(band: str, platform: str, latency_seconds: float, metrics: Metrics = METRICS) -> None:
    metrics.questions.labels(band, platform).inc()
    if latency_seconds > 0:
        metrics.latency.labels(platform).observe(latency_seconds)


def count_feedback(helpful: bool, metrics: Metrics = METRICS) -> None:
    metrics.feedback.labels("true" if helpful else "false").inc()


def count_cluster_lookup(result: str, metrics: Metrics = METRICS) -> None:
    """For the cluster gateway: result is e.g. "ok", "denied", "not_found", "error"."""
    metrics.cluster_lookups.labels(result).inc()


def count_reload(ok: bool, metrics: Metrics = METRICS) -> None:
    metrics.kb_reloads.labels("ok" if ok else "failed").inc()


def set_kb_entries(count: int, metrics: Metrics = METRICS) -> None:
    metrics.kb_entries.set(count)
