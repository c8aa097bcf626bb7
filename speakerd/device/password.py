"""The web page's one password, kept only as a hash in a file beside config.yaml.

It belongs to the device, not the page: ``speakerd set-password``, the claim
code and the demo write it, and the page only checks against it.
"""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

from werkzeug.security import generate_password_hash

FILE_NAME = "web-password"


MIN_LENGTH = 8


def password_file(config_path: str | Path) -> Path:
    return Path(config_path).resolve().parent / FILE_NAME


def set_password(config_path: str | Path, password: str) -> Path:
    """Store the hash of ``password``; the file belongs to whoever owns the config's folder."""
    if len(password) < MIN_LENGTH:
        raise ValueError(f"the password must have at least {MIN_LENGTH} characters")
    path = password_file(config_path)
    fd, tmp = tempfile.mkstemp(prefix=".web-password-", dir=path.parent)
    with os.fdopen(fd, "w") as f:
        f.write(generate_password_hash(password) + "\n")
    os.chmod(tmp, 0o640)
    folder = path.parent.stat()
    if os.geteuid() == 0 and folder.st_uid != 0:
        os.chown(tmp, folder.st_uid, folder.st_gid)
    os.replace(tmp, path)
    return path


def stored_hash(config_path: str | Path) -> str | None:
    try:
        return password_file(config_path).read_text().strip() or None
    except OSError:
        return None


def fingerprint(hashed: str) -> str:
    """A short tag of the current hash: a session made under another password is no longer valid."""
    return hashlib.sha256(hashed.encode()).hexdigest()[:12] if hashed else ""
