"""A Pi-class CPU for the benchmarks: the daemon and its voice process in a cgroup with a CPU quota.

A proxy, documented as such (docs/performance.md), never a timed test. A Pi 4's
Cortex-A72 runs piper about nine times slower than one core of the machines
this is developed on (the sherpa-onnx RTF table for a Pi 4B, rhasspy/piper#235),
so the quota is a ninth of a core for each Pi core given (``cores``, default 1:
the voice process makes one sentence at a time on one thread, which is what
the listener waits for). cgroup v1's ``cpu.cfs_quota_us``; needs root.
"""

from __future__ import annotations

import os
from pathlib import Path

CPU = Path("/sys/fs/cgroup/cpu")
PERIOD_US = 100_000
SLOWER = 9.0


class PiProxy:
    """``wrap(argv)`` puts a command into the cgroup before it starts, so its children (the voice process) are in it too."""

    def __init__(self, cores: float = 1.0, name: str = "speakerd-pi-proxy") -> None:
        self.path = CPU / f"{name}-{os.getpid()}"
        self.quota_us = int(PERIOD_US * cores / SLOWER)

    def __enter__(self) -> PiProxy:
        if not (CPU / "cpu.cfs_quota_us").exists():
            raise SystemExit("the Pi proxy needs cgroup v1's cpu controller at /sys/fs/cgroup/cpu (and root)")
        self.path.mkdir()
        (self.path / "cpu.cfs_period_us").write_text(str(PERIOD_US))
        (self.path / "cpu.cfs_quota_us").write_text(str(self.quota_us))
        return self

    def wrap(self, argv: list[str]) -> list[str]:
        return ["sh", "-c", f'echo $$ > {self.path / "cgroup.procs"} && exec "$@"', "pi-proxy", *argv]

    def __exit__(self, *exc: object) -> None:
        for pid in (self.path / "cgroup.procs").read_text().split():
            try:
                (CPU / "cgroup.procs").write_text(pid)
            except OSError:  # it has ended meanwhile
                pass
        self.path.rmdir()

    def describe(self) -> str:
        return f"cgroup cpu quota {self.quota_us} us per {PERIOD_US} us ({self.quota_us / PERIOD_US:.3f} of one core)"
