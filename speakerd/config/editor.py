"""Changes config.yaml the way a careful person would: keeping every comment, checking first, never clobbering.

The settings page hands over changes as ``{dotted path: value}``. They are
applied to the file as it is *now*, read with ruamel.yaml's round-trip mode
so comments, order and layout stay; the result is checked by the very code
``check-config`` runs; only then is it written, atomically, with the
previous file kept as ``config.yaml.bak``. A form carries the version (a
hash) of the file it was made from: if the file changed since (someone
edited it over SSH), :class:`Conflict` asks instead of overwriting.
"""

from __future__ import annotations

import hashlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from speakerd import config as config_mod
from speakerd.errors import ConfigError, SpeakerdError

_PROBLEM = re.compile(r"^.*?:\d+: (?P<path>[^:]+): (?P<reason>.*)$")


class Conflict(SpeakerdError):
    """The file changed since the form was made; ``version`` is its version now."""

    def __init__(self, version) -> None:
        self.version = version
        super().__init__("config.yaml was changed by someone else since this page was opened")


class Invalid(SpeakerdError):
    """The change would make the config invalid; ``errors`` maps a setting's path to why."""

    def __init__(self, errors) -> None:
        self.errors = errors
        super().__init__("; ".join(f"{k}: {v}" for k, v in errors.items()))


def round_trip_yaml(text: str = "") -> Any:
    """A round-trip YAML that writes with the file's own indentation (ruamel applies one style to all)."""
    from ruamel.yaml.util import load_yaml_guess_indent

    mapping, sequence, offset = 2, 4, 2
    if text.strip():
        try:
            _, sequence, offset = load_yaml_guess_indent(text)
        except Exception:  # noqa: BLE001 - unreadable: load() says why
            pass
        indents = [len(m) for m in re.findall(r"(?m)^( +)[^\s#-]", text)]
        mapping = min(indents) if indents else 2
        sequence, offset = sequence or mapping, offset or 0
    yaml = YAML()
    yaml.preserve_quotes = True
    yaml.width = 4096  # never fold a long line the person wrote on one
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    return yaml


def version_of(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:16]


def _split(path):
    """'subsystems.mall.departments.orders.staff' → keys; '[2]' parts become list indexes."""
    keys = []
    for part in path.split("."):
        name, indexes = re.fullmatch(r"([^\[]*)((?:\[\d+\])*)", part).groups()
        keys += [name] if name else []
        keys += [int(i) for i in re.findall(r"\d+", indexes)]
    return keys


class ConfigFile:
    def __init__(self, path) -> None:
        self.path = Path(path)

    def read(self) -> tuple[str, str]:
        """``(text, version)`` of the file now."""
        text = self.path.read_text(encoding="utf-8")
        return text, version_of(text)

    def apply(self, changes: dict[str, Any], version: str, force: bool = False, edit: Callable[[Any], None] | None = None) -> str:
        """Apply ``changes`` (and ``edit(document)``) to the file as it is; check; save. Returns the new version.

        Raises Conflict when the file is not at ``version`` (unless ``force``),
        Invalid when the result would not load, OSError when it cannot be written.
        """
        text, current = self.read()
        if current != version and not force:
            raise Conflict(current)
        yaml = round_trip_yaml(text)
        doc = yaml.load(text) or CommentedMap()
        for path, value in changes.items():
            set_path(doc, _split(path), value)
        if edit is not None:
            edit(doc)
        out = io.StringIO()
        try:
            yaml.dump(doc, out)
        except RecursionError:
            raise Invalid({"": "nested too deeply to write"}) from None
        new_text = out.getvalue()
        try:
            config_mod.parse_text(new_text, self.path.name)
        except ConfigError as exc:
            raise Invalid(problems_by_path(exc.problems)) from None
        self._write(new_text)
        return version_of(new_text)

    def _write(self, text):
        """Write ``text`` atomically, keeping the previous file as .bak, with the same owner and mode."""
        st = self.path.stat()
        fd, tmp = tempfile.mkstemp(prefix=".config-", suffix=".yaml", dir=self.path.parent)
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                f.write(text)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, st.st_mode & 0o777)
            shutil.copy2(self.path, self.path.with_name(self.path.name + ".bak"))
            os.replace(tmp, self.path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise


def set_path(node: Any, keys: list[str], value: Any) -> None:
    """Set ``value`` at ``keys`` inside a round-trip document, making the maps on the way."""
    for key, following in zip(keys, keys[1:]):
        child = node[key] if _has(node, key) else None
        if child is None:
            child = CommentedSeq() if isinstance(following, int) else CommentedMap()
            node[key] = child
        node = child
    last = keys[-1]
    if value is DELETE:
        if _has(node, last):
            del node[last]
    else:
        node[last] = value


def node_at(node: Any, keys: list[Any]) -> Any:
    """The part of a round-trip document at ``keys`` (which must exist)."""
    for key in keys:
        node = node[key]
    return node


def _has(node, key):
    return key < len(node) if isinstance(key, int) else key in node


DELETE = object()


def problems_by_path(problems: list[str]) -> dict[str, str]:
    """``{'platform.poll_interval': 'must be at least 0.2'}`` from check-config's lines."""
    out: dict[str, str] = {}
    for line in problems:
        m = _PROBLEM.match(line)
        if m:
            out.setdefault(m["path"], m["reason"])
        else:
            out.setdefault("", line)
    return out


def flow_map(values: dict[str, Any]) -> Any:
    """A mapping written on one line, as the shipped config writes staff: {id: "001", name: 李娜}."""
    m = CommentedMap(values)
    m.fa.set_flow_style()
    return m


def flow_seq(values: list[Any]) -> Any:
    s = CommentedSeq(values)
    s.fa.set_flow_style()
    return s
