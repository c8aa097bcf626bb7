"""A device's whole set-up in one file that leaves it: config, database snapshot, web password, uploaded sounds.

The daily backups stay on the same SD card as the data they protect; this
file is what an owner downloads (or a daily copy writes elsewhere) to
replace a dead device. Restoring checks every member before anything is
written: only the known names, no path outside the device's folders, a
database that passes SQLite's check, a config that loads. The database is
not swapped under a running daemon: it is staged beside the live one and put
in place at the next start (:func:`apply_staged`).
"""

from __future__ import annotations

import io
import logging
import tarfile
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from speakerd.store.backups import quick_check, snapshot

logger = logging.getLogger(__name__)

CONFIG, DATABASE, PASSWORD, SOUNDS = "config.yaml", "speakerd.db", "web-password", "sounds/"
STAGED = ".restore"  # the database waiting beside the live one for the next start
MOST_BYTES = 2 * 1024**3  # a restore larger than this is no backup of a shop's device


class ArchiveError(ValueError):
    """The file is not a backup this device can restore; the reason is for a person."""


@dataclass(frozen=True)
class Paths:
    config: Path
    database: Path
    password: Path
    sounds: Path


def pack(paths: Paths, taken: Path | None = None) -> bytes:
    """The backup as tar.gz bytes: a consistent snapshot of the live database and the files. ``taken``: a snapshot
    made already (the day's backup), used as it is instead of a second copy of the live database."""
    out = io.BytesIO()
    with tempfile.TemporaryDirectory(prefix="speakerd-backup-") as work:
        if taken is None:
            taken = Path(work) / DATABASE
            snapshot(paths.database, taken)
        with tarfile.open(fileobj=out, mode="w:gz") as tar:
            tar.add(paths.config, CONFIG)
            tar.add(taken, DATABASE)
            if paths.password.exists():
                tar.add(paths.password, PASSWORD)
            for sound in sorted(paths.sounds.glob("*")) if paths.sounds.is_dir() else []:
                tar.add(sound, SOUNDS + sound.name)
    return out.getvalue()


def restore(data: bytes, paths: Paths, check_config: Callable[[str], None]) -> list[str]:
    """Write the backup's files in place and stage its database; returns what was restored. Raises ArchiveError.

    ``check_config(text)`` raises ValueError when the backup's config would not load here.
    """
    members = _read(data)
    if CONFIG not in members or DATABASE not in members:
        raise ArchiveError("this is not a speakerd backup: it holds no config.yaml and speakerd.db")
    try:
        check_config(members[CONFIG].decode("utf-8"))
    except (ValueError, UnicodeDecodeError) as exc:
        raise ArchiveError(f"the backup's config.yaml does not load here: {exc}") from None
    staged = paths.database.with_name(paths.database.name + STAGED)
    staged.write_bytes(members[DATABASE])
    problem = quick_check(staged)
    if problem is not None:
        staged.unlink(missing_ok=True)
        raise ArchiveError(f"the backup's database is damaged: {problem}")
    _replace(paths.config, members[CONFIG])
    done = [CONFIG, DATABASE]
    if PASSWORD in members:
        _replace(paths.password, members[PASSWORD])
        done.append(PASSWORD)
    sounds = {name[len(SOUNDS):]: body for name, body in members.items() if name.startswith(SOUNDS)}
    if sounds:
        paths.sounds.mkdir(parents=True, exist_ok=True)
        for name, body in sounds.items():
            _replace(paths.sounds / name, body)
        done.append(f"{len(sounds)} sounds")
    return done


def apply_staged(database: Path) -> bool:
    """At start, before the database opens: a restored database waiting beside it takes its place (the old one kept)."""
    staged = database.with_name(database.name + STAGED)
    if not staged.exists():
        return False
    if database.exists():
        database.rename(database.with_name(f"{database.name}.before-restore-{time.strftime('%Y%m%d-%H%M%S')}"))
    for suffix in ("-wal", "-shm"):
        Path(f"{database}{suffix}").unlink(missing_ok=True)
    staged.rename(database)
    logger.warning("database restored from a backup file; the one before it is kept beside it")
    return True


def _read(data: bytes) -> dict[str, bytes]:
    """The members by name, each checked: known names only, regular files, within the size bound."""
    if len(data) > MOST_BYTES:
        raise ArchiveError("the file is larger than any backup of this device")
    try:
        tar = tarfile.open(fileobj=io.BytesIO(data), mode="r:gz")
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise ArchiveError(f"not a backup file (.tar.gz): {exc}") from None
    found: dict[str, bytes] = {}
    total = 0
    with tar:
        for member in tar:
            name = member.name
            plain = name in (CONFIG, DATABASE, PASSWORD) or (name.startswith(SOUNDS) and _plain_name(name[len(SOUNDS):]))
            if not member.isfile() or not plain:
                raise ArchiveError(f"the backup holds {name!r}, which no backup of this device has")
            total += member.size
            if total > MOST_BYTES:
                raise ArchiveError("the backup unpacks to more than any backup of this device")
            extracted = tar.extractfile(member)
            found[name] = extracted.read() if extracted else b""
    return found


def _plain_name(name: str) -> bool:
    return bool(name) and "/" not in name and "\\" not in name and not name.startswith(".")


def _replace(path: Path, body: bytes) -> None:
    """Write ``body`` to ``path`` whole or not at all (no partial file left), keeping the mode of the file it replaces."""
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".partial")
    try:
        partial.write_bytes(body)
        if path.exists():
            partial.chmod(path.stat().st_mode & 0o777)
        partial.replace(path)
    except OSError:
        partial.unlink(missing_ok=True)
        raise


COPY_PREFIX = "speakerd-backup-"
COPIES_KEPT = 7


def copy_out(data: bytes, where: Path, keep: int = COPIES_KEPT) -> Path:
    """The backup written into ``where`` (a USB stick, a network share), whole or not at all; the oldest past ``keep``
    removed. Numbered, so their order never depends on the clock. Raises OSError with the reason."""
    if not where.is_dir():
        raise OSError(f"{where} is not there (is the USB stick plugged in, the network share mounted?)")
    numbers = [int(p.name[len(COPY_PREFIX):][:6]) for p in where.glob(f"{COPY_PREFIX}[0-9][0-9][0-9][0-9][0-9][0-9]-*.tar.gz")]
    target = where / f"{COPY_PREFIX}{max(numbers, default=0) + 1:06d}-{time.strftime('%Y%m%d-%H%M%S')}.tar.gz"
    _replace(target, data)
    for old in sorted(where.glob(f"{COPY_PREFIX}[0-9]*.tar.gz"), reverse=True)[keep:]:
        old.unlink(missing_ok=True)
    return target
