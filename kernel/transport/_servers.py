"""``WEBOS_NATS_URL`` as nats-py and FastStream take it: one server, or a comma-separated list.

nats-py wants a list of URLs; handed the list as one string it fails ("invalid connect url
option"). :func:`nats_servers` is the one place that reads the setting, for every process and
command: it checks each URL and takes the credentials out of them, to be given once as the
connection's user and password (or token). nats-py sends a URL's own credentials to that URL's
server only, so a node the cluster announces (clients learn the other nodes from the one they
reach) would be asked to take a client without any, and refuse it; credentials given once go to
every server, listed or discovered.

So the URLs must agree on who connects: every URL that names a user names the same one, with the
same password, and a URL naming none is reached as that user too. The user also names the
process's private inbox prefix (``_INBOX_<user>``, see ``_credentials.py``), so two users in one
list would leave the process unable to tell which replies are its own: refused.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any
from urllib.parse import unquote, urlsplit, urlunsplit

from kernel.config import redact_url
from kernel.errors import ConfigError
from kernel.transport._credentials import inbox_prefix
from kernel.transport._nats import websocket_transport

VARIABLE = "WEBOS_NATS_URL"
_SCHEMES = ("nats", "tls", "ws", "wss")
_WEBSOCKETS = frozenset({"ws", "wss"})
#: (user, password, token) as one URL gives them.
Credentials = tuple[str | None, str | None, str | None]


class InvalidNatsUrl(ConfigError, ValueError):
    """``WEBOS_NATS_URL`` (or a URL handed to a command) is not a NATS URL or list of them."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"{VARIABLE}: {reason}")
        #: The problem without the variable's name (settings errors add it themselves).
        self.reason = reason


@dataclass(frozen=True)
class NatsServers:
    """Where a process connects and as whom (see the module docstring)."""

    #: Each server's URL, without credentials.
    urls: tuple[str, ...]
    user: str | None = None
    password: str | None = field(default=None, repr=False)
    #: A token (``nats://token@host``), when the URLs carry one instead of a user.
    token: str | None = field(default=None, repr=False)
    #: The setting as written, credentials redacted: for log lines and errors.
    display: str = ""

    @property
    def inbox_prefix(self) -> str:
        """Where this user's replies arrive (the generated permissions let no one else read)."""
        return inbox_prefix(self.user)

    def connect_options(self) -> dict[str, Any]:
        """Keyword arguments for ``nats.connect``: servers, credentials, inbox prefix."""
        options: dict[str, Any] = {"servers": list(self.urls), "inbox_prefix": self.inbox_prefix}
        if self.user is not None:
            options.update(user=self.user, password=self.password)
        elif self.token is not None:
            options["token"] = self.token
        return options


def nats_servers(setting: str) -> NatsServers:
    """Parse ``WEBOS_NATS_URL``: ``nats://[user:password@]host[:port]``, several separated by
    commas. Raises :class:`InvalidNatsUrl` (naming the variable, never a password) when an entry
    is empty or not a NATS URL, when websocket and plain URLs are mixed, or when the URLs name
    different users."""
    entries = [entry.strip() for entry in setting.split(",")]
    urls: list[str] = []
    who: set[Credentials] = set()
    for number, entry in enumerate(entries, start=1):
        url, credentials = _server(entry, number, len(entries))
        urls.append(url)
        if credentials != (None, None, None):
            who.add(credentials)
    schemes = {url.partition("://")[0] for url in urls}
    if schemes & _WEBSOCKETS and schemes - _WEBSOCKETS:
        raise InvalidNatsUrl("websocket (ws://, wss://) and plain URLs cannot be mixed")
    if schemes & _WEBSOCKETS:
        websocket_transport()  # aiohttp, which the first import of nats-py left out
    if len(who) > 1:
        users = sorted({user or "a token" for user, _, _ in who})
        if len(users) > 1:
            raise InvalidNatsUrl(
                f"the URLs connect as different users ({', '.join(users)}); a process connects "
                "as one user, whose name is also its private inbox prefix: give every URL the "
                "same credentials, or write them in one URL only"
            )
        given = (
            "different tokens" if users == ["a token"] else f"user {users[0]!r} different passwords"
        )
        raise InvalidNatsUrl(
            f"the URLs give {given}; give every URL the same credentials, or write them in one "
            "URL only"
        )
    user, password, token = next(iter(who), (None, None, None))
    return NatsServers(tuple(urls), user, password, token, display=redact_url(setting))


def _server(entry: str, number: int, count: int) -> tuple[str, Credentials]:
    """One entry of the list: its URL without credentials, and (user, password, token)."""
    where = f"entry {number} of {count}" if count > 1 else "the URL"
    if not entry:
        raise InvalidNatsUrl(f"{where} is empty (a doubled or trailing comma?)")
    shown = redact_url(entry)
    scheme, separator, _ = entry.partition("://")
    if not separator:
        raise InvalidNatsUrl(f"{where} ({shown!r}) has no scheme: write nats://{shown}")
    if scheme.lower() not in _SCHEMES:
        raise InvalidNatsUrl(
            f"{where} ({shown!r}) is not a NATS URL: the scheme must be one of "
            f"{', '.join(s + '://' for s in _SCHEMES)}"
        )
    try:
        parts = urlsplit(entry)
        parts.port  # noqa: B018 - raises ValueError for a port that is not a number in range
    except ValueError:
        raise InvalidNatsUrl(f"{where} ({shown!r}) has an invalid host or port") from None
    if not parts.hostname:
        raise InvalidNatsUrl(f"{where} ({shown!r}) names no host")
    address = parts.netloc.rpartition("@")[2]
    url = urlunsplit((parts.scheme.lower(), address, parts.path, parts.query, ""))
    user = unquote(parts.username) if parts.username is not None else None
    password = unquote(parts.password) if parts.password is not None else None
    if user is not None and password is None:  # nats://token@host, as nats-py reads it
        return url, (None, None, user)
    return url, (user, password, None)
