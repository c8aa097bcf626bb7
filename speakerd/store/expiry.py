"""Forgets what is old: expires messages in small batches, and masks phone and ID numbers.

Runs on a schedule in the daemon. Each batch is its own short transaction,
with a pause between batches, so that a year's worth of expiry never holds
up storing new messages. The tallies that reports read are kept, so month
and year reports survive expiry.
"""

from __future__ import annotations

import json
import logging
import time
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from speakerd.clock import iso
from speakerd.message.privacy import mask_data, mask_text

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.store import Store

logger = logging.getLogger(__name__)

BATCH = 500
PAUSE = 0.05

def _cutoff(days: int, now: datetime) -> str:
    return iso(now - timedelta(days=days))


def expire(store: Store, cfg: Config, now: datetime | None = None, batch: int = BATCH, pause: float = PAUSE) -> int:
    """Delete messages past their category's retention (or storage.retention_days); return how many."""
    now = now or store.clock.now()
    by_days: dict[int, list[str]] = {}
    for cid, cat in cfg.categories.items():
        by_days.setdefault(cat.retention_days or cfg.storage.retention_days, []).append(cid)
    removed, anchor = 0, store.meta.clock_anchor()
    for days, categories in by_days.items():
        cutoff = now - timedelta(days=days)
        default = days == cfg.storage.retention_days  # also takes categories no longer in the config
        while True:
            gone = store.housekeeping.delete_received_before(cutoff, categories, default, batch, anchor)
            removed += gone
            if gone < batch:
                break
            time.sleep(pause)
    removed_bad = store.housekeeping.delete_quarantined_before(_cutoff(cfg.storage.retention_days, now))
    if removed or removed_bad:
        logger.info("expired %d message(s) and %d quarantined one(s)", removed, removed_bad)
    return removed


def mask_old(store: Store, cfg: Config, now: datetime | None = None, batch: int = BATCH, pause: float = PAUSE) -> int:
    """Mask phone and ID numbers in messages older than storage.mask_after_days; return how many were looked at."""
    days = cfg.storage.mask_after_days
    if not days:
        return 0
    cutoff, seen = _cutoff(days, now or store.clock.now()), 0
    while True:
        done = store.housekeeping.mask_received_before(cutoff, batch, _mask_message)
        seen += done
        if done < batch:
            return seen
        time.sleep(pause)


def _mask_message(content: str, data: str) -> tuple[str, str]:
    return mask_text(content), json.dumps(mask_data(json.loads(data)), ensure_ascii=False)
