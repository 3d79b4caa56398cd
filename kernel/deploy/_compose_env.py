"""The ``.env`` that ``compose.yaml`` reads, with every secret generated (``webos init``).

``.env.example`` is the template and stays the one list of what compose needs: each of its empty
values is filled by the rule its name matches, and an empty value no rule knows stops ``webos
init`` naming it, so a secret added to the template cannot silently stay empty.
"""

from __future__ import annotations

import os
import secrets
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from kernel.auth import WeakPassword, check_password_policy
from kernel.errors import ConfigError

TEMPLATE_NAME = ".env.example"
ENV_NAME = ".env"
# Empty in the template on purpose: empty means "off" for these.
OPTIONAL = frozenset({"WEBOS_TRUSTED_PROXIES", "WEBOS_CORS_ORIGINS", "OTEL_EXPORTER_OTLP_ENDPOINT"})
# The key pairs compose passes as PEM text (a .env line holds one line: the breaks become spaces).
KEY_PAIRS = ("WEBOS_JWT", "WEBOS_IDENTITY")


@dataclass(frozen=True)
class ComposeEnv:
    text: str
    admin_password: str


def _one_line(pem: bytes) -> str:
    return " ".join(pem.decode().split("\n")).strip()


def _key_lines() -> dict[str, str]:
    lines = {}
    for prefix in KEY_PAIRS:
        key = Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        public = key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        lines[f"{prefix}_PRIVATE_KEY_FILE"] = _one_line(private)
        lines[f"{prefix}_PUBLIC_KEY_FILE"] = _one_line(public)
    return lines


def _secret(key: str) -> str | None:
    # Hex only: these go into URLs (NATS, MongoDB) and nats-server's config, where other
    # characters need quoting. 256 bits each; user names get 32 bits, to be unguessable too.
    if key.endswith("_USER"):
        return f"webos{secrets.token_hex(4)}"
    if "PASSWORD" in key or "SECRET" in key:
        return secrets.token_hex(32)
    return None


def admin_password_for(email: str) -> str:
    """A password the gateway will accept for ``email``: 144 random bits in 24 characters pass
    the policy; the check rules out the odd draw that happens to contain the address."""
    while True:
        password = secrets.token_urlsafe(18)
        try:
            check_password_policy(password, email=email)
        except WeakPassword:
            continue
        return password


def compose_env(template: str, admin_email: str) -> ComposeEnv:
    """``template`` (the text of ``.env.example``) with every empty value filled."""
    generated = _key_lines()
    admin_password = admin_password_for(admin_email)
    generated["WEBOS_ADMIN_EMAIL"] = admin_email
    generated["WEBOS_ADMIN_PASSWORD"] = admin_password
    lines = []
    for line in template.splitlines():
        key, sep, value = line.partition("=")
        key = key.strip()
        if line.lstrip().startswith("#") or not sep or value.strip() or key in OPTIONAL:
            lines.append(line)
            continue
        filled = generated.get(key) or _secret(key)
        if filled is None:
            raise ConfigError(
                f"{TEMPLATE_NAME}: {key} is empty and webos init does not know how to fill it: "
                "give it a value there, or a rule in kernel/deploy/_compose_env.py"
            )
        lines.append(f"{key}={filled}")
    return ComposeEnv("\n".join(lines) + "\n", admin_password)


def write_new_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 and ``text``; refuse if it exists (checked atomically)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise ConfigError(
            f"{path} exists already: webos init never overwrites it (move it away to start anew)"
        ) from None
    # Created 0600 (a umask can only take bits away): no moment where others could read it.
    with os.fdopen(descriptor, "w", encoding="utf-8") as file:
        file.write(text)
