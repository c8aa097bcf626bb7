"""The voices in a process of their own, so the daemon never holds their memory.

A neural voice takes the voice process to 190–230 MiB once it has spoken, and its native
runtime can crash or hang. Run in the daemon, either would take the panel,
push and polling with it. Here the voices live in a child process that the
daemon starts on the first sentence and talks to over a pipe: one JSON
line asks; the answer comes in frames, a JSON line each followed by its
samples as raw float32 at OUTPUT_RATE, one frame per clause as soon as it is
made. The daemon closes the pipe after ``speech.unload_after`` of
silence, and the child exits, giving every byte back; a child that dies or
stops answering is killed and started again, and the sentence it owed is
reported as failed, so the outbox plays it again.

The child is :mod:`speakerd.outputs.speech.voiced`; it exits when its
stdin closes, so a daemon killed with ``kill -9`` leaves no voice process behind.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Generator, Iterator
from contextlib import closing
from dataclasses import asdict
from typing import IO

import numpy as np

from speakerd.outputs.speech.voices import VoiceSettings, VoiceUnavailable, joined

logger = logging.getLogger(__name__)

START_GRACE = 30.0  # seconds a new voice process may take, on top of the timeout, to start and answer its first frame


class VoiceProcessError(Exception):
    """The voice process died, hung or answered nonsense; the sentence was not made."""

    def __init__(self, why: str, hung: bool = False) -> None:
        super().__init__(why)
        self.hung = hung


class VoiceProcess:
    """The daemon's side: the same ``synthesize``/``engine`` calls as :class:`~.voices.Voices`, answered by the child.

    One request at a time (a lock), each with a deadline: a child that has not
    answered within ``timeout`` seconds is killed, so a hung runtime costs one
    announcement's delay, never the device.
    """

    def __init__(self, settings: VoiceSettings, timeout: float = 60.0) -> None:
        self._settings = settings
        self.timeout = timeout
        self._fresh = False  # the child was just started: its first frame may take START_GRACE longer
        self._child: subprocess.Popen | None = None
        self._lock = threading.Lock()
        self._closed = False

    @property
    def running(self) -> bool:
        """Whether the voice process runs (its voices may be in memory)."""
        return self._child is not None and self._child.poll() is None

    @property
    def pid(self) -> int | None:
        return self._child.pid if self._child is not None and self.running else None

    def synthesize(self, lang: str, text: str) -> tuple[np.ndarray, str]:
        """Samples at OUTPUT_RATE and the engine that made them; raises VoiceUnavailable or VoiceProcessError."""
        return joined(self.stream(lang, text))

    def stream(self, lang: str, text: str) -> Iterator[tuple[np.ndarray, str]]:
        """``(samples, engine)`` clause by clause as the child makes them, so the first is heard sooner.

        A child that dies before the first part is started again for the same text; after it, the failure is
        raised (what was played cannot be taken back, and the outbox plays the announcement again).
        """
        with closing(self._ask({"op": "speak", "lang": lang, "text": text})) as answers:  # left early: ended at once
            for answer, payload in answers:
                if payload:
                    yield np.frombuffer(payload, np.float32), answer["engine"]

    def engine(self, lang: str) -> str:
        """The engine that speaks ``lang`` here (loads it in the child)."""
        with closing(self._ask({"op": "engine", "lang": lang})) as answers:
            return next(answers)[0]["engine"]

    def _ask(self, request: dict) -> Generator[tuple[dict, bytes], None, None]:
        """The child's frames answering ``request``, up to its last, one request at a time.

        A child that fails before any samples were given is started again once for the same request (see
        :meth:`_again`); a request left mid-answer kills the child, so its frames never answer the next one.
        """
        with self._lock:
            if self._closed:
                raise VoiceProcessError("is closed: the daemon is stopping", hung=True)
            for attempt in (1, 2):
                given, done = False, False
                try:
                    child = self._running()
                    self._send(child, request)
                    while not done:
                        answer, payload = self._receive(child)
                        done, given = answer.get("last", True), given or bool(payload)
                        yield answer, payload
                    return
                except VoiceUnavailable:
                    done = True  # a whole answer: the child is fine
                    raise
                except VoiceProcessError as exc:
                    self._kill()
                    if not self._again(exc, attempt == 1 and not given):
                        raise
                finally:
                    if not done and self._child is not None:
                        self._kill()

    def unload(self) -> int:
        """End the voice process (its memory goes back to the system); 1 if one was running."""
        with self._lock:
            return self._stop()

    def close(self) -> None:
        """At shutdown: end the child now, even mid-sentence (that announcement stays owed), and start no other."""
        self._closed = True
        child = self._child
        if child is not None and child.poll() is None:
            child.kill()

    def _again(self, exc: VoiceProcessError, may: bool) -> bool:
        """Log why the voice process failed; whether to start it again for the same request (never after a hang:
        it would likely hang again, and the outbox retries later; never while the daemon stops)."""
        again = may and not exc.hung and not self._closed
        logger.warning("speech: the voice process %s; %s", exc, "starting it again for this sentence" if again else "the announcement stays owed")
        return again

    def _running(self) -> subprocess.Popen:
        if self._closed:  # close() ended the child under a request: no new one while the daemon stops
            raise VoiceProcessError("is closed: the daemon is stopping", hung=True)
        if self._child is not None and self._child.poll() is not None:
            logger.warning("speech: the voice process had ended (%s); starting it again", _how(self._child.returncode))
            self._kill()
        if self._child is None:
            self._fresh = True
            self._child = subprocess.Popen(
                [sys.executable, "-m", "speakerd.outputs.speech.voiced", json.dumps(asdict(self._settings))],
                stdin=subprocess.PIPE, stdout=subprocess.PIPE, bufsize=0, start_new_session=True)
        return self._child

    def _send(self, child: subprocess.Popen, request: dict) -> None:
        try:
            _pipe(child.stdin).write(json.dumps(request, ensure_ascii=False).encode() + b"\n")
        except OSError:
            try:
                raise VoiceProcessError(_ended(child.wait(5))) from None
            except subprocess.TimeoutExpired:
                raise VoiceProcessError("stopped reading, killed it", hung=True) from None

    def _receive(self, child: subprocess.Popen) -> tuple[dict, bytes]:
        """One frame: its JSON line and its samples, within ``timeout`` of asking for it (a child just started has
        :data:`START_GRACE` more for its first: starting Python and loading a voice is not hanging, and takes
        seconds on a slow or busy board)."""
        allowed = self.timeout + (START_GRACE if self._fresh else 0.0)
        deadline = time.monotonic() + allowed
        line = _read(child, deadline, self.timeout, until_newline=True)
        self._fresh = False
        try:
            answer = json.loads(line)
        except ValueError:
            raise VoiceProcessError(f"answered nonsense ({line[:60]!r})") from None
        if "unavailable" in answer:
            raise VoiceUnavailable(answer["unavailable"])
        return answer, _read(child, deadline, self.timeout, size=4 * answer.get("samples", 0))

    def _stop(self) -> int:
        child, self._child = self._child, None
        if child is None or child.poll() is not None:
            return 0
        _pipe(child.stdin).close()  # the child's cue to exit
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
        _pipe(child.stdout).close()
        return 1

    def _kill(self) -> None:
        child, self._child = self._child, None
        if child is not None:
            if child.poll() is None:
                child.kill()
            child.wait()
            for pipe in (child.stdin, child.stdout):
                _pipe(pipe).close()


def _pipe(pipe: IO[bytes] | None) -> IO[bytes]:
    """A pipe of the child's: always there, as the child is started with both."""
    assert pipe is not None
    return pipe


def _how(code: int) -> str:
    return f"killed by {signal.Signals(-code).name}" if code < 0 else f"exit code {code}"


def _ended(code: int) -> str:
    return f"ended unexpectedly ({_how(code)})"


def _read(child: subprocess.Popen, deadline: float, timeout: float, size: int = 0, until_newline: bool = False) -> bytes:
    """``size`` bytes, or one line, from the child's stdout before ``deadline``; VoiceProcessError otherwise."""
    fd, data = _pipe(child.stdout).fileno(), bytearray()
    while (until_newline and not data.endswith(b"\n")) or (not until_newline and len(data) < size):
        left = deadline - time.monotonic()
        if left <= 0 or not select.select([fd], [], [], left)[0]:
            raise VoiceProcessError(f"did not answer in {timeout:g} s, killed it", hung=True)
        chunk = os.read(fd, 1 if until_newline else min(size - len(data), 1 << 20))
        if not chunk:
            raise VoiceProcessError(_ended(child.wait()))
        data += chunk
    return bytes(data)
