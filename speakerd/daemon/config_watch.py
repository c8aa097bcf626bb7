"""Notices that config.yaml changed on disk, by modification time, size or inode.

The inode catches editors that write a new file and rename it over the old
one; the page's own saves reload at once and are noticed here too, harmlessly.
"""

from __future__ import annotations

import os
from pathlib import Path


def _stamp(path: str | Path) -> tuple[int, int, int] | None:
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class ConfigWatch:
    def __init__(self, path: str | Path) -> None:
        self.path = path
        self._stamp = _stamp(path)

    def changed(self) -> bool:
        """Whether the file differs from when it was last :meth:`mark`-ed (or first seen)."""
        return _stamp(self.path) != self._stamp

    def mark(self) -> None:
        """The file as it is now is the one in force."""
        self._stamp = _stamp(self.path)
