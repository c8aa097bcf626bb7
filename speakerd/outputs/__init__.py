"""The one small interface every output (speech, panel, push, LED, log) implements.

The daemon hands each routed message to every output as a :class:`Notice` and
records the outcome in the store's outbox. An output that cannot deliver now
raises :class:`~speakerd.errors.OutputError`; the dispatcher retries it later,
and the other outputs carry on.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol

from speakerd.errors import OutputError

if TYPE_CHECKING:
    from PIL import Image

    from speakerd.config import Category, Config
    from speakerd.store import Store

__all__ = ["Notice", "Output", "OutputError", "Showing", "Speaking", "build_outputs"]


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


class Output(Protocol):
    """What dispatch hands notices to. Whether to deliver is decided before (:mod:`speakerd.attention`)."""

    name: str

    def deliver(self, notice: Notice) -> bool | None:
        """Tell people about ``notice``; raise OutputError to be retried later.

        Return False when there was nothing to deliver (a push with no recipient): that proves nothing
        about whether a failing output works again.
        """

    def close(self) -> None:
        """Release the device or connection; safe to call twice."""


class Speaking(Protocol):
    """The speech output's second interface: sentences of the device's own (reminders, replays, the say command)."""

    def play(self, spoken: str, category: Category | None, priority: str, name: str, mode: str = "both") -> None:
        """Chime, then ``spoken``; returns once heard, raises OutputError if not."""

    def say(self, spoken: str, lang: str | None = None, name: str = "say") -> list[str]:
        """``spoken`` as is, without chime; returns the engines used."""


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


def build_outputs(cfg: Config, store: Store, current_config: Callable[[], Config], *,
                  panel_status: Callable[[], dict[str, Any]] | None = None, phrases: Iterable[str] = ()) -> list[Output]:
    """The outputs this config asks for, in the order they should act.

    ``current_config`` returns the config in force when a notice is delivered,
    so an output sees staff and targets edited since it was built;
    ``panel_status`` gives the panel the device's state for its idle screen;
    ``phrases`` are the fixed sentences speech prepares in advance.
    """
    from speakerd.outputs.log import LogOutput
    from speakerd.outputs.push import PushOutput

    outputs: list[Output] = [LogOutput()]
    if cfg.display.enabled:
        from speakerd.outputs.panel import DisplayOutput

        outputs.append(DisplayOutput(cfg.display, status=panel_status, clock=store.clock.time))
    if cfg.speech.enabled:
        from speakerd.outputs.speech import SpeechOutput
        from speakerd.outputs.speech.voices import cache_beside

        outputs.append(SpeechOutput(cfg.speech, current_config, cache_beside(store.path), phrases=phrases, clock=store.clock))
    if cfg.push.enabled:
        outputs.append(PushOutput(store, current_config))
    return outputs
