"""Forgets what is old: expires messages in small batches, and masks phone and ID numbers.

Runs on a schedule in the daemon. Each batch is its own short transaction,
with a pause between batches, so that a year's worth of expiry never holds
up storing new messages. The tallies that reports read are kept, so month
and year reports survive expiry.
"""

from __future__ import annotations

import json
import logging
import re
import time
from datetime import timedelta

from speakerd import store as store_mod

logger = logging.getLogger(__name__)

BATCH = 500
PAUSE = 0.05
MOBILE = re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)")
ID_CARD = re.compile(r"(?<![\dA-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![\dA-Za-z])")


def mask_text(text):
    """13812345678 → 138****5678; an 18-digit ID number keeps its first 6 and last 4 characters."""
    return MOBILE.sub(r"\1****\2", ID_CARD.sub(r"\1********\2", text))


def _cutoff(days, now):
    return (now - timedelta(days=days)).isoformat()


def expire(store, cfg, now=None, batch=BATCH, pause=PAUSE):
    """Delete messages past their category's retention (or storage.retention_days); return how many."""
    now = now or store_mod.now()
    by_days = {}
    for cid, cat in cfg.categories.items():
        by_days.setdefault(cat.retention_days or cfg.storage.retention_days, []).append(cid)
    removed = 0
    for days, categories in by_days.items():
        cutoff = _cutoff(days, now)
        default = days == cfg.storage.retention_days  # also takes categories no longer in the config
        while True:
            gone = _delete_batch(store, cutoff, categories, default, batch)
            removed += gone
            if gone < batch:
                break
            time.sleep(pause)
    with store.atomic():
        removed_bad = store.db.execute("delete from quarantine where received_at < ?", [_cutoff(cfg.storage.retention_days, now)]).rowcount
    if removed or removed_bad:
        logger.info("expired %d message(s) and %d quarantined one(s)", removed, removed_bad)
    return removed


def _delete_batch(store, cutoff, categories, include_unknown, batch):
    marks = ",".join("?" * len(categories))
    known = ",".join("?" * len(categories))
    where = f"received_at < ? and (category in ({marks})" + (f" or category not in ({known}))" if include_unknown else ")")
    params = [cutoff, *categories] + (list(categories) if include_unknown else [])
    with store.atomic():
        ids = [r[0] for r in store.db.execute(f"select id from messages where {where} limit ?", params + [batch]).fetchall()]
        if ids:
            holes = ",".join("?" * len(ids))
            for table in ("outbox", "push_log", "assignments"):
                store.db.execute(f"delete from {table} where message_id in ({holes})", ids)
            store.db.execute(f"delete from messages where id in ({holes})", ids)
    return len(ids)


def mask_old(store, cfg, now=None, batch=BATCH, pause=PAUSE):
    """Mask phone and ID numbers in messages older than storage.mask_after_days; return how many were looked at."""
    days = cfg.storage.mask_after_days
    if not days:
        return 0
    cutoff, seen = _cutoff(days, now or store_mod.now()), 0
    while True:
        with store.atomic():
            rows = store.db.execute(
                "select id, content, data from messages where masked_at is null and received_at < ? limit ?", [cutoff, batch]
            ).fetchall()
            for message_id, content, data in rows:
                masked_data = json.dumps(_mask_json(json.loads(data or "{}")), ensure_ascii=False)
                store.db.execute("update messages set content = ?, data = ?, masked_at = ? where id = ?",
                                 [mask_text(content), masked_data, store_mod.now_iso(), message_id])
        seen += len(rows)
        if len(rows) < batch:
            return seen
        time.sleep(pause)


def _mask_json(value):
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, list):
        return [_mask_json(v) for v in value]
    if isinstance(value, dict):
        return {k: _mask_json(v) for k, v in value.items()}
    return value
