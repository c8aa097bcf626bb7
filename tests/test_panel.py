"""The panel (golden images, the real luma drivers on a fake I2C bus) and the buttons and LED (gpiozero's MockFactory)."""

import threading
import time
from pathlib import Path

import pytest
import yaml
from gpiozero.pins.mock import MockFactory
from PIL import Image, ImageChops

from speakerd.cli import main
from speakerd.config import DisplayConfig
from speakerd.outputs.panel import DIM, DisplayOutput
from speakerd.outputs.panel.screens import frame

from .conftest import ROOT, fast_platform
from .helpers import wait_until
from .panel_fixtures import WITHDRAWAL, screens


@pytest.mark.parametrize("name", ["message", "idle", "unreachable", "burst"])
def test_screens_match_their_golden_images(shanghai, name):
    state, now = screens()[name]
    drawn = frame(state, now)
    with Image.open(ROOT / "tests" / "golden" / f"{name}.png") as golden:
        assert drawn.size == (128, 64) and drawn.mode == "1"
        # Compared as 8-bit images: ImageChops.difference misreports on two 1-bit ones.
        assert ImageChops.difference(golden.convert("L"), drawn.convert("L")).getbbox() is None


class FakeSerial:
    """Stands in for the I2C bus: records the bytes the real driver sends."""

    def __init__(self):
        self.commands, self.frames = [], []

    def command(self, *cmd):
        self.commands.append(cmd)

    def data(self, data):
        self.frames.append(list(data))

    def cleanup(self):
        pass


@pytest.mark.parametrize("chip, sent", [("ssd1306", [1024]), ("sh1106", [128] * 8)])
def test_real_driver_sends_whole_frames(chip, sent):
    from luma.oled import device as luma_devices

    serial = FakeSerial()
    panel = DisplayOutput(DisplayConfig(), device=getattr(luma_devices, chip)(serial, width=128, height=64))
    try:
        start = len(serial.frames)
        panel.deliver(WITHDRAWAL)
        assert wait_until(lambda: [len(f) for f in serial.frames[start:]][-len(sent):] == sent and panel.state.latest is WITHDRAWAL)
    finally:
        panel.close()


def test_panel_dims_when_idle_and_wakes_on_news():
    from luma.oled.device import ssd1306

    serial, now = FakeSerial(), [1000.0]
    panel = DisplayOutput(DisplayConfig(dim_after=60), device=ssd1306(serial), clock=lambda: now[0])
    try:
        now[0] += 61  # a minute without news or a button
        assert wait_until(lambda: (0x81, DIM) in serial.commands)  # contrast down
        serial.commands.clear()
        panel.deliver(WITHDRAWAL)
        assert wait_until(lambda: (0x81, 0xCF) in serial.commands)
    finally:
        panel.close()


@pytest.mark.parametrize(
    "driver, port, words",
    [("ssd1306", 9, "no I2C bus /dev/i2c-9: enable I2C with 'sudo raspi-config'"), ("auto", 9, "drawing on the emulator")],
)
def test_no_i2c_bus_is_explained_and_the_panel_still_draws(caplog, driver, port, words):
    import logging

    caplog.set_level(logging.INFO)
    panel = DisplayOutput(DisplayConfig(driver=driver, i2c_port=port))
    try:
        panel.deliver(WITHDRAWAL)
        assert wait_until(lambda: panel.last_frame is not None and panel.state.latest is WITHDRAWAL)
    finally:
        panel.close()
    assert words in caplog.text


# --- buttons and LED on the running daemon ------------------------------------------


class FakeSpeech:
    """The parts of the speech output the buttons use."""

    name = "speech"

    def __init__(self):
        from speakerd.config import SpeechConfig

        self.settings, self.said, self.played, self.heard = SpeechConfig(), [], [], threading.Event()

    def deliver(self, notice):
        pass

    def play(self, spoken, category, priority, name, mode="both"):
        self.played.append(spoken)

    def say(self, spoken, lang=None, name="say"):
        self.said.append(spoken)
        self.heard.set()

    def close(self):
        pass


def press(factory, pin, hold=0.0):
    factory.pin(pin).drive_low()
    time.sleep(hold or 0.05)
    factory.pin(pin).drive_high()


@pytest.fixture
def device(stub, write_config, tmp_path):
    """A running daemon with the panel, a fake speech output, buttons and LED on mock pins."""
    from speakerd.daemon.wiring import Daemon

    server = stub([
        {"id": "m-1", "type": "order.paid", "content": "客户张三已支付订单1"},
        {"id": "m-2", "type": "finance.withdrawal", "content": "马丽申请提现500元"},
    ])
    cfg = fast_platform(server.url)
    cfg["display"] = {"enabled": True, "driver": "emulator"}
    cfg["gpio"] = {"enabled": True, "long_press": 0.5}
    cfg["health"] = {"fail_after": 0.5}
    factory, speech = MockFactory(), FakeSpeech()
    panel = DisplayOutput(DisplayConfig(driver="emulator"))
    daemon = Daemon(write_config(cfg), outputs_factory=lambda *a, **k: [panel, speech], pin_factory=factory)
    daemon.start()
    assert wait_until(lambda: len(panel.history) == 2)
    yield daemon, factory, speech, panel, server
    daemon.stop()


def test_acknowledge_button_marks_the_shown_message_and_returns_to_idle(device):
    daemon, factory, _, panel, _ = device
    shown = panel.state.latest.message_id
    press(factory, 17)
    assert wait_until(lambda: daemon.store.query("select acked_via from messages where id = ?", [shown])[0]["acked_via"] == "button")
    assert panel.state.latest is None
    assert daemon.store.query("select acked_at from messages where id != ?", [shown])[0]["acked_at"] is None


def test_long_press_acknowledges_everything_waiting(device):
    daemon, factory, *_ = device
    press(factory, 17, hold=0.9)
    assert wait_until(lambda: daemon.store.acks.waiting_by_department() == {})


def test_replay_walks_back_through_the_history(device):
    _, factory, speech, _, _ = device
    press(factory, 27)
    assert speech.heard.wait(5)
    press(factory, 27)
    assert wait_until(lambda: len(speech.said) == 2)
    # The withdrawal (high priority) was announced first, the order last: replay starts from the last.
    assert "客户张三已支付订单" in speech.said[0] and "马丽申请提现五百元" in speech.said[1]


def test_mute_button_snoozes_speech_says_until_when_and_a_second_press_ends_it(device):
    daemon, factory, speech, *_ = device
    press(factory, 22)
    assert wait_until(lambda: daemon.store.followup.snoozed_until() > time.time() + 29 * 60)
    # Two messages wait: the device says so while going quiet.
    assert wait_until(lambda: speech.played and "恢复播报" in speech.played[0] and "还有2条消息待处理" in speech.played[0])
    press(factory, 22)
    assert wait_until(lambda: daemon.store.followup.snoozed_until() == 0.0)
    assert wait_until(lambda: speech.played[-1] == "静音结束，恢复播报。")


def test_led_shows_waiting_then_all_clear_then_platform_down(device):
    import requests

    daemon, factory, _, _, server = device
    assert wait_until(lambda: daemon.board.led.mode == "blink")
    press(factory, 17, hold=0.9)
    assert wait_until(lambda: daemon.board.led.mode == "steady")
    assert factory.pin(23).state
    requests.post(f"{server.url}/admin/fault", json={"mode": "500"}, headers={"Authorization": "Bearer demo-token"}, timeout=5)
    assert wait_until(lambda: daemon.board.led.mode == "fast", timeout=10)
    seen = set()
    assert wait_until(lambda: seen.add(factory.pin(23).state) or len(seen) == 2, timeout=3, interval=0.02)  # it blinks


def test_no_gpio_chip_is_explained_and_the_daemon_runs(stub, write_config, run_daemon, recording, caplog):
    cfg = fast_platform(stub([{"id": "m-1", "type": "order.paid", "content": "客户已支付"}]).url)
    cfg["gpio"] = {"enabled": True}
    run_daemon(write_config(cfg))
    assert recording.wait_for(1)
    assert "no GPIO chip found: buttons and LED are off" in caplog.text


def test_snapshot_command(device, tmp_path, capsys):
    daemon, *_ = device
    out = tmp_path / "panel.png"
    assert main(["panel", "--snapshot", str(out), "-c", daemon.config_path]) == 0
    with Image.open(out) as image:
        assert image.size == (512, 256)
        assert len(image.getcolors()) == 2 and image.getcolors()[0][0] < 512 * 256  # white text on black


def test_a_pin_edit_takes_effect_on_reload_without_a_restart(device):
    """Regression: gpio counted as an output section for reload, yet the buttons were built only at start."""
    daemon, factory, _, panel, _ = device
    path = Path(daemon.config_path)
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    data["gpio"]["ack_pin"] = 5
    path.write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    assert daemon.reload()
    shown = panel.state.latest.message_id

    def acked_via():
        return daemon.store.query("select acked_via from messages where id = ?", [shown])[0]["acked_via"]

    assert factory.pin(17).when_changed is None  # the old pin: nothing listens there any more
    press(factory, 17)
    assert acked_via() is None
    press(factory, 5)
    assert wait_until(lambda: acked_via() == "button")


def test_a_message_acknowledged_anywhere_leaves_the_panel_within_a_second(device):
    """Regression guard for the ack feed: the web page, a push link, the platform or a speaker acknowledge; the panel clears."""
    daemon, _, _, panel, _ = device
    shown = panel.state.latest.message_id
    other = next(n.message_id for n in panel.history if n.message_id != shown)
    assert daemon.store.acks.acknowledge(other, "web") == "done"
    assert wait_until(lambda: daemon.ack_feed.new() == [], 3)  # passed on to the panel
    assert panel.state.latest.message_id == shown  # another message's acknowledgement leaves it alone
    assert daemon.store.acks.acknowledge(shown, "push link") == "done"
    assert wait_until(lambda: panel.state.latest is None, 3)


def test_the_snapshot_drops_a_message_once_it_was_acknowledged(device, tmp_path):
    """Regression: 'panel --snapshot' kept showing a message after it was acknowledged."""
    from speakerd.device.panel_snapshot import state_from_store

    daemon, *_ = device
    latest = state_from_store(daemon.store, daemon.cfg).latest
    assert latest is not None
    daemon.store.acks.acknowledge(latest.message_id, "web")
    assert state_from_store(daemon.store, daemon.cfg).latest is None


def test_a_long_staff_name_never_runs_into_the_age_in_the_header():
    """Regression: the header drew "004 赵敏…" on top of "N分钟前" when both were long."""
    from speakerd.outputs.interface import Notice
    from speakerd.outputs.panel.screens import TITLE_GAP, WIDTH, ago, font, header_title

    small = font(12)
    n = Notice(message_id="m-1", content="x", category="campaign", category_name="营销活动审核", priority="normal",
               department="marketing", department_name="市场部", subsystem="hq", subsystem_name="总部",
               staff_id="004", staff_name="欧阳娜娜娜娜")
    when = ago(59 * 60)
    title = header_title(n, WIDTH - small.getlength(when) - TITLE_GAP, small)
    assert title.endswith("…") and title.startswith("[营销")
    assert small.getlength(title) + TITLE_GAP <= WIDTH - small.getlength(when)
    short = Notice(**{**n.__dict__, "category_name": "财务", "staff_name": "王芳"})
    recent = ago(120)
    assert header_title(short, WIDTH - small.getlength(recent) - TITLE_GAP, small) == "[财务] 004 王芳"  # fits: unchanged


def test_a_very_long_message_is_paged_through_its_first_screens_and_wrapped_once():
    """Regression: a 4,000-character message cost 0.4 s of CPU per redraw while it was the latest."""
    from speakerd.outputs.panel import screens as screens_mod
    from speakerd.outputs.panel.screens import PanelState

    long = WITHDRAWAL.__class__(**{**WITHDRAWAL.__dict__, "content": "客户留言：" + "请尽快发货谢谢" * 600})
    state = PanelState(latest=long, latest_at=time.time())
    screens_mod.wrap.cache_clear()
    pages = {frame(state, time.time(), scroll=i).tobytes() for i in range(200)}
    assert 5 <= len(pages) <= screens_mod.MAX_SHOWN // 2 // 8 + 2  # about ten screens of two lines, then round again
    assert screens_mod.wrap.cache_info().misses == 1  # the same message is wrapped once, not at every redraw


def test_emoji_the_font_cannot_draw_are_left_out_not_drawn_as_boxes():
    from speakerd.outputs.panel.screens import PanelState

    def drawn(content, name="王芳"):
        n = WITHDRAWAL.__class__(**{**WITHDRAWAL.__dict__, "content": content, "staff_name": name})
        return frame(PanelState(latest=n, latest_at=1000.0), 1010.0).tobytes()

    assert drawn("🎉新订单🎉 请发货👍") == drawn("新订单 请发货")
    assert drawn("新订单", name="王芳😀") == drawn("新订单")
    assert drawn("新订单") != drawn("新订单，请发货")


def test_a_burst_is_shown_as_a_running_count_with_its_sum_and_vip_orders_not_a_frame_per_order(shanghai):
    """Regression: during a flash sale the panel showed the latest order with '+N条', which told nobody how the sale went."""
    import dataclasses

    from luma.core.device import dummy

    from speakerd.outputs.panel.screens import message_screen

    from .panel_fixtures import ORDER

    now = [1000.0]
    panel = DisplayOutput(DisplayConfig(), device=dummy(width=128, height=64, mode="1"), clock=lambda: now[0])
    try:
        for i in range(40):
            now[0] += 0.05
            panel.deliver(dataclasses.replace(ORDER, message_id=f"o-{i}", data={"amount": 10 + i}, user_tier="vip" if i % 8 == 0 else ""))
        panel.deliver(WITHDRAWAL)  # another category starts its own count
        for i in range(40, 43):
            panel.deliver(dataclasses.replace(ORDER, message_id=f"o-{i}", data={"amount": 1}))
        tally = panel.state.tally
        assert (tally.category, tally.count, tally.amount, tally.vip) == ("order", 3, 3, 0)
        for i in range(43, 50):
            panel.deliver(dataclasses.replace(ORDER, message_id=f"o-{i}", data={"amount": 2.5}, user_tier="VIP"))
        assert (tally.count, tally.amount, tally.vip) == (10, 20.5, 7)
        burst = message_screen(panel.state, now[0])
        alone = message_screen(dataclasses.replace(panel.state, tally=None), now[0])
        assert burst.tobytes() != alone.tobytes()  # the count, not the latest order
        panel.acknowledged()
        assert panel.state.tally is None
    finally:
        panel.close()


def test_replay_from_the_command_line_reaches_the_running_daemon(device):
    daemon, _, speech, _, _ = device
    assert main(["replay", "-c", daemon.config_path]) == 0
    assert speech.heard.wait(5)
    assert "客户张三已支付订单" in speech.said[0]
    assert daemon.store.meta.get("replay_requested") is None  # done once, not at every tick


def test_a_muted_category_shows_on_the_panel_until_its_mute_ends(device):
    daemon, _, _, panel, _ = device
    assert main(["mute", "--category", "order", "--for", "15m", "-c", daemon.config_path]) == 0
    state = daemon.device_state.panel()
    assert state["mutes"].keys() == {"category:order"}
    from speakerd.outputs.panel.screens import PanelState, is_muted

    shown = PanelState(mutes=state["mutes"])
    now = time.time()
    order, withdrawal = (next(n for n in panel.history if n.message_id == i) for i in ("m-1", "m-2"))
    assert is_muted(shown, order, now) and not is_muted(shown, withdrawal, now)
    assert not is_muted(shown, order, now + 15 * 60 + 1)


def test_the_gpio_advice_fits_the_machine_and_names_speakerds_own_environment(tmp_path):
    """Regression: the advice was `apt install python3-lgpio`, which speakerd's own venv cannot see."""
    import sys

    from speakerd.device.gpio import no_pins_advice

    pi = tmp_path / "model"
    pi.write_bytes(b"Raspberry Pi 4 Model B Rev 1.5\0")
    assert no_pins_advice(tmp_path / "absent").endswith("(this is not a Raspberry Pi)")
    missing = no_pins_advice(pi, has_lgpio=False)
    assert f"sudo {sys.prefix}/bin/pip install lgpio" in missing and "python3-lgpio" not in missing
    assert "sudo usermod -a -G gpio speakerd" in no_pins_advice(pi, has_lgpio=True)
