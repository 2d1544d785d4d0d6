"""A tiny Prometheus registry (counters, gauges, one histogram) in the standard library.

`render()` produces the text exposition format (version 0.0.4) that /metrics serves. The
module-level functions update the default registry, so any layer can count without knowing
about HTTP: the cluster gateway calls ``count_cluster_lookup("ok")``, the reloader
``count_reload(True)``, the recorder wrapper ``observe_question(...)`` and ``count_feedback(...)``.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterable, Sequence

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


def _format_value(value: float) -> str:
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(value)


def _labels(names: Sequence[str], values: Sequence[str], extra: str = "") -> str:
    parts = [f'{n}="{_escape(v)}"' for n, v in zip(names, values, strict=True)]
    if extra:
        parts.append(extra)
    return "{" + ",".join(parts) + "}" if parts else ""


class _Metric:
    kind = "untyped"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        self.name = name
        self.help = help_text
        self.label_names = tuple(labels)
        self._lock = threading.Lock()

    def _key(self, values: Sequence[str]) -> tuple[str, ...]:
        if len(values) != len(self.label_names):
            raise ValueError(f"{self.name} takes labels {self.label_names}, got {tuple(values)}")
        return tuple(str(v) for v in values)

    def header(self) -> list[str]:
        return [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} {self.kind}"]

    def samples(self) -> list[str]:
        raise NotImplementedError


class Counter(_Metric):
    kind = "counter"

    def __init__(self, name: str, help_text: str, labels: Sequence[str] = ()) -> None:
        super().__init__(name, help_text, labels)
        self._values: dict[tuple[str, ...], float] = {} if labels else {(): 0.0}

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        key = self._key(labels)
        with self._lock:
            self._values[key] = self._values.get(key, 0.0) + amount

    def touch(self, *labels: str) -> None:
        """Make a label combination appear with 0, so rate() works from the first scrape."""
        key = self._key(labels)
        with self._lock:
            self._values.setdefault(key, 0.0)

    def value(self, *labels: str) -> float:
        with self._lock:
            return self._values.get(self._key(labels), 0.0)

    def samples(self) -> list[str]:
        with self._lock:
            items = sorted(self._values.items())
        return [f"{self.name}{_labels(self.label_names, k)} {_format_value(v)}" for k, v in items]


class Gauge(Counter):
    kind = "gauge"

    def set(self, value: float, *labels: str) -> None:
        key = self._key(labels)
        with self._lock:
            self._values[key] = float(value)


class Histogram(_Metric):
    kind = "histogram"

    def __init__(self, name: str, help_text: str, buckets: Iterable[float] = LATENCY_BUCKETS) -> None:
        super().__init__(name, help_text)
        self.buckets = tuple(sorted(buckets))
        self._counts = [0] * len(self.buckets)
        self._sum = 0.0
        self._count = 0

    def observe(self, value: float) -> None:
        with self._lock:
            self._sum += value
            self._count += 1
            for i, bound in enumerate(self.buckets):
                if value <= bound:
                    self._counts[i] += 1

    @property
    def count(self) -> int:
        with self._lock:
            return self._count

    def samples(self) -> list[str]:
        with self._lock:
            counts, total, count = list(self._counts), self._sum, self._count
        lines = [
            f'{self.name}_bucket{{le="{_format_value(bound)}"}} {n}'
            for bound, n in zip(self.buckets, counts, strict=True)
        ]
        lines.append(f'{self.name}_bucket{{le="+Inf"}} {count}')
        lines.append(f"{self.name}_sum {_format_value(total)}")
        lines.append(f"{self.name}_count {count}")
        return lines


class Metrics:
    """Every kubebot metric; one instance is the process default, tests make their own."""

    def __init__(self) -> None:
        self.questions = Counter(
            "kubebot_questions_total", "Questions answered, by band and platform.", ("band", "platform")
        )
        self.latency = Histogram(
            "kubebot_answer_latency_seconds", "Time to answer a knowledge-base question."
        )
        self.feedback = Counter(
            "kubebot_feedback_total", "Feedback clicks, by whether the answer helped.", ("helpful",)
        )
        self.cluster_lookups = Counter(
            "kubebot_cluster_lookups_total", "Read-only cluster queries, by result.", ("result",)
        )
        self.kb_entries = Gauge("kubebot_kb_entries", "Entries in the knowledge base being served.")
        self.kb_reloads = Counter(
            "kubebot_kb_reloads_total", "Knowledge-base reloads, by result.", ("result",)
        )
        self.store_dropped = Counter(
            "kubebot_store_dropped_total", "Records not stored (store down or queue full)."
        )
        self.store_up = Gauge("kubebot_store_up", "1 when the last store write succeeded, else 0.")
        self.claims_failed_open = Counter(
            "kubebot_claims_failed_open_total",
            "Shared dedupe claims answered without PostgreSQL (down or over the time budget).",
        )
        self.replies_deferred = Counter(
            "kubebot_replies_deferred_total",
            "Replies the platform did not take at once, kept in the outbox to be sent again.",
            ("platform",),
        )
        self.replies_redelivered = Counter(
            "kubebot_replies_redelivered_total", "Replies sent from the outbox.", ("platform",)
        )
        self.replies_given_up = Counter(
            "kubebot_replies_given_up_total", "Replies never delivered, by reason.", ("platform", "reason")
        )
        self.requests_rejected = Counter(
            "kubebot_requests_rejected_total",
            "Inbound platform requests refused before parsing (bad signature, malformed body).",
            ("reason",),
        )
        for band in ("answered", "answered_with_alternatives", "suggested", "declined"):
            for platform in ("slack", "discord", "console"):
                self.questions.touch(band, platform)
        for helpful in ("true", "false"):
            self.feedback.touch(helpful)
        for result in ("ok", "failed"):
            self.kb_reloads.touch(result)

    @property
    def all(self) -> tuple[_Metric, ...]:
        return (
            self.questions,
            self.latency,
            self.feedback,
            self.cluster_lookups,
            self.kb_entries,
            self.kb_reloads,
            self.store_dropped,
            self.store_up,
            self.claims_failed_open,
            self.replies_deferred,
            self.replies_redelivered,
            self.replies_given_up,
            self.requests_rejected,
        )

    def render(self) -> str:
        lines: list[str] = []
        for metric in self.all:
            lines.extend(metric.header())
            lines.extend(metric.samples())
        return "\n".join(lines) + "\n"


METRICS = Metrics()


# -- the functions other layers call (default registry) ----------------------------------------
def observe_question(band: str, platform: str, latency_seconds: float, metrics: Metrics = METRICS) -> None:
    metrics.questions.inc(band, platform)
    if latency_seconds > 0:
        metrics.latency.observe(latency_seconds)


def count_feedback(helpful: bool, metrics: Metrics = METRICS) -> None:
    metrics.feedback.inc("true" if helpful else "false")


def count_cluster_lookup(result: str, metrics: Metrics = METRICS) -> None:
    """For the cluster gateway: result is e.g. "ok", "denied", "not_found", "error"."""
    metrics.cluster_lookups.inc(result)


def count_reload(ok: bool, metrics: Metrics = METRICS) -> None:
    metrics.kb_reloads.inc("ok" if ok else "failed")


def set_kb_entries(count: int, metrics: Metrics = METRICS) -> None:
    metrics.kb_entries.set(count)
