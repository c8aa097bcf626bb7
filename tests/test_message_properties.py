"""Whatever the platform sends, checking a message never raises and a rejection always has a reason."""

import json

from hypothesis import given, settings
from hypothesis import strategies as st

from speakerd.message import Message, Rejected, parse

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)
messages = st.fixed_dictionaries(
    {},
    optional={
        "id": st.one_of(st.text(max_size=140), st.integers(), json_values),
        "content": st.one_of(st.text(max_size=300), json_values),
        "type": st.one_of(st.text(max_size=20), json_values),
        "app": json_values,
        "created_at": st.one_of(st.datetimes().map(lambda d: d.isoformat()), st.text(max_size=30), json_values),
        "user": st.one_of(st.fixed_dictionaries({}, optional={"id": json_values, "name": json_values, "tier": json_values}), json_values),
        "data": json_values,
    },
)


@settings(max_examples=400, deadline=None)
@given(st.one_of(messages, json_values))
def test_parse_never_raises_and_explains_rejections(raw):
    result = parse(raw, max_content=200)
    assert isinstance(result, (Message, Rejected))
    if isinstance(result, Rejected):
        assert result.reason
    else:
        assert result.id and result.content.strip()
        json.dumps(result.data)  # what is accepted can be stored
