"""What the benchmarks read from the side: a process's memory and CPU from /proc, counts from its database."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path

TICKS = os.sysconf("SC_CLK_TCK")


def memory_mib(pid, field="VmRSS"):
    """``VmRSS`` (now) or ``VmHWM`` (peak) of ``pid``, in MiB."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    except OSError:  # it has just ended
        pass
    return 0.0


def children(pid):
    """The pids whose parent is ``pid``."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            if int(stat.read_text().rsplit(")", 1)[1].split()[1]) == pid:
                found.append(int(stat.parent.name))
        except (OSError, IndexError, ValueError):
            continue
    return found


def cpu_seconds(pid):
    """User plus system CPU time ``pid`` has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / TICKS


def count(db, sql, missing=0):
    """The first value ``sql`` selects, read-only (the daemon keeps writing); ``missing`` before the database exists."""
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=5) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return missing
