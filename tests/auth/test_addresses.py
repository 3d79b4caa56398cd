"""The client address login throttling counts: X-Forwarded-For only from trusted proxies."""

import pytest

from kernel.auth._addresses import client_address, parse_networks
from kernel.errors import ConfigError
from kernel.settings import load_settings


def scope(peer: str, *forwarded: str) -> dict:
    headers = [(b"x-forwarded-for", value.encode()) for value in forwarded]
    return {"client": (peer, 5555), "headers": headers}


PROXIES = parse_networks(["10.0.0.0/8", "127.0.0.1"])


def test_without_trusted_proxies_the_header_counts_for_nothing() -> None:
    assert client_address(scope("127.0.0.1", "203.0.113.9"), ()) == "127.0.0.1"


def test_a_client_cannot_pose_as_a_proxy() -> None:
    assert client_address(scope("198.51.100.7", "203.0.113.9"), PROXIES) == "198.51.100.7"


def test_the_last_untrusted_hop_is_the_client() -> None:
    # The client wrote "1.2.3.4" itself; our proxies appended the real addresses after it.
    found = client_address(scope("127.0.0.1", "1.2.3.4, 203.0.113.9", "10.1.2.3"), PROXIES)
    assert found == "203.0.113.9"


def test_garbage_from_a_proxy_counts_as_the_proxy() -> None:
    assert client_address(scope("127.0.0.1", "203.0.113.9, not-an-ip"), PROXIES) == "127.0.0.1"
    assert client_address(scope("127.0.0.1"), PROXIES) == "127.0.0.1"


def test_ipv6() -> None:
    proxies = parse_networks(["::1"])
    assert client_address(scope("::1", "2001:db8::7"), proxies) == "2001:db8::7"


def test_the_setting_is_checked_and_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_TRUSTED_PROXIES", "10.0.0.0/8, 127.0.0.1")
    assert load_settings().auth.trusted_proxies == ["10.0.0.0/8", "127.0.0.1"]
    monkeypatch.setenv("WEBOS_TRUSTED_PROXIES", "10.0.0.0/8,proxy.example")
    with pytest.raises(ConfigError, match="WEBOS_TRUSTED_PROXIES") as caught:
        load_settings()
    assert "proxy.example" in str(caught.value)
