"""The one small interface every output (speech, panel, push, LED, log) implements.

The daemon hands each routed message to every output as a :class:`Notice` and
records the outcome in the store's outbox. An output that cannot deliver now
raises :class:`~speakerd.errors.OutputError`; the dispatcher retries it later,
and the other outputs carry on.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from speakerd.errors import OutputError

__all__ = ["Notice", "Output", "OutputError", "build_outputs"]


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
    created_at: str = ""
    received_at: str = ""  # when the device stored it, UTC ISO
    data: dict = field(default_factory=dict)


class Output(Protocol):
    name: str

    def deliver(self, notice: Notice) -> None:
        """Tell people about ``notice``; raise OutputError to be retried later."""

    def close(self) -> None:
        """Release the device or connection; safe to call twice."""


def build_outputs(cfg, store, current_config):
    """The outputs this config asks for, in the order they should act.

    ``current_config`` returns the config in force when a notice is delivered,
    so an output sees staff and targets edited since it was built.
    """
    from speakerd.outputs.log import LogOutput
    from speakerd.outputs.push import PushOutput

    outputs = [LogOutput()]
    if cfg.display.enabled:
        from speakerd.panel import DisplayOutput

        outputs.append(DisplayOutput(cfg.display))
    if cfg.speech.enabled:
        from speakerd.speech import SpeechOutput

        outputs.append(SpeechOutput(cfg.speech, current_config, store.path.parent / "voice-cache", store=store))
    if cfg.push.enabled:
        outputs.append(PushOutput(store, current_config))
    return outputs
