"""Who is calling the public port: the peer, or a client a trusted reverse proxy names."""

from __future__ import annotations

from unittest.mock import Mock

import pytest
from aiohttp.test_utils import make_mocked_request

from bot.runtime.public import AuthThrottle


def request(peer: str, forwarded: str | None = None):
    headers = {"X-Forwarded-For": forwarded} if forwarded else {}
    transport = Mock()
    transport.get_extra_info.return_value = (peer, 40000)
    return make_mocked_request("GET", "/", headers=headers, transport=transport)


@pytest.mark.parametrize(
    ("peer", "forwarded", "caller"),
    [
        ("192.0.2.1", None, "192.0.2.1"),
        ("192.0.2.1", "203.0.113.7", "192.0.2.1"),  # an untrusted peer cannot name anyone
        ("10.0.0.2", "203.0.113.7", "203.0.113.7"),
        ("10.0.0.2", "198.51.100.9, 203.0.113.7", "203.0.113.7"),  # the client may lie left
        ("10.0.0.2", "203.0.113.7, 10.0.0.3", "203.0.113.7"),  # two proxies of ours
        ("10.0.0.2", "10.0.0.3", "10.0.0.3"),  # only proxies: the farthest
        ("10.0.0.2", " , ", "10.0.0.2"),
    ],
)
def test_the_caller_is_the_nearest_address_no_trusted_proxy_added(peer, forwarded, caller):
    throttle = AuthThrottle(trusted_proxies=["10.0.0.2", "10.0.0.3"])
    assert throttle.address(request(peer, forwarded)) == caller
