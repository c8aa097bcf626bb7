"""Uploaded alert sounds: WAV, MP3 and OGG become the chimes' format; anything else is refused and changes nothing."""

from __future__ import annotations

import io
import re
import wave

import numpy as np
import pytest
import soundfile

from speakerd import config as config_mod
from speakerd.cli.demo import prepare
from speakerd.device import sounds
from speakerd.outputs.speech import chimes
from speakerd.web import create_app

from .helpers import csrf, login


def tone(seconds=0.5, rate=44100, channels=2, fmt="WAV", subtype=None):
    t = np.arange(int(seconds * rate)) / rate
    samples = np.stack([0.5 * np.sin(2 * np.pi * 660 * t)] * channels, axis=1)
    out = io.BytesIO()
    soundfile.write(out, samples, rate, format=fmt, subtype=subtype)
    return out.getvalue()


@pytest.mark.parametrize("fmt,subtype", [("WAV", "PCM_16"), ("WAV", "FLOAT"), ("OGG", "VORBIS"), ("MP3", "MPEG_LAYER_III")])
def test_wav_mp3_and_ogg_become_mono_16_bit_at_the_chimes_rate(tmp_path, fmt, subtype):
    path = sounds.save(tmp_path, "doorbell", tone(fmt=fmt, subtype=subtype))
    with wave.open(str(path)) as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, chimes.RATE)
        assert abs(w.getnframes() / chimes.RATE - 0.5) < 0.1
    assert len(chimes.chime(str(path))) > 0  # the speech output reads it like any chime
    assert sounds.uploaded(tmp_path) == {"doorbell": path}


@pytest.mark.parametrize("name,data,said", [
    ("doorbell", b"<?php system($_GET['x']); ?>" * 20, "not a WAV, MP3 or OGG"),
    ("doorbell", b"RIFF\x00\x00\x00\x00WAVEfmt " + bytes(64), "not a WAV, MP3 or OGG"),
    ("doorbell", tone(seconds=12, rate=8000, channels=1), "at most 10"),
    ("doorbell", b"\x00" * (sounds.MAX_BYTES + 1), "larger than 5 MB"),
    ("doorbell", tone(fmt="FLAC", subtype="PCM_16"), "Only WAV, MP3 and OGG"),
    ("../../etc/cron.d/x", tone(), "small letters"),
    ("Doorbell.wav", tone(), "small letters"),
    ("doorbell", b"", "No file"),
])
def test_a_broken_or_hostile_upload_is_refused_and_changes_nothing(tmp_path, name, data, said):
    (tmp_path / "sounds").mkdir()
    (tmp_path / "sounds" / "doorbell.wav").write_bytes(b"the old one")
    with pytest.raises(sounds.SoundError) as refused:
        sounds.save(tmp_path / "sounds", name, data)
    assert said in str(refused.value)
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["doorbell.wav", "sounds"]
    assert (tmp_path / "sounds" / "doorbell.wav").read_bytes() == b"the old one"


@pytest.fixture
def site(stub, run_daemon, tmp_path):
    server = stub([])
    setup = prepare(tmp_path, server.url)
    daemon = run_daemon(setup.config_path, outputs=[])
    client = create_app(daemon.store, daemon).test_client()
    login(client, setup.password)
    return daemon, client, setup.config_path


def upload(client, data, name="doorbell", filename="bell.wav", category="order"):
    page = client.get("/settings").get_data(as_text=True)
    version = re.search(r'name="version" value="([^"]+)"', page).group(1)
    return client.post("/settings/sounds/upload", content_type="multipart/form-data",
                       data={"csrf_token": csrf(client, "/settings"), "version": version, "name": name, "category": category,
                             "file": (io.BytesIO(data), filename)})


def test_an_uploaded_sound_becomes_the_categorys_chime(site):
    daemon, client, path = site
    answer = upload(client, tone(fmt="OGG", subtype="VORBIS"), filename="../../../evil name.ogg")
    assert answer.status_code == 302
    stored = sounds.folder(config_mod.database_path(daemon.cfg, path)) / "doorbell.wav"
    assert stored.exists() and config_mod.load(path).categories["order"].chime == str(stored)
    assert daemon.cfg.categories["order"].chime == str(stored)
    assert "doorbell" in client.get("/settings").get_data(as_text=True)


def test_a_hostile_upload_through_the_page_changes_nothing(site):
    daemon, client, path = site
    before = path.read_text(encoding="utf-8")
    answer = upload(client, b"MZ\x90\x00" + bytes(5000), filename="setup.exe")
    assert answer.status_code == 400 and "不是 WAV、MP3 或 OGG" in answer.get_data(as_text=True)
    assert path.read_text(encoding="utf-8") == before
    assert not sounds.folder(config_mod.database_path(daemon.cfg, path)).exists()
    too_big = upload(client, bytes(7 * 1024 * 1024))
    assert too_big.status_code == 413 and "最大 5 MB" in too_big.get_data(as_text=True)
    assert path.read_text(encoding="utf-8") == before
