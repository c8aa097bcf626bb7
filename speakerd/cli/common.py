"""What every command shares: logging, loading the config or saying why not, finding the database, leaving at once."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from pathlib import Path

from speakerd import config as config_mod
from speakerd.config import Config
from speakerd.errors import ConfigError


def load_or_exit(path: Path) -> Config:
    try:
        return config_mod.load(path)
    except ConfigError as exc:
        print("\n".join(exc.problems), file=sys.stderr)
        raise SystemExit(1) from None


# --- commands ----------------------------------------------------------------


def exit_now(code: int) -> None:
    """Leave without waiting for a long-poll still in flight: everything is saved and closed."""
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


def existing_database(args: argparse.Namespace) -> tuple[Config, Path] | None:
    """``(cfg, database path)``, or None after saying there is no database yet."""
    path = config_mod.default_path(args.config)
    cfg = load_or_exit(path)
    db_path = config_mod.database_path(cfg, path)
    if not db_path.exists():
        print(f"no database at {db_path} yet: the daemon creates it when it first runs", file=sys.stderr)
        return None
    return cfg, db_path
