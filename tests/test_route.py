import pytest

from speakerd import config
from speakerd.message import Message, User
from speakerd.rules.route import Assignment, Router

from .conftest import EXAMPLE

TREE = """
categories:
  order: {name: 订单}
  finance: {name: 财务}
  tech: {name: 技术}
classify: {fallback: tech}
subsystems:
  s:
    name: S
    departments:
      root: {name: Root, staff: [{id: r1, name: R}]}
      orders: {name: O, staff: [{id: o1, name: A}, {id: o2, name: B, on_duty: false}, {id: o3, name: C}]}
      vip: {name: V, staff: [{id: v1, name: V}]}
      pos: {name: P}
      fin: {name: F, staff: [{id: f1, name: F}]}
route:
  department: root
  routes:
    - match: {category: finance}
      department: fin
    - match: {category: order}
      department: orders
      routes:
        - match: {tier: vip}
          department: vip
          continue: true
        - match: {app: pos}
          department: pos
        - match: {type: "order.refund.*"}
"""
ROUTER = Router(config.parse_text(TREE))


@pytest.mark.parametrize(
    "category, app, tier, type_, departments",
    [
        ("finance", "", "", "", ["fin"]),
        ("order", "wechat", "", "order.paid", ["orders"]),  # no child matches: the parent keeps it
        ("order", "pos", "", "", ["pos"]),
        ("order", "pos", "vip", "", ["vip", "pos"]),  # continue: VIP is told, then the POS route
        # As in Alertmanager, the parent keeps a message only when no child took it.
        ("order", "wechat", "vip", "", ["vip"]),
        ("order", "", "", "order.refund.full", ["orders"]),  # child without department inherits
        ("tech", "", "", "", ["root"]),  # nothing matches: the top route takes it
    ],
)
def test_route_tree(category, app, tier, type_, departments):
    message = Message(id="m", content="x", app=app, type=type_, user=User(tier=tier))
    assert ROUTER.departments_for(message, category) == departments


def test_rotation_skips_staff_off_duty_and_wraps():
    picks, last = [], None
    for _ in range(5):
        a = ROUTER.assign("orders", last)
        picks.append(a.staff_id)
        last = a.staff_id
    assert picks == ["o1", "o3", "o1", "o3", "o1"]


def test_rotation_after_someone_left_the_list_starts_over():
    assert ROUTER.assign("orders", "gone").staff_id == "o1"
    assert ROUTER.assign("orders", "o2").staff_id == "o3"  # o2 went off duty after their turn


def test_department_with_nobody_on_duty_still_gets_the_message():
    assert ROUTER.assign("pos", None) == Assignment("s", "pos", None)


def test_shipped_config_routes_each_family():
    cfg = config.load(EXAMPLE)
    router = Router(cfg)
    cases = {
        ("finance", "own-shop", "normal"): ["finance"],
        ("order", "pos", "normal"): ["store-sales"],
        ("order", "taobao", "vip"): ["membership", "orders"],
        ("order_alert", "jd", "normal"): ["orders"],
        ("refund", "jd", "normal"): ["service"],
        ("member", "pos", "normal"): ["membership"],
        ("campaign", "wechat-mall", "normal"): ["marketing"],
        ("flash_sale", "wechat-mall", "normal"): ["orders"],
        ("tech", "", "normal"): ["tech"],
        ("notice", "platform", "normal"): ["service"],
    }
    for (category, app, tier), expected in cases.items():
        message = Message(id="m", content="x", app=app, user=User(tier=tier))
        assert router.departments_for(message, category) == expected, category


CONDITIONS = TREE.replace("""        - match: {type: "order.refund.*"}""", """        - match: {type: "order.refund.*"}
        - match: {data: {amount: ">= 1000"}}
          department: vip
          continue: true
        - match: {data: {channel: pos, customer.level: "!= 3"}}
          department: pos""")


@pytest.mark.parametrize(
    "data, departments",
    [
        ({"amount": 1000}, ["vip"]),  # >= takes the bound
        ({"amount": 999.99}, ["orders"]),
        ({"amount": "1500"}, ["vip"]),  # a number sent as text is still a number
        ({"amount": True}, ["orders"]),  # a true/false is not an amount
        ({}, ["orders"]),  # no amount: not ">= 1000", and not anything else either
        ({"amount": 5000, "channel": "pos", "customer": {"level": 2}}, ["vip", "pos"]),
        ({"channel": "pos", "customer": {"level": 3}}, ["orders"]),  # != on a nested field
        ({"channel": "pos"}, ["orders"]),  # a missing field never matches, even with !=
    ],
)
def test_routes_match_on_data_fields(data, departments):
    router = Router(config.parse_text(CONDITIONS))
    message = Message(id="m", content="x", app="wechat", type="order.paid", data=data)
    assert router.departments_for(message, "order") == departments


@pytest.mark.parametrize("condition, reason", [
    ('">= lots"', "compares with 'lots', which is not a number"),
    ('"<"', "has no value to compare with"),
])
def test_a_data_condition_that_cannot_work_is_refused_at_load_naming_the_route_and_line(condition, reason):
    text = TREE.replace('- match: {type: "order.refund.*"}', f"- match: {{data: {{amount: {condition}}}}}")
    with pytest.raises(config.ConfigError) as refused:
        config.parse_text(text)
    (problem,) = refused.value.problems
    assert problem.startswith("config.yaml:29: route.routes[1].routes[2].match.data: amount:") and reason in problem
