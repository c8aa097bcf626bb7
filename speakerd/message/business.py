"""What a message says about the business, counted once at ingest: the figures the operations reports read.

The shop's systems send events of known types (the stub's families, see
docs/stats.md): a paid order with its amount and time to order, an A alert
with its cause, a new member and their channel, a campaign review with its
sensitive words, a flash sale's results. Each becomes a few *facts*
``(family, metric, key, n, total)``: a count and a sum, kept per local day in
the ``facts`` table beside the tallies, so reports on a year answer from
sums and survive the messages' expiry. A field that is missing or not a
number counts the event and adds nothing to the sum: a platform's bad field
never breaks a report.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any, NamedTuple

from speakerd.message import Message


class Fact(NamedTuple):
    family: str  # funnel, vip, channel, campaign, flash_sale
    metric: str  # paid, abandoned, joined, rejected, …
    key: str  # the cause, channel, campaign or product; '' when none
    n: int
    total: float


def number(value: Any) -> float | None:
    """A figure the platform sent as a number (an amount, minutes); None for text, true/false or nothing."""
    return None if isinstance(value, bool) or not isinstance(value, (int, float)) else float(value)


def is_vip(tier: str) -> bool:
    """Whether a customer's tier, as the platform spells it (vip, VIP), is VIP."""
    return tier.lower() == "vip"


def _number(value: Any) -> float:
    """What a figure adds to a sum: itself when a finite number, else nothing."""
    found = number(value)
    return found if found is not None and math.isfinite(found) else 0.0


def _text(value: Any, default: str = "") -> str:
    return str(value)[:100] if isinstance(value, (str, int)) and not isinstance(value, bool) and str(value) else default


def _paid(m: Message) -> list[Fact]:
    amount = _number(m.data.get("amount"))
    facts = [Fact("funnel", "paid", "", 1, amount), Fact("vip", "revenue", "vip" if is_vip(m.user.tier) else "normal", 1, amount)]
    if number(m.data.get("minutes_to_order")) is not None:
        facts.append(Fact("funnel", "minutes", "", 1, _number(m.data["minutes_to_order"])))
    return facts


def _rejected(m: Message) -> list[Fact]:
    campaign = _text(m.data.get("campaign"), "?")
    found = m.data.get("words")
    words: list[Any] = found if isinstance(found, list) else []
    return [Fact("campaign", "rejected", campaign, 1, 0.0), *(Fact("campaign", "word", _text(w), 1, 0.0) for w in words[:20] if _text(w))]


def _sale(m: Message) -> str:
    """A flash sale by its own name when the platform gives one (a product may be sold in several), else its product."""
    return _text(m.data.get("sale")) or _text(m.data.get("product"), "?")


def _result(m: Message) -> list[Fact]:
    return [Fact("flash_sale", metric, _sale(m), 1, _number(m.data.get(metric)))
            for metric in ("winners", "failures", "failed_buyers", "repeat_failers")]


def _one(family: str, metric: str, key: str | Callable[[Message], str] = "", sum_field: str = "",
         default: str = "?") -> Callable[[Message], list[Fact]]:
    """One fact per message: keyed by the data field ``key`` (``default`` when missing) or by what ``key`` gives."""
    def facts(m: Message) -> list[Fact]:
        found = key(m) if callable(key) else _text(m.data.get(key), default) if key else ""
        return [Fact(family, metric, found, 1, _number(m.data.get(sum_field)) if sum_field else 0.0)]
    return facts


EXTRACTORS: dict[str, Callable[[Message], list[Fact]]] = {
    "order.paid": _paid,
    "order.abandoned": lambda m: [*_one("funnel", "abandoned", "cause", "amount", "unknown")(m),
                                  *_one("funnel", "abandoned_grade", "prospect", default="")(m)],
    "order.browsed": _one("funnel", "browsed", "prospect"),
    "member.vip_reached": _one("vip", "new_vip", sum_field="spent"),
    "member.joined": _one("channel", "joined", "channel"),
    "member.merged": _one("channel", "merged", "channel"),
    "campaign.submitted": _one("campaign", "submitted", "campaign"),
    "campaign.approved": _one("campaign", "approved", "campaign"),
    "campaign.rejected": _rejected,
    "campaign.shared": _one("campaign", "issued", "campaign", "coupons"),
    "coupon.verified": _one("campaign", "verified", "campaign"),
    "flashsale.started": _one("flash_sale", "stock", _sale, "stock"),
    "flashsale.sold_out": _one("flash_sale", "sold_out", _sale, "minutes"),
    "flashsale.result": _result,
    "flashsale.consolation": _one("flash_sale", "consolations", _sale, "failures"),
}


def facts(message: Message) -> list[Fact]:
    """The facts ``message`` adds to the reports; none for a type the reports do not read."""
    extract = EXTRACTORS.get(message.type)
    return extract(message) if extract else []
