"""What the hub believes of a speaker: only what its enrolment says, never what the speaker claims.

A speaker's status names the departments it announces, and its button asks the
hub to acknowledge messages. Believed as sent, a speaker claiming ``tech``
kept the hub silent on a critical alert nobody heard, and one could
acknowledge another department's messages. The roster ``speakerd fleet-add``
keeps (the same that writes the broker's ACL) says which departments each
speaker may hear: a claim beyond it is refused and said once, and the hub
goes on announcing what no enrolled speaker covers. Without a roster the
claims are trusted, as before, and that is said once at start.
"""

from __future__ import annotations

import logging
from pathlib import Path

from speakerd.fleet.broker import Roster
from speakerd.fleet.enrol import MOSQUITTO_DIR, ROSTER
from speakerd.logs import Sparse

logger = logging.getLogger(__name__)


def load(path: str) -> Roster | None:
    """The roster at ``path`` (or the installer's place), or None (logged) when there is none to read."""
    where = Path(path) if path else MOSQUITTO_DIR / ROSTER
    if not path and not where.exists():
        logger.warning("fleet: no roster of speakers at %s: the departments speakers claim are trusted (set fleet.roster)", where)
        return None
    try:
        return Roster.from_json(where.read_text(encoding="utf-8"))
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        logger.error("fleet: the roster %s cannot be read (%s): the departments speakers claim are trusted until it can", where, exc)
        return None


class Enrolment:
    """``covers(site, speaker, department)`` by the roster; refusals said once per speaker and kind a minute."""

    def __init__(self, roster: Roster | None) -> None:
        self._roster = roster
        self._sparse = Sparse(logger)

    def covers(self, site: str, speaker: str, department: str) -> bool:
        if self._roster is None:
            return True
        enrolled = self._roster.speakers.get(speaker)
        return enrolled is not None and enrolled[0] == site and department in enrolled[1]

    def check_claims(self, site: str, speaker: str, claimed: tuple[str, ...]) -> list[str]:
        """The claimed departments the speaker is not enrolled for (said once a minute; the hub announces them itself)."""
        beyond = [d for d in claimed if not self.covers(site, speaker, d)]
        if beyond:
            self._sparse.warning(f"claim:{site}/{speaker}", "fleet: speaker %s/%s claims %s, which it is not enrolled for; the hub"
                                 " goes on announcing them (speakerd fleet-add %s --departments … enrols it)",
                                 site, speaker, ", ".join(beyond), speaker)
        return beyond

    def may_acknowledge(self, site: str, speaker: str, departments: list[str]) -> bool:
        """Whether ``speaker`` may acknowledge a message of ``departments``: it must be enrolled for one of them."""
        if self._roster is None or any(self.covers(site, speaker, d) for d in departments):
            return True
        self._sparse.warning(f"ack:{site}/{speaker}", "fleet: speaker %s/%s asked to acknowledge a message of %s, which it is not"
                             " enrolled for: refused", site, speaker, ", ".join(departments) or "no department")
        return False
