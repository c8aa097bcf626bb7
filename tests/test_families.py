"""The shop's systems, family by family: what the stub sends and what the office hears and sees.

For each family's events (order monitoring, members from many channels,
campaigns and the platform's monitor, flash sales) the table in
tests/data/families.tsv gives the category, the department and person, the
spoken sentence and the panel's header and first line, through the shipped
config and the real classifier, router, speech text and panel layout.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

import pytest

from speakerd import config
from speakerd.outputs.interface import notice_from_row
from speakerd.outputs.panel.screens import WIDTH, font, header_title, shown_text, wrap
from speakerd.outputs.speech import spoken_text
from speakerd.rules.preview import preview
from speakerd.stub import families
from speakerd.stub.scenarios import SCENARIOS

from .conftest import EXAMPLE

CFG = config.load(EXAMPLE)
TABLE = [line.split("\t") for line in (Path(__file__).parent / "data" / "families.tsv").read_text(encoding="utf-8").splitlines()
         if line and not line.startswith("#")]


def told(raw):
    """``[(category, department, staff, spoken, panel header, panel first line)]`` for one platform event."""
    seen = preview(CFG, raw)
    out = []
    for a in seen.assignments:
        m = seen.message
        row = {"id": m.id, "content": m.content, "category": seen.category, "type": m.type, "app": m.app, "user_name": m.user.name,
               "user_tier": m.user.tier, "created_at": "", "received_at": "", "department": a.department, "subsystem": a.subsystem,
               "staff_id": a.staff_id, "data": json.dumps(m.data, ensure_ascii=False)}
        notice = notice_from_row(row, CFG)
        out.append((seen.category, a.department, a.staff_id or "", spoken_text(notice, CFG.categories.get(notice.category), 120),
                    header_title(notice, WIDTH, font(12)), wrap(shown_text(notice.content), WIDTH, font(12))[0]))
    return out


@pytest.mark.parametrize("row", TABLE, ids=[f"{r[0]}-{r[2]}-{r[4]}" for r in TABLE])
def test_each_family_is_classified_routed_said_and_shown(row, shanghai):
    scenario, event_id, type_, *expected = row
    raw = next(e for e in SCENARIOS[scenario]() if e["id"] == event_id)
    assert raw["type"] == type_
    assert tuple(expected) in told(raw)


@pytest.mark.parametrize("threshold", [families.VIP_THRESHOLD, 5000.0])
def test_vip_is_reached_by_spending_not_drawn(threshold):
    events = SCENARIOS["orders"](count=200, vip_threshold=threshold)
    spent: Counter[str] = Counter()
    for event in events:
        user = event["user"]["id"]
        if event["type"] == "order.paid":
            assert (event["user"]["tier"] == "vip") == (spent[user] >= threshold)
            spent[user] += event["data"]["amount"]
        elif event["type"] == "member.vip_reached":
            assert spent[user] >= threshold and event["data"]["spent"] == round(spent[user], 2) and event["data"]["threshold"] == threshold
    reached = sum(e["type"] == "member.vip_reached" for e in events)
    assert reached == sum(1 for total in spent.values() if total >= threshold) > 0


def test_the_scenarios_edge_cases():
    members = SCENARIOS["members"]()[:3]
    assert [e["type"] for e in members] == ["member.joined", "member.merged", "member.merged"]
    assert members[2]["data"]["channels"] == ["pos", "taobao", "wechat-mall"]  # one member, three channels
    campaign = [e for e in SCENARIOS["campaigns"]() if e["data"].get("campaign") == families.CAMPAIGNS[0]]
    assert [e["type"] for e in campaign].count("campaign.rejected") == 2 and campaign[-1]["type"] == "coupon.verified"
    sale = SCENARIOS["flash-sale"]()
    consolations = {e["user"]["id"]: e["data"]["failures"] for e in sale if e["type"] == "flashsale.consolation"}
    assert consolations["u-103"] == 5  # the buyer who failed five times
    assert all(n >= families.CONSOLATION_AFTER for n in consolations.values())
    result = next(e for e in sale if e["type"] == "flashsale.result")
    assert result["data"]["winners"] == sum(e["type"] == "order.paid" for e in sale)


def test_the_office_mix_has_every_family():
    types = {e.get("type") for e in SCENARIOS["office"](600, seed=3) if isinstance(e, dict)}
    assert {"order.paid", "order.abandoned", "order.browsed", "member.joined", "member.merged", "member.vip_reached",
            "campaign.rejected", "campaign.approved", "flashsale.started", "flashsale.sold_out", "monitor.service_down"} <= types


def test_the_consolation_count_is_the_stubs_setting():
    """--consolation-after: the platform's rule for who is owed a consolation coupon."""
    for after in (3, 5, 6):
        owed = {e["user"]["id"]: e["data"]["failures"] for e in SCENARIOS["flash-sale"](consolation_after=after)
                if e["type"] == "flashsale.consolation"}
        assert ("u-103" in owed) == (after <= 5) and all(n >= after for n in owed.values())
