"""The broker's files for an installation (mosquitto.conf, passwords, ACL), and a local mosquitto to run them.

The installer writes these files on the hub; ``speakerd demo --fleet`` and the
tests run a real mosquitto on loopback with them. Anonymous access is off;
each device has its own user (its ``fleet.device`` name) and password; the
ACL lets a speaker read only its departments' topics and write only its own
status and acknowledgement requests, and lets the hub read and write the
whole installation.
"""

from __future__ import annotations

import json
import os
import pwd
import secrets
import shutil
import signal
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from speakerd.fleet.topics import Topics
from speakerd.ports import free_port

MOSQUITTO = ("mosquitto", "/usr/sbin/mosquitto")
MOSQUITTO_PASSWD = ("mosquitto_passwd", "/usr/bin/mosquitto_passwd")


class BrokerError(RuntimeError):
    """mosquitto is missing or would not start; the text says what to do."""


@dataclass
class Roster:
    """The devices of one installation's broker: who may connect, and which departments each speaker hears."""

    base_topic: str = "speakerd"
    hubs: dict[str, str] = field(default_factory=dict)  # hub name -> site
    speakers: dict[str, tuple[str, list[str]]] = field(default_factory=dict)  # speaker name -> (site, departments)

    def acl(self) -> str:
        """mosquitto's acl_file text: a ``user`` block per device."""
        lines = ["# Written by speakerd (speakerd fleet-add); edits here are replaced.", ""]
        for name, site in sorted(self.hubs.items()):
            lines += [f"# hub of site {site}: the whole installation", f"user {name}", f"topic readwrite {self.base_topic}/#", ""]
        for name, (site, departments) in sorted(self.speakers.items()):
            t = Topics(self.base_topic, site)
            lines += [f"# speaker of site {site}: {', '.join(departments)}", f"user {name}"]
            lines += [f"topic read {t.announce(d)}" for d in departments]
            lines += [f"topic read {t.acked()}", f"topic read {t.ack_response(name)}",
                      f"topic write {t.ack_request(name)}", f"topic readwrite {t.status(name)}", ""]
        return "\n".join(lines)

    def to_json(self) -> str:
        return json.dumps({"base_topic": self.base_topic, "hubs": self.hubs,
                           "speakers": {k: {"site": s, "departments": d} for k, (s, d) in self.speakers.items()}}, indent=2)

    @classmethod
    def from_json(cls, text: str) -> Roster:
        data = json.loads(text)
        return cls(data.get("base_topic", "speakerd"), dict(data.get("hubs", {})),
                   {k: (v["site"], list(v["departments"])) for k, v in data.get("speakers", {}).items()})


def find(names: tuple[str, ...]) -> str:
    for name in names:
        found = shutil.which(name) or (name if Path(name).exists() else None)
        if found:
            return found
    raise BrokerError(f"{names[0]} is not installed: sudo apt install mosquitto mosquitto-clients")


def add_password(password_file: Path, user: str, password: str) -> None:
    """Add or replace ``user`` in mosquitto's password file (hashed by mosquitto_passwd)."""
    args = [find(MOSQUITTO_PASSWD), "-b"] + ([] if password_file.exists() else ["-c"]) + [str(password_file), user, password]
    subprocess.run(args, check=True, capture_output=True, timeout=30)


def new_password() -> str:
    return secrets.token_urlsafe(18)


# What every broker of an installation sets beyond users and ACL (docs/fleet.md): a device's client id is its user
# name, so one device's password cannot take over another's session and wipe its queued messages; packets and queues
# are bounded, so one device cannot fill the broker's memory.
BOUNDS = ("use_username_as_clientid true", "max_packet_size 1048576", "max_queued_messages 100000")


def conf_text(folder: Path, port: int, host: str = "127.0.0.1", bridge: str = "") -> str:
    """mosquitto.conf: one listener, no anonymous access, passwords, ACL, persistence (QoS 1 kept across restarts)."""
    return "\n".join([
        f"listener {port} {host}", "allow_anonymous false",
        f"password_file {folder / 'passwd'}", f"acl_file {folder / 'acl'}",
        "persistence true", f"persistence_location {folder}/", "autosave_interval 1", "autosave_on_changes true",
        *BOUNDS, "log_dest stderr", "log_type error", "log_type warning", bridge, ""])


class LocalBroker:
    """A real mosquitto in ``folder`` on a loopback port, for the demo and the tests; ``restart()`` keeps its data."""

    def __init__(self, folder: Path, roster: Roster, passwords: dict[str, str], port: int = 0, bridge: str = "") -> None:
        self.folder = folder
        self.folder.mkdir(parents=True, exist_ok=True)
        self.port = port or free_port()
        self.roster = roster
        self.passwords = dict(passwords)
        self.bridge = bridge
        self.process: subprocess.Popen[bytes] | None = None
        self.write_files()

    def write_files(self) -> None:
        for user, password in self.passwords.items():
            add_password(self.folder / "passwd", user, password)
        (self.folder / "acl").write_text(self.roster.acl(), encoding="utf-8")
        (self.folder / "roster.json").write_text(self.roster.to_json(), encoding="utf-8")
        # Run as whoever started it: as root mosquitto would switch to its own user, who cannot read this folder.
        run_as = f"user {pwd.getpwuid(os.geteuid()).pw_name}\n"
        (self.folder / "mosquitto.conf").write_text(run_as + conf_text(self.folder, self.port, bridge=self.bridge), encoding="utf-8")

    def url(self, user: str) -> str:
        return f"mqtt://{user}:{self.passwords[user]}@127.0.0.1:{self.port}"

    def start(self) -> LocalBroker:
        self.process = subprocess.Popen([find(MOSQUITTO), "-c", str(self.folder / "mosquitto.conf")],
                                        stdout=subprocess.DEVNULL, stderr=open(self.folder / "mosquitto.log", "ab"))
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise BrokerError(f"mosquitto exited: {(self.folder / 'mosquitto.log').read_text(errors='replace')[-500:]}")
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return self
            except OSError:
                time.sleep(0.05)
        raise BrokerError(f"mosquitto did not listen on port {self.port} within 10 s")

    def stop(self, kill: bool = False) -> None:
        if self.process and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            self.process.wait(10)
        self.process = None

    def restart(self) -> None:
        self.stop()
        self.start()

    def reload(self) -> None:
        """Re-read passwords and the ACL (SIGHUP), as ``fleet-add`` does on the hub."""
        self.write_files()
        if self.process:
            self.process.send_signal(signal.SIGHUP)
