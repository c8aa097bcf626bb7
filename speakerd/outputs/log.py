"""Writes one log line per routed message: the output that always works."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.outputs.interface import Notice

logger = logging.getLogger("speakerd.routed")


class LogOutput:
    name = "log"
    batch_size = 50  # a repeat after a crash is harmless (log, panel) or guarded (push: push_log); see dispatch

    def deliver(self, notice: Notice) -> None:
        staff = f"{notice.staff_id} {notice.staff_name}" if notice.staff_id else "nobody on duty"
        logger.info(
            "%s %s [%s] -> %s/%s (%s), staff %s: %s",
            notice.message_id, notice.category, notice.priority, notice.subsystem_name,
            notice.department_name, notice.department, staff, notice.content[:80],
        )

    def close(self) -> None:
        pass
