"""Wires the parts together and keeps them running until told to stop.

The only module that imports all the others. It polls the platform on an
APScheduler job that plans its own next run (at once after news, after
``poll_interval`` when idle, later and later while the platform fails),
stores each batch through :class:`~speakerd.ingest.Ingest`, wakes the output
workers, and reloads the config on SIGHUP or when the file changes.
"""

from __future__ import annotations

import enum
import json
import logging
import os
import signal
import threading
import time
from datetime import datetime, timedelta

from apscheduler.schedulers.background import BackgroundScheduler

from speakerd import config as config_mod
from speakerd import digest, expiry, followup, watchdog
from speakerd import store as store_mod
from speakerd.dispatch import OutputWorker, notice_from_row
from speakerd.errors import ConfigError, OutputError, PlatformError
from speakerd.health import Health
from speakerd.ingest import Ingest
from speakerd.outputs import build_outputs
from speakerd.platform import PlatformClient, safe_url
from speakerd.store import Store, StoreError

logger = logging.getLogger(__name__)

CONFIG_CHECK_SECONDS = 2.0
TICK_SECONDS = 1.0
HEARTBEAT_SECONDS = 10.0
EXPIRE_SECONDS = 3600.0
FOLLOWUP_SECONDS = 5.0
POLL_HANG_MARGIN = 30.0  # seconds past the poll's own timeouts before it counts as hung
OUTPUT_SECTIONS = ("speech", "display", "push", "gpio")


class State(enum.Enum):
    NOT_STARTED = "not started"
    RUNNING = "running"
    STOPPING = "stopping"
    STOPPED = "stopped"


def _file_stamp(path):
    try:
        st = os.stat(path)
    except OSError:
        return None
    return (st.st_mtime_ns, st.st_size, st.st_ino)


class Daemon:
    """``start()``/``stop()`` for tests and the demo; ``run()`` for the service, until SIGTERM."""

    def __init__(self, config_path, cfg=None, outputs_factory=build_outputs, pin_factory=None):
        self.config_path = str(config_path)
        self._pin_factory = pin_factory
        self.cfg = cfg or config_mod.load(self.config_path)
        self._outputs_factory = outputs_factory
        self.state = State.NOT_STARTED
        self._stop_requested = threading.Event()
        self._reload_requested = threading.Event()
        self._wake = threading.Event()
        self._failures = 0
        self._config_stamp = _file_stamp(self.config_path)
        self._reload_lock = threading.Lock()
        self._poll_started = None  # monotonic time of the poll under way, for the watchdog
        self._last_heartbeat = 0.0
        self.workers = []

    # --- lifecycle -------------------------------------------------------------

    def start(self):
        cfg = self.cfg
        apply_log_level(cfg)
        self.store = Store(config_mod.database_path(cfg, self.config_path))
        replayed = self.store.recover_interrupted()
        if replayed:
            logger.warning("%d deliveries were cut off by the last stop; doing them again", replayed)
        self._build(cfg)
        self.health = Health(self.store, self._announce, cfg.health.fail_after, cfg.health.remind_every)
        self._start_outputs(cfg)
        self.followup = followup.FollowUp(self.store, lambda: self.cfg, self._speak, self._escalate)
        self.controls, self.led = self._start_gpio(cfg)
        self.web = self._start_web(cfg)
        self.scheduler = BackgroundScheduler(job_defaults={"misfire_grace_time": None, "coalesce": True})
        self.scheduler.add_job(self._watch_config, "interval", seconds=CONFIG_CHECK_SECONDS, id="watch-config")
        self.scheduler.add_job(self._tick, "interval", seconds=TICK_SECONDS, id="tick")
        self.scheduler.add_job(self.followup.check, "interval", seconds=FOLLOWUP_SECONDS, id="followup")
        self.scheduler.add_job(self._expire, "interval", seconds=EXPIRE_SECONDS, id="expire",
                               next_run_time=datetime.now() + timedelta(seconds=60))
        self._schedule_digest(cfg)
        self.scheduler.start()
        self.state = State.RUNNING
        self._schedule_poll(0)
        watchdog.notify("READY=1")
        logger.info(
            "speakerd running: platform %s, database %s, outputs %s",
            safe_url(cfg.platform.url), self.store.path, ", ".join(w.output.name for w in self.workers),
        )

    def run(self):
        """The service: start, handle signals, stop cleanly. Returns the exit code."""
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

    def _on_signal(self, signum, frame):
        if signum == signal.SIGHUP:
            logger.info("SIGHUP: reloading %s", self.config_path)
            self._reload_requested.set()
        else:
            logger.info("%s: stopping", signal.Signals(signum).name)
            self._stop_requested.set()
        self._wake.set()

    def stop(self):
        if self.state is not State.RUNNING:
            return
        self.state = State.STOPPING
        watchdog.notify("STOPPING=1")
        self.scheduler.shutdown(wait=False)
        self._stop_outputs()
        for part in (self.controls, self.led):
            if part:
                part.close()
        if self.web:
            self.web.stop()
        self.client.close()
        self._write_heartbeat(stopped=True)
        self.store.close()
        self.state = State.STOPPED
        logger.info("speakerd stopped")

    # --- parts built from config ---------------------------------------------

    def _build(self, cfg):
        self.ingest = Ingest(cfg, self.store)
        self.client = PlatformClient(cfg.platform.url, cfg.platform.token, cfg.platform.timeout)

    def _start_outputs(self, cfg):
        outputs = self._outputs_factory(cfg, self.store, lambda: self.cfg)
        self.workers = [OutputWorker(o, self.store, lambda: self.cfg, self.health) for o in outputs]
        if self.output("display"):
            self.output("display").status = self._panel_status
        for worker in self.workers:
            worker.start()

    def output(self, name):
        """The running output called ``name``, or None."""
        return next((w.output for w in self.workers if w.output.name == name), None)

    def _start_gpio(self, cfg):
        if not cfg.gpio.enabled:
            return None, None
        from speakerd import gpio

        factory = self._pin_factory or gpio.default_pin_factory()
        if factory is None:
            return None, None
        try:
            return gpio.Controls(cfg.gpio, factory, ButtonActions(self)), gpio.StatusLed(cfg.gpio.led_pin, factory)
        except Exception as exc:  # noqa: BLE001 - a pin in use or not allowed: the rest goes on
            logger.error("gpio: cannot use the pins (%s); buttons and LED are off", exc)
            return None, None

    def _panel_status(self):
        names = {dep_id: dep.name for dep_id, (_, dep) in self.cfg.departments().items()}
        platform = self.health.troubles.get("platform")
        speech = self.output("speech")
        return {
            "waiting": {names.get(d, d): n for d, n in self.store.waiting_by_department().items()},
            "platform_ok": platform is None or platform.outage_id is None,
            "down_since": platform.since if platform else None,
            "address": _address(),
            "muted_until": self.store.snoozed_until() if speech else 0.0,
        }

    def _start_web(self, cfg):
        if not cfg.web.enabled:
            return None
        from speakerd.web import serve

        try:
            server = serve(self.store, cfg.web.listen, device=self)
        except OSError as exc:
            logger.error("web: cannot listen on %s (%s); the web page and acknowledge links are off until web.listen is fixed",
                         cfg.web.listen, exc.strerror or exc)
            return None
        from speakerd.web import auth

        logger.info("web page on http://%s%s", cfg.web.listen,
                    "" if auth.stored_hash(self.config_path) else " (no password yet: set one with 'speakerd set-password')")
        return server

    def _stop_outputs(self):
        for worker in reversed(self.workers):
            worker.stop()
            try:
                worker.output.close()
            except Exception:  # noqa: BLE001 - closing must go on for the others
                logger.exception("closing output %s failed", worker.output.name)

    def reload(self):
        """Use the file's new settings, or keep the running ones and say why not."""
        with self._reload_lock:
            if self.state is State.RUNNING:
                return self._reload()
            return False

    def _reload(self):
        self._config_stamp = _file_stamp(self.config_path)
        try:
            new = config_mod.load(self.config_path)
        except ConfigError as exc:
            logger.error("config not reloaded, keeping the previous settings:\n  %s", "\n  ".join(exc.problems))
            return False
        old, self.cfg = self.cfg, new
        apply_log_level(new)
        if new.storage.path != old.storage.path:
            logger.warning("storage.path changed: it takes effect after a restart (systemctl restart speakerd)")
        old_client = self.client
        self._build(new)
        old_client.close()
        self.health.fail_after, self.health.remind_every = new.health.fail_after, new.health.remind_every
        if any(getattr(new, s) != getattr(old, s) for s in OUTPUT_SECTIONS):
            self._stop_outputs()
            self._start_outputs(new)
        if new.stats != old.stats:
            self._schedule_digest(new)
        if (new.web.enabled, new.web.listen) != (old.web.enabled, old.web.listen):
            if self.web:
                self.web.stop()
            self.web = self._start_web(new)
        logger.info("config reloaded from %s", self.config_path)
        self._reschedule_poll_now()
        return True

    def _watch_config(self):
        if _file_stamp(self.config_path) != self._config_stamp:
            logger.info("%s changed on disk", self.config_path)
            self.reload()

    # --- polling -------------------------------------------------------------

    def _schedule_poll(self, delay):
        if self.state is not State.RUNNING:
            return
        # max_instances=2: the job plans its successor just before it returns, while
        # APScheduler still counts it as running; with 1 an immediate re-poll is skipped.
        self.scheduler.add_job(
            self._poll_job, "date", run_date=datetime.now() + timedelta(seconds=delay),
            id="poll", replace_existing=True, max_instances=2,
        )

    def _reschedule_poll_now(self):
        job = self.scheduler.get_job("poll")
        if job is not None:
            job.modify(next_run_time=datetime.now(job.next_run_time.tzinfo) if job.next_run_time else None)

    def _poll_job(self):
        delay = self.cfg.platform.poll_interval
        try:
            delay = self.poll_once()
        except Exception:  # noqa: BLE001 - the poll must go on whatever happened
            logger.exception("unexpected error while polling")
        finally:
            self._schedule_poll(delay)

    def poll_once(self):
        """Fetch and store one batch; return the seconds to wait before the next poll."""
        platform = self.cfg.platform
        started = self._poll_started = time.monotonic()
        try:
            batch = self.client.fetch(self.store.cursor, platform.batch_size, platform.long_poll)
        except PlatformError as exc:
            self._keep_garbage(exc)
            self.health.failing("platform", exc.kind, exc.reason)
            return self._backoff()
        except StoreError as exc:
            self.health.failing("database", "database", f"cannot read the cursor: {exc}")
            return self._backoff()
        finally:
            self._poll_started = None
        self.health.ok("platform")
        if self.state is not State.RUNNING:
            return 0
        try:
            result = self.ingest(batch, [w.output.name for w in self.workers])
        except StoreError as exc:
            self.health.failing("database", "database", f"batch not stored, it will be fetched again: {exc}")
            return self._backoff()
        self._failures = 0
        self.health.ok("database")
        if result.new:
            for worker in self.workers:
                worker.wake()
            logger.debug("stored %d new message(s), %d repeat(s) ignored, %d quarantined", len(result.new), result.duplicates, len(result.quarantined))
        return self._next_delay(len(batch.messages), time.monotonic() - started)

    def _next_delay(self, count, elapsed):
        platform = self.cfg.platform
        if count >= platform.batch_size:
            return 0  # more is waiting: drain it
        if platform.long_poll and (count or elapsed >= platform.long_poll / 2):
            return 0  # the platform held the poll open as asked: ask again at once
        return platform.poll_interval

    def _backoff(self):
        self._failures += 1
        platform = self.cfg.platform
        return min(platform.retry_max, platform.poll_interval * 2 ** (self._failures - 1))

    def _keep_garbage(self, exc):
        body = getattr(exc, "body", None)
        if body is None:
            return
        try:
            with self.store.atomic():
                self.store.quarantine(body.decode("utf-8", "replace"), exc.reason)
        except StoreError as store_exc:
            logger.error("cannot keep the unreadable answer: %s", store_exc)


    # --- housekeeping and digest ------------------------------------------------

    def _expire(self):
        try:
            expiry.expire(self.store, self.cfg)
            expiry.mask_old(self.store, self.cfg)
        except StoreError as exc:
            self.health.failing("database", "database", f"expiry failed: {exc}")

    def _schedule_digest(self, cfg):
        if self.scheduler.get_job("digest"):
            self.scheduler.remove_job("digest")
        if cfg.stats.digest_at:
            hour, minute = map(int, cfg.stats.digest_at.split(":"))
            self.scheduler.add_job(self.send_digest, "cron", hour=hour, minute=minute, id="digest")

    def send_digest(self, day=None):
        """Yesterday's digest to each department's lead, through every output; return how many."""
        sent = 0
        for message, department, lead in digest.digests(self.store, self.cfg, day or digest.yesterday()):
            result = self.ingest.local(message, [w.output.name for w in self.workers], to=(department, lead))
            sent += len(result.new)
        for worker in self.workers:
            worker.wake()
        logger.info("daily digest: %d department(s) told", sent)
        return sent

    # --- health ---------------------------------------------------------------

    def _announce(self, raw):
        """Hand a technical alert to every output: through the store, or straight on if the store fails."""
        if not self.cfg.health.enabled:
            return
        try:
            self.ingest.local(raw, [w.output.name for w in self.workers])
        except StoreError:
            for row in self.ingest.preview(raw):
                notice = notice_from_row(row, self.cfg)
                for worker in self.workers:
                    threading.Thread(target=worker.deliver_now, args=(notice,), daemon=True).start()
            return
        for worker in self.workers:
            worker.wake()

    def _speak(self, sentence, category, priority, name):
        """A sentence of the device's own (reminder, summary, snooze) through the speech output, if any."""
        speech = self.output("speech")
        if speech is None:
            logger.info("(no speech output) would say: %s", sentence)
            return
        try:
            speech.play(sentence, category, priority, name)
        except OutputError as exc:
            logger.warning("could not say %r: %s", sentence, exc)

    def _escalate(self, raw, to, category):
        self.ingest.local(raw, [w.output.name for w in self.workers], to=to, category=category)
        for worker in self.workers:
            worker.wake()

    def _tick(self):
        self._check_disk()
        self.health.tick()
        if time.monotonic() - self._last_heartbeat >= HEARTBEAT_SECONDS:
            self._write_heartbeat()
        if watchdog.interval() and self._polling_alive():
            watchdog.notify("WATCHDOG=1")
        if self.led:
            self.led.show(self._led_mode())

    def _led_mode(self):
        platform = self.health.troubles.get("platform")
        if platform is not None and platform.outage_id is not None:
            return "fast"
        return "blink" if self.store.has_waiting() else "steady"

    def _polling_alive(self):
        """False when a poll hangs past every timeout it was given: then systemd should restart us."""
        started = self._poll_started
        platform = self.cfg.platform
        return started is None or time.monotonic() - started < platform.long_poll + platform.timeout * 2 + POLL_HANG_MARGIN

    def _check_disk(self):
        try:
            st = os.statvfs(self.store.path.parent)
        except OSError:
            return
        free_mb = st.f_bavail * st.f_frsize // (1024 * 1024)
        if free_mb < self.cfg.health.disk_min_free_mb:
            self.health.failing("disk", "disk_full", f"only {free_mb} MB free on the disk holding {self.store.path}")
        else:
            self.health.ok("disk")

    def _write_heartbeat(self, stopped=False):
        """What 'speakerd status' reads: the daemon's own view, refreshed every HEARTBEAT_SECONDS."""
        self._last_heartbeat = time.monotonic()
        beat = {"pid": os.getpid(), "at": time.time(), "stopped": stopped, "platform": safe_url(self.cfg.platform.url),
                "outputs": [w.output.name for w in self.workers], **self.health.snapshot()}
        try:
            self.store.set_meta("heartbeat", json.dumps(beat))
        except StoreError as exc:
            logger.debug("heartbeat not written: %s", exc)


class ButtonActions:
    """What the buttons do, in terms of the daemon's parts."""

    def __init__(self, daemon):
        self.daemon = daemon

    def _latest(self, back=0):
        display = self.daemon.output("display")
        history = list(display.history) if display else []
        return history[-1 - back] if back < len(history) else None

    def _touch(self):
        if self.daemon.output("display"):
            self.daemon.output("display").touch()

    def acknowledge(self):
        notice = self._latest()
        if notice is not None:
            outcome = self.daemon.store.acknowledge(notice.message_id, "button")
            logger.info("button: %s acknowledged (%s)", notice.message_id, outcome)
        display = self.daemon.output("display")
        if display:
            display.acknowledged()

    def acknowledge_all(self):
        logger.info("button: %d waiting message(s) acknowledged", self.daemon.store.acknowledge_all("button"))
        self._touch()

    def replay(self, steps_back):
        notice, speech = self._latest(steps_back), self.daemon.output("speech")
        if notice is not None and speech is not None:
            from speakerd.speech import spoken_text

            category = self.daemon.cfg.categories.get(notice.category)
            spoken = spoken_text(notice, category, speech.settings.max_chars)
            threading.Thread(target=speech.say, args=(spoken, None, f"replay-{notice.message_id}"), daemon=True).start()
            logger.info("button: replaying %s", notice.message_id)
        self._touch()

    def toggle_mute(self):
        """Snooze speech for gpio.mute_minutes; pressed again while snoozed, end the snooze."""
        follow = self.daemon.followup
        if follow.store.snoozed_until() > store_mod.now().timestamp():
            follow.unsnooze(wait=False)
        else:
            follow.snooze(self.daemon.cfg.gpio.mute_minutes, wait=False)
        self._touch()

    def end_mute(self):
        self.daemon.followup.unsnooze(wait=False)
        self._touch()


_ADDRESS = {"at": -1e9, "value": ""}


def _address(max_age=60.0):
    """The device's IPv4 address on the office network, from 'ip' (cached for a minute), or ''."""
    import subprocess

    now = time.monotonic()
    if now - _ADDRESS["at"] > max_age:
        try:
            out = subprocess.run(["ip", "-4", "-o", "addr", "show", "scope", "global"], capture_output=True, text=True, timeout=2).stdout
            _ADDRESS["value"] = out.split()[3].split("/")[0] if out.split()[3:] else ""
        except (OSError, subprocess.SubprocessError, IndexError):
            _ADDRESS["value"] = ""
        _ADDRESS["at"] = now
    return _ADDRESS["value"]


def apply_log_level(cfg):
    logging.getLogger("speakerd").setLevel(cfg.log.level.upper())
