"""The screens of the docs and the golden-image tests, built from fixed states."""

from datetime import datetime, timedelta, timezone

from speakerd.outputs.interface import Notice
from speakerd.outputs.panel.screens import PanelState, Tally

NOW = datetime(2026, 11, 23, 14, 30, tzinfo=timezone(timedelta(hours=8))).timestamp()  # shown in Asia/Shanghai

WITHDRAWAL = Notice(
    message_id="m-000007", content="马丽申请提现5000.00元，请审核", category="finance", category_name="财务", priority="high",
    department="finance", department_name="财务部", subsystem="headquarters", subsystem_name="总部", staff_id="003", staff_name="王芳",
)

ORDER = Notice(
    message_id="o-000812", content="客户已支付订单812，实付118元", category="order", category_name="订单", priority="normal",
    department="orders", department_name="订单部", subsystem="mall", subsystem_name="商城", staff_id="001", staff_name="李娜",
)


def screens():
    """name → (state, now)"""
    return {
        "message": (PanelState(latest=WITHDRAWAL, latest_at=NOW - 130, burst=3, waiting={"财务部": 2}, address="192.168.1.50"), NOW),
        "idle": (PanelState(waiting={"订单部": 5, "财务部": 2, "客服部": 1}, address="192.168.1.50"), NOW),
        "unreachable": (PanelState(waiting={"订单部": 5}, platform_ok=False, down_since=NOW - 600, address="192.168.1.50"), NOW),
        "burst": (PanelState(latest=ORDER, latest_at=NOW, burst=811, tally=Tally("order", "订单", NOW - 75, 812, 96400.0, 37)), NOW),
    }
