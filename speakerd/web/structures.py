"""Company layouts the wizard offers: subsystems, their departments, and the routes that fit them.

Two shapes cover the shops speakerd is made for: a small shop whose three
departments share one office (orders, finance, tech, as in the product
brief), and a company with business units, each a subsystem with
departments of its own. Applying one replaces ``subsystems`` and ``route``
in config.yaml and leaves every other setting, and every comment outside
those two sections, as it was. Staff are added in the wizard's next step.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from flask_babel import lazy_gettext as _l
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from speakerd.config.editor import flow_map, flow_seq


@dataclass(frozen=True)
class Layout:
    title: Any
    description: Any
    subsystems: tuple[tuple[str, Any, tuple[tuple[str, Any], ...]], ...]  # (id, name, ((dep id, name), ...))
    default: str  # the department of a message no route names
    routes: tuple[tuple[tuple[str, ...], str], ...]  # ((categories), department)


TEMPLATES = {
    "shop": Layout(
        _l("A small shop"), _l("One office: orders, finance and tech. Orders hear about orders, members and campaigns."),
        (("shop", _l("Shop"), (("orders", _l("Orders")), ("finance", _l("Finance")), ("tech", _l("Tech")))),),
        "orders",
        ((("finance",), "finance"), (("tech",), "tech")),
    ),
    "units": Layout(
        _l("A company with business units"),
        _l("An online mall (orders, service, marketing), shops (store sales) and headquarters (finance, tech), each its own subsystem."),
        (("mall", _l("Online mall"), (("orders", _l("Orders")), ("service", _l("Customer service")), ("marketing", _l("Marketing")))),
         ("stores", _l("Shops"), (("store-sales", _l("Store sales")),)),
         ("headquarters", _l("Headquarters"), (("finance", _l("Finance")), ("tech", _l("Tech"))))),
        "service",
        ((("finance",), "finance"), (("tech",), "tech"), (("order", "order_alert", "flash_sale"), "orders"),
         (("member",), "service"), (("campaign",), "marketing")),
    ),
}


def apply(doc: Any, layout: Layout) -> None:
    """Replace the round-trip document's ``subsystems`` and ``route`` with ``layout``'s."""
    subsystems = CommentedMap()
    for sub_id, sub_name, departments in layout.subsystems:
        deps = CommentedMap()
        for dep_id, dep_name in departments:
            staff = flow_seq([])
            deps[dep_id] = CommentedMap({"name": str(dep_name), "staff": staff})
        subsystems[sub_id] = CommentedMap({"name": str(sub_name), "departments": deps})
    routes = CommentedSeq()
    for categories, department in layout.routes:
        match = flow_map({"category": categories[0] if len(categories) == 1 else flow_seq(list(categories))})
        routes.append(CommentedMap({"match": match, "department": department}))
    doc["subsystems"] = subsystems
    doc["route"] = CommentedMap({"department": layout.default, "routes": routes})
