"""Two malloc arenas for the whole daemon, so its memory stays flat through a day of speaking.

glibc gives each thread that allocates its own arena, up to eight per core,
and keeps what is freed there for that arena's next use. The daemon's threads
(one per output, one per source, the synthesis helpers of each announcement)
all pass audio buffers, SQLite pages and JSON through malloc: at an office
peak the daemon grew from 100 to 130 MiB in ten minutes and was still
growing, where with two arenas it stayed at 100 MiB (``bench/peak.py`` with
the daemon's RSS sampled, docs/performance.md). Its threads seldom allocate
at the same moment, so sharing two arenas costs nothing measurable.

Set with ``mallopt`` when the service starts, before its threads exist; the
``MALLOC_ARENA_MAX`` variable would do the same but only when set before the
process starts, which a user running ``speakerd run`` by hand would not do.
Elsewhere than glibc (musl) nothing happens.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging

logger = logging.getLogger(__name__)

M_ARENA_MAX = -8  # glibc's malloc.h
ARENAS = 2


def limit(count: int = ARENAS) -> bool:
    """Let the process's threads share at most ``count`` arenas from now on; whether the C library took it."""
    try:
        mallopt = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6").mallopt
    except (OSError, AttributeError):
        return False
    mallopt.argtypes, mallopt.restype = [ctypes.c_int, ctypes.c_int], ctypes.c_int
    taken = bool(mallopt(M_ARENA_MAX, count))
    if not taken:
        logger.debug("malloc arenas not limited: this C library does not take M_ARENA_MAX")
    return taken
