"""A local shop that answers as WooCommerce's REST API does, and its orders, for the tests of a WooCommerce source."""

from __future__ import annotations

import base64
import threading
from datetime import datetime, timedelta

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from speakerd.ports import free_port

KEY, SECRET = "ck_0123456789abcdef", "cs_fedcba9876543210"
T0 = datetime(2026, 12, 6, 8, 30, 0)


def order(number, status, at, total="1280.50", name=("娜", "李")):
    """An order as WooCommerce's REST API v3 lists it (the fields the device reads, and a few it does not)."""
    return {"id": number, "parent_id": 0, "number": str(number), "order_key": f"wc_order_{number}", "created_via": "checkout",
            "status": status, "currency": "CNY", "date_created_gmt": T0.isoformat(), "date_modified": (at + timedelta(hours=8)).isoformat(),
            "date_modified_gmt": at.isoformat(), "total": total, "customer_id": 7, "prices_include_tax": False,
            "billing": {"first_name": name[0], "last_name": name[1], "phone": "13800138000", "email": "lina@example.com"},
            "line_items": [{"id": 1, "name": "羊绒围巾", "quantity": 1, "total": total}]}


class Shop:
    """/wp-json/wc/v3/orders with basic auth, modified_after (strict, to the second), orderby=modified, per_page, page."""

    def __init__(self):
        self.orders, self.asked, self.port = {}, [], free_port()
        app = Flask("woo")

        @app.get("/wp-json/wc/v3/orders")
        def orders():
            given = request.headers.get("Authorization", "")
            if given != "Basic " + base64.b64encode(f"{KEY}:{SECRET}".encode()).decode():
                return jsonify(code="woocommerce_rest_cannot_view", message="Sorry, you cannot list resources.", data={"status": 401}), 401
            self.asked.append(dict(request.args))
            found = sorted(self.orders.values(), key=lambda o: (o["date_modified_gmt"], o["id"]))
            after = request.args.get("modified_after")
            if after:
                found = [o for o in found if o["date_modified_gmt"] > after]
            size, page = int(request.args.get("per_page", 10)), int(request.args.get("page", 1))
            return jsonify(found[(page - 1) * size:page * size])

        self._server = make_server("127.0.0.1", self.port, app, threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.port}"

    def put(self, *orders):
        for o in orders:
            self.orders[o["id"]] = o

    def stop(self):
        self._server.shutdown()
