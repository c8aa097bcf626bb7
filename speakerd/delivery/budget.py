"""The speaking budget: when the office sends more than a speaker can say in time, say less, never nothing.

A speaker says about a minute of speech a minute; at the peak hour an office
sends more. Told one by one in full, the queue grows all day and an order is
heard minutes after it came. So before each announcement that is not critical
the policy reckons when each message now waiting would first be heard, told
in the order the outbox hands them over, and adapts only as far as it must:

1. critical messages are told first and in full, between sentences, never
   cutting one (the outbox hands them over first; this rule leaves them alone);
   high ones come next, within ``speech.urgent_within``;
2. a short form of the sentence: who, what, the key figure
   (``订单部李娜，订单，2948元``); at a peak (a summary told within the last
   minute) always, even when the whole sentence would be in time: told while
   the office is quiet for a moment, a long sentence (a member merge, 10 s)
   held up every urgent message that arrived while it played;
3. everything waiting but the critical ones in one summary by category, the
   most urgent named first (``有5笔退款申诉、2条会员等9条待处理，请看屏幕``; one of a
   run at a peak only ``又有2笔退款申诉等9条``); a message that has waited past its
   budget is heard only in such a summary, unless nothing else waits: then its
   short form tells more than a summary of one.

A message is either announced alone or counted in a summary that is heard:
none is dropped. The panel and the push carry the detail. How long a sentence
lasts is estimated from its length before it is synthesised
(:func:`speakerd.outputs.speech.duration.seconds_to_say`)."""

from __future__ import annotations

import dataclasses
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from speakerd.config import PRIORITIES
from speakerd.delivery.decision import Action, Context, Decision
from speakerd.message import made_here
from speakerd.message.business import number
from speakerd.outputs.speech import spoken_text
from speakerd.outputs.speech.duration import seconds_to_say, syllables_to_say
from speakerd.store import Job, Waiting

if TYPE_CHECKING:
    from speakerd.config import Config, SpeechConfig
    from speakerd.outputs.interface import Notice

URGENT = PRIORITIES.index("high")  # and above: told before the others, within speech.urgent_within
CRITICAL = PRIORITIES.index("critical")  # never shortened or folded
WHO_CHARS = 8  # what the template adds to the content: '财务部零零三号，'
NAMED = 2  # categories a summary names; the rest are in its total
SUMMARY_KEY = ("speech", "speaking budget")  # when the last summary was decided
AGAIN_WITHIN = 60.0  # seconds since the last summary: still at a peak (short forms only, summaries said short)


def speaking_budget(ctx: Context) -> Decision | None:
    """Deliver in full when everything waiting is first heard in time; else a short form; else one summary of all
    (of one alone and late: its short form).

    In time is ``speech.urgent_within`` for high messages, ``speech.heard_within`` for the rest, told in the
    order the outbox hands them over (critical, high, then the others). Critical messages, the device's own
    and a budget of 0 are left alone. A summary counts every message waiting but the critical ones: high
    messages alone can fill an hour, and the ordinary ones behind them must still be heard. Every one this output
    tells at all, that is: not one a department's speaker says for a hub, nor a muted one (``ctx.tells_too``).
    """
    notice, rank = ctx.notice, PRIORITIES.index(ctx.notice.priority)
    speech = ctx.cfg.speech
    if not (speech.heard_within and speech.urgent_within) or rank >= CRITICAL or made_here(notice.app) or not notice.received_at:
        return None
    now, mine = ctx.now.timestamp(), _received(notice.received_at)
    others = [w for w in ctx.store.outbox.waiting(ctx.output) if (w.job.message_id, w.job.department) != (notice.message_id, notice.department)
              and ctx.tells_too(w.job, w.category, w.received_at)]
    ahead = sum(syllables_to_say(w.chars + WHO_CHARS) for w in others if w.priority >= CRITICAL)
    rest = [w for w in others if w.priority < CRITICAL]
    full = seconds_to_say(spoken_text(notice, ctx.category, speech.max_chars))
    at_peak = now - ctx.summaries.get(SUMMARY_KEY, 0.0) <= AGAIN_WITHIN
    if not at_peak and _in_time(now, ahead, _queue(notice, rank, full, rest, lambda w: syllables_to_say(w.chars + WHO_CHARS)), speech):
        return None
    short = short_sentence(notice)
    on_time = now - mine <= (speech.urgent_within if rank >= URGENT else speech.heard_within)
    shorts = _queue(notice, rank, seconds_to_say(short), rest, lambda w: syllables_to_say(len(_short_of(w, ctx.cfg))))
    # Alone and late, outside a peak's run of summaries: its own short form tells more than a summary of one.
    if (on_time and _in_time(now, ahead, shorts, speech)) or not (rest or at_peak):
        return Decision(Action.DELIVER, "short form: the speaker is behind", notice=dataclasses.replace(notice, spoken=short))
    sentence = waiting_sentence([_as_waiting(notice), *rest], ctx.cfg, at_peak)
    covers = tuple(sorted({w.job.message_id for w in rest} - {notice.message_id}))
    return Decision(Action.GROUP, f"{len(covers) + 1} messages in one summary: the speaker is behind",
                    notice=dataclasses.replace(notice, spoken=sentence, covers=covers), grouped=tuple(w.job for w in rest),
                    key=SUMMARY_KEY)


def _queue(notice: Notice, rank: int, seconds: float, rest: list[Waiting],
           estimate: Callable[[Waiting], float]) -> list[tuple[float, float, bool]]:
    """``(received, seconds to say, urgent)`` of the notice and the rest waiting, in the order they would be told."""
    items = [(_received(notice.received_at), seconds, rank >= URGENT, rank)]
    items += [(_received(w.received_at), estimate(w), w.priority >= URGENT, w.priority) for w in rest]
    items.sort(key=lambda item: -item[3])  # stable: the notice first within its priority, then the rest in order
    return [item[:3] for item in items]


def _in_time(now: float, ahead: float, queue: list[tuple[float, float, bool]], speech: SpeechConfig) -> bool:
    """Whether each of ``queue``, told in order after ``ahead`` seconds of critical messages, is first heard in time
    (each announcement told back to back is followed by ``speech.pause_between``)."""
    start = ahead
    for received, seconds, urgent in queue:
        if now + start - received > (speech.urgent_within if urgent else speech.heard_within):
            return False
        start += seconds + speech.pause_between
    return True


def short_sentence(notice: Notice) -> str:
    """Who, what, the key figure: '订单部李娜，订单，2948元'."""
    who = notice.staff_name or (f"{notice.staff_id}号" if notice.staff_id else "")
    amount = number(notice.data.get("amount"))
    figure = "，" + f"{amount:.2f}".rstrip("0").rstrip(".") + "元" if amount is not None else ""
    return f"{notice.department_name}{who}，{notice.category_name}{figure}"


def waiting_sentence(waiting: Sequence[Waiting], cfg: Config, again: bool = False) -> str:
    """'有5笔退款申诉、2条会员待处理，请看屏幕': the most urgent categories first, then the most waiting; 笔 where the
    messages carry money; past :data:`NAMED` categories the total ('…、2条会员等12条待处理'), so the summary stays
    short when most is waiting. ``again``: one of a run of summaries at a peak, where the office has been told to
    look at the screen a few seconds ago: only what is new, its most urgent category named ('又有2笔财务等9条'), three
    seconds shorter; a summary every few seconds, the office hears the rest on the next or reads it on the screen."""
    messages = {w.job.message_id: (_category_name(w.category, cfg), w) for w in waiting}
    counts = Counter(name for name, _ in messages.values())
    urgency: dict[str, int] = {}
    for name, w in messages.values():
        urgency[name] = max(urgency.get(name, 0), w.priority)
    money = {name for name, w in messages.values() if w.has_amount}
    named = sorted(counts, key=lambda name: (-urgency[name], -counts[name]))[:1 if again else NAMED]
    parts = [f"{counts[name]}{'笔' if name in money else '条'}{name}" for name in named]
    more = f"等{len(messages)}条" if len(counts) > len(named) else ""
    return ("又有" if again else "有") + "、".join(parts) + more + ("" if again else "待处理，请看屏幕")


def _category_name(category: str, cfg: Config) -> str:
    found = cfg.categories.get(category)
    return found.name if found else category


def _short_of(waiting: Waiting, cfg: Config) -> str:
    """As long as its short sentence will be: a department and a person's name, the category, maybe an amount."""
    return f"某某部某某，{_category_name(waiting.category, cfg)}" + ("，1234元" if waiting.has_amount else "")


def _received(stored: str) -> float:
    return datetime.fromisoformat(stored).timestamp()


def _as_waiting(notice: Notice) -> Waiting:
    return Waiting(Job(notice.message_id, notice.department, "speech", 0), notice.category, PRIORITIES.index(notice.priority),
                   notice.received_at, len(notice.content), number(notice.data.get("amount")) is not None)
