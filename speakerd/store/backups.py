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
import re
import shutil
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path

logger = logging.getLogger(__name__)

FOLDER = "backups"
KEEP = 3
PREFIX = "speakerd-"
RESERVE = 64 * 1024 * 1024  # bytes a backup leaves free beside itself: new messages must still be storable
_NUMBERED = re.compile(rf"{PREFIX}(\d{{6}})-")


class BackupError(OSError):
    """No backup was taken; nothing of one is left behind. The reason is for a person."""


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


def take(database: Path, keep: int = KEEP, reserve: int = RESERVE) -> Path:
    """A consistent copy of the live database into the backups folder; the oldest beyond ``keep`` are removed.

    Raises :class:`BackupError` when the disk has no room for the copy and ``reserve`` beside it (checked first:
    a backup must never take the last space new messages need), or when the copy fails; its partial file is
    removed either way. Backups are numbered, so their order never depends on the clock (a Pi's is wrong at boot).
    """
    where = folder(database)
    where.mkdir(mode=0o750, exist_ok=True)
    _make_room(database, where, reserve)
    target = where / f"{PREFIX}{_next_number(where):06d}-{time.strftime('%Y%m%d-%H%M%S')}.db"
    partial = target.with_suffix(".partial")
    try:
        snapshot(database, partial)
        partial.rename(target)
    except (OSError, sqlite3.Error) as exc:
        for leftover in ("", "-journal", "-wal", "-shm"):
            Path(f"{partial}{leftover}").unlink(missing_ok=True)
        raise BackupError(f"the backup of {database} failed ({exc}); its partial file was removed") from None
    for old in backups(database)[keep:]:
        old.unlink(missing_ok=True)
    return target


def snapshot(database: Path, target: Path) -> None:
    """A consistent copy of the live database at ``target``, with SQLite's online backup API."""
    src = sqlite3.connect(f"file:{database}?mode=ro", uri=True, timeout=30)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst, pages=1024, sleep=0.005)  # in steps, so the daemon's writers are never held up for long
    finally:
        dst.close()
        src.close()


def _make_room(database: Path, where: Path, reserve: int) -> None:
    for stale in where.glob(f"{PREFIX}*.partial*"):  # left by a power cut in the middle of one
        stale.unlink(missing_ok=True)
    need = Path(database).stat().st_size + reserve
    free = shutil.disk_usage(where).free
    if free < need:
        raise BackupError(f"no backup taken: {free // 2**20} MB free on the disk holding {where}, a copy needs "
                          f"{need // 2**20} MB with the space kept for new messages")


def _number(path: Path) -> int:
    """A backup's sequence number; the unnumbered ones of earlier versions come first."""
    found = _NUMBERED.match(path.name)
    return int(found.group(1)) if found else 0


def _next_number(where: Path) -> int:
    return max((_number(p) for p in where.glob(f"{PREFIX}*.db")), default=0) + 1


def backups(database: Path) -> list[Path]:
    """The backups, newest (highest number) first."""
    return sorted(folder(database).glob(f"{PREFIX}*.db"), key=lambda p: (_number(p), p.name), reverse=True)


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
