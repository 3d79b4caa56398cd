"""Loading PEM keys from text, bytes or files.

PEM text may come on one line, the line breaks replaced by spaces or by ``\\n`` (an ``.env``
file for ``docker compose`` cannot hold several lines): it is reflowed before parsing.

Kept apart from ``_keys`` (which creates files) so that token and identity code can accept PEM
text without pulling in file creation.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from kernel.errors import ConfigError

PrivateKey = RSAPrivateKey | Ed25519PrivateKey
PublicKey = RSAPublicKey | Ed25519PublicKey

KeySource = str | bytes | Path


_PEM = re.compile(r"(-----BEGIN [A-Z0-9 ]+-----)(.*?)(-----END [A-Z0-9 ]+-----)", re.DOTALL)


def _reflow(text: str) -> str:
    """PEM text as ``.env`` files hold it, on one line (breaks as spaces or ``\\n``), reflowed;
    anything else unchanged."""
    found = _PEM.fullmatch(text.strip().replace("\\n", "\n"))
    if found is None:
        return text
    head, body, tail = found.groups()
    body = "".join(body.split())
    lines = [body[start : start + 64] for start in range(0, len(body), 64)]
    return "\n".join([head, *lines, tail]) + "\n"


def _pem_bytes(source: KeySource) -> tuple[bytes, str]:
    # A str is PEM text when it looks like it and a path otherwise: settings hold either.
    if isinstance(source, bytes):
        return source, "PEM bytes"
    if isinstance(source, str) and source.lstrip().startswith("-----BEGIN"):
        return _reflow(source).encode(), "PEM text"
    path = Path(source)
    try:
        return path.read_bytes(), str(path)
    except OSError as error:
        raise ConfigError(f"cannot read key file {path}: {error.strerror or error}") from None


def load_private_key(source: KeySource) -> PrivateKey:
    """Load an unencrypted RSA or Ed25519 private key from PEM text, bytes or a file path."""
    data, where = _pem_bytes(source)
    try:
        key: Any = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{where} is not an unencrypted PEM private key: {error}") from None
    if not isinstance(key, RSAPrivateKey | Ed25519PrivateKey):
        raise ConfigError(f"{where}: only RSA and Ed25519 private keys are supported")
    return key


def load_public_key(source: KeySource) -> PublicKey:
    """Load an RSA or Ed25519 public key from PEM text, bytes or a file path."""
    data, where = _pem_bytes(source)
    try:
        key: Any = serialization.load_pem_public_key(data)
    except (ValueError, TypeError) as error:
        raise ConfigError(f"{where} is not a PEM public key: {error}") from None
    if not isinstance(key, RSAPublicKey | Ed25519PublicKey):
        raise ConfigError(f"{where}: only RSA and Ed25519 public keys are supported")
    return key


def public_pem(key: PrivateKey | PublicKey) -> bytes:
    """The SubjectPublicKeyInfo PEM of a key (of its public half for a private key)."""
    public = key.public_key() if isinstance(key, RSAPrivateKey | Ed25519PrivateKey) else key
    return public.public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )


def private_pem(key: PrivateKey) -> bytes:
    """The unencrypted PKCS#8 PEM of a private key (files holding it are mode 0600)."""
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
