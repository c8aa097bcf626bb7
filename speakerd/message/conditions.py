"""Conditions on a message's data fields, for routes: ``amount: ">= 1000"``, ``channel: pos``.

A condition is an operator (``>=``, ``<=``, ``>``, ``<``, ``==``, ``!=``) and a
value; a value alone means ``==``. The order operators compare numbers and
refuse a value that is not one when the config is loaded, so a typo is named
then rather than never matching. A message without the field never matches,
whatever the operator: "amount below 100" must not take a message that has
no amount. A dotted field (``customer.level``) looks inside nested data.
"""

from __future__ import annotations

import functools
import math
import operator
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

ORDER: dict[str, Callable[[float, float], bool]] = {">=": operator.ge, "<=": operator.le, ">": operator.gt, "<": operator.lt}
EQUALITY = {"==": operator.eq, "!=": operator.ne}
_FORM = re.compile(r"\s*(>=|<=|==|!=|>|<)?\s*(.*?)\s*")


@dataclass(frozen=True)
class Condition:
    op: str
    value: str

    def holds(self, actual: Any) -> bool:
        if actual is None or isinstance(actual, (dict, list)):
            return False
        if self.op in ORDER:
            number = _number(actual)
            return number is not None and ORDER[self.op](number, float(self.value))
        expected, number = _number(self.value), _number(actual)
        same = number == expected if expected is not None and number is not None else _text(actual) == self.value
        return same if self.op == "==" else not same


@functools.lru_cache(maxsize=1024)
def parse(text: str) -> Condition:
    """``">= 1000"`` → Condition(">=", "1000"); raises ValueError saying what is wrong."""
    op, value = _FORM.fullmatch(str(text)).groups()  # type: ignore[union-attr]  # the pattern matches any text
    if not value:
        raise ValueError(f"{text!r} has no value to compare with")
    if op in ORDER and _number(value) is None:
        raise ValueError(f"{text!r} compares with {value!r}, which is not a number (e.g. >= 1000)")
    return Condition(op or "==", value)


def holds_all(conditions: Mapping[str, str], data: Mapping[str, Any]) -> bool:
    """Whether ``data`` meets every condition (field → condition text)."""
    return all(parse(text).holds(_field(data, name)) for name, text in conditions.items())


def _field(data: Mapping[str, Any], name: str) -> Any:
    value: Any = data
    for part in name.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def _number(value: Any) -> float | None:
    if isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)
