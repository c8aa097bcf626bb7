"""Customers' phone and ID numbers never reach an output in full: panel, speech, push, log, pages."""

from __future__ import annotations

import json
import logging

from hypothesis import given, settings
from hypothesis import strategies as st

from speakerd import config
from speakerd.message.privacy import mask_text
from speakerd.outputs.interface import notice_from_row
from speakerd.outputs.log import LogOutput
from speakerd.outputs.panel.screens import shown_text
from speakerd.outputs.push import body_of, title_of
from speakerd.outputs.speech import reading, spoken_text
from speakerd.web import create_app

from .conftest import EXAMPLE, fast_platform
from .helpers import login, wait_until

CFG = config.load(EXAMPLE)
mobiles = st.builds(lambda second, rest: f"1{second}{rest}", st.sampled_from("3456789"), st.text("0123456789", min_size=9, max_size=9))
id_numbers = st.builds(lambda body, last: body + last, st.text("0123456789", min_size=17, max_size=17), st.sampled_from("0123456789Xx"))
written = st.one_of(
    mobiles,
    mobiles.map(lambda m: f"{m[:3]}-{m[3:7]}-{m[7:]}"),
    mobiles.map(lambda m: f"{m[:3]} {m[3:7]} {m[7:]}"),
    id_numbers,
)
around = st.text(st.sampled_from(list("客户手机号身份证会员合并：，。 abcXYZ")), max_size=12)


class Lines(logging.Handler):
    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.append(record.getMessage())


def said_digits(number: str) -> str:
    """The number's digits as speech would read them out one by one."""
    return reading.digits(number)


@settings(max_examples=300, deadline=None)
@given(number=written, before=around, after=around, field=st.sampled_from(["phone", "id_number", "note"]))
def test_no_output_ever_gets_a_full_phone_or_id_number(number, before, after, field):
    bare = "".join(c for c in number if c.isalnum())
    row = {"id": "m-1", "content": f"{before}{number}{after}", "category": "member", "type": "member.merged", "app": "pos",
           "user_name": "", "created_at": "", "received_at": "", "department": "membership", "subsystem": "mall",
           "staff_id": "006", "data": json.dumps({field: number, "nested": [{"phone": number}]})}
    notice = notice_from_row(row, CFG)
    lines = Lines()
    routed = logging.getLogger("speakerd.routed")
    routed.addHandler(lines)
    try:
        LogOutput().deliver(notice)
    finally:
        routed.removeHandler(lines)
    shown = [*lines.lines, notice.content, json.dumps(notice.data, ensure_ascii=False), body_of(notice), title_of(notice),
             shown_text(notice.content), mask_text(row["content"])]
    for out in shown:
        assert bare not in "".join(c for c in out if c.isalnum()), out
    spoken = spoken_text(notice, CFG.categories.get(notice.category), 120)
    assert said_digits(bare[:-1]) not in spoken.replace("，", ""), spoken  # not read out in full either


def test_the_pages_and_the_notices_show_a_member_merge_masked(stub, write_config, run_daemon, recording):
    event = {"id": "mm-1", "type": "member.merged", "content": "会员合并：手机13812345678同时在淘宝和POS注册，身份证110101199003071234",
             "data": {"phone": "13812345678", "channels": ["taobao", "pos"]}}
    server = stub([event])
    path = write_config({**fast_platform(server.url), "web": {"enabled": False}})
    from speakerd.device.password import set_password

    set_password(path, "a-long-password-1")
    daemon = run_daemon(path)
    assert recording.wait_for(1)
    (notice,) = recording.notices
    assert "13812345678" not in notice.content + json.dumps(notice.data) and "138****5678" in notice.content
    assert "110101********1234" in notice.content
    client = create_app(daemon.store, daemon).test_client()
    login(client, "a-long-password-1")
    for url in ("/", "/board"):
        assert wait_until(lambda url=url: "138****5678" in client.get(url).get_data(as_text=True)), url
        page = client.get(url).get_data(as_text=True)
        assert "13812345678" not in page and "110101199003071234" not in page
    assert "13812345678" in daemon.store.query("select content from messages where id = 'mm-1'")[0]["content"]  # kept, for mask_after_days
