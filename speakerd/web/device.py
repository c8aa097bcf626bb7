"""The small interface the web page is given: the running daemon satisfies it, and tests can fake it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.delivery.followup import FollowUp
    from speakerd.delivery.handover import HandOver
    from speakerd.delivery.inbound import Inbound
    from speakerd.device.claim import Claim
    from speakerd.device.state import DeviceState
    from speakerd.outputs.interface import Showing, Speaking
    from speakerd.store import Store


class Device(Protocol):
    """What the pages may read and do: settings, the store, the device's state, the panel, speech, snooze, hand-overs, reload."""

    config_path: str
    store: Store
    device_state: DeviceState
    followup: FollowUp
    claim: Claim
    handover: HandOver
    inbound: Inbound

    @property
    def cfg(self) -> Config:
        """The config in force."""

    @property
    def panel(self) -> Showing | None:
        """The panel output, when it runs."""

    @property
    def speech(self) -> Speaking | None:
        """The speech output, when it runs."""

    def reload(self) -> bool:
        """Apply the config file as saved; False (and logged) when it does not load."""
