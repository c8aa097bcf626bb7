"""Whether an output should tell a notice now: one policy, asked by dispatch before every delivery.

Outputs only deliver; deciding *whether* is here, in one place, so that
snooze, quiet hours, stale announcements and burst summaries behave the same
whichever output they apply to, and a restart resumes them from the store.
Rules are listed per output (speech has most; push groups bursts per person;
the panel and the log tell everything); each rule looks at the notice and returns a
:class:`Decision`, or None to let the next rule decide.

This module only reads. Dispatch carries the decision out and alone writes
the outbox: a held announcement is recorded for the quiet-hours summary, a
deferred one is postponed, a group is taken under way with its leader and
finished (or given back) with it.
"""

from __future__ import annotations

import dataclasses
import logging
import math
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from speakerd.clock import iso
from speakerd.delivery.budget import speaking_budget
from speakerd.delivery.decision import Action, Context, Decision, Rule
from speakerd.message import made_here
from speakerd.message.business import is_vip, number
from speakerd.outputs.interface import Notice
from speakerd.outputs.push.recipients import recipients
from speakerd.rules import quiet

if TYPE_CHECKING:
    from speakerd.config import Category, Config
    from speakerd.store import Job, Owed, Store

logger = logging.getLogger(__name__)


class Attention:
    """``decide(output, notice)``; ``config`` returns the config in force, ``store`` gives state and the clock."""

    def __init__(self, store: Store, config: Callable[[], Config],
                 heard_by: Callable[[str], tuple[list[str], list[str]] | None] | None = None,
                 promised: Callable[[str], bool] = lambda message_id: False) -> None:
        self._promised = promised
        self._store = store
        self._config = config
        self._heard_by = heard_by or (lambda department: ([], []))
        # In memory: after a restart a burst under way gets one summary early, which is harmless.
        self._summaries: dict[tuple[str, ...], float] = {}

    def decide(self, output: str, notice: Notice) -> Decision:
        decision, now = self._ask(output, notice)
        if decision is None:
            return Decision(Action.DELIVER, notice=notice)
        if decision.key:
            self._summaries[decision.key] = now
        if decision.action is not Action.DEFER:
            logger.info("%s: %s %s: %s", output, decision.action.value, notice.message_id, decision.reason)
        return decision

    def tells(self, output: str, notice: Notice) -> bool:
        """Whether the output would tell the notice now (deliver it, or a summary with it), without deciding it: nothing
        is remembered or logged. Dispatch asks before waiting for a paced output, so a skip never waits a breath."""
        decision, _ = self._ask(output, notice)
        return decision is None or decision.action in (Action.DELIVER, Action.GROUP)

    def _ask(self, output: str, notice: Notice) -> tuple[Decision | None, float]:
        """The first rule's decision (None: no rule has one, deliver as it is) and when it was asked."""
        cfg = self._config()
        ctx = Context(output, notice, cfg.categories.get(notice.category), cfg, self._store, self._store.clock.now(), self._heard_by,
                      self._summaries, self._promised, lambda job, category, received_at: _tells_too(ctx, job, category, received_at))
        for rule in RULES.get(output, ()):
            decision = rule(ctx)
            if decision is not None:
                return decision, ctx.now.timestamp()
        return None, ctx.now.timestamp()


def _tells_too(ctx: Context, job: Job, category: str, received_at: str) -> bool:
    """Whether the output would tell another message owed to it at all: none of the rules of :data:`WHETHER` skips,
    holds or defers it. A summary counts only those, so a hub's summary never tells what a department's speaker says,
    nor a muted department's messages, nor a stale one."""
    found = ctx.cfg.categories.get(category)
    notice = Notice(message_id=job.message_id, content="", category=category, category_name=found.name if found else category,
                    priority=found.priority if found else "normal", department=job.department, department_name=job.department,
                    subsystem="", subsystem_name="", received_at=received_at)
    other = dataclasses.replace(ctx, notice=notice, category=found)
    return all(rule(other) is None for rule in WHETHER.get(ctx.output, ()))


def heard_elsewhere(ctx: Context) -> Decision | None:
    """A hub leaves a department's message to that department's speaker, while one is online.

    With none online it announces the message itself, so nothing goes unheard,
    unless ``fleet.hub_announces_unheard`` is off; and so it does with one it
    promised to say (sent as covered while no speaker was online), even if a
    speaker came back since: that speaker counts it as heard.
    """
    if ctx.promised(ctx.notice.message_id):
        return None
    if ctx.cfg.fleet.role == "hub" and _being_handed_on(ctx):
        return Decision(Action.DEFER, "handing it to the speakers first", until=ctx.now.timestamp() + 0.2)
    found = ctx.heard_by(ctx.notice.department)
    if found is None:  # a hub that just started: which speakers are online comes in a moment
        return Decision(Action.DEFER, "waiting to hear which speakers are online", until=ctx.now.timestamp() + 0.5)
    online, offline = found
    if online:
        return Decision(Action.SKIP, f"announced by speaker {', '.join(online)}")
    if offline and not ctx.cfg.fleet.hub_announces_unheard:
        return Decision(Action.SKIP, f"its speaker {', '.join(offline)} is offline and fleet.hub_announces_unheard is off")
    return None


def _being_handed_on(ctx: Context) -> bool:
    """Whether the hub is still sending the message to the speakers (for at most :data:`HANDED_WITHIN` seconds).

    Who says a message is settled when the speakers are handed it: then the hub promises to say one no speaker
    can hear, and a speaker that comes back counts it as heard. The hub's speech waits for that moment.
    """
    notice = ctx.notice
    if not notice.received_at or (ctx.now - datetime.fromisoformat(notice.received_at)).total_seconds() > HANDED_WITHIN:
        return False
    found = ctx.store.outbox.state_of(notice.message_id, notice.department, "fleet")
    return found is not None and found[0] in ("pending", "sending")


HANDED_WITHIN = 5.0  # seconds a hub's speech waits for the message to reach the broker; a broker away does not hold it longer


def not_announced(ctx: Context) -> Decision | None:
    """A category set to ``announce: none`` is shown and pushed, never spoken."""
    if ctx.category is not None and ctx.category.announce == "none":
        return Decision(Action.SKIP, "its category is not announced")
    return None


def stale(ctx: Context) -> Decision | None:
    """An announcement that waited so long (a speaker was missing) that it is better left unsaid."""
    limit = ctx.cfg.speech.stale_after
    if not limit or not ctx.notice.received_at:
        return None
    waited = (ctx.now - datetime.fromisoformat(ctx.notice.received_at)).total_seconds() / 60
    if waited <= limit:
        return None
    return Decision(Action.SKIP, f"it waited {waited:.0f} min (speech.stale_after is {limit})")


def snoozed(ctx: Context) -> Decision | None:
    """Snoozed by the mute button or the page: nothing but critical messages."""
    if ctx.notice.priority != "critical" and ctx.now.timestamp() < ctx.store.followup.snoozed_until():
        return Decision(Action.SKIP, "speech is snoozed")
    return None


def muted(ctx: Context) -> Decision | None:
    """A category or department muted for a while (page, CLI): not spoken until it ends; shown and pushed as ever."""
    if ctx.notice.priority == "critical":
        return None
    until = ctx.store.mutes.until(ctx.notice.category, ctx.notice.department, ctx.now.timestamp())
    if until:
        return Decision(Action.SKIP, f"{ctx.notice.category_name} / {ctx.notice.department_name} is muted until "
                                     f"{datetime.fromtimestamp(until).astimezone():%Y-%m-%d %H:%M}")
    return None


def quiet_hours(ctx: Context) -> Decision | None:
    """Quiet hours: held back, and summarised once the office opens (:mod:`speakerd.delivery.followup`)."""
    if ctx.notice.priority != "critical" and quiet.holds(ctx.category, ctx.cfg.speech, ctx.now):
        return Decision(Action.HOLD, f"quiet hours ({quiet.span_of(ctx.category, ctx.cfg.speech)})")
    return None


def burst(ctx: Context) -> Decision | None:
    """Many of one category at once: one summary instead of a sentence each.

    A message of a category with a burst threshold first waits ``group_wait``
    seconds (like Alertmanager's group_wait); then, if enough of its category
    are owed to this output, they are all told in one summary with it.
    """
    category = _grouping(ctx)
    if category is None:
        return None
    settings, received = category.burst, datetime.fromisoformat(ctx.notice.received_at).timestamp()
    if ctx.now.timestamp() < received + settings.group_wait:
        return Decision(Action.DEFER, "grouping wait", until=received + settings.group_wait)
    group = [owed for owed in ctx.store.outbox.pending_of_category(ctx.output, ctx.notice.category, iso(ctx.now))
             if ctx.tells_too(owed.job, ctx.notice.category, owed.received_at)]
    return _summary(ctx, category, group, received, "in one summary", ("spoken",))


def push_burst(ctx: Context) -> Decision | None:
    """Many of one category for one person: one push that summarises them, then one per ``push_interval`` while it lasts.

    As Alertmanager groups notifications: the first message waits ``group_wait``; if by then
    enough of its category are owed to the same person, one summary tells them all. Later ones
    wait for the person's next summary, ``push_interval`` after the last. Critical messages,
    the device's own and other categories are never held back.
    """
    notice, category = ctx.notice, _grouping(ctx)
    if category is None or notice.priority == "critical" or not recipients(notice, ctx.cfg):
        return None  # (nobody with a phone to push to: nothing to group, it is done at once)
    settings = category.burst
    key = (ctx.output, notice.category, notice.department, notice.staff_id or "")
    received = datetime.fromisoformat(notice.received_at).timestamp()
    last = ctx.summaries.get(key, 0.0)
    due = max(received + settings.group_wait, last + settings.push_interval)
    if ctx.now.timestamp() < due:
        return Decision(Action.DEFER, "grouping wait", until=due)
    # While a burst lasts (a summary within the last two intervals), the follow-up sums up any two or more.
    threshold = 2 if ctx.now.timestamp() - last <= 2 * settings.push_interval else settings.threshold
    group = [owed for owed in ctx.store.outbox.pending_of_category(
        ctx.output, notice.category, iso(ctx.now), (notice.department, notice.staff_id), under_way=True)
        if (owed.job.message_id, owed.job.department) != (notice.message_id, notice.department)]
    return _summary(ctx, category, group, received, f"in one push to {notice.staff_id or notice.department}",
                    ("content", "spoken"), key, threshold)


def _grouping(ctx: Context) -> Category | None:
    """The notice's category when it has bursts and the notice may be told within a summary; None when it is told alone."""
    notice, category = ctx.notice, ctx.category
    if category is None or not (category.burst.threshold and notice.received_at) or made_here(notice.app):
        return None
    return category


def _summary(ctx: Context, category: Category, group: list[Owed], received: float, told: str,
             fields: tuple[str, ...], key: tuple[str, ...] = (), threshold: int = 0) -> Decision | None:
    """One summary telling the notice and ``group`` when, together, they reach ``threshold`` (the category's
    by default); else None (told alone).

    The sentence goes into ``fields`` of the notice: speech reads ``spoken``, a push shows ``content`` too.
    """
    notice = ctx.notice
    # A message told to two departments owes two jobs: it is one message, counted and summed once.
    messages = {notice.message_id: (notice.data, notice.user_tier), **{o.job.message_id: (o.data, o.tier) for o in group}}
    if len(messages) < (threshold or category.burst.threshold):
        return None
    sentence = burst_sentence(category.burst.text, category, list(messages.values()), ctx.now.timestamp() - received)
    changes: dict[str, Any] = dict.fromkeys(fields, sentence)
    summary = dataclasses.replace(notice, **changes)
    summary = dataclasses.replace(summary, covers=tuple(sorted(set(messages) - {notice.message_id})))
    return Decision(Action.GROUP, f"{len(messages)} {notice.category} messages {told}", notice=summary,
                    grouped=tuple(o.job for o in group), key=key)


def burst_sentence(template: str, category: Category, messages: list[tuple[dict[str, Any], str]], seconds: float) -> str:
    """'过去1分钟新增订单812笔，合计96,400元，其中VIP 37笔': the window, the count, the amounts' sum, the VIP customers'.

    ``messages`` is each message's data and its customer's tier. The sum is added when the messages carry
    ``data.amount``; the VIP count when any of them came from a VIP customer.
    """
    window = f"{max(1, math.ceil(seconds / 60))}分钟" if seconds >= 30 else f"{max(1, round(seconds))}秒"
    sentence = template.format_map({"window": window, "name": category.name, "count": len(messages)})
    amounts = [amount for d, _ in messages if (amount := number(d.get("amount"))) is not None]
    if amounts:
        sentence += f"，合计{sum(amounts):,.2f}".removesuffix(".00") + "元"
    vip = sum(1 for _, tier in messages if is_vip(tier))
    if vip:
        sentence += f"，其中VIP {vip}笔"
    return sentence


# Whether an output tells a message at all; then how (alone, in a burst's summary, short or in a summary of all waiting).
WHETHER: dict[str, tuple[Rule, ...]] = {"speech": (heard_elsewhere, not_announced, stale, snoozed, muted, quiet_hours)}
RULES: dict[str, tuple[Rule, ...]] = {
    "speech": (*WHETHER["speech"], burst, speaking_budget),
    "push": (push_burst,),
}
