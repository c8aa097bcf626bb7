"""Turns one poll batch into stored, classified, routed messages with their outbox, atomically."""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass, field
from typing import Any

from speakerd import message as message_mod
from speakerd.classify import Classifier, type_matches
from speakerd.config import PRIORITIES
from speakerd.preview import preview
from speakerd.route import Assignment, Router
from speakerd.store import StoreError

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    new: list = field(default_factory=list)  # (message id, category, [Assignment])
    handled: list = field(default_factory=list)  # (platform event id, [ids it acknowledged])
    duplicates: int = 0
    quarantined: list = field(default_factory=list)  # (platform id or None, reason)


class Ingest:
    """Built per config, so a reload changes classification and routing of what comes next."""

    def __init__(self, cfg, store) -> None:
        self.cfg = cfg
        self.store = store
        self.categories = cfg.categories
        self.classifier = Classifier(cfg.categories, cfg.classify.fallback)
        self.router = Router(cfg)
        self.max_content = cfg.platform.max_content
        self.acknowledge = cfg.acknowledge

    def __call__(self, batch, outputs) -> IngestResult:
        """Store ``batch`` and advance the cursor in one transaction; raises StoreError."""
        try:
            result = self._batch(batch, outputs, self._one)
        except StoreError:
            raise
        except Exception:  # noqa: BLE001 - one message the code cannot handle: find it, keep the rest
            result = self._batch(batch, outputs, self._guarded)
        for platform_id, reason in result.quarantined:
            logger.warning("quarantined message %s: %s", platform_id or "(no id)", reason)
        for event_id, acked in result.handled:
            logger.info("platform reports handled (%s): acknowledged %s", event_id, ", ".join(acked) or "nothing waiting")
        return result

    def _batch(self, batch, outputs, each):
        result = IngestResult()
        with self.store.atomic():
            for raw in batch.messages:
                each(raw, outputs, result)
            self.store.inbox.set_cursor(batch.next)
        return result

    def local(self, raw: dict[str, Any], outputs: list[str], to: tuple[str, str | None] | None = None,
              category: str | None = None) -> IngestResult:
        """Store a message the device made itself (an alert, a digest, an escalation); the cursor stays.

        ``to=(department, staff id)`` sends it there instead of where the routes
        would; ``category`` files it there instead of where the classifier would.
        """
        result = IngestResult()
        with self.store.atomic():
            self._one(raw, outputs, result, to, category, own=True)
        return result

    def remote(self, raw: dict[str, Any], outputs: list[str], department: str, staff_id: str | None,
               category: str | None) -> IngestResult:
        """Store a message the hub sent (a speaker): the hub's department, person and category are kept, not decided again."""
        result = IngestResult()
        with self.store.atomic():
            self._one(raw, outputs, result, (department, staff_id), category if category in self.categories else None,
                      own=True, exact=True)
        return result

    def preview(self, raw: dict[str, Any]) -> list[dict[str, Any]]:
        """Where the device's own ``raw`` would go, as store-like rows, without touching the store (for when it fails)."""
        seen = preview(self.cfg, raw, own=True)
        if isinstance(seen, message_mod.Rejected):
            return []
        m = seen.message
        return [{"id": m.id, "content": m.content, "category": seen.category, "type": m.type, "app": m.app, "user_name": m.user.name,
                 "created_at": m.created_at, "data": json.dumps(m.data), "department": a.department, "subsystem": a.subsystem,
                 "staff_id": a.staff_id} for a in seen.assignments]

    def _guarded(self, raw, outputs, result):
        """One message in its own savepoint: if anything but the store fails on it, it alone is quarantined.

        Otherwise one message the code cannot handle would fail its batch at
        every poll and block every message behind it. Savepoints cost about
        15 % of ingest speed, so a batch is first tried without them and only
        done again this way when something in it failed.
        """
        try:
            with self.store.atomic():
                self._one(raw, outputs, result)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept aside with the reason, never lost
            reason = f"could not be processed: {type(exc).__name__}: {exc}"[:500]
            platform_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            logger.exception("message %s could not be processed; quarantined", platform_id or "(no id)")
            if self.store.inbox.quarantine(raw, reason, platform_id):
                result.quarantined.append((platform_id, reason))

    def _one(self, raw, outputs, result, to=None, category=None, own=False, exact=False) -> None:
        parsed = message_mod.parse(raw, self.max_content, own)
        if isinstance(parsed, message_mod.Rejected):
            if self.store.inbox.quarantine(raw, parsed.reason, parsed.platform_id):
                result.quarantined.append((parsed.platform_id, parsed.reason))
            return
        stored = self.store.inbox.stored_content(parsed.id)
        if stored is not None:
            result.duplicates += 1
            if stored != parsed.content and not own:
                # The first version was told and may be acted on already: it stays; the change is noted, once.
                if self.store.inbox.quarantine(raw, "resent with changed content; the first version is kept", parsed.id):
                    logger.warning("message %s was resent with changed content; the first version is kept (see messages --quarantined)",
                                   parsed.id)
            return
        verdict = self.classifier.classify(parsed)
        category = category or verdict.category
        priority = PRIORITIES.index(self.categories[category].priority)
        self.store.inbox.add_message(parsed, category, verdict.reason, priority)
        self.store.inbox.count_facts(parsed)
        if self._reports_handled(parsed):
            result.handled.append((parsed.id, self._acknowledge_referred(parsed)))
            return
        assignments: list[Assignment] = []
        departments = [to[0]] if to else self.router.departments_for(parsed, category)
        for department in departments:
            assignment = self.router.assign(department, self.store.inbox.last_staff(department))
            if to and (to[1] or exact):
                assignment = Assignment(assignment.subsystem, department, to[1])
            self.store.inbox.add_assignment(parsed.id, assignment, outputs, priority)
            self.store.inbox.tally(parsed, category, assignment, first=not assignments)
            assignments.append(assignment)
        result.new.append((parsed.id, category, assignments))

    def _reports_handled(self, message):
        """Whether the platform tells us here that earlier messages were dealt with."""
        return "handles" in message.data or any(type_matches(p, message.type) for p in self.acknowledge.platform_types)

    def _acknowledge_referred(self, message):
        """Acknowledge what ``message`` refers to, and keep it as acknowledged itself: it needs no one."""
        acked = []
        handles = message.data.get("handles")
        if isinstance(handles, str) and handles != message.id and self.store.acks.acknowledge(handles, "platform") == "done":
            acked.append(handles)
        self.store.acks.acknowledge(message.id, "platform")
        for field_name in self.acknowledge.match_on:
            value = message.data.get(field_name)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                acked += self.store.acks.acknowledge_matching(field_name, value, "platform")
        return acked
