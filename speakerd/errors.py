"""One root exception, so callers can catch everything speakerd raises on purpose."""


class SpeakerdError(Exception):
    """Base of every error speakerd raises deliberately."""


class ConfigError(SpeakerdError, ValueError):
    """The configuration file cannot be used; ``problems`` holds one line per fault."""

    def __init__(self, problems) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(self.problems))


class PlatformError(SpeakerdError):
    """The platform could not give us a usable answer.

    ``kind`` is one of :data:`speakerd.intake.platform.FAILURE_KINDS`, so the health
    watchdog can tell staff *which* failure it is without parsing text.
    """

    def __init__(self, kind: str, reason: str, retry_after: float | None = None) -> None:
        self.kind = kind
        self.reason = reason
        self.retry_after = retry_after  # seconds the platform asked us to wait (HTTP 429's Retry-After)
        super().__init__(f"{kind}: {reason}")


class OutputError(SpeakerdError):
    """An output could not deliver a notice now; the dispatcher retries later."""


class NotYet(SpeakerdError):
    """An output holds a notice back on purpose until ``until`` (epoch seconds), e.g. a chat robot at its rate limit.

    Not a failure: the dispatcher postpones the job without backoff and no alert is raised.
    """

    def __init__(self, until: float, reason: str) -> None:
        self.until = until
        super().__init__(reason)


def N_(text: str) -> str:
    """Marks ``text`` for translation where it is written; the web page translates it where it shows it (see web/i18n.py)."""
    return text
