"""The layout of docs/architecture.md holds: the import contract, and modules and classes small enough to read.

The contract itself (layers, independent siblings, no import circles at any depth,
imports inside functions and under TYPE_CHECKING included) is import-linter's,
declared in setup.cfg; this runs it on every test run, so a change that breaks
the layer rule fails like any other test.
"""

from __future__ import annotations

import ast
import configparser
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "speakerd"
MODULE_LINES = 400
CLASS_LINES = 250


def test_the_import_contract_is_kept():
    """Run as its own process: import-linter builds its graph from the files on disk, as CI sees them."""
    lint = Path(sys.executable).with_name("lint-imports")
    found = subprocess.run([str(lint), "--config", str(ROOT / "setup.cfg"), "--no-cache"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert found.returncode == 0, found.stdout[-4000:] + found.stderr[-2000:]
    assert "0 broken" in found.stdout


def test_the_contract_places_every_folder_and_ground_module():
    """``exhaustive`` makes import-linter refuse a new top-level module no layer names; this says it is still on."""
    contract = configparser.ConfigParser()
    contract.read(ROOT / "setup.cfg")
    stages = contract["importlinter:contract:stages"]
    assert stages.getboolean("exhaustive")
    named = {part.strip() for line in stages["layers"].split("\n") for part in line.replace("|", ":").split(":") if part.strip()}
    present = {p.stem for p in PACKAGE.glob("*.py") if p.stem != "__init__"} | {p.name for p in PACKAGE.iterdir() if (p / "__init__.py").exists()}
    assert present == named


def _sources():
    return sorted(PACKAGE.rglob("*.py"))


@pytest.mark.parametrize("path", _sources(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_classes_are_small_enough_to_read(path):
    text = path.read_text()
    assert len(text.splitlines()) <= MODULE_LINES, f"{path.name} has more than {MODULE_LINES} lines: split it by concern"
    tree = ast.parse(text)
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef):
            assert node.end_lineno - node.lineno < CLASS_LINES, f"class {node.name} has more than {CLASS_LINES} lines"
    assert ast.get_docstring(tree), f"{path.name} says nothing of why it exists"
