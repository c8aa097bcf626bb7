import pytest

from speakerd import config
from speakerd.message import Message
from speakerd.rules.classify import Classifier

from .conftest import EXAMPLE

CFG = config.load(EXAMPLE)
CLASSIFIER = Classifier(CFG.categories, CFG.classify.fallback)


@pytest.mark.parametrize(
    "type_, content, category, how",
    [
        ("order.paid", "客户已支付订单", "order", "type order.paid"),
        ("order.abandoned", "A预警", "order_alert", "type order.abandoned"),
        ("finance.withdrawal", "张三申请提现", "finance", "type finance.withdrawal ~ finance.*"),
        ("appeal.opened", "投诉", "refund", "type appeal.opened ~ appeal.*"),
        ("flashsale.sold_out", "", "flash_sale", "type flashsale.sold_out ~ flashsale.*"),
        ("", "客户王五申请提现3000元", "finance", "keyword 提现"),
        ("", "王五要求提取 5000元", "finance", "pattern"),
        ("", "新会员李四注册", "member", "keyword 新会员"),
        ("unknown.type", "客户对订单发起退款", "refund", "keyword 退款"),
        ("unknown.type", "今天天气不错", "notice", "fallback"),
        ("", "什么都不是", "notice", "fallback"),
    ],
)
def test_classification_table(type_, content, category, how):
    verdict = CLASSIFIER.classify(Message(id="m", content=content or "x", type=type_))
    assert verdict.category == category
    assert verdict.reason.startswith(how)


def test_longest_family_wins():
    cfg = config.parse_text(
        """
categories:
  a: {name: A, types: ["order.*"]}
  b: {name: B, types: ["order.refund.*"]}
subsystems: {s: {name: S, departments: {d: {name: D}}}}
route: {department: d}
classify: {fallback: a}
"""
    )
    verdict = Classifier(cfg.categories, "a").classify(Message(id="m", content="x", type="order.refund.partial"))
    assert verdict.category == "b"
