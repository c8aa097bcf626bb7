"""A WooCommerce shop as the platform: its REST API's orders, polled by their modification time.

``platform.kind: woocommerce`` with the shop's address and a REST API key
(WooCommerce → Settings → Advanced → REST API, read access): the device asks
``/wp-json/wc/v3/orders`` for the orders modified since its cursor, oldest
first, and makes each order's status a message of speakerd's shape. An order
that reaches a new status is a new message (``woo-<id>-<status>``); the same
status seen again is a repeat the store ignores.

The cursor is the last modification time taken and the orders taken at that
second (``2026-12-06T08:30:05|123,124``): WooCommerce's ``modified_after`` is
to the second, and an order modified in the same second as the last one taken
must neither be missed nor taken again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeGuard

import requests

from speakerd import __version__
from speakerd.errors import PlatformError
from speakerd.intake.platform import Batch, as_platform_error, check_status, read_limited

ENDPOINT = "/wp-json/wc/v3/orders"
MOST_PER_PAGE = 100  # WooCommerce's own bound on per_page
MOST_PAGES = 20
FROM_THE_START = "|"  # the cursor of a shop with no orders yet: the next poll asks for all of them
# Order status → (event type, what happened, as staff read it).
STATUSES = {
    "pending": ("order.created", "提交了订单"),
    "on-hold": ("order.created", "提交了订单（等待确认付款）"),
    "processing": ("order.paid", "已支付订单"),
    "completed": ("order.completed", "的订单已完成"),
    "cancelled": ("order.cancelled", "取消了订单"),
    "refunded": ("order.refund", "的订单已退款"),
    "failed": ("order.failed", "的订单支付失败"),
}


@dataclass(frozen=True)
class Cursor:
    modified: str  # date_modified_gmt of the newest order taken, as WooCommerce writes it (no zone: UTC)
    taken: frozenset[int]  # the orders taken at that second

    @classmethod
    def parse(cls, text: str | None) -> Cursor | None:
        if not text:
            return None
        modified, _, ids = text.partition("|")
        if not modified:
            return None
        return cls(modified, frozenset(int(i) for i in ids.split(",") if i.isdigit()))

    def __str__(self) -> str:
        return f"{self.modified}|{','.join(str(i) for i in sorted(self.taken))}"


class WooClient:
    """The same face as :class:`~speakerd.intake.platform.PlatformClient`: ``fetch(after, limit, wait)`` → Batch."""

    def __init__(self, url: str, key: str, secret: str, timeout: float, app: str = "woocommerce") -> None:
        self.endpoint = url.rstrip("/") + ENDPOINT
        self.timeout = timeout
        self.app = app
        self._session = requests.Session()
        self._session.auth = (key, secret)  # HTTP Basic over HTTPS, as WooCommerce asks
        self._session.headers["User-Agent"] = f"speakerd/{__version__}"

    def close(self) -> None:
        self._session.close()

    def fetch(self, after: str | None, limit: int, wait: float = 0.0) -> Batch:
        """The orders modified since ``after`` as messages; ``wait`` is ignored (WooCommerce does not long-poll)."""
        cursor = Cursor.parse(after)
        params: dict[str, Any] = {"orderby": "modified", "order": "asc", "per_page": min(limit, MOST_PER_PAGE), "dates_are_gmt": "true"}
        if cursor:
            params["modified_after"] = _second_before(cursor.modified)
        fresh: list[dict[str, Any]] = []
        for page in range(1, MOST_PAGES + 1):  # a bulk action can modify more orders in one second than a page holds
            orders = self._page({**params, "page": page})
            fresh = [o for o in orders if _newer(o, cursor)]
            if fresh or len(orders) < params["per_page"]:
                break
        if not fresh:  # nothing new; a shop with no orders yet keeps asking from the start
            return Batch(messages=[], next=str(cursor) if cursor else FROM_THE_START, epoch=None)
        return Batch(messages=[as_message(o, self.app) for o in fresh], next=str(_advance(cursor, fresh)), epoch=None)

    def _page(self, params: dict[str, Any]) -> list[dict[str, Any]]:
        try:
            response = self._session.get(self.endpoint, params=params, timeout=self.timeout, allow_redirects=False, stream=True)
            body = read_limited(response)
        except Exception as exc:  # noqa: BLE001 - named by kind, as the platform client names its failures
            raise as_platform_error(exc, self.endpoint, self.timeout) from None
        try:
            check_status(response, self.endpoint)
        except PlatformError as exc:
            if exc.kind != "auth":
                raise
            # A shop has no token: the alert must send people to its REST API key.
            raise PlatformError("woo_auth", f"the shop refused the REST API key (HTTP {response.status_code}): check consumer_key and "
                                            "consumer_secret, and that the key has Read permission") from None
        return _orders(body)


def as_message(order: dict[str, Any], app: str = "woocommerce") -> dict[str, Any]:
    """One order at its status, in speakerd's message shape (docs/platform-api.md)."""
    status = str(order.get("status", ""))
    kind, happened = STATUSES.get(status, (f"order.{status or 'unknown'}", f"的订单状态为{status}"))
    billing: dict[str, Any] = order["billing"] if isinstance(order.get("billing"), dict) else {}
    name = f"{billing.get('last_name', '')}{billing.get('first_name', '')}".strip() or "客户"
    number = str(order.get("number") or order.get("id"))
    amount = _amount(order.get("total"))
    currency = str(order.get("currency") or "CNY")
    money = (f"，金额{amount:.2f}元" if currency == "CNY" else f"，金额{amount:.2f} {currency}") if amount is not None else ""
    lines = order.get("line_items")
    items = [str(i.get("name", "")) for i in (lines if isinstance(lines, list) else []) if isinstance(i, dict)]
    return {
        "id": f"woo-{order.get('id')}-{status}",
        "type": kind,
        "app": app,
        "created_at": f"{order.get('date_modified_gmt')}+00:00" if order.get("date_modified_gmt") else None,
        "user": {"id": str(order.get("customer_id", "")), "name": name},
        "content": f"客户{name}{happened}{number}{money}",
        "data": {k: v for k, v in {"order_id": number, "amount": amount, "currency": currency, "items": items[:20],
                                   "phone": billing.get("phone") or None}.items() if v not in (None, [], "")},
    }


def is_order(found: object) -> TypeGuard[dict[str, Any]]:
    """Whether ``found`` is an order as WooCommerce's REST API (and its webhooks) give one: an object with a number id."""
    return isinstance(found, dict) and isinstance(found.get("id"), int) and not isinstance(found.get("id"), bool)


def _orders(body: bytes) -> list[dict[str, Any]]:
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        raise PlatformError("garbage", "the shop's answer is not JSON (is platform.url the shop's address?)") from None
    if not isinstance(data, list) or not all(is_order(o) for o in data):
        raise PlatformError("garbage", "the shop's answer is not a list of WooCommerce orders")
    return [o for o in data if isinstance(o.get("date_modified_gmt"), str)]


def _newer(order: dict[str, Any], cursor: Cursor | None) -> bool:
    if cursor is None:
        return True
    modified = order["date_modified_gmt"]
    return modified > cursor.modified or (modified == cursor.modified and order["id"] not in cursor.taken)


def _advance(cursor: Cursor | None, fresh: list[dict[str, Any]]) -> Cursor:
    """The cursor after ``fresh`` (not empty): its newest second, and the orders taken in it."""
    newest = max(o["date_modified_gmt"] for o in fresh)
    taken = {o["id"] for o in fresh if o["date_modified_gmt"] == newest}
    if cursor and cursor.modified == newest:
        taken |= cursor.taken
    return Cursor(newest, frozenset(taken))


def _second_before(modified: str) -> str:
    """``modified_after`` is strict and to the second: ask from the second before, and drop what was taken."""
    try:
        return (datetime.fromisoformat(modified) - timedelta(seconds=1)).isoformat(timespec="seconds")
    except ValueError:
        return modified


def _amount(value: object) -> float | None:
    try:
        amount = float(str(value))
    except ValueError:
        return None
    return amount if math.isfinite(amount) and abs(amount) < 1e12 else None
