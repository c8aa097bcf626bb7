"""The device's figures for Prometheus, read from the store and health when scraped, never counted on the side.

A collector (prometheus-client's custom-collector interface) rather than counters
incremented along the way: the store already holds every figure, restarts
included, and one place that reads it cannot drift from the reports. Counters
come from the daily tallies, which are kept for good, so they only grow.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, InfoMetricFamily, Metric

from speakerd import __version__
from speakerd.intake.source import Source

if TYPE_CHECKING:
    from speakerd.store import Store

EVER = ("0000-00-00", "9999-99-99")


class DeviceCollector:
    """``collect()`` for a registry; ``troubles()`` and ``last_ok()`` are health's current view, ``sources()`` the names read."""

    def __init__(self, store: Store, troubles: Callable[[], list[dict[str, Any]]], last_ok: Callable[[], dict[str, float]],
                 sources: Callable[[], list[str]] = lambda: ["platform"]) -> None:
        self._sources = sources
        self._store = store
        self._troubles = troubles
        self._last_ok = last_ok

    def collect(self) -> Iterator[Metric]:
        yield from self._messages()
        yield from self._work()
        yield from self._health()
        info = InfoMetricFamily("speakerd", "The running speakerd.")
        info.add_metric([], {"version": __version__})
        yield info

    def _messages(self) -> Iterator[Metric]:
        reports = self._store.reports
        by_category = CounterMetricFamily("speakerd_messages", "Messages received, by category.", labels=["category"])
        acked = CounterMetricFamily("speakerd_messages_acknowledged", "Messages acknowledged, by category.", labels=["category"])
        for row in reports.tally_counts("category", "messages", "acked_messages", *EVER):
            by_category.add_metric([row["key"]], row["messages"])
            acked.add_metric([row["key"]], row["acked"])
        assigned = CounterMetricFamily("speakerd_assignments", "Messages given to a department.", labels=["department"])
        for row in reports.tally_counts("department", "assigned", "acked_assigned", *EVER):
            assigned.add_metric([row["key"]], row["messages"])
        yield from (by_category, acked, assigned)

    def _work(self) -> Iterator[Metric]:
        waiting = GaugeMetricFamily("speakerd_waiting_messages", "Messages not acknowledged yet, by department.", labels=["department"])
        for department, n in self._store.acks.waiting_by_department(restated=False).items():
            waiting.add_metric([department], n)
        outbox = GaugeMetricFamily("speakerd_outbox_jobs", "Deliveries owed, by output and state.", labels=["output", "state"])
        for row in self._store.reports.outbox_by_output():
            outbox.add_metric([row["output"], "waiting"], row["waiting"] or 0)
            outbox.add_metric([row["output"], "failing"], row["failing"] or 0)
        yield from (waiting, outbox)

    def _health(self) -> Iterator[Metric]:
        troubles = self._troubles()
        up = GaugeMetricFamily("speakerd_source_up", "1 while a source answers (or may push), 0 during its outage.", labels=["source"])
        last = GaugeMetricFamily("speakerd_source_last_success_timestamp_seconds", "When a source last answered a poll or pushed.",
                                 labels=["source"])
        last_ok = self._last_ok()
        for name in self._sources():
            subject = Source(name).subject
            up.add_metric([name], 0 if any(t["subject"] == subject and t["outage"] for t in troubles) else 1)
            if subject in last_ok:
                last.add_metric([name], last_ok[subject])
        outages = GaugeMetricFamily("speakerd_outages_open", "Troubles that lasted long enough to be alerted, by subject.",
                                    labels=["subject", "kind"])
        for t in troubles:
            if t["outage"]:
                outages.add_metric([t["subject"], t["kind"]], 1)
        yield from (up, last, outages)
