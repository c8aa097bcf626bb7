"""The docs stay true: every setting documented and in the example, every command described."""

import re

import pytest

from speakerd.cli import build_parser
from speakerd.config import Config
from speakerd.configdoc import render
from speakerd.schema import describe

from .conftest import EXAMPLE, ROOT

README = (ROOT / "README.md").read_text(encoding="utf-8")
COMMANDS = build_parser()._subparsers._group_actions[0].choices


def test_config_reference_is_current():
    path = ROOT / "docs" / "config.md"
    text = path.read_text(encoding="utf-8")
    assert text == render(text), "docs/config.md is stale: run python -m speakerd.configdoc docs/config.md"


@pytest.mark.parametrize("path", [p for p, _, f in describe(Config)])
def test_every_setting_has_help_and_appears_in_the_example(path):
    fields = {p: f for p, _, f in describe(Config)}
    assert fields[path].metadata.get("help"), f"{path} has no help text"
    key = path.rsplit(".", 1)[-1]
    assert re.search(rf"(^|[\s{{,])#?\s*{re.escape(key)}:", EXAMPLE.read_text(encoding="utf-8"), re.M), f"{key} not in config.yaml"


@pytest.mark.parametrize("name", sorted(COMMANDS))
def test_every_command_has_help_and_is_in_the_readme(name):
    assert COMMANDS[name].description
    assert f"speakerd {name}" in README


def test_readme_test_command_is_what_ci_runs():
    command = re.search(r"^\.venv/bin/python -m pytest.*$", README, re.M).group(0)
    assert command in (ROOT / ".ci" / "run").read_text().splitlines()


def test_packaged_example_is_the_shipped_config():
    packaged = ROOT / "speakerd" / "example_config.yaml"
    assert packaged.read_bytes() == EXAMPLE.read_bytes()
