"""The package's annotations hold: mypy (not strict mode) checks speakerd/ as configured in pyproject.toml."""

import subprocess
import sys

from .conftest import ROOT


def test_the_package_type_checks(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mypy", "--cache-dir", str(tmp_path / "mypy-cache")],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stdout + result.stderr
