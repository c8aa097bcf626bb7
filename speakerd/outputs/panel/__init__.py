"""The OLED panel output: the latest message, or the device's state, on 128×64 pixels.

``deliver`` only updates what the panel should show and returns at once; a
thread of its own draws and sends frames, so a slow or failing panel never
delays speech, push or the next poll. The drawing is the same whatever shows
it: the real SSD1306/SH1106 driver on the I2C bus, or luma's in-memory
``dummy`` device (the emulator) for snapshots and machines without a panel.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from typing import TYPE_CHECKING, Any

from speakerd.errors import SpeakerdError
from speakerd.outputs.interface import Notice
from speakerd.outputs.panel import screens

if TYPE_CHECKING:
    from PIL import Image

    from speakerd.config import DisplayConfig

logger = logging.getLogger(__name__)

BURST_SECONDS = 10.0  # messages this close together count as one burst: "+N"
BRIGHT, DIM = 0xCF, 0x08
# Seconds between asking the daemon for waiting counts and the link state: the counts
# take a query over every unacknowledged message, so not on every frame.
STATUS_EVERY, STATUS_AFTER_NEWS = 10.0, 2.0
FRAMES_PER_SECOND = 5
REDRAW_SECONDS = 1.0  # a frame costs a few ms of CPU (CJK text): drawn twice a second it was the idle daemon's largest cost


class PanelError(SpeakerdError):
    """The panel cannot be reached; the text says what to do."""


def open_device(settings: DisplayConfig) -> tuple[Any, str]:
    """``(device, description)``; with driver ``auto`` a missing panel means the emulator."""
    from luma.core.device import dummy

    if settings.driver == "emulator":
        return dummy(width=screens.WIDTH, height=screens.HEIGHT, mode="1"), "emulator"
    try:
        return _real_device(settings), f"{settings.driver if settings.driver != 'auto' else 'ssd1306'} at 0x{settings.address:02X}"
    except PanelError as exc:
        if settings.driver != "auto":
            raise
        logger.info("display: no panel found (%s); drawing on the emulator", exc)
        return dummy(width=screens.WIDTH, height=screens.HEIGHT, mode="1"), "emulator (no panel found)"


def _real_device(settings):
    from luma.core.error import DeviceAddressError, DeviceNotFoundError, DevicePermissionError
    from luma.core.interface.serial import i2c
    from luma.oled.device import sh1106, ssd1306

    bus = f"/dev/i2c-{settings.i2c_port}"
    try:
        serial = i2c(port=settings.i2c_port, address=settings.address)
    except DeviceNotFoundError:
        raise PanelError(f"no I2C bus {bus}: enable I2C with 'sudo raspi-config' (Interface Options, I2C) and reboot") from None
    except DevicePermissionError:
        raise PanelError(f"no permission to use {bus}: add the speakerd user to the i2c group (sudo usermod -aG i2c speakerd)") from None
    except DeviceAddressError:
        raise PanelError(f"display.address {settings.address} is not a valid I2C address") from None
    chip = sh1106 if settings.driver == "sh1106" else ssd1306
    try:
        return chip(serial, width=screens.WIDTH, height=screens.HEIGHT, rotate=settings.rotate)
    except OSError:
        raise PanelError(f"no panel answers at address 0x{settings.address:02X} on {bus}: check the wiring and display.address "
                         f"('i2cdetect -y {settings.i2c_port}' lists what is connected)") from None


class DisplayOutput:
    name = "display"
    batch_size = 50  # a repeat after a crash is harmless (log, panel) or guarded (push: push_log); see dispatch

    def __init__(self, settings, status=None, device=None, clock=time.time) -> None:
        self.settings = settings
        self.status = status  # callable returning PanelState fields from the daemon: waiting, platform_ok, …
        self._clock = clock
        self.state = screens.PanelState()
        self.history: collections.deque[Notice] = collections.deque(maxlen=20)  # for the replay button
        self.last_frame: Image.Image | None = None
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._active = clock()
        self._dimmed = False
        self._failing = False
        self._status_at = -1e9
        self._news = False
        if device is None:
            try:
                device, how = open_device(settings)
            except PanelError as exc:
                from luma.core.device import dummy

                logger.error("display: %s; the rest of speakerd works without it", exc)
                device, how = dummy(width=screens.WIDTH, height=screens.HEIGHT, mode="1"), "emulator (panel unreachable)"
            logger.info("display: %s", how)
        self.device = device
        self._thread = threading.Thread(target=self._run, name="display", daemon=True)
        self._thread.start()

    def deliver(self, notice: Notice) -> None:
        now = self._clock()
        with self._lock:
            recent = self.state.latest is not None and now - self.state.latest_at < BURST_SECONDS
            self.state.burst = self.state.burst + 1 if recent else 0
            tally = self.state.tally
            if not (recent and tally is not None and tally.category == notice.category):
                tally = self.state.tally = screens.Tally(notice.category, notice.category_name, now)
            tally.add(notice)
            self.state.latest, self.state.latest_at = notice, now
            self.history.append(notice)
        self.touch()

    def acknowledged(self) -> None:
        """The message shown was handled: back to the idle screen (replay still reaches it)."""
        with self._lock:
            self.state.latest, self.state.burst, self.state.tally = None, 0, None
        self.touch()

    def forget(self, message_id: str) -> None:
        """``message_id`` was handled (anywhere): back to the idle screen if it is the one shown."""
        with self._lock:
            shown = self.state.latest is not None and self.state.latest.message_id == message_id
        if shown:
            self.acknowledged()

    def touch(self) -> None:
        """Something happened (a message, a button): undim and redraw now."""
        self._active = self._clock()
        self._news = True
        self._wake.set()

    def render(self, now: float | None = None) -> Image.Image:
        """The frame for now, as the panel will show it."""
        now = self._clock() if now is None else now
        fresh = None
        if self.status and now - self._status_at >= (STATUS_AFTER_NEWS if self._news else STATUS_EVERY):
            self._status_at, self._news = now, False
            fresh = self.status()  # outside the lock: deliver() never waits for the query
        with self._lock:
            for key, value in (fresh or {}).items():
                setattr(self.state, key, value)
            return screens.frame(self.state, now, scroll=int(now // 3))

    def _run(self) -> None:
        while not self._stop.is_set():
            self._show()
            # During a burst every message wakes it: at most FRAMES_PER_SECOND, the rest of the CPU is for storing them.
            self._stop.wait(1 / FRAMES_PER_SECOND)
            self._wake.wait(REDRAW_SECONDS)  # news and buttons wake it at once; this is for scrolling and the clock
            self._wake.clear()

    def _show(self) -> None:
        try:
            image = self.render()
            if image.tobytes() != (self.last_frame.tobytes() if self.last_frame else None):
                self.device.display(image)
                self.last_frame = image
            self._dim(self._clock() - self._active > self.settings.dim_after)
            if self._failing:
                logger.info("display: working again")
                self._failing = False
        except Exception as exc:  # noqa: BLE001 - a panel fault must never stop the others
            if not self._failing:
                logger.error("display: cannot update the panel: %s", exc)
                self._failing = True

    def _dim(self, dim) -> None:
        if dim != self._dimmed:
            self.device.contrast(DIM if dim else BRIGHT)
            self._dimmed = dim

    def close(self) -> None:
        self._stop.set()
        self._wake.set()
        self._thread.join(5)
