import pytest

from speakerd.message import Message, Rejected, parse
from speakerd.stub.scenarios import malformed_events

GOOD = {
    "id": "m-000123", "type": "order.created", "app": "wechat-mall", "created_at": "2026-11-21T09:30:00+08:00",
    "user": {"id": "u-42", "name": "张三", "tier": "vip"}, "content": "客户张三提交了订单1234",
    "data": {"order_id": "1234", "amount": 1280.00},
}


def test_design_example_parses():
    msg = parse(GOOD)
    assert isinstance(msg, Message)
    assert (msg.id, msg.type, msg.app, msg.user.name, msg.user.tier) == ("m-000123", "order.created", "wechat-mall", "张三", "vip")
    assert msg.created_at == "2026-11-21T09:30:00+08:00"
    assert msg.data["amount"] == 1280.0


def test_optional_fields_may_be_missing():
    msg = parse({"id": 42, "content": "客户申请提现500元"})
    assert msg == Message(id="42", content="客户申请提现500元")


@pytest.mark.parametrize("raw, reason", malformed_events(), ids=lambda v: v if isinstance(v, str) else None)
def test_each_malformed_kind_from_the_stub_is_rejected_with_its_reason(raw, reason):
    result = parse(raw)
    assert isinstance(result, Rejected)
    assert reason in result.reason


@pytest.mark.parametrize(
    "change, reason",
    [
        ({"id": ""}, "missing id"),
        ({"id": True}, "id must be text"),
        ({"id": "x" * 129}, "id must be text or a whole number of at most 128"),
        ({"id": "m-\x1b[31m"}, "id contains the unprintable character U+001B"),
        ({"id": "m-1\nINFO speakerd.web: login from 10.0.0.9"}, "id contains the unprintable character U+000A"),
        ({"id": "gnp\u202e.exe"}, "id contains the unprintable character U+202E"),
        ({"id": 10**200}, "id must be text or a whole number of at most 128"),
        ({"content": "   "}, "content is only white space"),
        ({"content": "订单 &amp; 退款"}, "HTML"),
        ({"content": "<speak>订单</speak>"}, "HTML"),
        ({"content": "line\u2028break"}, "control character U+2028"),
        ({"content": "bad surrogate \udc80"}, "control character U+DC80"),
        ({"type": ["order"]}, "type must be text, not a list"),
        ({"app": {"x": 1}}, "app must be text, not an object"),
        ({"user": {"name": 5.5}}, "name must be text, not a number"),
        ({"data": [1, 2]}, "data must be an object, not a list"),
        ({"data": {"x": "y" * 70000}}, "data too large"),
        ({"created_at": 1700000000}, "created_at must be an ISO 8601 time"),
    ],
)
def test_field_faults(change, reason):
    result = parse({**GOOD, **change})
    assert isinstance(result, Rejected), result
    assert reason in result.reason
    if "id" not in change:
        assert result.platform_id == "m-000123"


def test_content_limit_is_configurable():
    assert isinstance(parse({**GOOD, "content": "字" * 200}, max_content=100), Rejected)
    assert isinstance(parse({**GOOD, "content": "字" * 100}, max_content=100), Message)


def test_plain_comparisons_are_not_markup():
    assert isinstance(parse({**GOOD, "content": "金额<500元的订单 3 > 2"}), Message)


def test_naive_time_is_taken_as_utc():
    assert parse({**GOOD, "created_at": "2026-11-21T01:30:00"}).created_at == "2026-11-21T01:30:00+00:00"


def test_direction_controls_are_removed_from_every_text_field():
    """Regression: a right-to-left override turned 'gnp.exe' into what read as 'exe.png' on the panel and in pushes."""
    m = parse({"id": "m-1", "content": "附件 \u202egnp.exe", "app": "shop\u2066x", "user": {"name": "张\u200f三"},
               "data": {"file": "\u202egnp.exe", "list": ["a\u2067b"]}})
    assert (m.content, m.app, m.user.name) == ("附件 gnp.exe", "shopx", "张三")
    assert m.data == {"file": "gnp.exe", "list": ["ab"]}
