"""The outputs a config asks for, built in one place: the daemon wires them, nothing else makes them."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.outputs.interface import Output
    from speakerd.store import Store


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
