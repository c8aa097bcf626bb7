"""Backups that leave the device: 下载备份, 从备份恢复 on a new device, and a daily copy off the SD card."""

from __future__ import annotations

import io
import re
import tarfile

import pytest

from speakerd import config as config_mod
from speakerd.cli.demo import prepare
from speakerd.device import backup_files
from speakerd.device.password import password_file
from speakerd.store import archive
from speakerd.web import create_app

from .helpers import csrf, login, wait_until

ORDERS = [{"id": f"m-{n}", "type": "order.paid", "content": f"客户张三已支付订单{n}"} for n in range(1, 4)]


@pytest.fixture
def old_device(stub, run_daemon, tmp_path):
    """A device in use: its messages stored, its staff renamed, a logged-in page."""
    setup = prepare(tmp_path / "old", stub(ORDERS).url)
    path = setup.config_path
    path.write_text(path.read_text(encoding="utf-8").replace("name: 王芳", "name: 王芳芳", 1), encoding="utf-8")
    daemon = run_daemon(path)
    assert wait_until(lambda: daemon.store.reports.counts()["messages"] == 3)
    client = create_app(daemon.store, daemon).test_client()
    login(client, setup.password)
    return daemon, client, setup


@pytest.fixture
def new_device(stub, run_daemon, tmp_path):
    """A fresh device: the shipped config, no password, nothing stored."""
    setup = prepare(tmp_path / "new", stub([]).url)
    password_file(setup.config_path).unlink()
    daemon = run_daemon(setup.config_path)
    app = create_app(daemon.store, daemon)
    app.config["SPEAKERD_RESTART"] = False  # the service would stop and systemd start it again
    return daemon, app, setup


def download(client) -> bytes:
    answer = client.get("/settings/backup")
    assert answer.status_code == 200 and answer.mimetype == "application/gzip"
    assert re.match(r'attachment; filename="speakerd-backup-.+\.tar\.gz"', answer.headers["Content-Disposition"])
    return answer.data


def restore(app, daemon, data, code=None, page="/setup"):
    client = app.test_client()
    return client, client.post("/setup/restore", data={"csrf_token": csrf(client, page), "code": daemon.claim.code() if code is None else code,
                                                      "backup": (io.BytesIO(data), "backup.tar.gz")}, content_type="multipart/form-data")


def test_a_backup_downloaded_from_one_device_replaces_it_on_a_new_one(old_device, new_device, run_daemon):
    old, client, old_setup = old_device
    assert "下载备份" in client.get("/settings").get_data(as_text=True)
    data = download(client)
    names = tarfile.open(fileobj=io.BytesIO(data)).getnames()
    assert {"config.yaml", "speakerd.db", "web-password"} <= set(names)
    new, app, setup = new_device
    assert "从备份恢复" in app.test_client().get("/setup").get_data(as_text=True)
    _, answer = restore(app, new, data)
    assert answer.status_code == 200 and "已从备份恢复" in answer.get_data(as_text=True)
    assert "王芳芳" in setup.config_path.read_text(encoding="utf-8")
    new.stop()  # as systemd starts the service again: the staged database takes its place
    again = run_daemon(setup.config_path)
    assert {m["id"] for m in again.store.reports.messages()} >= {"m-1", "m-2", "m-3"}
    client = create_app(again.store, again).test_client()
    assert login(client, old_setup.password).status_code == 302  # the old device's password came with it


@pytest.fixture(scope="module")
def good_backup(tmp_path_factory):
    """A whole backup file of a device with a message stored, made without running one."""
    from speakerd.store import Store

    setup = prepare(tmp_path_factory.mktemp("packed"), "http://127.0.0.1:9")
    database = config_mod.database_path(config_mod.load(setup.config_path), setup.config_path)
    with Store(database) as store:
        store.meta.set("cursor", "1")
    return archive.pack(backup_files.paths(setup.config_path, database))


@pytest.mark.parametrize("bad", ["traversal", "link", "not gzip", "damaged database", "bad config", "no database"])
def test_a_hostile_or_broken_file_is_refused_and_nothing_changes(new_device, good_backup, bad):
    good = tarfile.open(fileobj=io.BytesIO(good_backup))
    members = {m.name: good.extractfile(m).read() for m in good if m.isfile()}
    extra = []
    if bad == "traversal":
        extra = [("../../etc/cron.d/x", b"* * * * * root rm -rf /")]
    elif bad == "damaged database":
        members["speakerd.db"] = members["speakerd.db"][:4096] + b"\x00garbage" * 500
    elif bad == "bad config":
        members["config.yaml"] = b"platform: [unclosed"
    elif bad == "no database":
        del members["speakerd.db"]
    out = io.BytesIO()
    with tarfile.open(fileobj=out, mode="w:gz") as tar:
        for name, body in [*members.items(), *extra]:
            info = tarfile.TarInfo(name)
            info.size = len(body)
            tar.addfile(info, io.BytesIO(body))
        if bad == "link":
            link = tarfile.TarInfo("sounds/evil.wav")
            link.type, link.linkname = tarfile.SYMTYPE, "/etc/shadow"
            tar.addfile(link)
    data = b"this is not a backup" if bad == "not gzip" else out.getvalue()
    new, app, setup = new_device
    before = setup.config_path.read_text(encoding="utf-8")
    _, answer = restore(app, new, data)
    assert answer.status_code == 400 and "这个文件无法恢复" in answer.get_data(as_text=True)
    assert setup.config_path.read_text(encoding="utf-8") == before and not password_file(setup.config_path).exists()
    assert not list(new.store.path.parent.glob("*.restore")) and new.claim.open()


def test_restoring_needs_the_code_on_the_panel_and_an_unclaimed_device(new_device, old_device):
    old, client, old_setup = old_device
    data = download(client)
    new, app, setup = new_device
    _, answer = restore(app, new, data, code="000000" if new.claim.code() != "000000" else "111111")
    assert answer.status_code == 403 and not password_file(setup.config_path).exists()
    other = create_app(old.store, old)
    other.config["SPEAKERD_RESTART"] = False
    _, answer = restore(other, old, data, code="123456", page="/login")
    assert answer.status_code == 401  # a claimed device: only its login may touch it, and it offers no restore


def test_the_daily_copy_goes_off_the_card_keeps_seven_and_says_when_it_cannot(old_device, tmp_path):
    old, _, setup = old_device
    stick = tmp_path / "usb"
    stick.mkdir()
    paths = backup_files.paths(setup.config_path, old.store.path)
    for _ in range(9):
        archive.copy_out(archive.pack(paths), stick)
    copies = sorted(p.name for p in stick.iterdir())
    assert len(copies) == 7 and copies[-1].startswith("speakerd-backup-000009-") and copies[0].startswith("speakerd-backup-000003-")
    with pytest.raises(OSError, match="USB stick plugged in"):
        archive.copy_out(b"x", tmp_path / "unplugged")
    text = setup.config_path.read_text(encoding="utf-8").replace('copy_backups_to: ""', f"copy_backups_to: {tmp_path / 'unplugged'}")
    setup.config_path.write_text(text, encoding="utf-8")
    assert old.reload() and old.cfg.storage.copy_backups_to
    old.chores.copy_out()
    alert = old.store.query("select content from messages where type = 'tech.backup copy.notice'")
    assert len(alert) == 1 and alert[0]["content"].startswith("技术告警：每日备份没能复制到存储卡以外的位置")


def test_the_days_check_and_backup_copies_that_backup_off_the_card(old_device, tmp_path):
    """The day's check and backup also write the backup file off the card, the day's backup in it."""
    old, _, setup = old_device
    stick = tmp_path / "usb"
    stick.mkdir()
    text = setup.config_path.read_text(encoding="utf-8").replace('copy_backups_to: ""', f"copy_backups_to: {stick}")
    setup.config_path.write_text(text, encoding="utf-8")
    assert old.reload()
    old.chores.safeguard()
    (copy,) = stick.iterdir()
    (taken,) = (old.store.path.parent / "backups").glob("speakerd-*.db")
    packed = tarfile.open(copy).extractfile("speakerd.db").read()
    assert packed == taken.read_bytes()
