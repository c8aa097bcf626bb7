"""Taking a message over ("我来处理") or handing it on ("转给…"): the assignment moves, and the office is told.

The move is recorded (``store.handovers``) and counted in the per-person
report. The new person is told as an escalation would tell them: a message of
the device's own, filed under the original's category, through every output
(spoken, on the panel, pushed to them), whose id ties it to the original, so
acknowledging either acknowledges both.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from speakerd.errors import N_
from speakerd.store import ESCALATION_MARK

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.store import Store

logger = logging.getLogger(__name__)

Tell = Callable[[dict[str, Any], tuple[str, str | None], str], None]  # (raw, (department, staff), category)


class HandOver:
    def __init__(self, store: Store, config: Callable[[], Config], tell: Tell) -> None:
        self._store = store
        self._config = config
        self._tell = tell

    def colleagues(self, message_id: str) -> list[tuple[str, str]]:
        """``[(id, name)]`` who may take the message: its department's staff."""
        row = self._store.handovers.assignment(message_id)
        found = self._config().departments().get(row["department"]) if row else None
        return [(s.id, s.name) for s in found[1].staff] if found else []

    def __call__(self, message_id: str, to_staff: str, kind: str, via: str) -> str | None:
        """Move the message to ``to_staff``; return why not (unknown, handled, not a colleague; to translate), or None when done."""
        row = self._store.handovers.assignment(message_id)
        if row is None:
            return N_("there is no such message")
        if row["acked_at"]:
            return N_("it is already handled")
        if to_staff not in dict(self.colleagues(message_id)):
            return N_("that person is not in the message's department")
        if to_staff == row["staff_id"]:
            return None
        cfg = self._config()
        with self._store.atomic():
            before = self._store.handovers.move(message_id, row["department"], to_staff, kind, via)
            self._tell(self._notice(cfg, row, before, to_staff, kind), (row["department"], to_staff), row["category"])
        logger.info("%s: %s %s from %s to %s (%s)", message_id, "taken over" if kind == "take" else "handed on",
                    row["department"], before or "nobody", to_staff, via)
        return None

    def _notice(self, cfg: Config, row: dict[str, Any], before: str | None, to_staff: str, kind: str) -> dict[str, Any]:
        names = {sid: person.name for sid, (_, person) in cfg.staff().items()}
        who = f"{to_staff}号{names.get(to_staff, '')}"
        said = f"{who}接手处理：" if kind == "take" else f"{names.get(before or '', '')}转给{who}：" if before else f"转给{who}："
        number = self._store.handovers.count(row["id"])
        return {"id": f"{row['id']}{ESCALATION_MARK}h{number}", "type": "speakerd.handover", "app": "speakerd",
                "created_at": self._store.clock.iso(), "content": said + row["content"],
                "data": {"hands_on": row["id"], "from": before, "to": to_staff, "kind": kind}}
