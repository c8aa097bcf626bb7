"""One place messages come from, and what keeps its messages apart from every other source's in the store.

The ``platform:`` section is the source called ``platform``: its cursor, epoch,
health subject and message ids keep the names they had before a device could
read several sources, so a device that adds a second source neither reads its
platform again from the start nor tells anything twice. Every source under
``sources:`` has its own of each: ids get its name in front (``tmall:m-1``:
two shops both have an ``m-1``), its messages' content keys are its own (two
shops both have an order 1234), and its name is the app of a message that
names none.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from speakerd.health.alerts import source_subject

if TYPE_CHECKING:
    from speakerd.config import Config, PlatformConfig

PLATFORM = "platform"


@dataclass(frozen=True)
class Source:
    name: str = PLATFORM

    @property
    def named(self) -> bool:
        """Whether this is a source under ``sources:`` (not the ``platform:`` section)."""
        return self.name != PLATFORM

    @property
    def subject(self) -> str:
        """Its subject in health: its outages, alerts and the status line."""
        return source_subject(self.name) if self.named else PLATFORM

    @property
    def cursor_key(self) -> str:
        return f"cursor:{self.name}" if self.named else "cursor"

    @property
    def epoch_key(self) -> str:
        return f"epoch:{self.name}" if self.named else "platform_epoch"

    @property
    def scope(self) -> str:
        """What sets its messages' content keys apart from other sources' ("" for the platform: its keys as always)."""
        return self.name if self.named else ""

    def settings(self, cfg: Config) -> PlatformConfig:
        return cfg.sources[self.name] if self.named else cfg.platform

    def app(self, cfg: Config) -> str:
        """The app shown for its messages that name none (its name, too, for a batch that ends a poll begun before a
        reload took the source away)."""
        if not self.named:
            return ""
        settings = cfg.sources.get(self.name)
        return (settings.app if settings else "") or self.name

    def mark(self, raws: list[Any], app: str) -> list[Any]:
        """The raw messages as this source's: the name in front of each id (and of ``data.handles``), ``app`` where none is named.

        Left as they are when not objects, or with an id that is not text or a number: the check of each message
        quarantines those with the platform's own words for why.
        """
        if not self.named:
            return raws
        return [self._marked(raw, app) if isinstance(raw, dict) else raw for raw in raws]

    def _marked(self, raw: dict[str, Any], app: str) -> dict[str, Any]:
        marked = dict(raw)
        if isinstance(raw.get("id"), (str, int)) and not isinstance(raw.get("id"), bool) and raw.get("id") != "":
            marked["id"] = f"{self.name}:{raw['id']}"
        if not raw.get("app"):
            marked["app"] = app
        data = raw.get("data")
        if isinstance(data, dict) and isinstance(data.get("handles"), str):
            marked["data"] = {**data, "handles": f"{self.name}:{data['handles']}"}
        return marked


def polled(cfg: Config) -> list[Source]:
    """The sources this device asks for news: the platform, and every source under ``sources:`` that is not inbound."""
    return [Source()] + [Source(name) for name, settings in cfg.sources.items() if settings.kind != "inbound"]


def inbound(cfg: Config) -> list[tuple[Source, PlatformConfig]]:
    """The sources that push to ``POST /v1/inbound``, each told apart by its token."""
    return [(Source(name), settings) for name, settings in cfg.sources.items() if settings.kind == "inbound"]
