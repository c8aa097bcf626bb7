"""Who a push is for: the person, their department and their unit, each with their own targets; and the push test."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from speakerd.config.people import dialable
from speakerd.config.push_urls import fallback_chain, mask
from speakerd.outputs.push.robots import is_robot, send_robot
from speakerd.outputs.push.send import send

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.outputs.interface import Notice


def send_test(cfg: Config, staff_id: str) -> list[tuple[str, bool, str]]:
    """Send a test notification to each push target of one staff member: ``[(masked target, delivered, reason)]``."""
    department, person = cfg.staff()[staff_id]
    title = f"测试｜{cfg.departments()[department][1].name}"
    body = f"这是发给{person.name}的测试通知，收到说明推送正常。"
    mobiles = [dialable(person.mobile)] if person.mobile else []
    return [(mask(url), *test_target(url, title, body, mobiles, cfg.push.timeout))
            for url in (u for target in person.push for u in fallback_chain(target))]


def test_target(url: str, title: str, body: str, mobiles: list[str], timeout: float) -> tuple[bool, str]:
    """One test notification to one URL, through the client a real message would take: ``(delivered, reason)``."""
    if is_robot(url):
        return send_robot(url, f"{title}\n{body}", mobiles, timeout, time.time())
    return send(url, title, body, "normal", timeout=timeout)


def recipients(notice: Notice, cfg: Config) -> list[tuple[str, str, list[str]]]:
    """``[(key, label, [urls])]`` for a notice: the person, their department, their unit."""
    out: list[tuple[str, str, list[str]]] = []
    staff = cfg.staff().get(notice.staff_id or "")
    if staff:
        out.append((f"staff:{notice.staff_id}", f"{notice.staff_id} {staff[1].name}", list(staff[1].push)))
    department = cfg.departments().get(notice.department)
    if department:
        out.append((f"department:{notice.department}", department[1].name, list(department[1].push)))
    subsystem = cfg.subsystems.get(notice.subsystem)
    if subsystem:
        out.append((f"subsystem:{notice.subsystem}", subsystem.name, list(subsystem.push)))
    return [r for r in out if r[2]]
