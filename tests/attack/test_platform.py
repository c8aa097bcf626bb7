"""Attacks from the platform's side: each keeps the daemon running, loses nothing, and says what happened once."""

from __future__ import annotations

import pytest

from speakerd.errors import PlatformError
from speakerd.platform import PlatformClient

from .hostile import HostilePlatform, batch


def test_a_redirect_to_another_host_is_refused_not_followed():
    """Regression: a redirect was followed and the other host's answer taken as platform data."""
    with HostilePlatform(lambda q: batch([{"id": "evil-1", "type": "order.paid", "content": "不该收到"}], "e1")) as elsewhere:
        with HostilePlatform(lambda q: (302, {"Location": elsewhere.url + "/v1/messages"}, b"")) as platform:
            client = PlatformClient(platform.url, "token-77", timeout=2)
            with pytest.raises(PlatformError) as refused:
                client.fetch(None, 10)
    assert refused.value.kind == "not_found" and "redirects to" in refused.value.reason and elsewhere.url in refused.value.reason
    assert elsewhere.requests == []  # the token never went there
