"""Faults that involve more than one setting: ids that must exist, be unique, or belong together."""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from speakerd.config.fleet import fleet_problems
from speakerd.config.schema import Problem

if TYPE_CHECKING:
    from speakerd.config import Config, Route
    from speakerd.config.schema import Builder


def cross_check(cfg: Config, builder: Builder) -> list[Problem]:
    """Faults that involve more than one setting: ids that must exist or be unique.

    Existence is checked against the ids *written* in the file, so that one
    faulty category does not also make every route naming it look wrong.
    """
    problems: list[Problem] = []
    line_of = builder.line_of
    categories = builder.declared("categories.", 1)
    departments = {p.split(".")[3] for p in builder.lines if p.startswith("subsystems.") and p.count(".") >= 3 and ".departments." in p}

    def problem(path: str, reason: str) -> None:
        problems.append(Problem(line_of(path), path, reason))

    seen_deps: dict[str, str] = {}
    seen_staff: dict[str, str] = {}
    for sub_id, sub in cfg.subsystems.items():
        for dep_id, dep in sub.departments.items():
            path = f"subsystems.{sub_id}.departments.{dep_id}"
            if dep_id in seen_deps:
                problem(path, f"department id {dep_id!r} is already used in subsystem {seen_deps[dep_id]!r}; ids must be unique")
            seen_deps.setdefault(dep_id, sub_id)
            for i, person in enumerate(dep.staff):
                if person.id in seen_staff:
                    problem(f"{path}.staff[{i}].id", f"staff id {person.id!r} is already used in department {seen_staff[person.id]!r}")
                seen_staff.setdefault(person.id, dep_id)
            for i, shift in enumerate(dep.rota):
                for j, person_id in enumerate(shift.staff):
                    if person_id not in {s.id for s in dep.staff}:
                        problem(f"{path}.rota[{i}].staff[{j}]", f"staff {person_id!r} is not in department {dep_id!r}")
    owners: dict[str, str] = {}
    for cat_id, cat in cfg.categories.items():
        for i, tp in enumerate(cat.types):
            if tp in owners:
                problem(f"categories.{cat_id}.types[{i}]", f"type {tp!r} is already in category {owners[tp]!r}")
            owners.setdefault(tp, cat_id)
    for cat_id, cat in cfg.categories.items():
        for i, step in enumerate(cat.escalate):
            if step.to != "lead" and step.to not in departments and step.to not in seen_staff:
                problem(f"categories.{cat_id}.escalate[{i}].to", f"{step.to!r} is neither lead, a department id nor a staff id; {_known(departments)}")
    problems += [Problem(line_of(path), path, reason) for path, reason in _source_problems(cfg, set(builder.lines))]
    if cfg.classify.fallback not in categories:
        problem("classify.fallback", f"unknown category {cfg.classify.fallback!r}; {_known(categories)}")
    if cfg.route.department is None:
        problem("route.department", "the top route needs a department: it takes every message no other route takes")
    members = {dep_id: {s.id for s in dep.staff} for dep_id, (_, dep) in cfg.departments().items()}
    for path, route, department in _walk_routes(cfg.route, "route", cfg.route.department):
        if route.department is not None and route.department not in departments:
            problem(f"{path}.department", f"unknown department {route.department!r}; {_known(departments)}")
        for name in ("staff", "prefer"):
            person = getattr(route, name)
            if person is not None and department in members and person not in members[department]:
                problem(f"{path}.{name}", f"staff {person!r} is not in department {department!r}; {_known(members[department])}")
        for i, wanted in enumerate(route.match.category):
            if wanted not in categories:
                problem(f"{path}.match.category[{i}]", f"unknown category {wanted!r}; {_known(categories)}")
    problems += [Problem(line_of(path), path, reason) for path, reason in fleet_problems(cfg, departments, builder.declared("subsystems.", 1))]
    return problems


def _source_problems(cfg: Config, written: set[str]) -> Iterator[tuple[str, str]]:
    """Each source needs what its kind is read with; an inbound source is told apart by its token alone."""
    if cfg.platform.kind == "inbound":
        yield "platform.kind", "inbound is for a source under sources: (the platform itself may push with web.inbound_token)"
    for name in cfg.sources:
        if not SOURCE_NAME.fullmatch(name):
            yield f"sources.{name}", "a source's name is up to 32 letters, digits, - or _ (it goes in front of its messages' ids)"
        elif name == "platform":
            yield f"sources.{name}", "'platform' is the name of the platform: section's source; choose another name"
        elif cfg.sources[name].kind != "inbound" and f"sources.{name}.url" not in written:
            yield f"sources.{name}", "a polled source needs its url (the platform's address; for WooCommerce, the shop's)"
    tokens = {str(cfg.web.inbound_token): "web.inbound_token"} if str(cfg.web.inbound_token) else {}
    for path, source in [("platform", cfg.platform), *((f"sources.{n}", s) for n, s in cfg.sources.items())]:
        if source.kind == "woocommerce":
            for key in ("consumer_key", "consumer_secret"):
                if not str(getattr(source, key)):
                    yield f"{path}.{key}", "a WooCommerce shop is read with its REST API key: set consumer_key and consumer_secret"
        elif str(source.webhook_secret):
            yield f"{path}.webhook_secret", "webhooks are WooCommerce's: set it on a source of kind woocommerce"
        if source.kind == "inbound":
            token = str(source.token)
            if not token:
                yield f"{path}.token", "an inbound source is told apart by the token its pushes carry: set one"
            elif token in tokens:
                yield f"{path}.token", f"the same token as {tokens[token]}: each inbound source needs its own"
            tokens.setdefault(token, f"{path}.token")


SOURCE_NAME = re.compile(r"[\w-]{1,32}")


def _walk_routes(route: Route, path: str, department: str | None) -> Iterator[tuple[str, Route, str | None]]:
    """Every route with its path and the department it gives (its own or inherited)."""
    department = route.department or department
    yield path, route, department
    for i, child in enumerate(route.routes):
        yield from _walk_routes(child, f"{path}.routes[{i}]", department)


def _known(ids: Any) -> str:
    return "known: " + (", ".join(sorted(ids)) if ids else "none defined")
