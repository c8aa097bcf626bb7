"""The daemon's scheduled chores besides polling: hourly expiry and masking, the daily digest, the daily check and backup,
the heartbeat to an outside monitor."""

from __future__ import annotations

import logging
import sqlite3
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from speakerd.health.heartbeat import Heartbeat
from speakerd.store import StoreError, backups, expiry

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.health.alerts import Health
    from speakerd.store import Store

logger = logging.getLogger(__name__)

EXPIRE_SECONDS = 3600.0
FIRST_EXPIRY_AFTER = 60.0  # seconds after start: not in the way of the first polls
SAFEGUARD_SECONDS = 86400.0
FIRST_SAFEGUARD_AFTER = 300.0


class Chores:
    """Adds its jobs to the daemon's scheduler; ``reschedule(cfg)`` after a reload that changed ``stats`` or ``health``."""

    def __init__(self, scheduler: Any, store: Store, config: Callable[[], Config], health: Health,
                 digest: Callable[[], int], analysis: Callable[[], int] | None = None) -> None:
        self._scheduler = scheduler
        self._store = store
        self._config = config
        self._health = health
        self._digest = digest
        self._analysis = analysis
        self.heartbeat = Heartbeat(health, config)
        scheduler.add_job(self.expire, "interval", seconds=EXPIRE_SECONDS, id="expire",
                          next_run_time=datetime.now() + timedelta(seconds=FIRST_EXPIRY_AFTER))
        scheduler.add_job(self.safeguard, "interval", seconds=SAFEGUARD_SECONDS, id="safeguard",
                          next_run_time=datetime.now() + timedelta(seconds=FIRST_SAFEGUARD_AFTER))
        self.reschedule(config())

    def expire(self) -> None:
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

    def reschedule(self, cfg: Config) -> None:
        """The digest at ``stats.digest_at`` and the analysis at ``stats.analysis_at``, on every device but a speaker
        (the hub sends them for the site)."""
        for job in ("digest", "analysis", "heartbeat"):
            if self._scheduler.get_job(job):
                self._scheduler.remove_job(job)
        if cfg.health.heartbeat_url or cfg.health.heartbeat_down_url:
            self._scheduler.add_job(self.heartbeat.beat, "interval", seconds=cfg.health.heartbeat_every, id="heartbeat",
                                    next_run_time=datetime.now())
        if cfg.fleet.role == "speaker":
            return
        if cfg.stats.digest_at:
            hour, minute = map(int, cfg.stats.digest_at.split(":"))
            self._scheduler.add_job(self._digest, "cron", hour=hour, minute=minute, id="digest")
        if cfg.stats.analysis_at and self._analysis is not None:
            day, time = cfg.stats.analysis_at.split()
            hour, minute = map(int, time.split(":"))
            self._scheduler.add_job(self._analysis, "cron", day_of_week=day.lower(), hour=hour, minute=minute, id="analysis")
