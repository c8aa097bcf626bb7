"""Where a device's backup file takes its parts from and puts them back: the config, the database, the web
password beside the config, the uploaded sounds beside the database."""

from __future__ import annotations

from pathlib import Path

from speakerd.device import sounds
from speakerd.device.password import password_file
from speakerd.store.archive import Paths


def paths(config_path: str | Path, database: Path) -> Paths:
    return Paths(Path(config_path), Path(database), password_file(config_path), sounds.folder(database))
