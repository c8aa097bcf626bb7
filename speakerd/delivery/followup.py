"""What happens because time passed and nobody acknowledged: reminders, escalation, and the office opening.

The daemon runs :meth:`FollowUp.check` every few seconds. Every decision is
read from the store and every step taken is written there *before* it is
told, so a restart in the middle neither forgets a step nor takes it twice:

* **Repeat** (``categories.X.repeat``): while messages of a category wait,
  one short reminder for the whole category ("还有2笔提现待审核") every
  ``every`` minutes, at most ``max`` times per message.
* **Escalate** (``categories.X.escalate``): a message still waiting
  ``after`` minutes after it arrived becomes a new message to the next person
  in the chain, through every output (push, speech, panel). Acknowledging
  either acknowledges both.
* **Quiet hours**: what the speech output held back is summarised once the
  office opens.
* **Snooze**: the mute button or the web page snoozes speech for N minutes;
  the device says until when, warns if messages wait, and says when it ends.
"""

from __future__ import annotations

import logging
import threading
from datetime import timedelta
from typing import TYPE_CHECKING

from speakerd.clock import iso
from speakerd.errors import SpeakerdError
from speakerd.rules import quiet
from speakerd.store import ESCALATION_MARK

if TYPE_CHECKING:
    from speakerd.config import Config

logger = logging.getLogger(__name__)


class FollowUp:
    """``speak(text, category, priority, name)`` plays a sentence; ``escalate(raw, to, category)`` stores and sends a message."""

    def __init__(self, store, config, speak, escalate, heard_by=None) -> None:
        self.store = store
        self._config = config
        self._speak = speak
        self._escalate = escalate
        self._heard_by = heard_by  # a hub: (online, offline) speakers of a department, as the attention policy asks

    def check(self) -> None:
        cfg, now = self._config(), self.store.clock.now()
        for step in (self._snooze_ended, self._office_opened, self._remind, self._escalations):
            try:
                step(cfg, now)
            except SpeakerdError as exc:
                logger.error("follow-up (%s) skipped this round: %s", step.__name__.strip("_"), exc)

    # --- snooze --------------------------------------------------------------

    def snooze(self, minutes: float, wait: bool = True) -> None:
        """Snooze speech for ``minutes``; say until when, and warn when messages wait.

        ``wait=False`` (a button, a web request) returns once the snooze is
        stored and speaks on another thread.
        """
        until = self.store.clock.now() + timedelta(minutes=minutes)
        self.store.followup.snooze(until.timestamp())
        waiting = self.store.acks.waiting_count()
        warning = f"还有{waiting}条消息待处理，请留意屏幕和手机。" if waiting else ""
        logger.info("speech snoozed for %g min, until %s (%d waiting)", minutes, f"{until.astimezone():%H:%M}", waiting)
        self._say(f"已静音，{until.astimezone():%H:%M}恢复播报。{warning}", "snooze", wait)

    def unsnooze(self, wait: bool = True) -> None:
        self.store.followup.snooze(0)
        logger.info("speech snooze ended")
        self._say("静音结束，恢复播报。", "snooze-end", wait)

    def _snooze_ended(self, cfg, now) -> None:
        until = self.store.followup.snoozed_until()
        if until and now.timestamp() >= until:
            self.unsnooze()

    def _snoozed(self, now):
        return now.timestamp() < self.store.followup.snoozed_until()

    # --- quiet hours ---------------------------------------------------------

    def _office_opened(self, cfg, now) -> None:
        """Summarise what quiet hours held back, for the categories that may speak again."""
        held = self.store.followup.held()
        ready = {c: n for c, n in held.items() if not quiet.holds(cfg.categories.get(c), cfg.speech, now)}
        if not ready or self._snoozed(now):
            return
        self.store.followup.release_held(ready)  # first: a crash loses this summary rather than repeating it
        names = "、".join(f"{_name(cfg, c)}{n}笔" for c, n in ready.items())
        self._say(f"休息时间共收到{names}，请查看屏幕和手机。", "quiet-summary")

    # --- repeat --------------------------------------------------------------

    def _remind(self, cfg, now) -> None:
        if self._snoozed(now):
            return
        for cat_id, category in cfg.categories.items():
            repeat = category.repeat
            if not repeat.every or quiet.holds(category, cfg.speech, now):
                continue
            due_before = iso(now - timedelta(minutes=repeat.every))
            if not self.store.followup.due_reminders(cat_id, due_before, repeat.max):
                continue
            # One reminder for the category: every message waiting in it counts one repeat.
            self.store.followup.mark_reminded(self.store.followup.due_reminders(cat_id, iso(now), repeat.max))
            count = self.store.acks.waiting_count(cat_id, self._unheard(cfg))
            if count:
                self._speak(repeat.text.format_map({"count": count, "name": category.name}), category, category.priority, f"reminder-{cat_id}")
            else:
                logger.info("reminder of %s left to the departments' speakers, which remind in their own rooms", cat_id)

    def _unheard(self, cfg) -> list[str] | None:
        """On a hub, the departments no speaker of which is online (their reminders are the hub's to say); else None: all.

        A speaker reminds its own room of what waits there; the hub saying it too made one reminder heard twice.
        """
        if self._heard_by is None or cfg.fleet.role != "hub":
            return None
        return [dep for dep in cfg.departments() if not (self._heard_by(dep) or ([], []))[0]]

    # --- escalation ----------------------------------------------------------

    def _escalations(self, cfg, now) -> None:
        if cfg.fleet.role == "speaker":
            return  # the hub escalates, once for the whole site
        for cat_id, category in cfg.categories.items():
            steps = sorted(category.escalate, key=lambda s: s.after)
            for index, step in enumerate(steps):
                for row in self.store.followup.due_escalations(cat_id, index, now - timedelta(minutes=step.after)):
                    self._escalate_one(cfg, cat_id, row, index + 1, step)

    def _escalate_one(self, cfg, cat_id, row, number, step) -> None:
        department, staff_id = target(cfg, step.to, row["department"])
        minutes = f"{step.after:g}"
        was = f"，原由{row['staff_id']}号负责" if row["staff_id"] else ""
        raw = {
            "id": f"{row['id']}{ESCALATION_MARK}{number}",
            "type": "speakerd.escalation",
            "app": "speakerd",
            "created_at": self.store.clock.iso(),
            "content": f"升级提醒：{_name(cfg, cat_id)}已{minutes}分钟无人处理{was}：{row['content']}",
            "data": {"escalates": row["id"], "step": number, "to": step.to},
        }
        with self.store.atomic():
            self._escalate(raw, (department, staff_id), cat_id)
            self.store.followup.mark_escalated(row["id"], number)
        logger.warning("escalated %s (step %d, %s min unacknowledged) to %s %s", row["id"], number, minutes, department, staff_id or "")

    def _say(self, sentence, name, wait=True) -> None:
        if wait:
            self._speak(sentence, None, "high", name)
        else:
            threading.Thread(target=self._speak, args=(sentence, None, "high", name), name="say", daemon=True).start()


def target(cfg: Config, to: str, department: str) -> tuple[str, str | None]:
    """``(department id, staff id or None)`` that an escalation step ``to`` names, for a message of ``department``."""
    departments, staff = cfg.departments(), cfg.staff()
    if to in staff:
        return staff[to][0], to
    dep_id = department if to == "lead" else to
    dep = departments.get(dep_id, (None, None))[1]
    lead = next((s.id for s in dep.staff if s.lead), None) if dep else None
    return dep_id, lead


def _name(cfg, category_id):
    category = cfg.categories.get(category_id)
    return category.name if category else category_id
