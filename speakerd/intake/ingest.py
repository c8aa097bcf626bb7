"""Turns one poll batch into stored, classified, routed messages with their outbox, atomically."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import TYPE_CHECKING, Any

from speakerd import message as message_mod
from speakerd.clock import iso
from speakerd.config import PRIORITIES
from speakerd.intake.source import Source
from speakerd.rules.classify import Classifier, type_matches
from speakerd.rules.duty import Changes
from speakerd.rules.identity import content_key, window_for
from speakerd.rules.preview import preview
from speakerd.rules.route import Assignment, Router, Target
from speakerd.store import StoreError

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.intake.platform import Batch
    from speakerd.message import Message
    from speakerd.store import Store

logger = logging.getLogger(__name__)


@dataclass
class IngestResult:
    new: list[tuple[str, str, list[Assignment]]] = field(default_factory=list)  # (message id, category, assignments)
    handled: list[tuple[str, list[str]]] = field(default_factory=list)  # (platform event id, ids it acknowledged)
    duplicates: int = 0
    quarantined: list[tuple[str | None, str]] = field(default_factory=list)  # (platform id or None, reason)


@dataclass(frozen=True)
class Given:
    """What is already decided about a message before it is stored: nothing for the platform's.

    The device's own messages (``own``) may carry ids and sentences no platform
    would; ``department`` sends a message there instead of where the routes would,
    to ``staff_id`` or, when that is None, to the department's next person in turn,
    unless ``keep_staff`` (a hub decided the person, nobody included);
    ``category`` files it there instead of where the classifier would;
    ``scope`` keeps a source's content keys its own (:attr:`~speakerd.intake.source.Source.scope`).
    """

    own: bool = False
    department: str | None = None
    staff_id: str | None = None
    keep_staff: bool = False
    category: str | None = None
    scope: str = ""


FROM_PLATFORM = Given()
PLATFORM_SOURCE = Source()
Each = Callable[[object, list[str], IngestResult, Given], None]


class Ingest:
    """Built per config, so a reload changes classification and routing of what comes next."""

    def __init__(self, cfg: Config, store: Store, people: Callable[[], bool] = lambda: True) -> None:
        self.cfg = cfg
        self.store = store
        self._people = people  # False while a new device is unclaimed: its staff are still the example's
        self._context: tuple[Any, Changes, bool] | None = None  # of the batch under way
        self.categories = cfg.categories
        self.classifier = Classifier(cfg.categories, cfg.classify.fallback)
        self.router = Router(cfg)
        self.max_content = cfg.platform.max_content
        self.acknowledge = cfg.acknowledge
        self.dedupe = cfg.dedupe

    def __call__(self, batch: Batch, outputs: list[str], source: Source = PLATFORM_SOURCE) -> IngestResult:
        """Store ``batch`` (of ``source``) and advance its cursor in one transaction; raises StoreError."""
        try:
            result = self._batch(batch, outputs, self._one, source)
        except StoreError:
            raise
        except Exception:  # noqa: BLE001 - one message the code cannot handle: find it, keep the rest
            result = self._batch(batch, outputs, self._guarded, source)
        for platform_id, reason in result.quarantined:
            logger.warning("quarantined message %s: %s", platform_id or "(no id)", reason)
        for event_id, acked in result.handled:
            logger.info("platform reports handled (%s): acknowledged %s", event_id, ", ".join(acked) or "nothing waiting")
        return result

    def _batch(self, batch: Batch, outputs: list[str], each: Each, source: Source) -> IngestResult:
        result, self._context = IngestResult(), None
        given = Given(scope=source.scope)
        with self.store.atomic():
            for raw in source.mark(batch.messages, source.app(self.cfg)):
                each(raw, outputs, result, given)
            self.store.inbox.set_cursor(batch.next, source.cursor_key)
        return result

    def local(self, raw: dict[str, Any], outputs: list[str], to: tuple[str, str | None] | None = None,
              category: str | None = None) -> IngestResult:
        """Store a message the device made itself (an alert, a digest, an escalation); the cursor stays.

        ``to=(department, staff id)`` sends it there instead of where the routes
        would; ``category`` files it there instead of where the classifier would.
        """
        department, staff_id = to or (None, None)
        return self._given(raw, outputs, Given(own=True, department=department, staff_id=staff_id, category=category))

    def remote(self, raw: dict[str, Any], outputs: list[str], department: str, staff_id: str | None,
               category: str | None) -> IngestResult:
        """Store a message the hub sent (a speaker): the hub's department, person and category are kept, not decided again."""
        known = category if category in self.categories else None
        return self._given(raw, outputs, Given(own=True, department=department, staff_id=staff_id, keep_staff=True, category=known))

    def pushed(self, raws: list[object], outputs: list[str], source: Source = PLATFORM_SOURCE) -> IngestResult:
        """Store messages a platform pushed to the device (``POST /v1/inbound``): as polled ones, each alone, the cursor untouched."""
        result, self._context = IngestResult(), None
        given = Given(scope=source.scope)
        for raw in source.mark(raws, source.app(self.cfg)):
            self._guarded(raw, outputs, result, given)
        for platform_id, reason in result.quarantined:
            logger.warning("quarantined pushed message %s: %s", platform_id or "(no id)", reason)
        return result

    def _given(self, raw: dict[str, Any], outputs: list[str], given: Given) -> IngestResult:
        result, self._context = IngestResult(), None
        with self.store.atomic():
            self._one(raw, outputs, result, given)
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

    def _guarded(self, raw: object, outputs: list[str], result: IngestResult, given: Given = FROM_PLATFORM) -> None:
        """One message in its own savepoint: if anything but the store fails on it, it alone is quarantined.

        Otherwise one message the code cannot handle would fail its batch at
        every poll and block every message behind it. Savepoints cost about
        15 % of ingest speed, so a batch is first tried without them and only
        done again this way when something in it failed.
        """
        try:
            with self.store.atomic():
                self._one(raw, outputs, result, given)
        except StoreError:
            raise
        except Exception as exc:  # noqa: BLE001 - kept aside with the reason, never lost
            reason = f"could not be processed: {type(exc).__name__}: {exc}"[:500]
            platform_id = raw.get("id") if isinstance(raw, dict) and isinstance(raw.get("id"), str) else None
            logger.exception("message %s could not be processed; quarantined", platform_id or "(no id)")
            if self.store.inbox.quarantine(raw, reason, platform_id):
                result.quarantined.append((platform_id, reason))

    def _one(self, raw: object, outputs: list[str], result: IngestResult, given: Given = FROM_PLATFORM) -> None:
        parsed = message_mod.parse(raw, self.max_content, given.own)
        if isinstance(parsed, message_mod.Rejected):
            if self.store.inbox.quarantine(raw, parsed.reason, parsed.platform_id):
                result.quarantined.append((parsed.platform_id, parsed.reason))
            return
        if self._seen(raw, parsed, given.own):
            result.duplicates += 1
            return
        verdict = self.classifier.classify(parsed)
        category = given.category or verdict.category
        priority = PRIORITIES.index(self.categories[category].priority)
        window = window_for(parsed.type, self.dedupe.windows, self.dedupe.window_days)
        key = None if given.own or not window else content_key(parsed, self.dedupe.keys, given.scope)
        first = self._repeats(key, window) if key else None
        self.store.inbox.add_message(parsed, category, verdict.reason, priority, key, first)
        if first is not None:
            result.duplicates += 1
            logger.info("message %s (%s) is about the same as %s, received within %s: kept as its duplicate, told to nobody",
                        parsed.id, parsed.type, first, timedelta(seconds=round(window)))
            return
        self.store.inbox.count_facts(parsed)
        if self._reports_handled(parsed):
            result.handled.append((parsed.id, self._acknowledge_referred(parsed, given.scope)))
            return
        result.new.append((parsed.id, category, self._assign(parsed, category, priority, outputs, given)))

    def _repeats(self, key: str, window: float) -> str | None:
        since = self.store.clock.now() - timedelta(seconds=window)
        return self.store.inbox.first_with_key(key, iso(since))

    def _seen(self, raw: object, parsed: Message, own: bool) -> bool:
        """Whether ``parsed`` is stored already; a platform's resend with changed content is noted, once."""
        stored = self.store.inbox.stored_content(parsed.id)
        if stored is None:
            return False
        if stored != parsed.content and not own:
            # The first version was told and may be acted on already: it stays; the change is noted, once.
            if self.store.inbox.quarantine(raw, "resent with changed content; the first version is kept", parsed.id):
                logger.warning("message %s was resent with changed content; the first version is kept (see messages --quarantined)",
                               parsed.id)
        return True

    def _assign(self, parsed: Message, category: str, priority: int, outputs: list[str], given: Given) -> list[Assignment]:
        """One person per department the message goes to, each with the outbox rows of every output."""
        assignments: list[Assignment] = []
        targets = [Target(given.department)] if given.department else self.router.targets_for(parsed, category)
        now, changes, people = self._duty_context()
        for target in targets:
            department = target.department
            assignment = self.router.assign(target, self.store.inbox.last_staff(department), now, changes)
            if not people:
                assignment = Assignment(assignment.subsystem, department, None)
            if given.department and (given.staff_id or given.keep_staff):
                assignment = Assignment(assignment.subsystem, department, given.staff_id)
            self.store.inbox.add_assignment(parsed.id, assignment, outputs, priority)
            self.store.inbox.tally(parsed, category, assignment, first=not assignments)
            assignments.append(assignment)
        return assignments

    def _duty_context(self) -> tuple[Any, Changes, bool]:
        """The moment, today's duty changes and whether people are assigned: read once per batch, not per message."""
        if self._context is None:
            now = self.store.clock.now().astimezone()
            self._context = (now, self.store.duty.of_day(now.strftime("%Y-%m-%d")), self._people())
        return self._context

    def _reports_handled(self, message: Message) -> bool:
        """Whether the platform tells us here that earlier messages were dealt with."""
        return "handles" in message.data or any(type_matches(p, message.type) for p in self.acknowledge.platform_types)

    def _acknowledge_referred(self, message: Message, scope: str) -> list[str]:
        """Acknowledge what ``message`` refers to, and keep it as acknowledged itself: it needs no one.

        By a data field only messages of its own source: another shop's order 1234 is another order.
        """
        others = tuple(f"{name}:" for name in self.cfg.sources if name != scope)
        mine = (lambda i: i.startswith(f"{scope}:")) if scope else (lambda i: not i.startswith(others))
        acked = []
        handles = message.data.get("handles")
        if isinstance(handles, str) and handles != message.id and self.store.acks.acknowledge(handles, "platform") == "done":
            acked.append(handles)
        self.store.acks.acknowledge(message.id, "platform")
        for field_name in self.acknowledge.match_on:
            value = message.data.get(field_name)
            if isinstance(value, (str, int, float)) and not isinstance(value, bool):
                acked += self.store.acks.acknowledge_matching(field_name, value, "platform", mine)
        return acked
