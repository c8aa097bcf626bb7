"""What the attention policy decides for one notice, and what each of its rules is given to decide it."""

from __future__ import annotations

import enum
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from speakerd.config import Category, Config
    from speakerd.outputs.interface import Notice
    from speakerd.store import Job, Store


class Action(enum.Enum):
    DELIVER = "deliver"  # tell it now
    SKIP = "skip"  # done, on purpose not told (snoozed, stale, not announced in this category)
    HOLD = "hold"  # done, not told now: summarised when quiet hours end
    DEFER = "defer"  # ask again at ``until``
    GROUP = "group"  # tell ``notice`` (a summary) for this job and ``grouped``


@dataclass(frozen=True)
class Decision:
    action: Action
    reason: str = ""
    notice: Notice | None = None  # what to deliver (DELIVER, GROUP)
    until: float = 0.0  # DEFER: epoch seconds
    grouped: tuple[Job, ...] = ()  # GROUP: the other jobs the summary tells
    key: tuple[str, ...] = ()  # GROUP: the recipient whose summaries are spaced (push), remembered when decided


@dataclass(frozen=True)
class Context:
    output: str
    notice: Notice
    category: Category | None
    cfg: Config
    store: Store
    now: datetime
    heard_by: Callable[[str], tuple[list[str], list[str]] | None]  # (online, offline) speakers of a department on a hub; None: not known yet
    summaries: dict[tuple[str, ...], float]  # when each recipient last got a summary (epoch seconds)
    promised: Callable[[str], bool] = lambda message_id: False  # a hub sent it as covered: it says it itself
    # Whether the output would tell another message owed to it at all (job, category, received_at): a summary counts only those.
    tells_too: Callable[[Job, str, str], bool] = lambda job, category, received_at: True


Rule = Callable[[Context], "Decision | None"]
