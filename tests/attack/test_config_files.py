"""Hostile config files given to the real command: each refused at once, named, in bounded memory."""

from __future__ import annotations

import os
import resource
import subprocess
import sys
import time

import pytest

from tests.test_hostile import route_bomb


def check(path):
    """``speakerd check-config`` in a child: (exit code, stderr, seconds, the child's peak RSS in MiB)."""
    began = time.monotonic()
    done = subprocess.run([sys.executable, "-m", "speakerd", "check-config", "-c", str(path)], capture_output=True, text=True, timeout=60)
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    return done.returncode, done.stderr, time.monotonic() - began, peak


@pytest.mark.parametrize("kind, said", [
    ("fifo", "not a regular file"), ("device", "not a regular file"), ("huge", "more than a config may have"),
    ("bomb", "expands to more than"), ("binary", "cannot read"),
])
def test_a_hostile_config_file_is_refused_at_once_naming_why(tmp_path, kind, said):
    path = {"fifo": tmp_path / "fifo", "device": "/dev/zero"}.get(kind, tmp_path / "config.yaml")
    if kind == "fifo":
        os.mkfifo(path)
    elif kind == "huge":
        path.write_text("# padding\n" * 200_000)
    elif kind == "bomb":
        path.write_text(route_bomb(), encoding="utf-8")
    elif kind == "binary":
        path.write_bytes(os.urandom(4096))
    code, err, seconds, peak = check(path)
    assert code != 0 and said in err, err
    assert seconds < 15  # the interpreter's start is most of it
    assert peak < 300  # MiB: a bomb is measured, never expanded
    assert "Traceback" not in err
