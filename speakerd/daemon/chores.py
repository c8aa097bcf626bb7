"""The daemon's scheduled chores besides polling: hourly expiry and masking, the daily digest, the daily check and backup,
the heartbeat to an outside monitor."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from speakerd.daemon.web_probe import EVERY as WEB_PROBE_EVERY
from speakerd.daemon.web_probe import WebProbe, local_url
from speakerd.device import backup_files
from speakerd.health.heartbeat import Heartbeat
from speakerd.store import StoreError, archive, backups, expiry

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.daemon.every import Every
    from speakerd.health.alerts import Health
    from speakerd.store import Store

logger = logging.getLogger(__name__)

EXPIRE_SECONDS = 3600.0
FIRST_EXPIRY_AFTER = 60.0  # seconds after start: not in the way of the first polls
SAFEGUARD_SECONDS = 86400.0
FIRST_SAFEGUARD_AFTER = 300.0


class Chores:
    """Adds its jobs to the daemon's scheduler; ``reschedule(cfg)`` after a reload that changed ``stats`` or ``health``."""

    def __init__(self, scheduler: Any, every: Every, store: Store, config: Callable[[], Config], health: Health,
                 digest: Callable[[], int], analysis: Callable[[], int] | None = None,
                 trusted: Callable[[], bool] = lambda: True, config_path: str | None = None) -> None:
        self._scheduler = scheduler  # the calendar's jobs (digest, analysis); the rest on the monotonic clock
        self._every = every
        self._store = store
        self._config = config
        self._health = health
        self._digest = digest
        self._analysis = analysis
        self._config_path = config_path
        self._trusted = trusted  # the wall clock is synchronised and has not just stepped (daemon.clock_watch)
        self.heartbeat = Heartbeat(health, config)
        self.web_probe = WebProbe(health, lambda: local_url(config().web.listen) if config().web.enabled else None, store.clock.monotonic)
        every.repeat("web-probe", WEB_PROBE_EVERY, self.web_probe.check, first=WEB_PROBE_EVERY)
        every.repeat("expire", EXPIRE_SECONDS, self.expire, first=FIRST_EXPIRY_AFTER)
        every.repeat("safeguard", SAFEGUARD_SECONDS, self.safeguard, first=FIRST_SAFEGUARD_AFTER)
        self.reschedule(config())

    def expire(self) -> None:
        if not self._trusted():
            return  # a year's step forward once expired every message, unacknowledged ones too
        try:
            expiry.expire(self._store, self._config())
            expiry.mask_old(self._store, self._config())
        except StoreError as exc:
            self._health.failing("database", "database", f"expiry failed: {exc}")

    def safeguard(self) -> None:
        """The daily integrity check, then a backup of the database as it is now good (docs/reliability.md)."""
        database = self._store.path
        problem = backups.quick_check(database)
        if problem is not None:
            logger.error("database %s failed its integrity check: %s", database, problem)
            self._health.failing("database", "damaged", f"integrity check failed: {problem}")
            return
        try:
            kept = backups.take(database)
        except (OSError, sqlite3.Error) as exc:
            logger.error("database backup failed: %s", exc)
            self._health.notice("backup", "backup_failed", str(exc))
            return
        logger.info("database checked and backed up to %s", kept)
        self.copy_out(kept)

    def copy_out(self, taken: Path | None = None) -> None:
        """The day's backup file into ``storage.copy_backups_to``: the SD card is what fails, with the backups on it.
        ``taken``: the day's backup just made, packed as it is."""
        where = self._config().storage.copy_backups_to
        if not where or self._config_path is None:
            return
        try:
            copied = archive.copy_out(archive.pack(backup_files.paths(self._config_path, self._store.path), taken), Path(where))
        except (OSError, sqlite3.Error) as exc:
            logger.error("backup copy failed: %s", exc)
            self._health.notice("backup copy", "backup_copy_failed", str(exc))
            return
        logger.info("backup copied to %s", copied)

    def reschedule(self, cfg: Config) -> None:
        """The digest at ``stats.digest_at`` and the analysis at ``stats.analysis_at``, on every device but a speaker
        (the hub sends them for the site)."""
        for job in ("digest", "analysis"):
            if self._scheduler.get_job(job):
                self._scheduler.remove_job(job)
        self._every.remove("heartbeat")
        if cfg.health.heartbeat_url or cfg.health.heartbeat_down_url:
            self._every.repeat("heartbeat", cfg.health.heartbeat_every, self.heartbeat.beat)
        if cfg.fleet.role == "speaker":
            return
        if cfg.stats.digest_at:
            hour, minute = map(int, cfg.stats.digest_at.split(":"))
            self._scheduler.add_job(self._when_trusted(self._digest), "cron", hour=hour, minute=minute, id="digest")
        if cfg.stats.analysis_at and self._analysis is not None:
            day, time = cfg.stats.analysis_at.split()
            hour, minute = map(int, time.split(":"))
            self._scheduler.add_job(self._when_trusted(self._analysis), "cron", day_of_week=day.lower(), hour=hour, minute=minute,
                                    id="analysis")

    def _when_trusted(self, job: Callable[[], int]) -> Callable[[], int]:
        """A report at a time of day goes out only when the time of day is right."""
        def run() -> int:
            if not self._trusted():
                logger.warning("a report due now is skipped: the system clock is not to be trusted yet")
                return 0
            return job()
        return run
