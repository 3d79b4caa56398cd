"""Who a process is on NATS: the embedded server's credentials, and each user's private inbox.

**Embedded credentials.** The embedded nats-server (``webos run`` without ``WEBOS_NATS_URL``) has
one user, ``webos``, whose password is generated on first start into
``<WEBOS_DATA_DIR>/nats/credentials.json`` (mode 0600). Every local command (``webos module
run``, ``worker``, ``events``, ``dlq``, ``ps``) reads it from the same data directory; a client
without it is refused, so another local account cannot read or replay what travels on the bus.
Creation is race-free as for the development keys (``kernel/auth/_keys.py``): a private temporary
file is hard-linked into place, which fails for all but the first process; the others read the
winner's file. Nothing is ever overwritten.

**Private inboxes.** Replies (answers to requests, JetStream API answers, forwarding frames) arrive
on subjects under a client's inbox prefix. Each NATS user gets its own, ``_INBOX_<user>``, so the
generated permissions (``kernel.deploy``) let a user subscribe to its own replies and to nobody
else's. The prefix is a first token of its own rather than ``_INBOX.<user>``: a wildcard handler's
user is denied ``_INBOX.>`` and every other user's prefix, and in NATS a deny always wins over an
allow, so its own prefix must lie outside all of them. A client without a user keeps nats-py's
default ``_INBOX``.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import re
import secrets
import string
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote

from kernel.errors import ConfigError

EMBEDDED_USER = "webos"
EMBEDDED_DIR = "nats"  # under WEBOS_DATA_DIR: the JetStream store and the credentials
CREDENTIALS_FILE = "credentials.json"
DEFAULT_INBOX_PREFIX = "_INBOX"
PRIVATE_INBOX_PREFIX = "_INBOX_"
_UNSAFE_TOKEN = re.compile(r"[^A-Za-z0-9_\-]")
# Letters and digits, starting with a letter: nats-server reads the password from an environment
# variable as a config value, where a leading digit or sign would make it a number.
_ALPHABET = string.ascii_letters + string.digits
_PASSWORD_LENGTH = 43  # ~256 bits

log = logging.getLogger("webos.nats")


@dataclass(frozen=True)
class NatsCredentials:
    user: str
    password: str = field(repr=False)

    def url(self, host: str, port: int) -> str:
        return f"nats://{quote(self.user, safe='')}:{quote(self.password, safe='')}@{host}:{port}"


def embedded_dir(data_dir: str | Path) -> Path:
    """Where the embedded nats-server of ``data_dir`` keeps its store and credentials."""
    return Path(data_dir) / EMBEDDED_DIR


def _new_password() -> str:
    first = secrets.choice(string.ascii_letters)
    return first + "".join(secrets.choice(_ALPHABET) for _ in range(_PASSWORD_LENGTH - 1))


def _parse(path: Path, data: bytes) -> NatsCredentials:
    try:
        document = json.loads(data)
        user, password = document["user"], document["password"]
    except (ValueError, KeyError, TypeError):
        user = password = None
    if not (isinstance(user, str) and isinstance(password, str) and user and password):
        raise ConfigError(
            f"{path} is not a NATS credentials file ({{'user': ..., 'password': ...}}); delete it "
            "to have a new one generated, then restart every WebOS process of this data directory"
        )
    if os.name == "posix" and path.stat().st_mode & 0o077:
        log.warning("%s is readable by other users; run: chmod 600 %s", path, path)
    return NatsCredentials(user, password)


def read_credentials(directory: str | Path) -> NatsCredentials:
    """The embedded server's credentials kept in ``directory``; ConfigError if there are none."""
    path = Path(directory) / CREDENTIALS_FILE
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"no NATS credentials in {path}: the embedded nats-server refuses clients without "
            "them. Start `webos run` first (it creates them) with the same WEBOS_DATA_DIR, or set "
            "WEBOS_NATS_URL to a NATS server of your own"
        ) from None
    return _parse(path, data)


def load_or_create_credentials(directory: str | Path) -> NatsCredentials:
    """The credentials in ``directory``, generated (0600) if no process has made them yet."""
    path = Path(directory) / CREDENTIALS_FILE
    if path.exists():
        return read_credentials(directory)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    content = json.dumps({"user": EMBEDDED_USER, "password": _new_password()}).encode()
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(content)
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: its file is the one
        except OSError:  # no hard links here: O_EXCL still picks one winner
            with contextlib.suppress(FileExistsError):
                descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
                with os.fdopen(descriptor, "wb") as file:
                    file.write(content)
    finally:
        temporary.unlink(missing_ok=True)
    return read_credentials(directory)


def inbox_prefix(user: str | None) -> str:
    """The inbox prefix of a NATS user: ``_INBOX_<user>``; nats-py's ``_INBOX`` without one."""
    if not user:
        return DEFAULT_INBOX_PREFIX
    return PRIVATE_INBOX_PREFIX + _UNSAFE_TOKEN.sub("_", user)
