"""Turns a YAML node tree into frozen dataclasses, collecting every fault with its line.

The dataclasses in :mod:`speakerd.config` *are* the schema: their type hints say
what each value may be and :func:`setting` attaches the default, the help text
and the constraints. This module knows nothing about speakerd's settings; it
only knows how to read a YAML node as a given type and say precisely, with
file and line, why it cannot.
"""

from __future__ import annotations

import dataclasses
import difflib
import math
import types
import typing
from collections.abc import Callable, Iterator
from dataclasses import MISSING, dataclass, field
from typing import Any

import yaml


class Secret(str):
    """A string that never shows itself in a repr, an error or a page."""

    def __repr__(self) -> str:
        return "'********'" if self else "''"

    def masked(self) -> str:
        return "********" if self else ""


class Seconds(float):
    """A span of time as people write it: ``30s``, ``5m``, ``1h``, ``1.5h`` or a plain number of seconds."""

    UNITS = {"s": 1, "m": 60, "h": 3600}

    @classmethod
    def parse(cls, text: str) -> Seconds:
        written = text.strip().lower()
        unit = cls.UNITS.get(written[-1:], 0) if written else 0
        number = written[:-1] if unit else written
        try:
            value = float(number) * (unit or 1)
        except ValueError:
            raise ValueError(f"must be a time such as 30s, 5m or 1h, or a number of seconds (got {text!r})") from None
        if not math.isfinite(value):
            raise ValueError(f"must be a finite time (got {text!r})")
        return cls(value)


def setting(default: Any = MISSING, help: str = "", *, factory: Callable[[], Any] | None = None, minimum: float | None = None,
            maximum: float | None = None, check: Callable[[Any], None] | None = None, key: str | None = None) -> Any:
    """Declare one setting: default, help text and constraints, in one place."""
    metadata = {"help": help, "minimum": minimum, "maximum": maximum, "check": check, "key": key}
    if factory is not None:
        return field(default_factory=factory, metadata=metadata)
    return field(default=default, metadata=metadata)


@dataclass(frozen=True)
class Problem:
    line: int
    path: str
    reason: str

    def format(self, source: str) -> str:
        return f"{source}:{self.line}: {self.path or '(top level)'}: {self.reason}"


def yaml_key(f: dataclasses.Field) -> str:
    return f.metadata.get("key") or f.name


class Builder:
    """Reads one YAML document as a dataclass; remembers the line of every path it saw."""

    def __init__(self) -> None:
        self.problems: list[Problem] = []
        self.lines: dict[str, int] = {}
        self._loader = yaml.SafeLoader("")

    def problem(self, line: int, path: str, reason: str) -> None:
        self.problems.append(Problem(line, path, reason))

    def declared(self, prefix: str, depth: int) -> set[str]:
        """Keys written in the file at ``prefix.<key>`` (``depth`` dots below the top), faulty or not."""
        return {p.split(".")[depth] for p in self.lines if p.startswith(prefix) and p.count(".") >= depth}

    def line_of(self, path: str) -> int:
        """The line of ``path`` or of its nearest ancestor that was seen."""
        while path and path not in self.lines:
            path = path.rpartition(".")[0] if "." in path else ""
        return self.lines.get(path, 1)

    def build(self, tp: Any, node: yaml.Node, path: str) -> Any:
        """Return ``node`` read as ``tp``, or ``MISSING`` after recording why it cannot be."""
        self.lines.setdefault(path, node.start_mark.line + 1)
        origin = typing.get_origin(tp)
        if dataclasses.is_dataclass(tp):
            return self._dataclass(tp, node, path)
        if origin in (typing.Union, types.UnionType):
            return self._optional(tp, node, path)
        if origin is tuple:
            return self._sequence(typing.get_args(tp)[0], node, path)
        if origin is dict:
            return self._mapping(typing.get_args(tp)[1], node, path)
        if origin is typing.Literal:
            return self._choice(typing.get_args(tp), node, path)
        return self._scalar(tp, node, path)

    def _expect(self, node, node_type, path, what) -> bool:
        if isinstance(node, node_type):
            return True
        self.problem(node.start_mark.line + 1, path, f"must be {what}, not {_describe(node)}")
        return False

    def _dataclass(self, cls, node, path):
        if not self._expect(node, yaml.MappingNode, path, "a section of settings"):
            return MISSING
        fields = {yaml_key(f): f for f in dataclasses.fields(cls) if f.init}
        hints = typing.get_type_hints(cls)
        values, seen = {}, set()
        for key_node, value_node in node.value:
            key = key_node.value
            sub = f"{path}.{key}" if path else key
            line = key_node.start_mark.line + 1
            if key in seen:
                self.problem(line, sub, "appears twice in the same section; keep one")
                continue
            seen.add(key)
            if key not in fields:
                self.problem(line, sub, _unknown_key(key, fields))
                continue
            self.lines[sub] = line
            f = fields[key]
            value = self.build(hints[f.name], value_node, sub)
            if value is not MISSING:
                value = self._constrain(f, value, value_node, sub, hints[f.name])
            if value is not MISSING:
                values[f.name] = value
        for key, f in fields.items():
            if key not in seen and f.default is MISSING and f.default_factory is MISSING:
                self.problem(node.start_mark.line + 1, f"{path}.{key}" if path else key, "required setting is missing")
        try:
            return cls(**values)
        except TypeError:
            return MISSING  # a value was faulty; the fault is recorded already

    def _constrain(self, f, value, node, path, tp):
        line = node.start_mark.line + 1
        shown = "" if tp is Secret else f" (got {value!r})"
        low, high, check = f.metadata.get("minimum"), f.metadata.get("maximum"), f.metadata.get("check")
        if low is not None and value < low:
            self.problem(line, path, f"must be at least {low}{shown}")
            return MISSING
        if high is not None and value > high:
            self.problem(line, path, f"must be at most {high}{shown}")
            return MISSING
        if check is not None:
            try:
                check(value)
            except ValueError as exc:
                self.problem(line, path, str(exc))
                return MISSING
        return value

    def _optional(self, tp, node, path):
        if _is_null(node):
            return None
        inner = [a for a in typing.get_args(tp) if a is not type(None)]
        return self.build(inner[0], node, path)

    def _sequence(self, item_type, node, path):
        if isinstance(node, yaml.ScalarNode) and not _is_null(node) and not dataclasses.is_dataclass(item_type):
            nodes = [node]  # a single value where a list is expected is a list of one
        elif _is_null(node):
            nodes = []
        elif self._expect(node, yaml.SequenceNode, path, "a list"):
            nodes = node.value
        else:
            return MISSING
        items = [self.build(item_type, n, f"{path}[{i}]") for i, n in enumerate(nodes)]
        # Faulty items are recorded already; keep the good ones so later checks still run.
        return tuple(item for item in items if item is not MISSING)

    def _mapping(self, value_type, node, path):
        if _is_null(node):
            return {}
        if not self._expect(node, yaml.MappingNode, path, "a section"):
            return MISSING
        out = {}
        for key_node, value_node in node.value:
            key = key_node.value
            sub = f"{path}.{key}"
            if key in out:
                self.problem(key_node.start_mark.line + 1, sub, "appears twice in the same section; keep one")
                continue
            self.lines[sub] = key_node.start_mark.line + 1
            out[key] = self.build(value_type, value_node, sub)
        return {key: value for key, value in out.items() if value is not MISSING}

    def _choice(self, choices, node, path):
        value = node.value if isinstance(node, yaml.ScalarNode) else None
        if value in choices:
            return value
        self.problem(node.start_mark.line + 1, path, f"must be one of {', '.join(choices)} (got {_shown(node)})")
        return MISSING

    def _scalar(self, tp, node, path):
        if not self._expect(node, yaml.ScalarNode, path, _WHAT.get(tp, "a value")):
            return MISSING
        if tp in (str, Secret):
            # Raw text, so that `id: 003` stays "003" instead of becoming 3.
            return tp(node.value)
        if tp is Seconds:
            try:
                return Seconds.parse(node.value)
            except ValueError as exc:
                self.problem(node.start_mark.line + 1, path, str(exc))
                return MISSING
        value = self._loader.construct_object(node)
        if tp is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not tp:
            self.problem(node.start_mark.line + 1, path, f"must be {_WHAT[tp]} (got {_shown(node)})")
            return MISSING
        return value


_WHAT = {int: "a whole number", float: "a number", bool: "true or false", str: "text", Secret: "text",
         Seconds: "a time such as 30s, 5m or 1h"}


def _is_null(node):
    return isinstance(node, yaml.ScalarNode) and node.tag == "tag:yaml.org,2002:null"


def _describe(node):
    if isinstance(node, yaml.MappingNode):
        return "a section"
    if isinstance(node, yaml.SequenceNode):
        return "a list"
    return "empty" if _is_null(node) else f"the value {node.value!r}"


def _shown(node):
    return repr(node.value) if isinstance(node, yaml.ScalarNode) else _describe(node)


def _unknown_key(key, known):
    close = difflib.get_close_matches(key, list(known), n=1, cutoff=0.6)
    hint = f"; did you mean {close[0]!r}?" if close else f"; known settings here: {', '.join(known)}"
    return "unknown setting" + hint


def parse(text: str, cls: type, source: str) -> tuple[Any, Builder]:
    """Read YAML ``text`` as ``cls``; return ``(value, builder)``. ``value`` is MISSING on faults."""
    builder = Builder()
    try:
        node = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark else 1
        builder.problem(line, "", f"not valid YAML: {getattr(exc, 'problem', None) or exc}")
        return MISSING, builder
    if node is None:
        node = yaml.compose("{}", Loader=yaml.SafeLoader)
    if expanded_size(node) > MAX_VALUES:
        builder.problem(1, "", f"the file expands to more than {MAX_VALUES} values: YAML anchors and aliases repeat what "
                               "they name, and these repeat it too often; write the settings out instead")
        return MISSING, builder
    return builder.build(cls, node, ""), builder


MAX_VALUES = 50_000  # the shipped config has about 700; a config that expands past this is an alias bomb


def expanded_size(node: yaml.Node) -> int:
    """How many values ``node`` is once every alias is expanded; counted once per shared node, so a bomb costs nothing."""
    sizes: dict[int, int] = {}

    def size(n: yaml.Node) -> int:
        if id(n) in sizes:
            return sizes[id(n)]
        sizes[id(n)] = 1  # a node that contains itself counts once; the builder refuses it anyway
        if isinstance(n, yaml.MappingNode):
            total = 1 + sum(size(k) + size(v) for k, v in n.value)
        elif isinstance(n, yaml.SequenceNode):
            total = 1 + sum(size(item) for item in n.value)
        else:
            total = 1
        sizes[id(n)] = min(total, MAX_VALUES + 1)
        return sizes[id(n)]

    return size(node)


def describe(cls: type, prefix: str = "", _seen: tuple[type, ...] = ()) -> Iterator[tuple[str, Any, dataclasses.Field[Any]]]:
    """Yield ``(path, type_hint, field)`` for every setting, collections included, for docs and tests.

    Items of a keyed section show as ``<id>``, items of a list as ``[]``; a
    section that contains itself (routes) is listed once.
    """
    hints = typing.get_type_hints(cls)
    for f in dataclasses.fields(cls):
        path = f"{prefix}.{yaml_key(f)}" if prefix else yaml_key(f)
        tp = hints[f.name]
        yield path, tp, f
        inner, suffix = _item_type(tp)
        if isinstance(inner, type) and dataclasses.is_dataclass(inner) and inner not in _seen and inner is not cls:
            yield from describe(inner, path + suffix, (*_seen, cls))


def _item_type(tp):
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is dict:
        return args[1], ".<id>"
    if origin is tuple:
        return args[0], "[]"
    return tp, ""


def type_name(tp: Any) -> str:
    """How a setting's type reads in the docs."""
    origin, args = typing.get_origin(tp), typing.get_args(tp)
    if origin is typing.Literal:
        return "one of " + ", ".join(args)
    if origin in (typing.Union, types.UnionType):
        return type_name(next(a for a in args if a is not type(None))) + " (optional)"
    if origin is tuple:
        return "list of " + ("sections" if dataclasses.is_dataclass(args[0]) else type_name(args[0]))
    if origin is dict:
        return "text by field" if args[1] is str else "lists by type" if typing.get_origin(args[1]) is tuple else "sections by id"
    if dataclasses.is_dataclass(tp):
        return "section"
    return {int: "whole number", float: "number", bool: "true/false", str: "text", Secret: "text, secret",
            Seconds: "time (30s, 5m, 1h or seconds)"}[tp]


def default_text(f: dataclasses.Field[Any]) -> str:
    if f.default is not MISSING:
        if isinstance(f.default, bool):
            return "true" if f.default else "false"
        if f.default in ((), None, ""):
            return "—" if f.default is None or f.default == () else '""'
        return f"{f.default:g}" if isinstance(f.default, float) else str(f.default)
    return "required" if f.default_factory is MISSING else "—"
