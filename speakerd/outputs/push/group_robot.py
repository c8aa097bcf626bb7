"""One message to a chat robot, with what was held back for it: the limit groups messages, it never drops one."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from speakerd.config.people import dialable
from speakerd.errors import NotYet
from speakerd.outputs.interface import notice_from_row
from speakerd.outputs.push.robots import Pace, robot_id, send_robot

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.outputs.interface import Notice
    from speakerd.store import Store

MOST_LINES = 30  # listed one per line in a grouped message; the rest are counted


class RobotSender:
    """Sends to robots through one :class:`Pace`, holding what is over the limit in ``push_log``."""

    def __init__(self, store: Store, config: Callable[[], Config]) -> None:
        self._store = store
        self._config = config
        self.pace = Pace(store.clock.time)

    def send(self, notice: Notice, key: str, url: str, text: str, timeout: float, record: dict[str, Any]) -> tuple[bool, str]:
        """Send ``text`` (and whatever waits for this robot); raise NotYet, the push held, when the robot is at its limit."""
        robot = robot_id(url)
        free_at = self.pace.take(robot)
        if free_at is not None:
            self._store.push_log.save(notice.message_id, notice.department, key, state="held", robot=robot, **record)
            raise NotYet(free_at, "the chat robot is at its limit of 20 messages a minute; held to go with its next message")
        cfg = self._config()
        held = [r for r in self._store.push_log.held_for(robot) if (r["message_id"], r["department"], r["recipient"]) !=
                (notice.message_id, notice.department, key)]
        others = [n for n in (self._notice(r, cfg) for r in held) if n is not None]
        mobiles = list(dict.fromkeys(m for n in [notice, *others] if (m := _mobile(cfg, n.staff_id))))
        delivered, reason = send_robot(url, _with_others(text, others), mobiles, timeout, self._store.clock.time())
        if not delivered:
            self.pace.give_back(robot)
            return False, reason
        for row in held:
            self._store.push_log.save(row["message_id"], row["department"], row["recipient"], state="sent", robot=robot,
                                      sent_at=self._store.clock.iso(), last_error=None)
        return True, ""

    def _notice(self, row: dict[str, Any], cfg: Config) -> Notice | None:
        stored = self._store.outbox.notice_row(row["message_id"], row["department"])
        return notice_from_row(stored, cfg) if stored else None


def _mobile(cfg: Config, staff_id: str | None) -> str:
    person = cfg.staff().get(staff_id or "")
    return dialable(person[1].mobile) if person else ""


def _with_others(text: str, others: list[Notice]) -> str:
    """The message, then one line per held one: '另有3条：' and '[财务] 马丽申请提现500元（003 王芳）'."""
    if not others:
        return text
    lines = [f"[{n.category_name}] {n.content}" + (f"（{n.staff_id} {n.staff_name}）" if n.staff_id else "") for n in others]
    more = f"\n……还有{len(lines) - MOST_LINES}条，请看设备" if len(lines) > MOST_LINES else ""
    return f"{text}\n\n另有{len(others)}条（发送过快时合并）：\n" + "\n".join(lines[:MOST_LINES]) + more
