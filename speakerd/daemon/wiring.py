"""Wires the parts together and keeps them running until told to stop.

The only module that imports all the others, and it decides nothing itself:
the :class:`~speakerd.intake.poller.Poller` asks the platform, ingest stores and
routes, each :class:`~speakerd.delivery.dispatch.OutputWorker` delivers what the
attention policy lets through, :class:`~speakerd.health.alerts.Health` turns
trouble into alerts, and :class:`~speakerd.device.state.DeviceState` answers
what the panel, the LED, the heartbeat and the web page show. The daemon
builds them from the config, schedules them on APScheduler, and rebuilds the
parts a reload changed (SIGHUP, or the file changed on disk).
"""

from __future__ import annotations

import enum
import logging
import signal
import threading
from collections.abc import Callable
from pathlib import Path
from types import FrameType
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler

from speakerd import config as config_mod
from speakerd.config import Config
from speakerd.daemon import arenas, watchdog
from speakerd.daemon.chores import Chores
from speakerd.daemon.clock_watch import ClockWatch
from speakerd.daemon.config_watch import ConfigWatch
from speakerd.daemon.every import Every
from speakerd.daemon.outputs import build_outputs
from speakerd.daemon.polling import Polling
from speakerd.daemon.running_outputs import RunningOutputs
from speakerd.delivery import followup
from speakerd.delivery.ack_feed import AckFeed
from speakerd.delivery.announcer import Announcer
from speakerd.delivery.attention import Attention
from speakerd.delivery.away import FromHub
from speakerd.delivery.dispatch import OutputWorker
from speakerd.delivery.handover import HandOver
from speakerd.delivery.inbound import Inbound
from speakerd.device import gpio
from speakerd.device.buttons import ButtonActions
from speakerd.device.claim import Claim
from speakerd.device.state import HEARTBEAT_SECONDS, DeviceState
from speakerd.errors import ConfigError
from speakerd.fleet.role import FleetRole
from speakerd.health.alerts import Health, fixed_phrases
from speakerd.intake.ingest import Ingest
from speakerd.intake.poller import Poller
from speakerd.intake.source import Source
from speakerd.outputs.interface import Output, Showing, Speaking
from speakerd.store import Store, archive, backups
from speakerd.web.server import start_web

logger = logging.getLogger(__name__)

CONFIG_CHECK_SECONDS = 2.0
TICK_SECONDS = 1.0
FOLLOWUP_SECONDS = 5.0
OUTPUT_SECTIONS = ("speech", "display", "push")
COUNTS_SECONDS = 60.0  # how often a hub publishes its site's counts of today


class State(enum.Enum):
    NOT_STARTED = "not started"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


class Daemon:
    """``start()``/``stop()`` for tests and the demo; ``run()`` for the service, until SIGTERM."""

    def __init__(self, config_path: str | Path, cfg: Config | None = None,
                 outputs_factory: Callable[..., list[Output]] = build_outputs, pin_factory: Any = None) -> None:
        self.config_path = str(config_path)
        self._pin_factory = pin_factory
        self.cfg = cfg or config_mod.load(self.config_path)
        self._outputs_factory = outputs_factory
        self.state = State.NOT_STARTED
        self._stop_requested = threading.Event()
        self._reload_requested = threading.Event()
        self._wake = threading.Event()
        self._config_watch = ConfigWatch(self.config_path)
        self._reload_lock = threading.Lock()
        self._last_heartbeat = -HEARTBEAT_SECONDS
        self.running = RunningOutputs()
        self.board = gpio.Board()
        self.fleet = FleetRole()
        self.polling = Polling(self._poller_for, lambda: self.state is State.RUNNING)
        self._last_counts = -COUNTS_SECONDS

    # --- lifecycle -------------------------------------------------------------

    def start(self) -> None:
        cfg = self.cfg
        apply_log_level(cfg)
        restored = self._open_store(cfg)
        self._build_parts(cfg)
        self._start_fleet(cfg)
        self._start_outputs(cfg)
        if restored is not None:
            when = restored.backup.name if restored.backup else "none: started empty"
            self.health.notice("database", "restored", f"{restored.problem}; damaged file kept as {restored.damaged.name}; backup used: {when}")
        self.fleet.connect()
        self.followup = followup.FollowUp(self.store, lambda: self.cfg, self.announcer.say, self.announcer.escalate,
                                          heard_by=self.fleet.heard_by)
        self.handover = HandOver(self.store, lambda: self.cfg, self.announcer.escalate)
        self._start_gpio(cfg)
        self.web = start_web(self, cfg)
        self._start_scheduler()
        self.state = State.RUNNING
        self.polling.start(self.every)
        watchdog.notify("READY=1")
        logger.info("speakerd running: messages from %s, database %s, outputs %s",
                    self.fleet.source(cfg), self.store.path, ", ".join(self.running.names()))

    def _open_store(self, cfg: Config) -> backups.Restored | None:
        """Open the database (restored from a backup first if it is damaged); owed deliveries are owed again."""
        database = config_mod.database_path(cfg, self.config_path)
        archive.apply_staged(database)  # a backup file restored from the page waits here for this start
        restored = backups.recover(database)
        self.store = Store(database)
        replayed = self.store.outbox.recover_interrupted()
        if replayed:
            logger.warning("%d deliveries were cut off by the last stop; doing them again", replayed)
        return restored

    def _build_parts(self, cfg: Config) -> None:
        self.ingest = Ingest(cfg, self.store, people=self._people)
        self.announcer = Announcer(self.store, lambda: self.cfg, lambda: self.ingest, lambda: self.running.workers, lambda: self.speech)
        self.health = Health(self.store, self.announcer.alert, cfg.health.fail_after, cfg.health.remind_every)
        self.claim = Claim(self.store, self.config_path)
        self.claim.rotate()  # a code lasts one run of the daemon at most
        self.device_state = DeviceState(self.store, lambda: self.cfg, self.health, self.fleet.devices, claim=self.claim,
                                        site_counts=self.fleet.site_counts)
        self.attention = Attention(self.store, lambda: self.cfg, heard_by=self.fleet.heard_by, promised=self.fleet.promised)
        self.ack_feed = AckFeed(self.store)
        self.inbound = Inbound(lambda: self.ingest, self.running.names, lambda: self.announcer.wake(), self.health)
        self.from_hub = FromHub(lambda: self.ingest, self.running.names, lambda: self.announcer.wake(),
                                lambda s: self.announcer.say(s, None, "normal", "away-summary"), self.store.clock)

    def _start_scheduler(self) -> None:
        self.scheduler = BackgroundScheduler(job_defaults={"misfire_grace_time": None, "coalesce": True})  # the calendar's jobs
        self.every = Every(self.store.clock.monotonic)
        self.clock_watch = ClockWatch(self.store, self.scheduler)
        self.every.repeat("watch-config", CONFIG_CHECK_SECONDS, self._watch_config, first=CONFIG_CHECK_SECONDS)
        self.every.repeat("tick", TICK_SECONDS, self._tick, first=TICK_SECONDS)
        self.every.repeat("followup", FOLLOWUP_SECONDS, self._follow_up, first=FOLLOWUP_SECONDS)
        self.chores = Chores(self.scheduler, self.every, self.store, lambda: self.cfg, self.health, self.announcer.digest, self.announcer.analysis,
                             trusted=self.clock_watch.trusted, config_path=self.config_path)
        self.scheduler.start()

    def run(self) -> int:
        """The service: start, handle signals, stop cleanly. Returns the exit code."""
        arenas.limit()  # before the threads exist
        self.start()
        for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
            signal.signal(signum, self._on_signal)
        try:
            while not self._stop_requested.is_set():
                self._wake.wait(1.0)
                self._wake.clear()
                if self._reload_requested.is_set() and not self._stop_requested.is_set():
                    self._reload_requested.clear()
                    self.reload()
        finally:
            self.stop()
        return 0

    def _on_signal(self, signum: int, frame: FrameType | None) -> None:
        if signum == signal.SIGHUP:
            logger.info("SIGHUP: reloading %s", self.config_path)
            self._reload_requested.set()
        else:
            logger.info("%s: stopping", signal.Signals(signum).name)
            self._stop_requested.set()
        self._wake.set()

    def stop(self) -> None:
        if self.state is not State.RUNNING:
            return
        self.state = State.STOPPING
        watchdog.notify("STOPPING=1")
        self.scheduler.shutdown(wait=False)
        self.every.stop()
        self.running.stop()
        self.fleet.close()
        self.board.close()
        if self.web:
            self.web.stop()
        self.polling.close()
        self.device_state.write_heartbeat(self.running.names(), stopped=True)
        self.store.close()
        self.state = State.STOPPED
        logger.info("speakerd stopped")

    # --- parts built from config ---------------------------------------------

    def _start_outputs(self, cfg: Config) -> None:
        outputs = self._outputs_factory(cfg, self.store, lambda: self.cfg, panel_status=self.device_state.panel, phrases=fixed_phrases())
        self.running.start([OutputWorker(o, self.store, lambda: self.cfg, self.health, self.attention) for o in self.fleet.outputs(outputs)])

    def output(self, name: str) -> Output | None:
        """The running output called ``name``, or None."""
        return self.running.get(name)

    @property
    def panel(self) -> Showing | None:
        return self.output("display")  # type: ignore[return-value]

    @property
    def speech(self) -> Speaking | None:
        return self.output("speech")  # type: ignore[return-value]

    def _start_gpio(self, cfg: Config) -> None:
        self.actions = ButtonActions(self.store, lambda: self.cfg, self.followup, lambda: self.panel, lambda: self.speech,
                                     on_ack=self.fleet.acknowledged_here)
        self.board = gpio.Board.start(cfg.gpio, self._pin_factory, self.actions)

    # --- reload ----------------------------------------------------------------

    def reload(self) -> bool:
        """Use the file's new settings, or keep the running ones and say why not."""
        with self._reload_lock:
            if self.state is State.RUNNING:
                return self._reload()
            return False

    def _reload(self) -> bool:
        self._config_watch.mark()
        try:
            new = config_mod.load(self.config_path)
        except ConfigError as exc:
            logger.error("config not reloaded, keeping the previous settings:\n  %s", "\n  ".join(exc.problems))
            return False
        old, self.cfg = self.cfg, new
        apply_log_level(new)
        if new.storage.path != old.storage.path:
            logger.warning("storage.path changed: it takes effect after a restart (systemctl restart speakerd)")
        self.ingest = Ingest(new, self.store, people=self._people)
        self.health.fail_after, self.health.remind_every = new.health.fail_after, new.health.remind_every
        if new.fleet != old.fleet:
            self.running.stop()
            self.fleet.close()
            self._start_fleet(new)
            self._start_outputs(new)
            self.fleet.connect()
        elif any(getattr(new, s) != getattr(old, s) for s in OUTPUT_SECTIONS):
            self.running.stop()
            self._start_outputs(new)
        self.polling.update(new, self.fleet.polls())
        if new.gpio != old.gpio:
            self.board.close()
            self._start_gpio(new)
        if (new.stats, new.health) != (old.stats, old.health):
            self.chores.reschedule(new)
        if (new.web.enabled, new.web.listen) != (old.web.enabled, old.web.listen):
            if self.web:
                self.web.stop()
            self.web = start_web(self, new)
        logger.info("config reloaded from %s", self.config_path)
        self.polling.now()
        return True

    def _watch_config(self) -> None:
        if self._config_watch.changed():
            logger.info("%s changed on disk", self.config_path)
            self.reload()

    # --- scheduling ------------------------------------------------------------

    def _people(self) -> bool:
        """Whether messages are given to people: not while the page waits to be claimed (the staff are the example's)."""
        return not (self.cfg.web.enabled and self.claim.open())

    def _follow_up(self) -> None:
        """Reminders and escalation count minutes on the wall clock: not while it is not to be trusted."""
        if self.clock_watch.trusted():
            self.followup.check()
        self.from_hub.check()

    def _tick(self) -> None:
        self.clock_watch.check()
        self.health.check_disk(self.store.path, self.cfg.health.disk_min_free_mb)
        self.health.tick()
        now = self.store.clock.monotonic()
        if now - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self._last_heartbeat = now
            self.device_state.write_heartbeat(self.running.names())
        if watchdog.interval() and self.polling.alive() and self.chores.web_probe.alive():
            watchdog.notify("WATCHDOG=1")
        self.board.show(self.device_state.led_mode())
        self.ack_feed.pass_on(self.panel, self.fleet.tell_acknowledged)
        self.actions.replay_if_asked()
        self.fleet.check_hearing()
        if self.fleet.hub and now - self._last_counts >= COUNTS_SECONDS:
            self._last_counts = now
            self.fleet.publish_counts(self.device_state.today())

    # --- several devices -----------------------------------------------------------

    def _start_fleet(self, cfg: Config) -> None:
        """Hub or speaker on the broker, and the pollers for every role but speaker."""
        self.fleet.start(cfg, self.store, self.health, self.from_hub.receive)
        self.polling.update(cfg, self.fleet.polls())

    def _poller_for(self, source: Source) -> Poller:
        return Poller(self.cfg, self.store, self.health, lambda: self.ingest, self.running.names, self.announcer.wake, source)

    @property
    def poller(self) -> Poller | None:
        """The platform's poller (None on a speaker)."""
        return self.polling.get()



def apply_log_level(cfg: Config) -> None:
    logging.getLogger("speakerd").setLevel(cfg.log.level.upper())
