"""The docs stay true: every setting documented and in the example, every command described."""

import re

import pytest

from speakerd.cli import build_parser
from speakerd.config import Config
from speakerd.config.reference import render
from speakerd.config.schema import describe

from .conftest import EXAMPLE, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = build_parser()._subparsers._group_actions[0].choices


def test_config_reference_is_current():
    path = ROOT / "docs" / "config.md"
    text = path.read_text(encoding="utf-8")
    assert text == render(text), "docs/config.md is stale: run python -m speakerd.config.reference docs/config.md"


def example_paths(text):
    """Every key's full dotted path in the example, commented-out ones and flow mappings too; list items as ``[]``.

    The route tree nests itself (``route.routes[].match``): its paths are read as the schema writes them (``route.match``).
    """
    paths, stack = set(), []  # (indent, segment)

    def add(indent, segment):
        while stack and stack[-1][0] >= indent:
            stack.pop()
        stack.append((indent, segment))
        paths.add(".".join(seg for _, seg in stack).replace(".[]", "[]"))

    for line in text.splitlines():
        match = re.match(r"^(\s*)(?:#\s?)?(-\s+)?(.*)$", line)
        indent, dash, rest = len(match.group(1)), match.group(2), match.group(3)
        if dash:
            add(indent, "[]")
            indent += len(dash)
        flow = re.match(r"^\{(.*)\}", rest)
        key = re.match(r"^([A-Za-z_][\w-]*):(\s+\{(.*)\}|\s|$)", rest)
        if key:
            add(indent, key.group(1))
            flow = re.match(r"(.*)", key.group(3)) if key.group(3) is not None else None
            indent += 1
        if flow:
            depth = len(stack)
            for inner in re.findall(r"([A-Za-z_][\w-]*):", flow.group(1)):
                del stack[depth:]
                add(indent + 1, inner)
    return {re.sub(r"^route\.(routes\[\]\.)+", "route.", p) for p in paths}


def matches(schema_path, example_path):
    want, have = schema_path.replace("[]", ".[]").split("."), example_path.replace("[]", ".[]").split(".")
    return len(want) == len(have) and all(w == h or w == "<id>" for w, h in zip(want, have, strict=True))


EXAMPLE_PATHS = example_paths(EXAMPLE.read_text(encoding="utf-8"))


@pytest.mark.parametrize("path", [p for p, _, f in describe(Config)])
def test_every_setting_has_help_and_appears_in_the_example(path):
    fields = {p: f for p, _, f in describe(Config)}
    assert fields[path].metadata.get("help"), f"{path} has no help text"
    same = {path, re.sub(r"^sources\.<id>\.", "platform.", path), re.sub(r"^platform\.", "sources.<id>.", path)}  # one kind of section
    assert any(matches(p, found) for p in same for found in EXAMPLE_PATHS), f"{path} not in config.yaml"


def test_the_example_check_tells_settings_with_the_same_last_key_apart():
    """Regression: the check matched the last key only, so 24 settings passed whatever the example held."""
    paths = example_paths("speech:\n  volume: 0.8\n  # stale_after: 30\npush:\n  timeout: 10\n")
    assert paths == {"speech", "speech.volume", "speech.stale_after", "push", "push.timeout"}
    assert not any(matches("platform.timeout", p) for p in paths)
    assert matches("categories.<id>.escalate[].after", "categories.finance.escalate[].after")


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_and_is_in_the_readme(name):
    assert COMMANDS[name].description
    assert f"speakerd {name}" in README


def test_readme_test_command_is_what_ci_runs():
    command = re.search(r"^\.venv/bin/python -m pytest.*$", README, re.M).group(0)
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_packaged_example_is_the_shipped_config():
    packaged = ROOT / "speakerd" / "config" / "example_config.yaml"
    assert packaged.read_bytes() == EXAMPLE.read_bytes()


def test_the_developer_set_up_says_how_to_type_plain_speakerd():
    """Regression: docs say 'speakerd …' but the developer set-up left it only in .venv/bin."""
    assert "source .venv/bin/activate" in (ROOT / "scripts" / "dev-setup").read_text(encoding="utf-8")
    assert 'ln -sf "$PREFIX/venv/bin/speakerd" /usr/local/bin/speakerd' in (ROOT / "scripts" / "install.sh").read_text(encoding="utf-8")
