"""What several test modules share: waiting on a condition, the daemon as a process, reading its database from
the side, a push receiver, and logging in to the web page."""

from __future__ import annotations

import contextlib
import os
import re
import sqlite3
import subprocess
import sys
import threading
import time

from flask import Flask, jsonify, request
from werkzeug.serving import make_server

from speakerd.ports import free_port

from .conftest import fast_platform

WEB_PASSWORD = "correct horse"
DING_TOKEN = "dingtoken0123456789abcdef"
WITHDRAWAL = {"id": "m-w1", "type": "finance.withdrawal", "content": "张三申请提现5000元，请审核"}


def wait_until(predicate, timeout=15.0, interval=0.05):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(interval)
    return predicate()


def unique_good(events):
    ids = []
    for e in events:
        if isinstance(e, dict) and isinstance(e.get("id"), str) and not e["id"].startswith("m-bad") and e["id"] not in ids:
            ids.append(e["id"])
    return ids


def start_process(config_path):
    """``speakerd run`` as a child process; its log goes to ``<config dir>/daemon.log``."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    with open(config_path.parent / "daemon.log", "a", encoding="utf-8") as log:
        return subprocess.Popen([sys.executable, "-m", "speakerd", "run", "-c", str(config_path)],
                                stderr=log, stdout=subprocess.DEVNULL, env=env)


def count_rows(db_path, sql):
    """A count read from the side, as another program would: read-only, never taking the write lock."""
    if not db_path.exists():
        return 0
    try:
        with contextlib.closing(sqlite3.connect(f"file:{db_path}?mode=ro", uri=True, timeout=5)) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.OperationalError:  # not created yet, or its tables not yet
        return 0


class Receiver:
    """JSON webhook at /hook, ntfy at /, DingTalk at /robot/send, a monitor's GET at /ping/…; can be stopped and started on its port."""

    def __init__(self, port=0):
        self.got = []
        self.refuse = 0  # the next this many robot messages are refused with errcode 130101
        self.port = port or free_port()
        self.lock = threading.Lock()
        self._server = None

    def app(self):
        app = Flask("receiver")

        @app.post("/hook")
        def hook():
            return self._keep("json", request.get_json())

        @app.post("/")
        def ntfy():
            body = request.get_json()
            body["X-Priority"] = request.headers.get("X-Priority")
            return self._keep("ntfy", body)

        @app.post("/robot/send")
        def dingtalk():
            body = request.get_json()
            body["access_token"] = request.args.get("access_token")
            if self.refuse:  # as DingTalk answers a robot past its limit: HTTP 200, with an error code
                self.refuse -= 1
                self._keep("refused", body)
                return jsonify(errcode=130101, errmsg="send too fast, exceed 20 times per minute")
            self._keep("dingtalk", body)
            return jsonify(errcode=0, errmsg="ok")

        @app.post("/cgi-bin/webhook/send")
        def wecom():
            body = request.get_json()
            body["key"] = request.args.get("key")
            self._keep("wecom", body)
            return jsonify(errcode=0, errmsg="ok")

        @app.get("/ping/<path:rest>")
        def ping(rest):
            self._keep("ping", {"path": rest, **request.args})
            return ("gone", 404) if rest.startswith("gone") else "OK"

        return app

    def _keep(self, kind, body):
        with self.lock:
            self.got.append((kind, body))
        return jsonify(ok=True)

    def kinds(self, kind):
        with self.lock:
            return [b for k, b in self.got if k == kind]

    def start(self):
        self._server = make_server("127.0.0.1", self.port, self.app(), threaded=True)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()
        return self

    def stop(self):
        self._server.shutdown()
        self._server.server_close()


def with_targets(url, port, staff003=None, finance=None, tech007=None, **push):
    cfg = fast_platform(url)
    cfg["push"] = {"fallback_after": 2, "timeout": 2, **push}
    hq = {"name": "总部", "departments": {
        "finance": {"name": "财务部", "push": finance or [],
                    "staff": [{"id": "003", "name": "王芳", "push": staff003 or [f"json://127.0.0.1:{port}/hook"]}]},
        "tech": {"name": "技术部", "staff": [{"id": "007", "name": "吴昊", "push": tech007 or [f"ntfy://127.0.0.1:{port}/tech-alerts"]}]},
    }}
    cfg["subsystems"] = {"headquarters": hq}
    cfg["route"] = {"department": "tech", "routes": [{"match": {"category": "finance"}, "department": "finance"}]}
    return cfg


def csrf(client, url="/login"):
    page = client.get(url).get_data(as_text=True)
    return re.search(r'name="csrf_token" value="([^"]+)"', page).group(1)


def login(client, password=WEB_PASSWORD):
    return client.post("/login", data={"password": password, "csrf_token": csrf(client)})


def send(client, action, **values):
    """Post a settings form as the page would: its CSRF token and the version of config.yaml it was made from."""
    page = client.get("/settings").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    return client.post(action, data={"csrf_token": csrf(client, "/settings"), "version": version, **values})


class AtOnce:
    """Counts how many callers are inside ``hold()`` at the same moment, and the most there ever were."""

    def __init__(self):
        self.most = 0
        self._running = 0
        self._lock = threading.Lock()

    def hold(self, seconds):
        with self._lock:
            self._running += 1
            self.most = max(self.most, self._running)
        time.sleep(seconds)
        with self._lock:
            self._running -= 1


def claimed(config_path):
    """A device whose page has its password: set up, so messages go to people (an unclaimed one gives them to nobody)."""
    from speakerd.device.password import set_password

    set_password(config_path, WEB_PASSWORD)
    return config_path
