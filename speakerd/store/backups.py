"""Keeping the database whole: an integrity check, rotating online backups, and restoring the newest good one.

An SD card that loses a few sectors leaves an SQLite file that still opens
and fails later, page by page, in whatever part touches the damage. So the
file is checked (``PRAGMA quick_check``) before the daemon opens it and
once a day, and a copy is taken each day with SQLite's online backup API,
which copies a consistent snapshot while the daemon keeps writing.

On damage at start the file and its journal are moved aside (kept for
whoever wants to look), the newest backup that passes the same check is put
in its place, and the daemon starts on it. Its platform cursor is the
backup's, so the platform resends what arrived since, and the inbox's
dedupe keeps each message once: what is lost is the acknowledgements and
deliveries made since the backup, never a message.
"""

from __future__ import annotations

import logging
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

FOLDER = "backups"
KEEP = 3
PREFIX = "speakerd-"


@dataclass(frozen=True)
class Restored:
    problem: str  # what the check found
    damaged: Path  # where the damaged file was put
    backup: Path | None  # the backup now in use; None: none was good, the database starts empty


def quick_check(path: Path) -> str | None:
    """None when the database at ``path`` is whole, else what is wrong (a file that is not a database included)."""
    try:
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True, timeout=30)
    except sqlite3.Error as exc:
        return str(exc)
    try:
        rows = [r[0] for r in conn.execute("pragma quick_check(5)")]
    except sqlite3.DatabaseError as exc:
        return str(exc)
    finally:
        conn.close()
    return None if rows == ["ok"] else "; ".join(rows)


def folder(database: Path) -> Path:
    return Path(database).parent / FOLDER


def take(database: Path, keep: int = KEEP) -> Path:
    """A consistent copy of the live database into the backups folder; the oldest beyond ``keep`` are removed."""
    where = folder(database)
    where.mkdir(mode=0o750, exist_ok=True)
    target = where / f"{PREFIX}{time.strftime('%Y%m%d-%H%M%S')}.db"
    partial = target.with_suffix(".partial")
    src = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(partial)
    try:
        src.backup(dst, pages=1024, sleep=0.005)  # in steps, so the daemon's writers are never held up for long
    finally:
        dst.close()
        src.close()
    partial.rename(target)
    for old in sorted(where.glob(f"{PREFIX}*.db"))[:-keep]:
        old.unlink(missing_ok=True)
    return target


def backups(database: Path) -> list[Path]:
    """The backups, newest first."""
    return sorted(folder(database).glob(f"{PREFIX}*.db"), reverse=True)


def recover(database: Path) -> Restored | None:
    """Before the database is opened: None when it is whole (or not there yet), else restore and say how."""
    database = Path(database)
    if not database.exists():
        return None
    problem = quick_check(database)
    if problem is None:
        return None
    stamp = time.strftime("%Y%m%d-%H%M%S")
    damaged = database.with_name(f"{database.name}.damaged-{stamp}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{database}{suffix}")
        if part.exists():
            part.rename(Path(f"{damaged}{suffix}"))
    good = next((b for b in backups(database) if quick_check(b) is None), None)
    if good is not None:
        shutil.copy2(good, database)
    logger.error("database %s is damaged (%s); kept aside as %s; %s", database, problem, damaged.name,
                 f"restored the backup {good.name}" if good else "no good backup: starting with an empty database")
    return Restored(problem, damaged, good)
