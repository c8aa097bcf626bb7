"""The staff and push-target forms applied to the config's YAML tree, entries edited in place so their comments stay.

Shared by the settings page, the company page and the set-up wizard.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from speakerd.config.editor import Invalid, flow_map, flow_seq
from speakerd.web.push_services import not_a_target


def edit_staff(department: Any, form: Mapping[str, str]) -> None:
    """Apply the staff form to one department's node, editing entries in place so their comments stay."""
    staff = department.get("staff")
    if staff is None:
        staff = department["staff"] = flow_seq([])
        staff.fa.set_block_style()
    count = min(int(form.get("count", 0) or 0), len(staff))
    for i in reversed(range(count)):
        if form.get(f"staff-{i}-remove"):
            del staff[i]
            continue
        _edit_person(staff[i], form, f"staff-{i}-")
    new_id, new_name = form.get("staff-new-id", "").strip(), form.get("staff-new-name", "").strip()
    if new_id or new_name:
        staff.append(flow_map({"id": new_id, "name": new_name}))


def edit_rota(department: Any, text: str) -> None:
    """The department's weekly shifts from the page's box, a line each: ``days hours [staff ids]``.

    ``workdays 09:00-18:00`` (everyone), ``sat,sun 10:00-16:00 002 005``; an empty box removes the rota. A line
    that is not right is kept as written, so that the config's check names it with its line (``rota[1].hours``).
    """
    shifts = []
    for line in text.splitlines():
        words = line.replace("，", " ").replace("、", " ").split()
        if not words:
            continue
        shift = {"days": words[0], **({"hours": words[1]} if len(words) > 1 else {})}
        if len(words) > 2:
            shift["staff"] = flow_seq(words[2:])
        shifts.append(flow_map(shift))
    if shifts:
        department["rota"] = flow_seq(shifts)
        department["rota"].fa.set_block_style()
    elif "rota" in department:
        del department["rota"]


def rota_text(rota: Any) -> str:
    """The shifts as the box shows them, a line each."""
    return "\n".join(" ".join([s.days, s.hours, *s.staff]) for s in rota)


def _edit_person(person, form, prefix) -> None:
    person["id"] = form.get(prefix + "id", "").strip()
    person["name"] = form.get(prefix + "name", "").strip()
    _flag(person, "on_duty", form.get(prefix + "on_duty") is not None, default=True)
    _flag(person, "lead", form.get(prefix + "lead") is not None, default=False)
    _edit_mobile(person, form, prefix)
    edit_push(person, form, prefix)


def _edit_mobile(person, form, prefix) -> None:
    """Like a push target, the number is never shown to edit: typed to set or replace it, cleared by a box."""
    typed = form.get(prefix + "mobile", "").strip()
    if typed:
        person["mobile"] = typed
    elif form.get(prefix + "mobile_clear") and "mobile" in person:
        del person["mobile"]


def edit_push(node: Any, form: Mapping[str, str], prefix: str = "") -> None:
    """Clear the push targets of a person, department or subsystem, or add one: targets are secret, never shown to edit."""
    if form.get(prefix + "push_clear") and "push" in node:
        del node["push"]
    added = form.get(prefix + "push_add", "").strip()
    why = not_a_target(added) if added else None
    if why:
        raise Invalid({"": why})  # it was cleared, named by a dotted setting path no one could read
    if added:
        targets = node.get("push")
        if targets is None:
            node["push"] = flow_seq([added])
        else:
            targets.append(added)


def _flag(node, key, value, default) -> None:
    if value == default:
        if key in node:
            del node[key]
    else:
        node[key] = value
