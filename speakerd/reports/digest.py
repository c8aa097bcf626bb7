"""The daily digest: yesterday's counts and what is still unhandled, per department, to its lead."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from speakerd.reports import stats

if TYPE_CHECKING:
    from speakerd.config import Config
    from speakerd.store import Store


def yesterday(now: datetime) -> str:
    """The local day before ``now``, as 'YYYY-MM-DD'."""
    return (now.astimezone() - timedelta(days=1)).strftime("%Y-%m-%d")


def digests(store: Store, cfg: Config, day: str) -> list[tuple[dict[str, Any], str, str | None]]:
    """``[(message, department, lead staff id or None)]`` for each department that had or has work."""
    counts = {r["department"]: r for r in stats.report(store, "department", day, day, cfg)}
    open_work = store.acks.waiting_by_department(restated=False)
    out = []
    for dep_id, (_, dep) in cfg.departments().items():
        row = counts.get(dep_id, {"messages": 0, "acked": 0})
        waiting = open_work.get(dep_id, 0)
        if not row["messages"] and not waiting:
            continue
        lead = next((s.id for s in dep.staff if s.lead), None)
        content = f"{dep.name}日报：昨日共{row['messages']}条消息，已确认{row['acked']}条；目前仍有{waiting}条未处理。"
        message = {
            "id": f"digest-{day}-{dep_id}", "type": "digest.daily", "app": "speakerd", "content": content,
            "data": {"day": day, "department": dep_id, "messages": row["messages"], "acked": row["acked"], "unhandled": waiting},
        }
        out.append((message, dep_id, lead))
    return out
