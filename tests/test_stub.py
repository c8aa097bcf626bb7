"""The stub's scenarios: deterministic, realistic, and never broken themselves."""

import json

from speakerd.message import Message, parse
from speakerd.stub.scenarios import flash_sale, malformed_events, office


def test_office_is_deterministic_with_resends_and_bad_messages():
    first, again = office(120, seed=1), office(120, seed=1)
    assert [e if isinstance(e, str) else e.get("id") for e in first] == [e if isinstance(e, str) else e.get("id") for e in again]
    ids = [e["id"] for e in first if isinstance(e, dict) and isinstance(e.get("id"), str)]
    assert len(ids) > len(set(ids))  # resent events
    bad = {json.dumps(e, sort_keys=True, ensure_ascii=False) for e in first if not isinstance(parse(e), Message)}
    assert len(bad) == len(malformed_events())


def test_any_seed_and_size_builds():
    """Regression: a resend that picked the one non-object bad event crashed the generator."""
    for seed in range(30):
        events = office(400, seed=seed)
        assert len(events) > 400


def test_families_are_all_present_and_parse():
    types = {e.get("type") for e in office(600, seed=3) if isinstance(parse(e), Message)}
    assert {"order.created", "order.paid", "order.abandoned", "order.browsed", "order.refund", "order.appeal",
            "finance.withdrawal", "member.joined", "platform.notice", None} <= types
    assert any(t.startswith("campaign.") for t in types if t) and any(t.startswith("flashsale.") for t in types if t)
    assert all(parse(e).type == "order.paid" for e in flash_sale(50))
