"""Setting up a fleet on real devices: a broker user per device on the hub, and a device's own fleet settings.

``speakerd fleet-add NAME`` (on the hub, as root) gives a device a user and
password on the hub's mosquitto, rewrites the ACL from the roster, and prints
the broker address the device's installer takes. ``speakerd fleet-join URL``
(on the speaker) writes that address and the speaker's departments into its
config.yaml, keeping the file's comments. See docs/fleet.md.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
from pathlib import Path
from urllib.parse import quote, unquote, urlsplit

from speakerd.config.fleet import NAME
from speakerd.fleet.broker import BOUNDS, Roster, add_password, new_password

MOSQUITTO_DIR = Path("/etc/mosquitto")
ROSTER = "speakerd-roster.json"
LISTENER_PORT = 1883


def mosquitto_conf(mosquitto_dir: Path, port: int = LISTENER_PORT) -> str:
    """The hub's conf.d snippet: the office network may connect, with a password, within the ACL; messages persist."""
    return "\n".join([
        "# Written by speakerd (scripts/install.sh --hub); see docs/fleet.md.",
        f"listener {port}", "allow_anonymous false",
        f"password_file {mosquitto_dir / 'speakerd.passwd'}", f"acl_file {mosquitto_dir / 'speakerd.acl'}",
        *BOUNDS, ""])


def add_device(name: str, role: str, site: str, departments: list[str], base_topic: str = "speakerd",
               mosquitto_dir: Path = MOSQUITTO_DIR) -> str:
    """Give ``name`` a broker user with a new password and its place in the ACL; return the password."""
    if not NAME.match(name):
        raise ValueError(f"{name!r}: a device name uses letters, digits, '-' and '_' only")
    if role == "speaker" and not departments:
        raise ValueError("a speaker needs --departments")
    roster_path = mosquitto_dir / ROSTER
    roster = Roster.from_json(roster_path.read_text(encoding="utf-8")) if roster_path.exists() else Roster(base_topic)
    roster.hubs.pop(name, None)
    roster.speakers.pop(name, None)
    if role == "hub":
        roster.hubs[name] = site
    else:
        roster.speakers[name] = (site, departments)
    password = new_password()
    mosquitto_dir.mkdir(parents=True, exist_ok=True)
    add_password(mosquitto_dir / "speakerd.passwd", name, password)
    (mosquitto_dir / "speakerd.acl").write_text(roster.acl(), encoding="utf-8")
    roster_path.write_text(roster.to_json(), encoding="utf-8")
    conf = mosquitto_dir / "conf.d" / "speakerd.conf"
    if not conf.exists() or conf.read_text(encoding="utf-8").startswith("# Written by speakerd"):  # ours: brought up to date
        conf.parent.mkdir(parents=True, exist_ok=True)
        conf.write_text(mosquitto_conf(mosquitto_dir), encoding="utf-8")
    for path in (mosquitto_dir / "speakerd.passwd", mosquitto_dir / "speakerd.acl"):
        _readable_by_mosquitto(path)
    return password


def _readable_by_mosquitto(path: Path) -> None:
    path.chmod(0o640)
    if shutil.which("chown") and _user_exists("mosquitto"):
        subprocess.run(["chown", "root:mosquitto", str(path)], check=False, capture_output=True)


def _user_exists(name: str) -> bool:
    import pwd

    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def reload_broker() -> str:
    """Ask the running mosquitto to read its passwords and ACL again; the outcome in words."""
    if shutil.which("systemctl"):
        done = subprocess.run(["systemctl", "reload-or-restart", "mosquitto"], capture_output=True, text=True, timeout=60)
        if done.returncode == 0:
            return "mosquitto reloaded"
        return f"could not reload mosquitto ({done.stderr.strip() or done.returncode}): sudo systemctl restart mosquitto"
    return "no systemd here: restart mosquitto yourself to use the new user"


def broker_url(name: str, password: str, host: str = "", port: int = LISTENER_PORT) -> str:
    """The address a device puts in fleet.broker: its user and password, and the hub by its LAN name."""
    return f"mqtt://{quote(name, safe='')}:{quote(password, safe='')}@{host or socket.gethostname() + '.local'}:{port}"


def device_of(url: str) -> str:
    """The device name a broker address carries (its user)."""
    user = urlsplit(url).username
    if not user:
        raise ValueError("the broker address has no user: use the one 'speakerd fleet-add' printed on the hub")
    return unquote(user)
