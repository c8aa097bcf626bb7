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


class Sparse:
    """Says a kind of trouble at most once per ``every`` seconds, with how many like it were not said in between.

    For what a stranger can send as often as they like (a bad payload on the broker), where one line each would
    fill the disk; ``clock`` is monotonic.
    """

    def __init__(self, logger: logging.Logger, every: float = 60.0, clock=None) -> None:
        import time

        self._logger, self._every, self._clock = logger, every, clock or time.monotonic
        self._last: dict[str, float] = {}
        self._quiet: dict[str, int] = {}

    def warning(self, kind: str, text: str, *args: object) -> bool:
        """Log ``text % args`` unless ``kind`` was said within ``every`` seconds; True when it was written."""
        now = self._clock()
        if now - self._last.get(kind, -1e18) < self._every:
            self._quiet[kind] = self._quiet.get(kind, 0) + 1
            return False
        self._last[kind] = now
        quiet = self._quiet.pop(kind, 0)
        self._logger.warning(text + (f" ({quiet} more like it since the last such line)" if quiet else ""), *args)
        return True
