"""Talks to the shop platform's message API and names each way it can fail.

Every failure becomes a :class:`PlatformError` whose ``kind`` says, in terms
staff can act on, what went wrong; the text never contains the token.
"""

from __future__ import annotations

import contextlib
import email.utils
import json
import logging
import math
import socket
import threading
import time
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import requests

from speakerd import __version__
from speakerd.errors import N_, PlatformError

logger = logging.getLogger(__name__)

FAILURE_KINDS = {
    "network": N_("no network on the device (no route or name lookup failed)"),
    "unreachable": N_("platform unreachable (connection refused or timed out)"),
    "server": N_("platform error (it answered with a server error)"),
    "auth": N_("credentials rejected: check platform.token"),
    "woo_auth": N_("the shop refused the key: check the consumer key and secret, and that the key may read"),
    "not_found": N_("wrong address: check platform.url"),
    "garbage": N_("platform answered with something that is not a message list"),
    "slow": N_("platform answers too slowly (a whole poll took longer than its deadline)"),
    "rate_limited": N_("the platform limits how often it is asked (HTTP 429): polling waits as it says"),
    "stuck": N_("the platform's cursor does not move on: it sends the same messages again and again"),
    "epoch_flapping": N_("the platform's log keeps changing back and forth (replicas that disagree)"),
}
RETRY_AFTER_MAX = 3600.0  # seconds: a platform asking for longer is still asked again within the hour
DEADLINE_MARGIN = 5.0  # seconds past timeout + long-poll wait that a whole answer may take, headers to last byte
MAX_BODY = 32 * 1024 * 1024


@dataclass(frozen=True)
class Batch:
    messages: list  # raw JSON values, checked later one by one
    next: str
    epoch: str | None = None  # the platform log's identity: a new one means the log restarted and cursors are void


def safe_url(url: str) -> str:
    """The URL without any user:password part, for logs."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    if parts.port:
        host = f"{host}:{parts.port}"
    return urlunsplit((parts.scheme, host, parts.path, "", ""))


class PlatformClient:
    def __init__(self, url, token, timeout) -> None:
        self.endpoint = url.rstrip("/") + "/v1/messages"
        self.timeout = timeout
        self._session = requests.Session()
        self._session.headers["User-Agent"] = f"speakerd/{__version__}"
        if token:
            self._session.headers["Authorization"] = f"Bearer {token}"

    def close(self) -> None:
        self._session.close()

    def fetch(self, after: str | None, limit: int, wait: float = 0.0) -> Batch:
        """One poll. Raises PlatformError; a body that is not JSON is returned as a garbage error too."""
        params: dict[str, str | int] = {"limit": limit}
        if after:
            params["after"] = after
        if wait:
            params["wait"] = f"{wait:g}"
        deadline = self.timeout + wait + DEADLINE_MARGIN
        # The socket timeouts bound each wait for a byte; a platform sending one byte every few seconds never trips
        # them. This timer bounds the whole answer: it closes the connection, and the read below fails.
        stalled = threading.Event()
        holder: dict[str, requests.Response] = {}

        def give_up() -> None:
            stalled.set()
            if "response" in holder:
                _hang_up(holder["response"])

        timer = threading.Timer(deadline, give_up)
        timer.daemon = True
        timer.start()
        try:
            response = holder["response"] = self._session.get(self.endpoint, params=params, timeout=(self.timeout, self.timeout + wait),
                                                              stream=True, allow_redirects=False)
            if stalled.is_set():
                response.close()
            body = read_limited(response)
        except Exception as exc:  # noqa: BLE001 - whatever the closed connection raised, the deadline is the reason
            if not stalled.is_set():
                raise as_platform_error(exc, self.endpoint, self.timeout + wait) from None
            raise PlatformError("slow", f"{safe_url(self.endpoint)} did not finish its answer within {deadline:g} s "
                                        "(it sends too slowly, or stalled)") from None
        finally:
            timer.cancel()
        check_status(response, self.endpoint)
        return _parse_body(body)


def _hang_up(response: requests.Response) -> None:
    """End a connection another thread is reading from: a shutdown wakes its blocked read, where close() does not."""
    sock = getattr(getattr(response.raw, "connection", None), "sock", None)
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.shutdown(socket.SHUT_RDWR)
    response.close()


def as_platform_error(exc: Exception, endpoint: str, seconds: float) -> PlatformError:
    """The failed request as a PlatformError naming its kind (a PlatformError already is one)."""
    if isinstance(exc, PlatformError):
        return exc
    if isinstance(exc, requests.exceptions.ConnectionError):
        return PlatformError(_connection_kind(exc), _connection_reason(exc, endpoint))
    if isinstance(exc, requests.exceptions.Timeout):
        return PlatformError("unreachable", f"no answer from {safe_url(endpoint)} within {seconds:g} s")
    return PlatformError("unreachable", f"request to {safe_url(endpoint)} failed: {type(exc).__name__}")


def read_limited(response: requests.Response) -> bytes:
    """The answer's body, refused past MAX_BODY: a platform gone wrong must not fill the device's memory."""
    chunks, size = [], 0
    for chunk in response.iter_content(65536):
        size += len(chunk)
        if size > MAX_BODY:
            response.close()
            raise PlatformError("garbage", f"answer larger than {MAX_BODY // (1024 * 1024)} MB")
        chunks.append(chunk)
    return b"".join(chunks)


def _connection_kind(exc) -> str:
    text = repr(exc)
    if any(s in text for s in ("Name or service not known", "NameResolutionError", "Temporary failure in name resolution", "No address associated", "Network is unreachable", "No route to host")):
        return "network"
    return "unreachable"


def _connection_reason(exc, endpoint) -> str:
    text = repr(exc)
    where = safe_url(endpoint)
    if "Connection refused" in text:
        return f"{where} refused the connection (is the platform running?)"
    if "Network is unreachable" in text or "No route to host" in text:
        return f"no route to {where}: check the device's network cable or Wi-Fi"
    if _connection_kind(exc) == "network":
        return f"cannot look up the host of {where}: check the device's network and DNS"
    if "timed out" in text.lower():
        return f"{where} did not accept the connection in time"
    return f"cannot connect to {where}"


def check_status(response: requests.Response, endpoint: str) -> None:
    """Raises the PlatformError an answer's HTTP status means (shared with the WooCommerce client)."""
    code = response.status_code
    if 300 <= code < 400:
        # Never followed: the token would go wherever the answer points, and that host's answer would count as the platform's.
        target = safe_url(response.headers.get("Location", "")) or "an address it does not name"
        raise PlatformError("not_found", f"the platform redirects to {target} (HTTP {code}): set platform.url to the address "
                                         "the platform should be reached at")
    if code in (401, 403):
        raise PlatformError("auth", f"the platform refused the token (HTTP {code}): check platform.token")
    if code == 404:
        raise PlatformError("not_found", f"{safe_url(endpoint)} does not exist (HTTP 404): check platform.url")
    if code == 429:
        wait = retry_after(response.headers.get("Retry-After"))
        said = f"; it asks to wait {wait:g} s" if wait is not None else ""
        raise PlatformError("rate_limited", f"the platform is rate limiting this device (HTTP 429){said}", retry_after=wait)
    if code >= 500:
        raise PlatformError("server", f"the platform failed with HTTP {code}")
    if code != 200:
        raise PlatformError("garbage", f"unexpected HTTP {code} from the platform")


def retry_after(value: str | None) -> float | None:
    """Retry-After as seconds (it is a number of seconds or an HTTP date), at most :data:`RETRY_AFTER_MAX`; None if unusable."""
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError, IndexError):
            return None
        if when.tzinfo is None:
            return None
        seconds = when.timestamp() - time.time()
    if not math.isfinite(seconds):
        return None
    return min(max(seconds, 0.0), RETRY_AFTER_MAX)


def _parse_body(body):
    try:
        data = json.loads(body.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        error = PlatformError("garbage", f"the answer is not JSON ({type(exc).__name__} at byte {getattr(exc, 'start', getattr(exc, 'pos', 0))})")
        error.body = body
        raise error from None
    except RecursionError:
        error = PlatformError("garbage", "the answer is nested too deeply to read")
        error.body = body
        raise error from None
    if not isinstance(data, dict):
        raise PlatformError("garbage", "the answer is not a JSON object")
    messages, nxt = data.get("messages"), data.get("next")
    if not isinstance(messages, list):
        raise PlatformError("garbage", "the answer has no 'messages' list")
    if not isinstance(nxt, str) or not nxt or len(nxt) > 1024:
        raise PlatformError("garbage", "the answer has no usable 'next' cursor")
    epoch = data.get("epoch")
    return Batch(messages=messages, next=nxt, epoch=epoch if isinstance(epoch, str) and 0 < len(epoch) <= 128 else None)
