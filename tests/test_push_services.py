"""Push targets chosen by service: the URL built from the boxes people fill, tested through the real client, then kept."""

from __future__ import annotations

import pytest
from flask import Flask

from speakerd import config as config_mod
from speakerd.config.push_urls import invalid_targets
from speakerd.web.push_services import SERVICES, Unusable, build, not_a_target

from .helpers import DING_TOKEN, claimed, csrf, login

TYPED = {
    "dingtalk": ({"webhook": f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}", "secret": "SECabc123"},
                 f"dingtalk://SECabc123@{DING_TOKEN}/"),
    "wecom": ({"webhook": "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"},
              "wecombot://693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"),
    "feishu": ({"webhook": "https://open.feishu.cn/open-apis/bot/v2/hook/2b1a3c4d-aaaa-bbbb-cccc-1234567890ab"},
               "feishu://2b1a3c4d-aaaa-bbbb-cccc-1234567890ab"),
    "bark": ({"key": "https://api.day.app/AbCdEf123456/这里改成你自己的推送内容"}, "barks://api.day.app/AbCdEf123456"),
    "ntfy": ({"topic": "shop-orders-7f3k", "server": ""}, "ntfys://ntfy.sh/shop-orders-7f3k"),
    "email": ({"sender": "shop@qq.com", "password": "abcd efgh/ijkl", "to": "lina@163.com"},
              "mailtos://shop:abcd%20efgh%2Fijkl@qq.com/?to=lina@163.com"),
    "webhook": ({"url": "https://erp.example.com/hooks/speaker?k=1"}, "jsons://erp.example.com/hooks/speaker?k=1"),
}


@pytest.fixture
def translated():
    from flask_babel import Babel

    app = Flask("t")
    Babel(app)  # English: the messages as written
    with app.test_request_context():
        yield


@pytest.mark.parametrize("service", sorted(SERVICES))
def test_each_service_makes_a_url_apprise_can_use_from_what_people_paste(service, translated):
    typed, expected = TYPED[service]
    url = build(service, typed)
    assert url == expected and invalid_targets([url]) == []


def test_the_short_forms_work_too(translated):
    assert build("dingtalk", {"webhook": DING_TOKEN}) == f"dingtalk://{DING_TOKEN}/"
    assert build("bark", {"key": "AbCdEf123456", "server": "http://bark.lan:8080"}) == "bark://bark.lan:8080/AbCdEf123456"
    assert build("ntfy", {"topic": "desk", "server": "https://push.example.com", "token": "tk_abc"}) == "ntfys://tk_abc@push.example.com/desk"
    assert build("email", {"sender": "a@b.cn", "password": "x"}) == "mailtos://a:x@b.cn/?to=a@b.cn"


@pytest.mark.parametrize("service, typed, field", [
    ("dingtalk", {"webhook": "https://oapi.dingtalk.com/robot/send"}, "webhook"),
    ("dingtalk", {"webhook": DING_TOKEN, "secret": "SEC 有空格"}, "secret"),
    ("ntfy", {"topic": "has spaces"}, "topic"),
    ("ntfy", {"topic": "ok", "server": "javascript:alert(1)"}, "server"),
    ("email", {"sender": "not-an-address", "password": "x"}, "sender"),
    ("email", {"sender": "a@b.cn", "password": ""}, "password"),
    ("webhook", {"url": "ftp://erp.example.com/x"}, "url"),
    ("wecom", {}, "webhook"),
    ("nothing", {}, "service"),
])
def test_what_cannot_make_a_target_names_the_box_at_fault(service, typed, field, translated):
    with pytest.raises(Unusable) as caught:
        build(service, typed)
    assert caught.value.field == field and str(caught.value)


def test_a_phone_number_is_explained_not_taken(translated):
    assert "cannot be pushed to directly" in not_a_target("139 1234 5678")
    assert not_a_target("ntfy://desk") is None


@pytest.fixture
def office(stub, write_config, real_daemon, receiver):
    import yaml

    from speakerd.web import create_app

    path = claimed(write_config({"platform": {"url": stub([]).url}}))
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["subsystems"]["headquarters"]["departments"]["finance"]["staff"][0]["mobile"] = "13800138000"
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    daemon = real_daemon(path)
    client = create_app(daemon.store, daemon).test_client()
    login(client)
    return daemon, client, path


def post(client, url, page=None, **values):
    return client.post(url, data={"csrf_token": csrf(client, page or url), **values})


def test_a_dingtalk_robot_added_by_its_webhook_is_tested_with_the_persons_at_and_kept(office, receiver):
    daemon, client, path = office
    listing = client.get("/push/add?who=staff:003&back=/settings").get_data(as_text=True)
    assert "钉钉群机器人" in listing and "企业微信群机器人" in listing and "Bark（iPhone 应用）" in listing
    form = client.get("/push/add?who=staff:003&service=dingtalk&back=/settings").get_data(as_text=True)
    assert "Webhook 地址" in form and "加签密钥" in form
    answer = post(client, "/push/add?who=staff:003&service=dingtalk&back=/settings", who="staff:003", service="dingtalk",
                  back="/settings", webhook=f"https://oapi.dingtalk.com/robot/send?access_token={DING_TOKEN}", action="test")
    assert answer.status_code == 302 and answer.headers["Location"] == "/settings"
    sent = receiver.kinds("dingtalk")[0]
    assert sent["access_token"] == DING_TOKEN and sent["at"]["atMobiles"] == ["13800138000"] and "王芳" in sent["text"]["content"]
    assert config_mod.load(path).staff()["003"][1].push[-1] == f"dingtalk://{DING_TOKEN}/"
    assert daemon.cfg.staff()["003"][1].push[-1] == f"dingtalk://{DING_TOKEN}/"  # reloaded
    assert DING_TOKEN not in client.get("/settings").get_data(as_text=True)


def test_a_target_whose_test_is_refused_is_not_kept_and_the_secret_is_not_shown_back(office, receiver):
    daemon, client, path = office
    before = path.read_text(encoding="utf-8")
    receiver.refuse = 1
    page = post(client, "/push/add?who=staff:003&service=dingtalk", who="staff:003", service="dingtalk", back="/settings",
                webhook=DING_TOKEN, secret="SECsecretvalue", action="test").get_data(as_text=True)
    assert "测试消息没有送达，没有保存" in page and "130101" in page and "SECsecretvalue" not in page
    assert path.read_text(encoding="utf-8") == before


def test_a_phone_number_in_the_advanced_box_is_explained_in_chinese_and_nothing_saved(office):
    daemon, client, path = office
    before = path.read_text(encoding="utf-8")
    page = post(client, "/settings/staff/finance", "/settings", version=_version(client), count="1", **{
        "staff-0-id": "003", "staff-0-name": "王芳", "staff-0-on_duty": "on", "staff-0-push_add": "13912345678"}).get_data(as_text=True)
    assert "手机号不能直接推送" in page and "staff[0].push" not in page
    assert path.read_text(encoding="utf-8") == before


def _version(client):
    import re

    return re.search(r'name="version" value="([^"]+)"', client.get("/settings").get_data(as_text=True)).group(1)
