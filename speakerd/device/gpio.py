"""The device's buttons and status LED, through gpiozero and a pin factory passed in.

Acknowledge: the message on the panel is handled (long press: every waiting
message is). Replay: the last announcement again; pressing again within ten
seconds walks back through earlier ones. Mute: speech is silent for
``gpio.mute_minutes`` (press again to end it; long press: end it too).
The LED: steady when all is well, blinking while messages wait,
blinking fast while the platform is unreachable.
"""

from __future__ import annotations

import importlib.util
import logging
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from speakerd.config import GpioConfig

logger = logging.getLogger(__name__)

WALK_BACK_SECONDS = 10.0


def default_pin_factory() -> Any:
    """The board's pin factory, or None (logged) on a machine without a GPIO chip."""
    import warnings

    from gpiozero import Device
    from gpiozero.exc import BadPinFactory

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            return Device._default_pin_factory()
        except BadPinFactory:
            logger.warning("gpio: %s", no_pins_advice())
            return None


def no_pins_advice(model: Path = Path("/proc/device-tree/model"), has_lgpio: bool | None = None) -> str:
    """Why the buttons and LED are off, and what to do, for the machine this runs on.

    speakerd runs in its own venv: Debian's python3-lgpio is not in it, so that advice (gpiozero's own) does not help.
    """
    try:
        board = model.read_text(encoding="utf-8", errors="replace").strip("\0\n ")
    except OSError:
        board = ""
    if "Raspberry Pi" not in board:
        return "no GPIO chip found: buttons and LED are off (this is not a Raspberry Pi)"
    if has_lgpio is None:
        has_lgpio = importlib.util.find_spec("lgpio") is not None
    if not has_lgpio:
        return (f"no GPIO chip found: buttons and LED are off: the lgpio library is missing from speakerd's own environment; "
                f"install it with: sudo {sys.prefix}/bin/pip install lgpio (then restart speakerd)")
    return ("no GPIO chip found: buttons and LED are off: the GPIO chip cannot be opened; the service user must be in the gpio "
            "group: sudo usermod -a -G gpio speakerd (then restart speakerd)")


class Controls:
    """Three buttons; each press calls back into the daemon on gpiozero's thread."""

    def __init__(self, settings, pin_factory, actions, clock=time.monotonic) -> None:
        from gpiozero import Button

        self._actions = actions  # object with acknowledge(), acknowledge_all(), replay(steps_back), toggle_mute(), end_mute()
        self._clock = clock
        self._replays, self._last_replay = 0, -1e9
        self.buttons: dict[str, Any] = {}
        self._held_now: set[str] = set()  # gpiozero devices take no attributes of ours
        for name, pin in (("ack", settings.ack_pin), ("replay", settings.replay_pin), ("mute", settings.mute_pin)):
            button = Button(pin, pull_up=True, bounce_time=0.03, hold_time=settings.long_press, pin_factory=pin_factory)
            button.when_held = lambda n=name: self._held(n)
            button.when_released = lambda n=name: self._released(n)
            self.buttons[name] = button

    def _held(self, name) -> None:
        self._held_now.add(name)
        logger.info("gpio: %s button held", name)
        {"ack": self._actions.acknowledge_all, "replay": self._replay, "mute": self._actions.end_mute}[name]()

    def _released(self, name) -> None:
        if name in self._held_now:
            self._held_now.discard(name)
            return
        logger.info("gpio: %s button pressed", name)
        {"ack": self._actions.acknowledge, "replay": self._replay, "mute": self._actions.toggle_mute}[name]()

    def _replay(self) -> None:
        now = self._clock()
        self._replays = self._replays + 1 if now - self._last_replay < WALK_BACK_SECONDS else 0
        self._last_replay = now
        self._actions.replay(self._replays)

    def close(self) -> None:
        for button in self.buttons.values():
            button.close()


class StatusLed:
    """steady, blink or fast; changing the mode only when it changes."""

    def __init__(self, pin, pin_factory) -> None:
        from gpiozero import LED

        self.led = LED(pin, pin_factory=pin_factory)
        self.mode: str | None = None

    def show(self, mode: str) -> None:
        if mode == self.mode:
            return
        self.mode = mode
        if mode == "fast":
            self.led.blink(on_time=0.1, off_time=0.1)
        elif mode == "blink":
            self.led.blink(on_time=0.5, off_time=0.5)
        else:
            self.led.on()

    def close(self) -> None:
        self.led.close()


class Board:
    """The buttons and the status LED together: started from the gpio settings, closed as one."""

    def __init__(self, controls: Controls | None = None, led: StatusLed | None = None) -> None:
        self.controls = controls
        self.led = led

    @classmethod
    def start(cls, settings: GpioConfig, pin_factory: Any, actions: Any) -> Board:
        """The board on ``pin_factory`` (the machine's own when None); an empty board when it cannot be had (logged)."""
        board = cls()
        if not settings.enabled:
            return board
        factory = pin_factory or default_pin_factory()
        if factory is None:
            return board
        try:
            board.controls = Controls(settings, factory, actions)
            board.led = StatusLed(settings.led_pin, factory)
        except Exception as exc:  # noqa: BLE001 - a pin in use or not allowed: the rest goes on
            logger.error("gpio: cannot use the pins (%s); buttons and LED are off", exc)
            board.close()
        return board

    def show(self, mode: str) -> None:
        if self.led:
            self.led.show(mode)

    def close(self) -> None:
        """Safe to call twice."""
        for part in (self.controls, self.led):
            if part:
                part.close()
        self.controls = self.led = None
