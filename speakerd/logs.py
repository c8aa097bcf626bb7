"""Logging set-up shared by every process (the daemon, the commands, the voice process), and lines data cannot forge."""

from __future__ import annotations

import logging
import os
import sys

from speakerd.plaintext import escaped


class EscapingFormatter(logging.Formatter):
    """Log lines data cannot forge: unprintable characters escaped, and a line break in a message indented,
    so that '\\nINFO speakerd.web: login from …' inside an id cannot pass for a record of its own."""

    def formatMessage(self, record: logging.LogRecord) -> str:  # noqa: N802 - logging's name
        record.message = escaped(record.message, keep_newlines=True).replace("\n", "\n    ")
        return super().formatMessage(record)


def setup_logging(level: str = "INFO") -> None:
    """Plain lines for journald (it adds the time), timestamps on a terminal."""
    fmt = "%(levelname)s %(name)s: %(message)s" if os.environ.get("JOURNAL_STREAM") else "%(asctime)s %(levelname)s %(name)s: %(message)s"
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(EscapingFormatter(fmt))
    logging.basicConfig(level=level, handlers=[handler])
    for noisy in ("apscheduler", "werkzeug", "urllib3"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
