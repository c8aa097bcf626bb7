"""Where a message would go, without storing it: the settings page's "try a message", and alerts when the store fails."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from speakerd import message as message_mod
from speakerd.rules.classify import Classifier
from speakerd.rules.route import Assignment, Router

if TYPE_CHECKING:
    from speakerd.config import Config


@dataclass(frozen=True)
class Preview:
    message: message_mod.Message
    category: str
    reason: str  # why the classifier chose the category
    assignments: list[Assignment]  # each department, with the person next in turn


def preview(cfg: Config, raw: object, own: bool = False) -> Preview | message_mod.Rejected:
    """The category and the people ``raw`` would get, as if nobody had been given anything yet."""
    parsed = message_mod.parse(raw, cfg.platform.max_content, own)
    if isinstance(parsed, message_mod.Rejected):
        return parsed
    verdict = Classifier(cfg.categories, cfg.classify.fallback).classify(parsed)
    router = Router(cfg)
    assignments = [router.assign(target, None) for target in router.targets_for(parsed, verdict.category)]
    return Preview(parsed, verdict.category, verdict.reason, assignments)
