"""The platform apps a message comes from, by the names people say: ``jd`` is 京东 on every page, report and form."""

from __future__ import annotations

APP_NAMES = {"pos": "门店POS", "wechat-mall": "微信商城", "own-shop": "自营商城", "taobao": "淘宝", "jd": "京东", "tmall": "天猫",
             "pdd": "拼多多", "douyin": "抖音小店", "kuaishou": "快手小店", "xiaohongshu": "小红书", "meituan": "美团", "eleme": "饿了么"}
APP_IDS = {name: app_id for app_id, name in APP_NAMES.items()}


def app_name(app_id: str) -> str:
    """The name people know an app by; an app not listed keeps its id."""
    return APP_NAMES.get(app_id, app_id)


def app_id(typed: str) -> str:
    """An app typed by its name (京东) or its id (jd): the id config.yaml and the platform use."""
    return APP_IDS.get(typed.strip(), typed.strip())
