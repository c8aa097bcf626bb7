"""The settings page's company sections: subsystems, departments, categories and routes, as forms.

Ids are what config.yaml, routes, escalations, the fleet and stored messages
refer to, so they are chosen once when a part is added and never change; a
rename changes the name people hear and read, which nothing refers to. A
removal goes through check-config's own code like every save, so one that
would leave a route, an escalation, the fallback or a speaker pointing at
nothing is refused with the setting that still uses it; a department with
messages still waiting is refused too, until they are acknowledged.

Routes show as a form when the tree is flat (one level of rules under the
default department, as the shipped config and the wizard write it); a
nested tree stays in the YAML box, which experts keep either way.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import TYPE_CHECKING, Any

from flask import current_app, request
from flask.typing import ResponseReturnValue
from flask_babel import gettext as _
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from speakerd.config.editor import DELETE, flow_map, flow_seq, node_at, set_path
from speakerd.message.apps import app_id, app_name
from speakerd.web.device import Device
from speakerd.web.staff_form import edit_push

if TYPE_CHECKING:
    from flask import Flask

    from speakerd.config import Config

ID = re.compile(r"^[a-z0-9][a-z0-9_-]{0,31}$")
PRIORITIES = ("low", "normal", "high", "critical")
PERSON_KEYS = ("staff", "prefer")  # a route's named person (docs/routing.md)


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def flat_routes(cfg: Config) -> list[dict[str, Any]] | None:
    """The top-level rules as rows for the form, or None when the tree nests or a rule has data conditions
    (the YAML box edits it then, so the rows never drop what they cannot show)."""
    if any(route.routes or route.match.data for route in cfg.route.routes) or cfg.route.match.category or cfg.route.match.app:
        return None
    return [{"category": route.match.category, "app": "、".join(app_name(a) for a in route.match.app), "tier": ", ".join(route.match.tier),
             "type": ", ".join(route.match.type), "department": route.department or "", "also": route.continue_}
            for route in cfg.route.routes]


def _words(raw: str | None) -> list[str]:
    return [w for w in re.split(r"\s*[,，、\s]\s*", (raw or "").strip()) if w]


def _rule(form: Mapping[str, str], prefix: str, categories: list[str]) -> Any:
    match = CommentedMap()
    if categories:
        match["category"] = categories[0] if len(categories) == 1 else flow_seq(categories)
    for key in ("app", "tier", "type"):
        values = [app_id(v) for v in _words(form.get(prefix + key))] if key == "app" else _words(form.get(prefix + key))
        if values:
            match[key] = values[0] if len(values) == 1 else flow_seq(values)
    match.fa.set_flow_style()
    rule = CommentedMap({"match": match, "department": form.get(prefix + "department", "").strip()})
    if form.get(prefix + "also"):
        rule["continue"] = True
    return rule


def edit_routes(doc: Any, form: Any, count: int) -> None:
    """Rebuild the top-level rules from the form, keeping the comments of the rules that stay."""
    route = doc.get("route")
    if route is None:
        route = doc["route"] = CommentedMap()
    route["department"] = form.get("default", "").strip()
    old = route.get("routes") or CommentedSeq()
    rules = CommentedSeq()
    for i in range(count):
        prefix = f"route-{i}-"
        if form.get(prefix + "remove"):
            continue
        rule = _rule(form, prefix, form.getlist(prefix + "category"))
        if i < len(old):  # the same rule: edit in place so its comments stay
            # Its person (staff, prefer) is not in the rows: kept while the department stays, whose member they are.
            person = PERSON_KEYS if old[i].get("department") == rule["department"] else ()
            for key in list(old[i]):
                if key not in rule and key not in person:
                    del old[i][key]
            old[i].update(rule)
            rule = old[i]
        rules.append(rule)
    if form.get("route-new-department"):
        rules.append(_rule(form, "route-new-", form.getlist("route-new-category")))
    if not rules:  # an empty block list cannot carry the comments inside it: the key goes, and they with it
        if "routes" in route:
            del route["routes"]
    elif "routes" in route and isinstance(old, CommentedSeq) and old is route["routes"]:
        kept = list(rules)
        del old[:]
        old.extend(kept)
    else:
        route["routes"] = rules


def register(app: Flask, save: Callable[..., ResponseReturnValue], render: Callable[..., ResponseReturnValue],
             current: Callable[[], Config]) -> None:
    """``save(focus, edit=...)`` writes and reloads as every settings form does; ``render(status, errors=...)`` shows the
    settings page with what went wrong; ``current()`` is the config in the file."""

    def refuse(focus: str, text: str) -> ResponseReturnValue:

        return render(400, errors={"": text}, submitted=request.form.to_dict(), focus=focus)

    @app.post("/settings/subsystems/add")
    def add_subsystem() -> ResponseReturnValue:
        sub_id, name = request.form.get("id", "").strip(), request.form.get("name", "").strip()
        cfg = current()
        if not ID.match(sub_id):
            return refuse("structure", _("An id is 1 to 32 small letters, digits, - or _ (e.g. mall); it never changes."))
        if sub_id in cfg.subsystems:
            return refuse("structure", _("There is already a subsystem %(id)s.", id=sub_id))
        dep_id, dep_name = request.form.get("department_id", "").strip(), request.form.get("department_name", "").strip()
        if not ID.match(dep_id):
            return refuse("structure", _("A subsystem needs its first department: give it an id (e.g. orders) and a name."))

        def edit(doc: Any) -> None:
            deps = CommentedMap({dep_id: CommentedMap({"name": dep_name, "staff": flow_seq([])})})
            doc["subsystems"][sub_id] = CommentedMap({"name": name, "departments": deps})

        return save("structure", edit=edit)

    @app.post("/settings/departments/add")
    def add_department() -> ResponseReturnValue:
        sub_id = request.form.get("subsystem", "")
        dep_id, name = request.form.get("id", "").strip(), request.form.get("name", "").strip()
        cfg = current()
        if sub_id not in cfg.subsystems:
            return refuse("structure", _("Pick the subsystem the department belongs to."))
        if not ID.match(dep_id):
            return refuse("structure", _("An id is 1 to 32 small letters, digits, - or _ (e.g. mall); it never changes."))
        if dep_id in cfg.departments():
            return refuse("structure", _("There is already a department %(id)s.", id=dep_id))
        lead_id, lead_name = request.form.get("lead_id", "").strip(), request.form.get("lead_name", "").strip()

        def edit(doc: Any) -> None:
            staff = flow_seq([])
            staff.fa.set_block_style()
            if lead_id or lead_name:
                staff.append(flow_map({"id": lead_id, "name": lead_name, "lead": True}))
            doc["subsystems"][sub_id]["departments"][dep_id] = CommentedMap({"name": name, "staff": staff})

        return save("structure", edit=edit)

    @app.post("/settings/rename")
    def rename() -> ResponseReturnValue:
        """A new name for a subsystem, department or category; its id, which everything refers to, stays."""
        kind, part_id, name = request.form.get("kind"), request.form.get("id", ""), request.form.get("name", "").strip()
        cfg = current()
        path = _path_of(cfg, kind, part_id)
        if path is None:
            return refuse("structure", _("There is no %(id)s.", id=part_id))

        return save("structure" if kind != "category" else "categories", edit=lambda doc: set_path(doc, [*path, "name"], name))

    @app.post("/settings/remove")
    def remove() -> ResponseReturnValue:
        kind, part_id = request.form.get("kind"), request.form.get("id", "")
        cfg = current()
        path = _path_of(cfg, kind, part_id)
        if path is None:
            return refuse("structure", _("There is no %(id)s.", id=part_id))
        departments = list(cfg.subsystems[part_id].departments) if kind == "subsystem" else [part_id] if kind == "department" else []
        waiting = _device().store.acks.waiting_by_department()
        busy = [d for d in departments if waiting.get(d)]
        if busy:
            return refuse("structure", _("%(id)s still has %(n)s messages waiting; acknowledge them first, then remove it.",
                                         id=busy[0], n=waiting[busy[0]]))

        return save("structure" if kind != "category" else "categories", edit=lambda doc: set_path(doc, path, DELETE))

    @app.post("/settings/group-push")
    def group_push() -> ResponseReturnValue:
        """Add or clear the group targets (a DingTalk or WeCom robot, say) of a subsystem or a department."""

        kind, part_id = request.form.get("kind"), request.form.get("id", "")
        path = _path_of(current(), kind, part_id) if kind in ("subsystem", "department") else None
        if path is None:
            return refuse("structure", _("There is no %(id)s.", id=part_id))

        return save("structure", edit=lambda doc: edit_push(node_at(doc, path), request.form))

    @app.post("/settings/categories/add")
    def add_category() -> ResponseReturnValue:
        cat_id, name = request.form.get("id", "").strip(), request.form.get("name", "").strip()
        priority = request.form.get("priority", "normal")
        if not ID.match(cat_id):
            return refuse("categories", _("An id is 1 to 32 small letters, digits, - or _ (e.g. mall); it never changes."))
        if cat_id in current().categories:
            return refuse("categories", _("There is already a category %(id)s.", id=cat_id))

        def edit(doc: Any) -> None:
            node = CommentedMap({"name": name, "priority": priority if priority in PRIORITIES else "normal"})
            keywords = _words(request.form.get("keywords"))
            if keywords:
                node["keywords"] = flow_seq(keywords)
            doc["categories"][cat_id] = node

        return save("categories", edit=edit)

    @app.post("/settings/routes")
    def save_route_form() -> ResponseReturnValue:
        if flat_routes(current()) is None:
            return refuse("routes", _("These routes nest rules inside rules; edit them in the YAML box below."))
        count = min(int(request.form.get("count", "0") or 0), 500)
        return save("routes", edit=lambda doc: edit_routes(doc, request.form, count))


def _path_of(cfg: Config, kind: str | None, part_id: str) -> list[str] | None:
    if kind == "subsystem" and part_id in cfg.subsystems:
        return ["subsystems", part_id]
    if kind == "department" and part_id in cfg.departments():
        return ["subsystems", cfg.departments()[part_id][0], "departments", part_id]
    if kind == "category" and part_id in cfg.categories:
        return ["categories", part_id]
    return None
