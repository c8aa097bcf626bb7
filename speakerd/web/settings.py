"""The settings page: each section a form that edits config.yaml through :mod:`speakerd.web.configedit`.

The page shows what the *file* says (it may be newer than what the daemon
runs, or broken by a hand edit: then it says so). A save checks the whole
file with check-config's code, writes it keeping comments, and asks the
daemon to reload at once. Secrets are never sent to the browser: a token or a
push target can be replaced or removed, not read.
"""

from __future__ import annotations

import io
import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from flask import current_app, flash, redirect, render_template, request, url_for
from flask.typing import ResponseReturnValue
from ruamel.yaml.error import YAMLError

from speakerd import config as config_mod
from speakerd import push_targets
from speakerd.config import Config
from speakerd.errors import ConfigError
from speakerd.message import Rejected
from speakerd.preview import preview
from speakerd.web import fields as fields_mod
from speakerd.web.configedit import ConfigFile, Conflict, Invalid, flow_map, flow_seq, round_trip_yaml
from speakerd.web.device import Device

if TYPE_CHECKING:
    from flask import Flask

logger = logging.getLogger(__name__)

SECTIONS = {
    "platform": ("平台连接", [("platform.url", "平台地址"), ("platform.token", "访问令牌"), ("platform.poll_interval", "轮询间隔（秒）"),
                          ("platform.long_poll", "长轮询等待（秒，0为关闭）"), ("platform.timeout", "超时（秒）")]),
    "speech": ("语音播报", [("speech.enabled", "语音播报"), ("speech.volume", "音量（0到1）"), ("speech.critical_volume", "紧急消息最低音量"),
                        ("speech.quiet_hours", "休息时段（如 20:00-08:30）"), ("speech.voices.zh", "中文语音"), ("speech.voices.en", "英文语音"),
                        ("speech.device", "声音输出设备")]),
    "panel": ("屏幕和按钮", [("display.enabled", "OLED 屏幕"), ("display.driver", "屏幕型号"), ("display.rotate", "旋转（90°的倍数）"),
                        ("display.dim_after", "无动静多久变暗（秒）"), ("gpio.enabled", "按钮和指示灯"), ("gpio.mute_minutes", "静音按钮静音（分钟）"),
                        ("gpio.long_press", "长按（秒）")]),
    "retention": ("保存和报表", [("storage.retention_days", "消息保存（天）"), ("storage.mask_after_days", "多少天后隐藏手机号和身份证号（0为不隐藏）"),
                            ("stats.digest_at", "每日汇总发送时间（HH:MM，空为不发）")]),
    "web": ("网页和推送", [("push.enabled", "推送到手机和电脑"), ("push.fallback_after", "失败几次后换下一个推送目标"),
                      ("web.public_url", "手机访问本设备的地址（用于确认链接）"), ("web.ack_link_hours", "确认链接有效（小时）"),
                      ("web.session_hours", "登录有效（小时）")]),
}
CATEGORY_FIELDS = [
    ("name", "名称"), ("types", "事件类型"), ("keywords", "关键词"), ("patterns", "正则表达式"), ("priority", "优先级"),
    ("announce", "播报方式"), ("chime", "提示音"), ("speech", "播报句式"), ("quiet_hours", "本分类休息时段"),
    ("repeat.every", "未确认时每隔几分钟提醒（0为不提醒）"), ("repeat.max", "最多提醒几次"),
    ("burst.threshold", "积压几条时合并播报（0为不合并）"), ("burst.group_wait", "合并前等待（秒）"),
    ("escalate", "升级（分钟 对象，如：30 lead, 60 tech）"),
]


def _device() -> Device:
    return current_app.extensions["speakerd"]["device"]


def _file():
    return ConfigFile(_device().config_path)


def _current():
    """``(config from the file, version, problems)``; the running config when the file is broken."""
    text, version = _file().read()
    try:
        return config_mod.parse_text(text, "config.yaml"), version, []
    except ConfigError as exc:
        return _device().cfg, version, exc.problems


def section_fields(cfg: Config, name: str) -> list[fields_mod.Field]:
    if name == "categories":
        return [fields_mod.field(cfg, f"categories.{cat}.{key}", label) for cat in cfg.categories for key, label in CATEGORY_FIELDS]
    return [fields_mod.field(cfg, path, label) for path, label in SECTIONS[name][1]]


def route_text(text: str) -> str:
    """The ``route:`` tree of config.yaml's ``text`` as YAML, comments and the file's indentation kept."""
    yaml = round_trip_yaml(text)
    out = io.StringIO()
    yaml.dump((yaml.load(text) or {}).get("route") or {}, out)
    return out.getvalue()


def render(status: int = 200, errors: dict[str, Any] | None = None, submitted: dict[str, Any] | None = None, conflict: str | None = None,
           focus: str | None = None, tried: dict[str, Any] | None = None) -> ResponseReturnValue:
    cfg, version, broken = _current()
    simple = {name: (title, section_fields(cfg, name)) for name, (title, _) in SECTIONS.items()}
    categories = {cat: [f for f in section_fields(cfg, "categories") if f.path.startswith(f"categories.{cat}.")] for cat in cfg.categories}
    submitted = submitted or {}
    return render_template(
        "settings.html", cfg=cfg, version=conflict or version, broken=broken, simple=simple, categories=categories,
        errors=errors or {}, submitted=submitted, conflict=conflict, focus=focus, tried=tried,
        route=submitted.get("route") if "route" in submitted else route_text(_file().read()[0]),
        masked=push_targets.mask,
    ), status


def _save(focus, changes=None, edit=None):
    """Write the change and reload; or show the page again with what went wrong."""
    form = request.form.to_dict()
    try:
        _file().apply(changes or {}, form.get("version", ""), edit=edit)
    except Conflict as exc:
        logger.warning("web: config.yaml changed on disk while the page was open; asking before saving")
        return render(409, submitted=form, conflict=exc.version, focus=focus)
    except Invalid as exc:
        return render(400, errors=exc.errors, submitted=form, focus=focus)
    except OSError as exc:
        flash(f"无法写入 config.yaml：{exc.strerror or exc}。请检查文件权限（安装程序会让 speakerd 用户可写）。")
        return render(500, submitted=form, focus=focus)
    reloaded = _device().reload()
    logger.info("web: settings saved (%s)%s", focus, "" if reloaded else "; the daemon did not reload")
    flash("已保存，设备已按新设置运行。" if reloaded else "已保存，但设备未能重新加载，请查看日志。")
    return redirect(url_for("settings_page", _anchor=focus))


def register(app: Flask) -> None:
    @app.get("/settings")
    def settings_page() -> ResponseReturnValue:
        return render()

    @app.post("/settings/section/<name>")
    def save_section(name: str) -> ResponseReturnValue:
        if name not in SECTIONS and name != "categories":
            return "no such section", 404
        cfg = _current()[0]
        changes = fields_mod.read(section_fields(cfg, name), request.form)
        if not changes:
            flash("没有改动。")
            return redirect(url_for("settings_page", _anchor=name))
        return _save(name, changes)

    @app.post("/settings/staff/<dep_id>")
    def save_staff(dep_id: str) -> ResponseReturnValue:
        cfg = _current()[0]
        found = cfg.departments().get(dep_id)
        if found is None:
            return "no such department", 404
        return _save(f"dep-{dep_id}", edit=lambda doc: edit_staff(doc["subsystems"][found[0]]["departments"][dep_id], request.form))

    @app.post("/settings/route")
    def save_route() -> ResponseReturnValue:
        try:
            tree = round_trip_yaml().load(request.form.get("route", ""))
        except (YAMLError, RecursionError) as exc:
            return render(400, errors={"route": f"不是有效的 YAML：{exc}"}, submitted=request.form.to_dict(), focus="routes")

        def edit(doc: Any) -> None:
            doc["route"] = tree

        return _save("routes", edit=edit)

    @app.post("/settings/try")
    def try_message() -> ResponseReturnValue:
        return render(tried=where_it_goes(_current()[0], request.form), focus="routes", submitted=request.form.to_dict())

    @app.post("/settings/speech/test")
    def speak_test() -> ResponseReturnValue:
        speech = _device().speech
        sentence = (request.form.get("text") or "").strip()[:200] or "这是一条测试播报，声音正常。"
        if speech is None:
            flash("语音播报已关闭（speech.enabled），无法试听。")
        else:
            threading.Thread(target=_say, args=(speech, sentence), daemon=True).start()
            flash(f"正在播报：{sentence}")
        return redirect(url_for("settings_page", _anchor="speech"))

    @app.post("/settings/push-test/<staff_id>")
    def push_test(staff_id: str) -> ResponseReturnValue:
        cfg = _device().cfg
        found = cfg.staff().get(staff_id)
        if found is None or not found[1].push:
            flash(f"{staff_id} 没有推送目标。")
        else:
            for i, (shown, delivered, reason) in enumerate(push_targets.send_test(cfg, staff_id), 1):
                flash(f"{found[1].name} 目标{i}（{shown}）：{'已送达' if delivered else '失败：' + reason}")
        return redirect(url_for("settings_page", _anchor=f"dep-{found[0] if found else ''}"))


def _say(speech, sentence) -> None:
    from speakerd.outputs.speech import text

    try:
        speech.say(text.normalize(sentence))
    except Exception as exc:  # noqa: BLE001 - the log says why; the page already answered
        logger.warning("web: test sentence not spoken: %s", exc)


def edit_staff(department: Any, form: Mapping[str, str]) -> None:
    """Apply the staff form to one department's node, editing entries in place so their comments stay."""
    staff = department.get("staff")
    if staff is None:
        staff = department["staff"] = flow_seq([])
        staff.fa.set_block_style()
    count = min(int(form.get("count", 0) or 0), len(staff))
    for i in reversed(range(count)):
        if form.get(f"staff-{i}-remove"):
            del staff[i]
            continue
        _edit_person(staff[i], form, f"staff-{i}-")
    new_id, new_name = form.get("staff-new-id", "").strip(), form.get("staff-new-name", "").strip()
    if new_id or new_name:
        staff.append(flow_map({"id": new_id, "name": new_name}))


def _edit_person(person, form, prefix) -> None:
    person["id"] = form.get(prefix + "id", "").strip()
    person["name"] = form.get(prefix + "name", "").strip()
    _flag(person, "on_duty", form.get(prefix + "on_duty") is not None, default=True)
    _flag(person, "lead", form.get(prefix + "lead") is not None, default=False)
    if form.get(prefix + "push_clear") and "push" in person:
        del person["push"]
    added = form.get(prefix + "push_add", "").strip()
    if added:
        targets = person.get("push")
        if targets is None:
            person["push"] = flow_seq([added])
        else:
            targets.append(added)


def _flag(node, key, value, default) -> None:
    if value == default:
        if key in node:
            del node[key]
    else:
        node[key] = value


def where_it_goes(cfg: Config, form: Mapping[str, str]) -> dict[str, Any]:
    """Category, reason and people a sample message would get, without storing it."""
    raw = {"id": "try", "content": (form.get("text") or "").strip(), "type": (form.get("type") or "").strip(),
           "app": (form.get("app") or "").strip(), "user": {"tier": (form.get("tier") or "").strip() or None}}
    seen = preview(cfg, {k: v for k, v in raw.items() if v not in ("", None)})
    if isinstance(seen, Rejected):
        return {"error": f"这条消息会被隔离：{seen.reason}"}
    departments, people = cfg.departments(), cfg.staff()
    targets = []
    for assignment in seen.assignments:
        person = people[assignment.staff_id][1] if assignment.staff_id in people else None
        targets.append({"department": departments[assignment.department][1].name,
                        "staff": f"{assignment.staff_id} {person.name}" if person else "（无人值班）"})
    return {"category": cfg.categories[seen.category].name, "reason": seen.reason, "targets": targets}
