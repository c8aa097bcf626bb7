"""Decides who must act on a message: a route tree picks departments, rotation picks a person.

The tree works like Alertmanager's: routes are tried depth-first in order, the
first child that matches wins unless it says ``continue``, a route that no
child takes keeps the message itself, and a child without a department
inherits its parent's. Within a department exactly one on-duty person is
picked, the one after whoever got the previous message there, so two people
never both pick up the same message and the work is shared.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from speakerd.message.conditions import holds_all
from speakerd.rules.classify import type_matches

if TYPE_CHECKING:
    from speakerd.message import Message


@dataclass(frozen=True)
class Assignment:
    subsystem: str
    department: str
    staff_id: str | None  # None when nobody in the department is on duty


def _fits(match, message, category):
    return (
        (not match.category or category in match.category)
        and (not match.app or message.app in match.app)
        and (not match.type or any(type_matches(p, message.type) for p in match.type))
        and (not match.tier or message.user.tier in match.tier)
        and (not match.data or holds_all(match.data, message.data))
    )


def _walk(route, message, category, inherited):
    """Departments this route and its children give, or [] when the route does not match."""
    department = route.department or inherited
    if not _fits(route.match, message, category):
        return []
    found = []
    for child in route.routes:
        taken = _walk(child, message, category, department)
        found += taken
        if taken and not child.continue_:
            break
    return found or [department]


class Router:
    def __init__(self, cfg) -> None:
        self._root = cfg.route
        self._departments = cfg.departments()

    def departments_for(self, message: Message, category: str) -> list[str]:
        """Department ids to tell, in route order, each once. The top route always matches."""
        found = []
        for child in self._root.routes:
            taken = _walk(child, message, category, self._root.department)
            found += taken
            if taken and not child.continue_:
                break
        return list(dict.fromkeys(found or [self._root.department]))

    def assign(self, department: str, last_staff_id: str | None) -> Assignment:
        """The on-duty person after ``last_staff_id`` in the department's list, wrapping round."""
        subsystem, dep = self._departments[department]
        on_duty = [s.id for s in dep.staff if s.on_duty]
        if not on_duty:
            return Assignment(subsystem, department, None)
        ids = [s.id for s in dep.staff]
        if last_staff_id in ids:
            start = ids.index(last_staff_id) + 1
            rotated = ids[start:] + ids[:start]
            nxt = next(i for i in rotated if i in on_duty)
        else:
            nxt = on_duty[0]
        return Assignment(subsystem, department, nxt)
