"""Pushes each routed message to the phones and PCs of its person, department and unit, via apprise.

A notice has up to three recipients: the staff member it was assigned to, the
department's group targets and the unit's group targets. Each of a
recipient's targets gets the push (a person's PC *and* phone); a target may
name its fallback (``"URL_A || URL_B"``: B once A failed ``push.fallback_after``
times in a row). Every attempt is recorded in the store's ``push_log`` before
it is sent, per recipient and target, and a target already served is never
sent the same message again, whatever restarts happen. While any target is
still owed, the output raises OutputError and the dispatcher retries the
message later, with backoff.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from speakerd.config.push_urls import fallback_chain, mask
from speakerd.errors import NotYet, OutputError
from speakerd.outputs.push import ack_links
from speakerd.outputs.push.group_robot import RobotSender
from speakerd.outputs.push.recipients import recipients
from speakerd.outputs.push.robots import is_robot
from speakerd.outputs.push.send import send

if TYPE_CHECKING:
    from speakerd.outputs.interface import Notice

logger = logging.getLogger(__name__)


def title_of(notice: Notice) -> str:
    return f"{notice.category_name}｜{notice.department_name}"


def body_of(notice: Notice) -> str:
    who = f"{notice.staff_id} {notice.staff_name}" if notice.staff_id else "（无人值班）"
    return f"{notice.content}\n负责人：{who}"


class PushOutput:
    name = "push"
    batch_size = 50  # a repeat after a crash is guarded by push_log; a summary counts the rest of its batch too

    def __init__(self, store, current_config) -> None:
        self.store = store
        self._config = current_config  # callable: targets come from the config in force now
        self._robots = RobotSender(store, current_config)

    def deliver(self, notice: Notice) -> bool:
        """Push to every recipient still owed; False when nobody is to be told (nothing proven about the services)."""
        cfg = self._config()
        link = self._ack_link(notice, cfg.web)
        owed, held, to = [], [], recipients(notice, cfg)
        for key, label, targets in to:
            for i, target in enumerate(targets):
                # The first target keeps the recipient's own key, as push_log had it when there was one target a push.
                try:
                    reason = self._serve(notice, key if i == 0 else f"{key}#{i}", label, fallback_chain(target), cfg.push, link)
                except NotYet as wait:  # the others are still served now
                    held.append(wait)
                    continue
                if reason:
                    owed.append(reason)
        if owed:
            raise OutputError("; ".join(owed))
        if held:
            raise held[0]
        return bool(to)

    def _ack_link(self, notice, web):
        """A signed link that acknowledges this message, when phones can reach the device."""
        if not (web.enabled and web.public_url):
            return None
        token = ack_links.make_token(self.store.meta.secret("ack_secret", ack_links.new_secret), notice.message_id, web.ack_link_hours * 3600,
                                 now=self.store.clock.time())
        return f"{web.public_url.rstrip('/')}/ack/{token}"

    def _serve(self, notice, key, label, urls, settings, link):
        """Push to one recipient unless already done; return why it is still owed, or None."""
        state = self.store.push_log.state(notice.message_id, notice.department, key) or {}
        if state.get("state") == "sent":
            return None
        index = min(state.get("target_index") or 0, len(urls) - 1)
        attempts, fallbacks = state.get("attempts") or 0, state.get("fallbacks") or 0
        shown = mask(urls[index])
        record = dict(target_index=index, target=shown, fallbacks=fallbacks)
        self.store.push_log.save(notice.message_id, notice.department, key, state="sending", attempts=attempts, **record)
        body = body_of(notice) + (f"\n确认已处理或转交：{link}" if link else "")
        if is_robot(urls[index]):
            delivered, reason = self._robots.send(notice, key, urls[index], f"{title_of(notice)}\n{body}", settings.timeout, record)
        else:
            delivered, reason = send(urls[index], title_of(notice), body, notice.priority, click=link, timeout=settings.timeout)
        if delivered:
            self.store.push_log.save(notice.message_id, notice.department, key, state="sent", attempts=attempts + 1,
                                 last_error=None, sent_at=self.store.clock.iso(), **record)
            return None
        attempts += 1
        if attempts >= settings.fallback_after and index + 1 < len(urls):
            logger.warning("push to %s: %s failed %d times, falling back to %s", label, shown, attempts, mask(urls[index + 1]))
            record.update(target_index=index + 1, target=mask(urls[index + 1]), fallbacks=fallbacks + 1)
            attempts = 0
        self.store.push_log.save(notice.message_id, notice.department, key, state="failed", attempts=attempts, last_error=reason, **record)
        return f"{label} via {shown}: {reason}"

    def close(self) -> None:
        pass
