"""Push targets chosen by service, as staff know them: the fields each needs, and the apprise URL they make.

Staff know "钉钉机器人" and the webhook address its settings show, not
``dingtalk://SEC…@TOKEN/``. Each service names its fields; :func:`build` makes
the URL from what was typed, taking the forms people paste (a whole webhook
address, or only its key). A phone number is no push target; :func:`not_a_target`
says why and what to do instead.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qs, quote, urlsplit

from flask_babel import lazy_gettext as _l

PHONE = re.compile(r"^\+?[\d\s-]{7,20}$")
KEY = re.compile(r"^[A-Za-z0-9_.~-]{4,200}$")


class Unusable(ValueError):
    """What was typed cannot make a target; ``field`` is the box at fault, the text says why (translated)."""

    def __init__(self, field: str, text: str) -> None:
        super().__init__(text)
        self.field = field


@dataclass(frozen=True)
class Field:
    name: str
    label: object  # a lazy translation
    hint: object = ""
    required: bool = True
    secret: bool = False
    default: str = ""


@dataclass(frozen=True)
class Service:
    key: str
    label: object
    about: object
    fields: tuple[Field, ...]
    build: Callable[[dict[str, str]], str]


def _webhook_key(typed: str, field: str, query_key: str = "", after: str = "") -> str:
    """The key of a robot's webhook address as pasted whole (``…?access_token=KEY``, ``…/hook/KEY``), or the key alone."""
    text = typed.strip()
    if "://" in text:
        parts = urlsplit(text)
        found = parse_qs(parts.query).get(query_key, [""])[0] if query_key else ""
        if not found and after and after in parts.path:
            found = parts.path.split(after, 1)[1].strip("/")
        text = found
    if not KEY.match(text):
        raise Unusable(field, str(_l("This is not the robot's webhook address or its key: copy the address from the robot's settings.")))
    return text


def _host(typed: str, default: str, field: str) -> tuple[str, bool]:
    """``(host[:port], secure)`` of a server box: empty is the default server; ``http://`` only when typed so."""
    text = typed.strip() or default
    secure = not text.startswith("http://")
    host = urlsplit(text if "://" in text else f"https://{text}").netloc
    if not host or not re.fullmatch(r"[A-Za-z0-9.-]+(:\d{1,5})?", host):
        raise Unusable(field, str(_l("Type the server's name, such as %(example)s.", example=default)))
    return host, secure


def _dingtalk(form: dict[str, str]) -> str:
    token = _webhook_key(form.get("webhook", ""), "webhook", "access_token")
    secret = form.get("secret", "").strip()
    if secret and not KEY.match(secret):
        raise Unusable("secret", str(_l("The signing secret starts with SEC and has only letters and digits.")))
    return f"dingtalk://{secret}@{token}/" if secret else f"dingtalk://{token}/"


def _wecom(form: dict[str, str]) -> str:
    return f"wecombot://{_webhook_key(form.get('webhook', ''), 'webhook', 'key')}"


def _feishu(form: dict[str, str]) -> str:
    return f"feishu://{_webhook_key(form.get('webhook', ''), 'webhook', after='/hook/')}"


def _bark(form: dict[str, str]) -> str:
    typed = form.get("key", "").strip()
    server = form.get("server", "")
    if "://" in typed:  # the app shows its whole address: https://api.day.app/KEY/…
        parts = urlsplit(typed)
        server, typed = server or f"{parts.scheme}://{parts.netloc}", parts.path.strip("/").split("/")[0]
    host, secure = _host(server, "api.day.app", "server")
    if not KEY.match(typed):
        raise Unusable("key", str(_l("Copy the key the Bark app shows (the part after the server's address).")))
    return f"{'barks' if secure else 'bark'}://{host}/{typed}"


def _ntfy(form: dict[str, str]) -> str:
    host, secure = _host(form.get("server", ""), "ntfy.sh", "server")
    topic = form.get("topic", "").strip()
    if not re.fullmatch(r"[A-Za-z0-9_-]{1,64}", topic):
        raise Unusable("topic", str(_l("A topic is 1 to 64 letters, digits, - or _, the same as in the ntfy app.")))
    token = form.get("token", "").strip()
    if token and not KEY.match(token):
        raise Unusable("token", str(_l("An access token has only letters, digits, - and _.")))
    return f"{'ntfys' if secure else 'ntfy'}://{token + '@' if token else ''}{host}/{topic}"


EMAIL = re.compile(r"^[^@\s:/]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}$")


def _email(form: dict[str, str]) -> str:
    sender, password = form.get("sender", "").strip(), form.get("password", "")
    if not EMAIL.match(sender):
        raise Unusable("sender", str(_l("Type the whole address, such as shop@qq.com.")))
    if not password:
        raise Unusable("password", str(_l("The mailbox's authorisation code (or password) is needed to send.")))
    to = form.get("to", "").strip() or sender
    if not EMAIL.match(to):
        raise Unusable("to", str(_l("Type the whole address, such as shop@qq.com.")))
    user, domain = sender.split("@", 1)
    query = f"?to={quote(to, safe='@')}"
    smtp = form.get("smtp", "").strip()
    if smtp:
        query += f"&smtp={quote(_host(smtp, 'smtp.qq.com', 'smtp')[0], safe=':')}"
    return f"mailtos://{quote(user, safe='')}:{quote(password, safe='')}@{domain}/{query}"


def _webhook(form: dict[str, str]) -> str:
    typed = form.get("url", "").strip()
    parts = urlsplit(typed)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise Unusable("url", str(_l("Type the whole address, starting with https://.")))
    return f"{'jsons' if parts.scheme == 'https' else 'json'}://{parts.netloc}{parts.path}{'?' + parts.query if parts.query else ''}"


ROBOT_ADDRESS = _l("Webhook address")
SERVICES = {s.key: s for s in (
    Service("dingtalk", _l("DingTalk group robot"), _l("Posts in a DingTalk group and @s the person by mobile number."),
            (Field("webhook", ROBOT_ADDRESS, _l("In the group: settings, robots, the robot, its webhook (https://oapi.dingtalk.com/robot/send?access_token=…).")),
             Field("secret", _l("Signing secret"), _l("Only if the robot's security setting is signing: the text starting with SEC."), required=False, secret=True)),
            _dingtalk),
    Service("wecom", _l("WeCom group robot"), _l("Posts in a WeCom group and @s the person by mobile number."),
            (Field("webhook", ROBOT_ADDRESS, _l("In the group: add a group robot and copy its webhook (https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…).")),),
            _wecom),
    Service("feishu", _l("Feishu group robot"), _l("Posts in a Feishu group."),
            (Field("webhook", ROBOT_ADDRESS, _l("In the group: settings, bots, add a custom bot, copy its webhook (https://open.feishu.cn/open-apis/bot/v2/hook/…).")),),
            _feishu),
    Service("bark", _l("Bark (iPhone app)"), _l("A notification on one iPhone with the free Bark app."),
            (Field("key", _l("Key or address shown in the app"), _l("The app shows an address such as https://api.day.app/AbCd…/: paste it whole.")),
             Field("server", _l("Server"), _l("Empty: the app's own server, api.day.app."), required=False)),
            _bark),
    Service("ntfy", _l("ntfy (phone app)"), _l("A notification on Android or iPhone phones and PCs subscribed to one topic in the ntfy app."),
            (Field("topic", _l("Topic"), _l("The name subscribed to in the app: hard to guess, such as shop-orders-7f3k.")),
             Field("server", _l("Server"), _l("Empty: ntfy.sh. Your own ntfy server: its name."), required=False),
             Field("token", _l("Access token"), _l("Only for a server that needs one."), required=False, secret=True)),
            _ntfy),
    Service("email", _l("E-mail"), _l("A mail from a mailbox of the shop (QQ, 163, company mail) to the person."),
            (Field("sender", _l("Sending mailbox"), _l("Such as shop@qq.com.")),
             Field("password", _l("Authorisation code"), _l("QQ and 163 mail: the SMTP authorisation code from the mailbox's settings, not the login password."), secret=True),
             Field("to", _l("Send to"), _l("Empty: the sending mailbox itself."), required=False),
             Field("smtp", _l("SMTP server"), _l("Empty for QQ, 163, Gmail and other known mailboxes."), required=False)),
            _email),
    Service("webhook", _l("Own web address (JSON)"), _l("For a company system: each message is sent to this address as JSON."),
            (Field("url", _l("Address"), _l("Such as https://erp.example.com/hooks/speaker.")),),
            _webhook),
)}


def build(service: str, form: dict[str, str]) -> str:
    """The apprise URL of ``service`` from the typed ``form``; raises Unusable naming the box at fault."""
    found = SERVICES.get(service)
    if found is None:
        raise Unusable("service", str(_l("Pick a service.")))
    for field in found.fields:
        if field.required and not form.get(field.name, "").strip():
            raise Unusable(field.name, str(_l("%(field)s is needed.", field=field.label)))
    return found.build(form)


def not_a_target(typed: str) -> str | None:
    """Why ``typed`` (pasted where a target belongs) cannot be one, when it is a phone number; else None."""
    if PHONE.match(typed.strip()):
        return str(_l("A mobile number cannot be pushed to directly. Enter it as the person's mobile (the group robots @ them by it), "
                      "and add a DingTalk or WeCom robot; or install ntfy or Bark on the phone and add that."))
    return None
