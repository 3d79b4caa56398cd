"""``WEBOS_NATS_URL`` as one server or a comma-separated list: what nats-py is given, what a bad
list says, and that no password reaches a message."""

import pytest

from kernel.config import redact_url
from kernel.errors import ConfigError
from kernel.settings import load_settings
from kernel.transport import InvalidNatsUrl, nats_servers

CLUSTER = "nats://gateway:s3cret@a:4222, nats://gateway:s3cret@b:4223,nats://c"


def test_a_list_is_every_server_without_credentials_and_one_user() -> None:
    servers = nats_servers(CLUSTER)
    assert servers.urls == ("nats://a:4222", "nats://b:4223", "nats://c")
    assert (servers.user, servers.password) == ("gateway", "s3cret")
    assert servers.inbox_prefix == "_INBOX_gateway"
    options = servers.connect_options()
    assert options["servers"] == ["nats://a:4222", "nats://b:4223", "nats://c"]
    assert (options["user"], options["password"]) == ("gateway", "s3cret")
    assert options["inbox_prefix"] == "_INBOX_gateway"
    assert "s3cret" not in servers.display and "s3cret" not in repr(servers)


def test_credentials_in_one_url_are_the_whole_lists() -> None:
    """A URL naming nobody is reached as the user the others name (as are discovered nodes)."""
    servers = nats_servers("nats://a:4222,nats://module-audit:pw@b:4222")
    assert servers.user == "module-audit"
    assert servers.inbox_prefix == "_INBOX_module-audit"
    assert nats_servers("nats://a:4222").connect_options().keys() == {"servers", "inbox_prefix"}
    assert nats_servers("nats://tok@a:4222").token == "tok"


@pytest.mark.parametrize(
    ("setting", "says"),
    [
        ("nats://a:4222,,nats://b:4222", "entry 2 of 3 is empty"),
        ("nats://a:4222,", "entry 2 of 2 is empty"),
        ("nats://a:4222,b:4222", "has no scheme"),
        ("nats://a:4222,gateway:pw@b:4222", "has no scheme: write nats://gateway:\\*\\*\\*@b"),
        ("http://a:4222", "is not a NATS URL"),
        ("nats://a:99999", "invalid host or port"),
        ("nats://:4222", "names no host"),
        ("nats://a:4222,ws://b:8080", "cannot be mixed"),
        ("nats://gateway:pw@a,nats://worker:pw@b", r"different users \(gateway, worker\)"),
        ("nats://gateway:one@a,nats://gateway:two@b", "different passwords"),
        ("nats://tok1@a,nats://tok2@b", "different tokens"),
    ],
)
def test_a_malformed_list_names_the_setting_and_the_entry(setting: str, says: str) -> None:
    with pytest.raises(InvalidNatsUrl, match=says) as caught:
        nats_servers(setting)
    message = str(caught.value)
    assert message.startswith("WEBOS_NATS_URL: ")
    for secret in ("pw", "one", "two", "tok1", "tok2"):
        assert f":{secret}@" not in message and f"{secret}@" not in message


def test_settings_refuse_a_malformed_list_without_showing_the_password(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("WEBOS_NATS_URL", "nats://gateway:s3cret@a:4222,,nats://b:4222")
    with pytest.raises(ConfigError, match="WEBOS_NATS_URL") as caught:
        load_settings()
    assert "entry 2 of 3 is empty" in str(caught.value)
    assert "s3cret" not in str(caught.value)
    assert "gateway:***@a:4222" in str(caught.value)


def test_settings_take_a_list_and_show_it_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_NATS_URL", CLUSTER)
    nats = load_settings().nats
    assert nats.url == CLUSTER
    assert nats.display_url == ("nats://gateway:***@a:4222, nats://gateway:***@b:4223,nats://c")


def test_redact_url_hides_every_password_and_token_and_never_raises() -> None:
    assert redact_url("nats://u:p@h:4222") == "nats://u:***@h:4222"
    assert redact_url("nats://tok@h:4222") == "nats://***@h:4222"
    assert redact_url("nats://h:4222") == "nats://h:4222"
    assert redact_url("nats://u:p@a:4222,nats://u:p@b:99999,") == (
        "nats://u:***@a:4222,nats://u:***@b:99999,"
    )
    assert redact_url("mongodb://root:pw@mongo:27017/?authSource=admin") == (
        "mongodb://root:***@mongo:27017/?authSource=admin"
    )
    assert redact_url("nats://a:4222, gateway:pw@b:4222") == "nats://a:4222, gateway:***@b:4222"
    assert redact_url("root@example.org") == "root@example.org"


def test_replicas_are_a_setting_of_their_own(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("WEBOS_JETSTREAM_REPLICAS", raising=False)
    assert load_settings().jetstream.replicas == 1
    assert load_settings(jetstream_replicas=3).jetstream.replicas == 3
    monkeypatch.setenv("WEBOS_JETSTREAM_REPLICAS", "7")
    with pytest.raises(ConfigError, match="WEBOS_JETSTREAM_REPLICAS"):
        load_settings()


def test_a_websocket_url_gives_nats_py_its_websocket_library(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The kernel imports nats-py without aiohttp (``kernel.transport._nats``); a ws:// setting
    brings it back, or nats-py could not connect over websockets."""
    import nats.aio.transport as transport

    monkeypatch.setattr(transport, "aiohttp", None)
    nats_servers("nats://a:4222")
    assert transport.aiohttp is None
    nats_servers("wss://a:443")
    assert transport.aiohttp is not None
    assert transport.aiohttp.ClientSession is not None
