"""When the next announcement starts: a breath between announcements told back to back, and when to decide it.

At a peak the speaker tells one announcement after another, with a breath
(``speech.pause_between``) between two, so the office is not spoken to
without a pause; the speaking budget counts it. What arrives during the
breath belongs in the announcement that follows it, so dispatch asks the
attention policy as late as the voice allows: at the breath's end less the
time the voice takes for a first clause, which it then makes during the rest
of the breath. Asked at the start of the breath, a message arriving during
it waited for a whole announcement more; asked at its end, a slow board was
silent a second time while the voice began the sentence. Critical
announcements take no breath and are decided at once.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.clock import Clock
    from speakerd.config import SpeechConfig
    from speakerd.outputs.interface import Notice

LEAD = 0.5  # seconds for a first clause, until the voice has shown its own pace
LEARN = 0.25  # how far each announcement in a run moves the lead towards its own


class Pace:
    """The breath between back-to-back announcements and the voice's lead, learnt from the announcements in a run."""

    def __init__(self, settings: SpeechConfig, clock: Clock) -> None:
        self._settings = settings
        self._clock = clock
        self._ended_at = 0.0  # wall time the last announcement ended: told against when a notice was received
        self._ended_mono = float("-inf")  # the same on the clock that never jumps: the breath is measured on it
        self._lead = LEAD

    def follows_the_last(self, notice: Notice) -> bool:
        """Whether the notice waited for the last announcement: it is told back to back with it, in a run."""
        return bool(notice.received_at) and datetime.fromisoformat(notice.received_at).timestamp() < self._ended_at

    def breath_for(self, notice: Notice) -> bool:
        """Whether the notice takes a breath before it: told in a run, and not critical."""
        return notice.priority != "critical" and self.follows_the_last(notice)

    def ready_in(self, notice: Notice) -> float:
        """Seconds until the notice should be decided: the rest of its breath less the voice's lead; 0 at once."""
        if not self.breath_for(notice):
            return 0.0
        return max(0.0, self._breath_left() - min(self._lead, self._settings.pause_between))

    def breathe(self) -> None:
        """Wait out what is left of the breath since the last announcement ended."""
        left = self._breath_left()
        if left > 0:
            self._clock.sleep(left)

    def _breath_left(self) -> float:
        """Seconds of the breath still to come: never more than the breath (measured on the wall clock, a step back
        of a day made it a day)."""
        return self._ended_mono + self._settings.pause_between - self._clock.monotonic()

    def learn(self, lead: float | None) -> None:
        """The voice took ``lead`` seconds for this announcement's first clause (None: it made none)."""
        if lead is not None:
            self._lead += (lead - self._lead) * LEARN

    def ended(self) -> None:
        """An announcement has just ended."""
        self._ended_at = self._clock.time()
        self._ended_mono = self._clock.monotonic()
