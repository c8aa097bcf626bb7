"""Customers' phone and ID numbers, masked wherever a message is shown or said.

The platform sends them in full (a member-merge event names the phone that
matched); the office needs to know which customer, not the number. Every
output gets the masked form: the panel, speech, push, the log and the web
pages (138****5678, an ID number's first six and last four). The stored
message keeps the number until ``storage.mask_after_days`` masks it there
too, so a later lookup by the owner still works.
"""

from __future__ import annotations

import re
from typing import Any

MOBILE = re.compile(r"(?<![\d*])(1[3-9]\d)[-\s]?\d{4}[-\s]?(\d{4})(?![\d*])")
ID_CARD = re.compile(r"(?<!\d)(\d{6})\d{8}(\d{3}[\dXx])(?!\d)")


def mask_text(text: str) -> str:
    """13812345678 or 138-1234-5678 → 138****5678; an 18-character ID number keeps its first 6 and last 4."""
    return MOBILE.sub(r"\1****\2", ID_CARD.sub(r"\1********\2", text))


def mask_data(value: Any) -> Any:
    """``value`` with every text inside it masked (data fields may carry a phone: data.phone, data.merged_from)."""
    if isinstance(value, str):
        return mask_text(value)
    if isinstance(value, dict):
        return {k: mask_data(v) for k, v in value.items()}
    if isinstance(value, list):
        return [mask_data(v) for v in value]
    if isinstance(value, int) and not isinstance(value, bool) and (MOBILE.fullmatch(str(value)) or ID_CARD.fullmatch(str(value))):
        return mask_text(str(value))
    return value
