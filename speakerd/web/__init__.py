"""The device's own web server: for now the acknowledge links that pushes carry.

Served by the daemon on ``web.listen``. An acknowledge link opens a page
naming the message with one button; only the button (a POST) acknowledges,
because chat apps fetch links to preview them and must not acknowledge by
looking.
"""

from __future__ import annotations

import html
import logging

from flask import Flask

from speakerd import ack
from speakerd.httpserver import BackgroundServer

logger = logging.getLogger(__name__)

PAGE = """<!doctype html><html lang="zh"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width,initial-scale=1"><title>speakerd</title>
<style>body{{font:18px/1.5 sans-serif;max-width:32em;margin:2em auto;padding:0 1em}}
button{{font-size:1.2em;padding:.6em 1.4em}}.m{{background:#f4f4f4;padding:1em;border-radius:6px}}</style>
</head><body>{body}</body></html>"""
HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def create_app(store):
    app = Flask("speakerd.web")

    def page(body, status=200):
        return PAGE.format(body=body), status, {"Content-Type": "text/html; charset=utf-8", **HEADERS}

    def message_for(token):
        """The message row the token names, or the page saying why it cannot be used."""
        try:
            message_id = ack.verify(store.secret("ack_secret", ack.new_secret), token)
        except ack.AckError as exc:
            return None, page(f"<p>{html.escape(str(exc))}</p>", 403)
        rows = store.query("select id, content, acked_at from messages where id = ?", [message_id])
        if not rows:
            return None, page("<p>这条消息已不在设备上</p>", 404)
        return rows[0], None

    @app.get("/ack/<token>")
    def ack_form(token):
        row, refusal = message_for(token)
        if refusal:
            return refusal
        text = f'<p class="m">{html.escape(row["content"])}</p>'
        if row["acked_at"]:
            return page(text + "<p>这条消息已经确认过了。</p>")
        return page(text + f'<form method="post" action="/ack/{html.escape(token)}"><button>确认已处理</button></form>')

    @app.post("/ack/<token>")
    def ack_done(token):
        row, refusal = message_for(token)
        if refusal:
            return refusal
        outcome = store.acknowledge(row["id"], "push link")
        logger.info("message %s acknowledged from a push link (%s)", row["id"], outcome)
        return page("<p>已确认，谢谢。</p>" if outcome == "done" else "<p>这条消息已经确认过了。</p>")

    return app


def serve(store, listen):
    """Start the web server on ``HOST:PORT``; raises OSError when it cannot listen there."""
    host, _, port = listen.rpartition(":")
    return BackgroundServer(create_app(store), host.strip("[]"), int(port), name="web").start()
