"""The daemon's threads share two malloc arenas: its memory stayed growing at a peak with one arena per thread."""

from __future__ import annotations

import re
import subprocess
import sys
import textwrap

import pytest

CHILD = textwrap.dedent("""
    import ctypes, threading, sys
    from speakerd.daemon import arenas
    if sys.argv[1] == "limit":
        assert arenas.limit()
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    started, go = threading.Barrier(9), threading.Event()

    def work():
        started.wait()
        go.wait()
        for _ in range(50):
            libc.free(ctypes.c_void_p(libc.malloc(200_000)))  # each thread its own buffers, as the outputs' threads

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    started.wait()
    go.set()
    for t in threads:
        t.join()
    libc.malloc_stats()  # to stderr: one "Arena N:" block per arena
""")


def arenas_used(mode: str) -> int:
    done = subprocess.run([sys.executable, "-c", CHILD, mode], capture_output=True, text=True, timeout=60, check=True)
    return len(re.findall(r"^Arena \d+:", done.stderr, re.M))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="glibc's malloc")
def test_the_daemon_s_threads_share_two_arenas():
    assert arenas_used("limit") <= 2
    assert arenas_used("as-is") > 2  # without it, threads allocating at once each get their own


def test_speakerd_run_limits_the_arenas_before_its_threads_start(monkeypatch):
    import threading

    from speakerd.daemon import arenas, wiring

    calls = []
    monkeypatch.setattr(arenas, "limit", lambda: calls.append("limit"))
    monkeypatch.setattr(wiring.Daemon, "start", lambda self: calls.append("start"))
    monkeypatch.setattr(wiring.Daemon, "stop", lambda self: None)
    monkeypatch.setattr(wiring.signal, "signal", lambda *args: None)  # the test runner keeps its own handlers
    daemon = wiring.Daemon.__new__(wiring.Daemon)  # only what run() needs: start, the signals' events, stop
    daemon._stop_requested, daemon._wake, daemon._reload_requested = threading.Event(), threading.Event(), threading.Event()
    daemon._stop_requested.set()
    assert daemon.run() == 0
    assert calls == ["limit", "start"]
