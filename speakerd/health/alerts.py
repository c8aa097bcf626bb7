"""Turns lasting trouble into one technical alert, reminders, and a recovery notice.

Anything that can go wrong reports here under a *subject*: ``platform`` (each
failed poll), ``disk`` (nearly full), ``database`` (a write refused) or
``output:<name>`` (an output that cannot deliver). A trouble shorter than
``health.fail_after`` is only logged. Once it lasts that long it becomes an
outage: stored, announced once as a technical alert, reminded every
``health.remind_every`` seconds, and closed with a recovery notice giving its
length at the first good report. Alerts are platform-like messages of type
``tech.*`` handed to ``announce``, so they are classified, routed (to the tech
department in the shipped config) and delivered by every output, like any
other message. Open outages survive a restart.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speakerd.clock import iso_epoch
from speakerd.errors import SpeakerdError
from speakerd.message import OWN_APP
from speakerd.message.apps import app_name

if TYPE_CHECKING:
    from speakerd.store import Store

logger = logging.getLogger(__name__)

# What staff hear and read for each kind of trouble: what is wrong, then what to do.
KIND_TEXT = {
    "network": ("设备没有网络（无法解析地址或没有路由）", "请检查网线或无线网络"),
    "unreachable": ("连不上平台（连接被拒绝或超时）", "请检查平台服务是否在运行"),
    "server": ("平台服务出错", "请联系平台的技术人员"),
    "auth": ("平台拒绝了设备的令牌", "请在设置页检查平台令牌（platform.token）"),
    "woo_auth": ("网店拒绝了设备的接口密钥", "请在设置页检查网店接口的消费者密钥和密码，以及密钥是否有读取权限（platform.consumer_key）"),
    "not_found": ("平台地址不对", "请在设置页检查平台地址（platform.url）"),
    "garbage": ("平台返回了无法识别的数据", "请联系平台的技术人员"),
    "slow": ("平台响应太慢（回答迟迟不完）", "请联系平台的技术人员"),
    "disk_full": ("设备存储空间快满了", "请清理设备的磁盘"),
    "database": ("设备数据库写入失败", "请查看设备日志"),
    "damaged": ("设备数据库损坏", "请重启设备，重启时会从备份恢复，并检查存储卡"),
    "backup_failed": ("设备数据库的每日备份失败", "请检查存储卡的剩余空间"),
    "backup_copy_failed": ("每日备份没能复制到存储卡以外的位置", "请检查U盘是否插好、网络共享是否连上、是否还有空间"),
    "log_reset": ("商城平台的消息记录重新开始了，设备已从头同步", "收到过的消息不会重复播报"),
    "rate_limited": ("商城平台限制了设备查询的频率", "设备已按平台要求放慢查询；如持续出现，请联系平台的技术人员"),
    "stuck": ("商城平台一直重复发送同样的消息，游标不前进", "请联系平台的技术人员"),
    "epoch_flapping": ("商城平台的消息记录来回切换（多台服务器不一致）", "设备已放慢查询，请联系平台的技术人员"),
    "restored": ("设备数据库损坏，已从备份恢复", "备份之后的消息会由平台重新发来，请检查存储卡"),
    "output": ("设备输出故障", "请查看设备日志"),
    "output_speech": ("音箱放不出声音（找不到声卡或音箱）", "请检查音箱的连线和电源，再到设置页的语音播报里选择声音输出设备"),
    "output_push": ("推送发不出去", "请检查设备的网络，以及设置页里员工的推送方式"),
    "output_display": ("屏幕显示出错", "请检查屏幕的连线"),
    "output_fleet": ("消息发不到部门音箱（消息服务器没有确认）", "请检查网络和主机"),
    "device_offline": ("部门音箱离线", "请检查音箱的电源和网络"),
    "broker": ("连不上主机（消息服务器）", "请检查网络和主机是否开着"),
    "deaf": ("设备连着消息服务器，却收不到它转来的消息", "设备已自动重新连接；如反复出现，请重启设备并查看日志"),
    "device_deaf": ("部门音箱连着消息服务器，却收不到消息", "请重启这台音箱；如反复出现，请查看它的日志"),
    "web": ("设备的设置网页没有响应", "设备会自动重启；如反复出现，请重启设备"),
}


def kind_text(kind: str, fallback: str = "", subject: str = "") -> tuple[str, str]:
    """``(what is wrong, what to do)`` in Chinese for a kind of trouble; an output's own, else outputs' in general.

    With a source's ``subject`` the words name the source, and the settings to check are the source's own.
    """
    what, todo = KIND_TEXT.get(kind) or KIND_TEXT.get(kind.split("_")[0]) or (fallback, "请查看设备日志")
    source = source_of(subject)
    if source is None:
        return what, todo
    name = source[0]
    return f"{app_name(name)}：{what}", todo.replace("（platform.", f"（sources.{name}.")


def alert_phrase(kind: str, fallback: str = "", subject: str = "") -> str:
    """A technical alert as spoken: what is wrong (with whom) and what to do; the bracketed detail is for the screen, not the ear."""
    what, todo = kind_text(kind, fallback, subject)
    return re.sub(r"（[^）]*）", "", f"技术告警，{what}，{todo}。")


def recovery_phrase(subject: str) -> str:
    return f"{subject_words(subject)}已恢复正常。"


def fixed_phrases() -> list[str]:
    """Every sentence an alert or recovery may say: known in advance, so speech synthesises them once."""
    return [alert_phrase(kind) for kind in KIND_TEXT] + [recovery_phrase(s) for s in ("platform", "disk", "database", "broker")]


def spoken_duration(seconds: float) -> str:
    """3725 → '1小时2分钟'; under a minute → '不到1分钟'."""
    minutes = int(seconds // 60)
    if minutes < 1:
        return "不到1分钟"
    hours, minutes = divmod(minutes, 60)
    return (f"{hours}小时" if hours else "") + (f"{minutes}分钟" if minutes or not hours else "")


@dataclass
class Trouble:
    subject: str
    kind: str
    reason: str
    since: float
    outage_id: int | None = None
    last_alert: float = 0.0
    reminders: int = 0
    working_since: float | None = None  # an outage whose subject works again, until it has worked fail_after
    started: float = 0.0  # on the monotonic clock, as last_alert and working_since: a step of the wall clock is no outage's length


class Health:
    def __init__(self, store: Store, announce: Callable[[dict[str, Any]], None], fail_after: float, remind_every: float) -> None:
        self.store = store
        self.announce = announce  # callable(raw message dict)
        self.fail_after = fail_after
        self.remind_every = remind_every
        self._clock = store.clock.time  # for what is recorded and shown
        self._mono = store.clock.monotonic  # for how long things last
        self._lock = threading.RLock()
        self.troubles: dict[str, Trouble] = {}
        self.last_ok: dict[str, float] = {}
        for row in store.outages.find(open_only=True):
            since = datetime.fromisoformat(row["started_at"]).timestamp()
            self.troubles[row["subject"]] = Trouble(row["subject"], row["kind"], row["reason"], since, row["id"], self._mono(),
                                                    started=self._mono() - max(0.0, self._clock() - since))

    def failing(self, subject: str, kind: str, reason: str, logged: bool = False) -> None:
        """``subject`` is in trouble now; raises an alert once it has lasted ``fail_after``.

        ``logged``: the caller has written the fault to the log already.
        """
        with self._lock:
            trouble = self.troubles.get(subject)
            if trouble is None:
                trouble = self.troubles[subject] = Trouble(subject, kind, reason, self._clock(), started=self._mono())
                if not logged:
                    logger.warning("%s: %s", subject, reason)
            elif trouble.working_since is not None:
                logger.warning("%s: failing again before it was back for good: %s", subject, reason)
                trouble.working_since = None  # the same outage goes on: no new alert, no recovery said
            elif trouble.kind != kind:
                logger.warning("%s: now %s", subject, reason)
            trouble.kind, trouble.reason = kind, reason
            self._check(trouble)

    def ok(self, subject: str) -> None:
        """``subject`` works again: a trouble ends now; an outage ends once it has worked for ``fail_after``.

        The same span that makes a trouble an outage must pass before it is said to be over, so a
        subject that fails now and then is one outage with one alert, not an alert and a recovery each time.
        """
        with self._lock:
            self.last_ok[subject] = self._clock()
            trouble = self.troubles.get(subject)
            if trouble is None:
                return
            if trouble.outage_id is None:
                del self.troubles[subject]
                logger.info("%s: working again", subject)
                return
            if trouble.working_since is None:
                trouble.working_since = self._mono()
                logger.info("%s: working again; the outage ends if it keeps working for %.0f s", subject, self.fail_after)
            self._check(trouble)

    def _recovered(self, trouble: Trouble) -> None:
        subject = trouble.subject
        del self.troubles[subject]
        ended = trouble.working_since or self._mono()
        duration = ended - trouble.started
        if trouble.outage_id:
            self._quietly(self.store.outages.close, trouble.outage_id, iso_epoch(self._clock() - (self._mono() - ended)))
        logger.warning("%s: working again after %.0f s", subject, duration)
        self._announce(trouble, "recovered", f"技术通知：{subject_words(subject)}已恢复正常，中断{spoken_duration(duration)}。",
                       duration, recovery_phrase(subject))

    def check_disk(self, path: Path, min_free_mb: int) -> None:
        """Trouble ``disk`` while the disk holding ``path`` has less than ``min_free_mb`` free."""
        try:
            st = os.statvfs(path.parent)
        except OSError:
            return
        free_mb = st.f_bavail * st.f_frsize // (1024 * 1024)
        if free_mb < min_free_mb:
            self.failing("disk", "disk_full", f"only {free_mb} MB free on the disk holding {path}")
        else:
            self.ok("disk")

    def tick(self) -> None:
        """Called every second: outages start and reminders go out even while nothing reports."""
        with self._lock:
            for trouble in list(self.troubles.values()):
                self._check(trouble)

    def _check(self, trouble) -> None:
        now = self._mono()
        if trouble.working_since is not None:
            if now - trouble.working_since >= self.fail_after:
                self._recovered(trouble)
            return
        if trouble.outage_id is None:
            if now - trouble.started >= self.fail_after:
                trouble.outage_id = self._record(trouble)
                logger.error("%s: outage (%s) for %.0f s: %s", trouble.subject, trouble.kind, now - trouble.started, trouble.reason)
                self._alert(trouble, "alert")
        elif now - trouble.last_alert >= self.remind_every:
            trouble.reminders += 1
            self._alert(trouble, f"reminder-{trouble.reminders}")

    def _record(self, trouble):
        """Store the outage; 0 when the store itself is what fails (the alert still goes out)."""
        return self._quietly(self.store.outages.open, trouble.subject, trouble.kind, trouble.reason, iso_epoch(trouble.since)) or 0

    @staticmethod
    def _quietly(func, *args):
        try:
            return func(*args)
        except SpeakerdError as exc:
            logger.error("cannot record the outage: %s", exc)
            return None

    def notice(self, subject: str, kind: str, reason: str) -> None:
        """Something that already happened and needs no outage (a restored database): one alert, now."""
        trouble = Trouble(subject, kind, reason, self._clock(), started=self._mono())
        what, todo = kind_text(kind, reason, subject)
        self._announce(trouble, "notice", f"技术告警：{what}。{todo}。（{reason}）", 0.0, alert_phrase(kind, reason, subject))

    def _alert(self, trouble, phase) -> None:
        trouble.last_alert = self._mono()
        what, todo = kind_text(trouble.kind, trouble.reason, trouble.subject)
        lasted = spoken_duration(self._mono() - trouble.started)
        prefix = "技术告警" if phase == "alert" else "技术告警提醒"
        self._announce(trouble, phase, f"{prefix}：{what}，已持续{lasted}。{todo}。", self._mono() - trouble.started,
                       alert_phrase(trouble.kind, trouble.reason, trouble.subject))

    def _announce(self, trouble, phase, content, duration, spoken) -> None:
        message = {
            # Derived from the outage's start: the same after a restart, so never announced twice.
            "id": f"tech-{trouble.subject}-{int(trouble.since)}-{phase}",
            "type": f"tech.{trouble.subject.split(':')[0]}.{phase.split('-')[0]}",
            "app": OWN_APP,
            "created_at": iso_epoch(self._clock()),
            "content": content,
            "data": {"subject": trouble.subject, "kind": trouble.kind, "reason": trouble.reason,
                     "since": iso_epoch(trouble.since), "seconds": round(duration, 1),
                     "spoken": spoken},
        }
        try:
            self.announce(message)
        except Exception:  # noqa: BLE001 - the log line below is then the only alert
            logger.exception("could not hand on the technical alert: %s", content)

    def snapshot(self) -> dict[str, Any]:
        """What ``speakerd status`` shows, as plain data."""
        with self._lock:
            return {
                "troubles": [
                    {"subject": t.subject, "kind": t.kind, "reason": t.reason, "since": t.since, "outage": t.outage_id is not None, "reminders": t.reminders}
                    for t in self.troubles.values()
                ],
                "last_ok": dict(self.last_ok),
            }


SOURCE = "source:"  # the subject of a source under sources: is SOURCE + its name (+ " data", " log" for its data, its log)


def source_subject(name: str) -> str:
    return SOURCE + name


def source_of(subject: str) -> tuple[str, str] | None:
    """``(name, part)`` of a source's subject (``source:NAME`` → part "", ``source:NAME log`` → "log"), or None for another."""
    if not subject.startswith(SOURCE):
        return None
    name, _, part = subject.removeprefix(SOURCE).partition(" ")
    return name, part


OUTPUT_WORDS = {"speech": "音箱播放", "push": "推送", "display": "屏幕显示", "fleet": "发往部门音箱", "log": "消息日志"}


def subject_words(subject: str) -> str:
    if subject.startswith("output:"):
        name = subject.split(":", 1)[1]
        return OUTPUT_WORDS.get(name, f"输出“{name}”")
    if subject.startswith("device:"):
        return f"音箱“{subject.split(':', 1)[1]}”"
    source = source_of(subject)
    if source is not None:
        name, part = source
        return f"来源“{app_name(name)}”的" + {"data": "数据", "log": "消息记录"}.get(part, "连接")
    return {"platform": "平台连接", "platform data": "平台发来的数据", "platform log": "平台的消息记录", "backup": "数据库备份", "backup copy": "备份的外部复制", "disk": "设备存储空间", "database": "设备数据库",
            "broker": "与主机的连接", "hearing": "从消息服务器收消息"}.get(subject, subject)
