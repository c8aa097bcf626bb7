"""The one small interface every output (speech, panel, push, LED, log) implements.

The dispatcher hands each routed message to every output as a :class:`Notice` (built from the
stored row by :func:`notice_from_row`) and
records the outcome in the store's outbox. An output that cannot deliver now
raises :class:`~speakerd.errors.OutputError`; the dispatcher retries it later,
and the other outputs carry on.
"""

from __future__ import annotations

import json
from collections import deque
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from speakerd.message import made_here
from speakerd.message.privacy import mask_data, mask_text

if TYPE_CHECKING:
    from PIL import Image

    from speakerd.config import Category, Config


@dataclass(frozen=True)
class Notice:
    """A message as the people who must act on it see it: what, for whom, how urgent."""

    message_id: str
    content: str
    category: str
    category_name: str
    priority: str
    department: str
    department_name: str
    subsystem: str
    subsystem_name: str
    staff_id: str | None = None
    staff_name: str | None = None
    type: str = ""
    app: str = ""
    user_name: str = ""
    user_tier: str = ""  # the customer's (vip, …)
    created_at: str = ""
    received_at: str = ""  # when the device stored it, UTC ISO
    data: dict = field(default_factory=dict)
    spoken: str | None = None  # the device's own sentence (an alert, a burst summary), said as it is
    covers: tuple[str, ...] = ()  # a summary: the other messages it tells, each heard in it


class Output(Protocol):
    """What dispatch hands notices to. Whether to deliver is decided before (:mod:`speakerd.delivery.attention`)."""

    name: str

    def deliver(self, notice: Notice) -> bool | None:
        """Tell people about ``notice``; raise OutputError to be retried later.

        Return False when there was nothing to deliver (a push with no recipient): that proves nothing
        about whether a failing output works again.
        """

    def close(self) -> None:
        """Release the device or connection; safe to call twice."""


class Paced(Protocol):
    """An output that tells one thing after another with a pause between (speech): dispatch asks it how long before it
    would start a notice, and asks the attention policy only then, so what comes meanwhile is decided with it."""

    def ready_in(self, notice: Notice) -> float:
        """Seconds until the output would start telling ``notice``; 0 when at once."""


class Speaking(Protocol):
    """The speech output's second interface: sentences of the device's own (reminders, replays, the say command)."""

    def play(self, spoken: str, category: Category | None, priority: str, name: str, mode: str = "both") -> None:
        """Chime, then ``spoken``; returns once heard, raises OutputError if not."""

    def say(self, spoken: str, lang: str | None = None, name: str = "say") -> list[str]:
        """``spoken`` as is, without chime; returns the engines used."""

    @property
    def audible(self) -> bool:
        """Whether a sound card plays what is said (not the real-time sink of a device without one)."""


class Showing(Protocol):
    """The panel's second interface: what the buttons and the web page ask of it."""

    history: deque[Notice]  # latest last, for the replay button
    last_frame: Image.Image | None

    def acknowledged(self) -> None:
        """The message shown was handled: back to the idle screen."""

    def forget(self, message_id: str) -> None:
        """``message_id`` was handled elsewhere: back to the idle screen if it is the one shown."""

    def touch(self) -> None:
        """Something happened (a button): undim and redraw now."""

    def render(self, now: float | None = None) -> Image.Image:
        """The frame for now."""


def notice_from_row(row: dict[str, Any], cfg: Config) -> Notice:
    """Build the notice from what the store holds, with names from the current config.

    Every output is handed this notice, so phone and ID numbers are masked here once (:mod:`speakerd.message.privacy`).
    """
    departments, staff = cfg.departments(), cfg.staff()
    subsystem_id, dep = departments.get(row["department"], (row["subsystem"], None))
    category = cfg.categories.get(row["category"])
    person = staff.get(row["staff_id"], (None, None))[1]
    sub = cfg.subsystems.get(subsystem_id)
    data = json.loads(row["data"] or "{}")
    spoken = data.get("spoken") if made_here(row["app"]) and isinstance(data.get("spoken"), str) else None
    return Notice(
        message_id=row["id"], content=mask_text(row["content"]), category=row["category"],
        category_name=category.name if category else row["category"],
        priority=category.priority if category else "normal",
        department=row["department"], department_name=dep.name if dep else row["department"],
        subsystem=subsystem_id, subsystem_name=sub.name if sub else subsystem_id,
        staff_id=row["staff_id"], staff_name=person.name if person else None,
        type=row["type"] or "", app=row["app"] or "", user_name=row["user_name"] or "", user_tier=row.get("user_tier") or "",
        created_at=row["created_at"] or "", received_at=row.get("received_at") or "", data=mask_data(data),
        spoken=mask_text(spoken) if spoken else None,
    )
