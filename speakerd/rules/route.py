"""Decides who must act on a message: a route tree picks departments, rotation picks a person.

The tree works like Alertmanager's: routes are tried depth-first in order, the
first child that matches wins unless it says ``continue``, a route that no
child takes keeps the message itself, and a child without a department
inherits its parent's. Within a department exactly one on-duty person is
picked, the one after whoever got the previous message there, so two people
never both pick up the same message and the work is shared. A route may name
its person instead: ``staff`` always (a pinned duty), ``prefer`` while that
person is on duty (:mod:`speakerd.rules.duty` says who is).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from speakerd.clock import SYSTEM
from speakerd.message.conditions import holds_all
from speakerd.rules.classify import type_matches
from speakerd.rules.duty import NO_CHANGES, Changes, Duty

if TYPE_CHECKING:
    from speakerd.message import Message


@dataclass(frozen=True)
class Assignment:
    subsystem: str
    department: str
    staff_id: str | None  # None when nobody in the department is on duty


@dataclass(frozen=True)
class Target:
    """A department a route gives, with the person it names: ``staff`` always, ``prefer`` while on duty."""

    department: str
    staff: str | None = None
    prefer: str | None = None


def _fits(match, message, category):
    return (
        (not match.category or category in match.category)
        and (not match.app or message.app in match.app)
        and (not match.type or any(type_matches(p, message.type) for p in match.type))
        and (not match.tier or message.user.tier in match.tier)
        and (not match.data or holds_all(match.data, message.data))
    )


def _walk(route, message, category, inherited):
    """Targets this route and its children give, or [] when the route does not match."""
    department = route.department or inherited
    if not _fits(route.match, message, category):
        return []
    found = []
    for child in route.routes:
        taken = _walk(child, message, category, department)
        found += taken
        if taken and not child.continue_:
            break
    return found or [Target(department, route.staff, route.prefer)]


class Router:
    def __init__(self, cfg) -> None:
        self._root = cfg.route
        self._departments = cfg.departments()
        self.duty = Duty(cfg)

    def targets_for(self, message: Message, category: str) -> list[Target]:
        """Where the message goes, in route order, each department once (its first route's person). The top route always matches."""
        found = []
        for child in self._root.routes:
            taken = _walk(child, message, category, self._root.department)
            found += taken
            if taken and not child.continue_:
                break
        firsts: dict[str, Target] = {}
        for target in found or [Target(self._root.department, self._root.staff, self._root.prefer)]:
            firsts.setdefault(target.department, target)
        return list(firsts.values())

    def departments_for(self, message: Message, category: str) -> list[str]:
        """Department ids to tell, in route order, each once."""
        return [t.department for t in self.targets_for(message, category)]

    def assign(self, target: Target | str, last_staff_id: str | None, now: datetime | None = None,
               changes: Changes = NO_CHANGES) -> Assignment:
        """The route's named person, or the on-duty person after ``last_staff_id`` in the department's list, wrapping round."""
        target = Target(target) if isinstance(target, str) else target
        subsystem, dep = self._departments[target.department]
        if target.staff:
            return Assignment(subsystem, target.department, target.staff)
        on_duty = self.duty.on_duty(target.department, now or SYSTEM.now().astimezone(), changes)
        if target.prefer in on_duty:
            return Assignment(subsystem, target.department, target.prefer)
        if not on_duty:
            return Assignment(subsystem, target.department, None)
        ids = [s.id for s in dep.staff]
        if last_staff_id in ids:
            start = ids.index(last_staff_id) + 1
            rotated = ids[start:] + ids[:start]
            nxt = next(i for i in rotated if i in on_duty)
        else:
            nxt = on_duty[0]
        return Assignment(subsystem, target.department, nxt)
