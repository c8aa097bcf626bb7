"""What the panel shows now, rebuilt from the store: for ``speakerd panel --snapshot`` beside a running daemon."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from speakerd.device.state import DeviceState
from speakerd.outputs.interface import notice_from_row
from speakerd.outputs.panel import screens

if TYPE_CHECKING:
    from PIL import Image

    from speakerd.config import Config
    from speakerd.store import Store


def state_from_store(store: Store, cfg: Config) -> screens.PanelState:
    """The panel's state as the daemon would have it: latest message, waiting counts, link (from its heartbeat)."""
    state = screens.PanelState(**DeviceState(store, lambda: cfg).panel())
    latest = store.reports.latest_notice_row()
    if latest and not latest["acked_at"]:  # as the running panel does: a handled message leaves the screen
        state.latest = notice_from_row(latest, cfg)
        state.latest_at = datetime.fromisoformat(latest["received_at"]).timestamp()
    return state


def snapshot(store: Store, cfg: Config, scale: int = 4) -> Image.Image:
    """The panel's frame for now, enlarged ``scale`` times."""
    return screens.enlarged(screens.frame(state_from_store(store, cfg), datetime.now().timestamp()), scale)
