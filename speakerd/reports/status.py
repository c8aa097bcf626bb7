"""What ``speakerd status`` says: the daemon's last heartbeat, today's outages and each output's backlog, with a verdict."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

from speakerd.intake.source import Source
from speakerd.reports.timeparse import local_time_epoch

STALE_AFTER = 35.0  # seconds without a heartbeat before the daemon counts as not running


def status_lines(beat: dict[str, Any], outages: list[dict[str, Any]], waiting: list[dict[str, Any]],
                 now: float | None = None) -> tuple[list[str], str]:
    """The report and its verdict: OK, UNHEALTHY or NOT RUNNING."""
    now = now or time.time()
    age = now - beat.get("at", 0)
    troubles = {t["subject"]: t for t in beat.get("troubles", [])}
    if not running(beat, now):
        verdict = "NOT RUNNING"
        daemon = "stopped" if beat.get("stopped") else ("never ran" if not beat else f"no sign of life for {age:.0f} s")
    else:
        verdict = "UNHEALTHY" if any(t["outage"] for t in troubles.values()) else "OK"
        daemon = f"running (pid {beat['pid']}, checked {age:.0f} s ago)"
    lines = [f"daemon     : {daemon}", f"platform   : {_link(beat, troubles.get('platform'), now)} [{beat.get('platform', '?')}]",
             f"outages today: {len(outages)} ({sum(_outage_seconds(o, now) for o in outages) / 60:.0f} min in all)"]
    sources = {Source(name).subject: (name, where) for name, where in beat.get("sources", {}).items()}
    lines += [f"source     : {name}: {_link(beat, troubles.get(subject), now, subject, where)} [{where}]"
              for subject, (name, where) in sources.items()]
    lines += [f"trouble    : {s}: {t['reason']}{' (outage)' if t['outage'] else ''}" for s, t in troubles.items()
              if s != "platform" and s not in sources]
    lines += [f"output     : {w['output']}: {w['waiting'] or 0} waiting, {w['failing'] or 0} failing" for w in waiting]
    lines += [f"device     : {d['site']}/{d['device']} {d['role']} {d['state'].upper()}"
              f"{' since ' + local_time_epoch(d['since']) if d['since'] else ''} ({', '.join(d['departments']) or 'all'})"
              f"{not_hearing(d)}" for d in beat.get("devices", [])]
    return lines, verdict


def running(beat: dict[str, Any], now: float) -> bool:
    """Whether the daemon that wrote ``beat`` runs: it wrote one, not its last, within STALE_AFTER."""
    return bool(beat) and not beat.get("stopped") and now - beat.get("at", 0) <= STALE_AFTER


def not_hearing(device: dict[str, Any]) -> str:
    """`` NOT HEARING since …`` for a device online whose broker no longer reaches it; else nothing."""
    if device.get("state") != "online" or device.get("hearing", "ok") == "ok":
        return ""
    since = device.get("deaf_since")
    return " NOT HEARING" + (f" since {local_time_epoch(since)}" if since else "")


def _link(beat: dict[str, Any], trouble: dict[str, Any] | None, now: float, subject: str = "platform", where: str = "") -> str:
    if trouble:
        state = "DOWN" if trouble["outage"] else "failing"
        return f"{state} since {local_time_epoch(trouble['since'])} ({trouble['kind']}: {trouble['reason']})"
    pushes = where == "inbound"
    if subject in beat.get("last_ok", {}):
        return f"OK, last {'push' if pushes else 'good poll'} {now - beat['last_ok'][subject]:.0f} s ago"
    return "nothing pushed yet" if pushes else "no answer yet"


def _outage_seconds(outage: dict[str, Any], now: float) -> float:
    start = datetime.fromisoformat(outage["started_at"]).timestamp()
    end = datetime.fromisoformat(outage["ended_at"]).timestamp() if outage["ended_at"] else now
    return end - start
