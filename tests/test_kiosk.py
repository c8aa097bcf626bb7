"""The HDMI board's link: it opens the board without a password on the device itself, and nowhere else."""

from __future__ import annotations

import pytest

from speakerd.device.password import set_password
from speakerd.web import create_app, kiosk
from tests.conftest import fast_platform

from .helpers import WEB_PASSWORD

LAN = {"REMOTE_ADDR": "192.168.1.20"}


@pytest.fixture
def site(stub, write_config, run_daemon):
    server = stub([{"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"}])
    path = write_config(fast_platform(server.url))
    set_password(path, WEB_PASSWORD)
    daemon = run_daemon(path)
    return daemon, create_app(daemon.store, daemon)


def test_the_kiosk_link_shows_the_board_on_the_device_and_nothing_more(site):
    daemon, app = site
    client = app.test_client()
    answer = client.get(f"/kiosk/{kiosk.token(daemon.store)}")
    assert answer.status_code == 302 and answer.headers["Location"] == "/board"
    assert client.get("/board").status_code == 200 and client.get("/live/board").status_code == 200
    for page in ("/", "/settings", "/reports"):
        assert client.get(page, headers={"Accept": "text/html"}).headers["Location"].startswith("/login"), page


def test_the_kiosk_link_and_its_cookie_are_refused_from_another_address(site, caplog):
    daemon, app = site
    lan = app.test_client()
    assert lan.get(f"/kiosk/{kiosk.token(daemon.store)}", environ_base=LAN).status_code == 403
    assert "works only on the device itself" in caplog.text and kiosk.token(daemon.store) not in caplog.text
    local = app.test_client()
    local.get(f"/kiosk/{kiosk.token(daemon.store)}")
    assert local.get("/board").status_code == 200
    stolen = local.get("/board", environ_base=LAN, headers={"Accept": "text/html"})  # the same cookie, from elsewhere
    assert stolen.status_code == 302 and stolen.headers["Location"].startswith("/login")


def test_a_wrong_kiosk_token_is_refused(site):
    _, app = site
    client = app.test_client()
    assert client.get("/kiosk/not-the-token").status_code == 403
    assert client.get("/board", headers={"Accept": "text/html"}).status_code == 302
