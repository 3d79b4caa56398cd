"""Secrets and key pairs: generated once per data directory in dev, required explicitly in prod.

Development processes started from the same directory (the gateway, module workers, tests) share
what the first of them generated. Creation is race-free: the content is written to a private
temporary file and hard-linked into place, which fails if another process got there first, in
which case everyone reads the winner's file. Nothing is ever overwritten.
"""

from __future__ import annotations

import logging
import os
import secrets
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import NamedTuple

from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from pydantic import SecretStr

from kernel.auth._pem import (
    KeySource,
    PrivateKey,
    PublicKey,
    load_private_key,
    load_public_key,
    private_pem,
    public_pem,
)
from kernel.auth._strength import check_secret_strength
from kernel.auth._tokens import ALGORITHMS, TokenConfig
from kernel.errors import ConfigError

SECRET_FILE = "secret.key"
IDENTITY_PRIVATE_FILE = "identity_ed25519.pem"
IDENTITY_PUBLIC_FILE = "identity_ed25519.pub"
MIN_SECRET_BYTES = 32
# How long a reader waits for a file another process is still writing (no-hard-link fallback).
_SETTLE_SECONDS = 2.0

_log = logging.getLogger("kernel.auth.keys")


def _read_settled(path: Path) -> bytes:
    deadline = time.monotonic() + _SETTLE_SECONDS
    while True:
        data = path.read_bytes()
        if data.strip() or time.monotonic() > deadline:
            break
        time.sleep(0.02)
    if not data.strip():
        raise ConfigError(f"{path} is empty; delete it to have a new one generated")
    if os.name == "posix" and path.stat().st_mode & 0o077 and path.suffix != ".pub":
        _log.warning("%s is readable by other users; run: chmod 600 %s", path, path)
    return data


def _create_once(path: Path, make: Callable[[], bytes], *, mode: int = 0o600) -> bytes:
    """The content of ``path``, creating it with ``make()`` if no process has yet."""
    if path.exists():
        return _read_settled(path)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    temporary = path.with_name(f".{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    try:
        with os.fdopen(descriptor, "wb") as file:
            file.write(make())
            file.flush()
            os.fsync(file.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass  # another process won the race: use its file
        except OSError:
            _create_exclusive(path, temporary.read_bytes(), mode)
    finally:
        temporary.unlink(missing_ok=True)
    return _read_settled(path)


def _create_exclusive(path: Path, content: bytes, mode: int) -> None:
    # For file systems without hard links: O_EXCL still picks one winner, but readers may briefly
    # see the file empty, which _read_settled waits out.
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, mode)
    except FileExistsError:
        return
    with os.fdopen(descriptor, "wb") as file:
        file.write(content)
        file.flush()
        os.fsync(file.fileno())


def load_or_create_dev_secret(data_dir: str | Path, name: str = SECRET_FILE) -> str:
    """A development secret in ``data_dir/name`` (mode 0600), made on first use (the HS256
    secret is ``secret.key``; other parts name their own file)."""
    path = Path(data_dir) / name
    data = _create_once(path, lambda: (secrets.token_urlsafe(48) + "\n").encode())
    return data.decode().strip()


def _load_or_create_pair(
    private_path: Path, public_path: Path, generate: Callable[[], PrivateKey]
) -> tuple[Path, Path]:
    pem = _create_once(private_path, lambda: private_pem(generate()))
    # Every racer derives the same public key from the winning private key, so the second
    # _create_once cannot disagree with the first; a mismatch means someone edited the files.
    expected = public_pem(load_private_key(pem))
    written = _create_once(public_path, lambda: expected, mode=0o644)
    if written.strip() != expected.strip():
        raise ConfigError(
            f"{public_path} does not match {private_path}; delete {public_path} to regenerate it"
        )
    return private_path, public_path


def load_or_create_identity_keys(data_dir: str | Path) -> tuple[Path, Path]:
    """Paths of the development Ed25519 identity key pair (private 0600, public ``.pub``)."""
    directory = Path(data_dir)
    return _load_or_create_pair(
        directory / IDENTITY_PRIVATE_FILE,
        directory / IDENTITY_PUBLIC_FILE,
        Ed25519PrivateKey.generate,
    )


def load_identity_private_key(source: KeySource) -> Ed25519PrivateKey:
    key = load_private_key(source)
    if not isinstance(key, Ed25519PrivateKey):
        raise ConfigError("the identity private key must be an Ed25519 key")
    return key


def load_identity_public_key(source: KeySource) -> Ed25519PublicKey:
    key = load_public_key(source)
    if not isinstance(key, Ed25519PublicKey):
        raise ConfigError("the identity public key must be an Ed25519 key")
    return key


class Signing(NamedTuple):
    """What a process needs to issue and check tokens and identities.

    ``token_config`` is None outside the gateway: only the gateway issues and checks access
    tokens (module processes take the principal from the signed identity instead).
    """

    token_config: TokenConfig | None
    identity_private_key: Ed25519PrivateKey | None
    identity_public_key: Ed25519PublicKey

    def tokens(self) -> TokenConfig:
        """The access-token config; raises ``ConfigError`` in a process that has none."""
        if self.token_config is None:
            raise ConfigError(
                "this process neither issues nor checks access tokens: only the gateway does"
            )
        return self.token_config


def _rsa() -> PrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=3072)


_DEV_JWT_KEYS: dict[str, tuple[str, Callable[[], PrivateKey]]] = {
    "RS256": ("jwt_rs256", _rsa),
    "EdDSA": ("jwt_ed25519", Ed25519PrivateKey.generate),
}


def _pair(
    private_file: KeySource | None,
    public_file: KeySource | None,
    *,
    settings: tuple[str, str],
    prod: bool,
    signer: bool,
    dev_pair: Callable[[], tuple[Path, Path]],
) -> tuple[PrivateKey | None, PublicKey]:
    private_setting, public_setting = settings
    if private_file is None and public_file is None:
        if prod:
            needed = private_setting if signer else f"{public_setting} (or {private_setting})"
            raise ConfigError(
                f"{needed} must be set when WEBOS_ENV=prod: the kernel refuses to run in "
                "production with generated development keys"
            )
        private_file, public_file = dev_pair()
    if private_file is None and signer:
        raise ConfigError(f"{private_setting} must be set: this process signs")
    try:
        private = load_private_key(private_file) if private_file is not None else None
    except ConfigError as error:
        raise ConfigError(f"{private_setting}: {error}") from None
    try:
        public = load_public_key(public_file) if public_file is not None else None
    except ConfigError as error:
        raise ConfigError(f"{public_setting}: {error}") from None
    if public is None:
        assert private is not None
        public = private.public_key()
    elif private is not None and public_pem(private) != public_pem(public):
        raise ConfigError(f"{public_setting} does not match {private_setting}")
    return private, public


def resolve_signing(
    *,
    env: str,
    secret_key: str | SecretStr | None,
    data_dir: str | Path,
    jwt_algorithm: str = "EdDSA",
    jwt_private_key_file: KeySource | None = None,
    jwt_public_key_file: KeySource | None = None,
    identity_private_key_file: KeySource | None = None,
    identity_public_key_file: KeySource | None = None,
    access_token_ttl: float | timedelta = timedelta(minutes=15),
    jwt_leeway: float = 10.0,
    signer: bool = True,
    mints_tokens: bool | None = None,
) -> Signing:
    """Build the token config and identity keys from settings, refusing unsafe set-ups.

    ``signer`` is True for a process that signs identities (the gateway); module processes pass
    False and need only the identity public key. ``mints_tokens`` (default: ``signer``) is True
    for the gateway alone, which issues and checks access tokens: any other process gets no token
    config and refuses what would let it mint tokens (HS256, ``WEBOS_SECRET_KEY``, the JWT private
    key). In prod nothing is generated: a missing secret or key file raises ``ConfigError`` naming
    the setting, and a secret estimated below 128 bits is refused. In dev, what is not configured
    is generated once under ``data_dir`` and shared by every process started from it.
    """
    environment = str(env).lower()
    if environment not in {"dev", "prod"}:
        raise ConfigError(f"WEBOS_ENV must be dev or prod (got {env!r})")
    prod = environment == "prod"
    if jwt_algorithm not in ALGORITHMS:
        raise ConfigError(
            f"WEBOS_JWT_ALGORITHM must be one of {', '.join(ALGORITHMS)} (got {jwt_algorithm!r})"
        )
    directory = Path(data_dir)
    mints = signer if mints_tokens is None else mints_tokens
    if mints:
        config: TokenConfig | None = _token_config(
            jwt_algorithm,
            secret_key,
            jwt_private_key_file,
            jwt_public_key_file,
            prod=prod,
            directory=directory,
            access_token_ttl=access_token_ttl,
            jwt_leeway=jwt_leeway,
        )
    else:
        _refuse_minting_material(jwt_algorithm, secret_key, jwt_private_key_file)
        config = None
    identity_private, identity_public = _pair(
        identity_private_key_file,
        identity_public_key_file,
        settings=("WEBOS_IDENTITY_PRIVATE_KEY_FILE", "WEBOS_IDENTITY_PUBLIC_KEY_FILE"),
        prod=prod,
        signer=signer,
        dev_pair=lambda: load_or_create_identity_keys(directory),
    )
    if not isinstance(identity_public, Ed25519PublicKey) or not (
        identity_private is None or isinstance(identity_private, Ed25519PrivateKey)
    ):
        raise ConfigError("WEBOS_IDENTITY_PRIVATE_KEY_FILE / _PUBLIC_KEY_FILE must be Ed25519 keys")
    return Signing(config, identity_private, identity_public)


def _refuse_minting_material(
    algorithm: str, secret_key: str | SecretStr | None, private_key_file: KeySource | None
) -> None:
    # Whoever holds any of these can mint access tokens for anyone, admins included.
    if algorithm == "HS256":
        raise ConfigError(
            "WEBOS_JWT_ALGORITHM=HS256 is refused outside the gateway: every process holding the "
            "HMAC secret could mint access tokens. Use EdDSA (the default): only the gateway "
            "then holds the signing key"
        )
    if secret_key is not None:
        raise ConfigError(
            "WEBOS_SECRET_KEY is set, but only the gateway uses it (with HS256) and whoever holds "
            "it can mint access tokens: remove it from this process's environment"
        )
    if private_key_file is not None:
        raise ConfigError(
            "WEBOS_JWT_PRIVATE_KEY_FILE is set, but only the gateway mints access tokens: remove "
            "it from this process's environment"
        )


def _token_config(
    algorithm: str,
    secret_key: str | SecretStr | None,
    private_key_file: KeySource | None,
    public_key_file: KeySource | None,
    *,
    prod: bool,
    directory: Path,
    access_token_ttl: float | timedelta,
    jwt_leeway: float,
) -> TokenConfig:
    if algorithm == "HS256":
        signing_key: object = _secret(secret_key, prod=prod, data_dir=directory)
        verification_key: object = signing_key
    else:
        name, generate = _DEV_JWT_KEYS[algorithm]
        signing_key, verification_key = _pair(
            private_key_file,
            public_key_file,
            settings=("WEBOS_JWT_PRIVATE_KEY_FILE", "WEBOS_JWT_PUBLIC_KEY_FILE"),
            prod=prod,
            signer=True,
            dev_pair=lambda: _load_or_create_pair(
                directory / f"{name}.pem", directory / f"{name}.pub", generate
            ),
        )
    try:
        return TokenConfig(
            algorithm=algorithm,
            signing_key=signing_key,
            verification_key=verification_key,
            access_ttl=access_token_ttl
            if isinstance(access_token_ttl, timedelta)
            else timedelta(seconds=access_token_ttl),
            leeway=jwt_leeway,
        )
    except ConfigError as error:
        raise ConfigError(f"JWT settings: {error}") from None


def _secret(secret_key: str | SecretStr | None, *, prod: bool, data_dir: Path) -> str:
    if isinstance(secret_key, SecretStr):
        secret_key = secret_key.get_secret_value()
    if not secret_key:
        if prod:
            raise ConfigError(
                "WEBOS_SECRET_KEY must be set when WEBOS_ENV=prod: the kernel refuses to run in "
                "production with a generated development secret"
            )
        return load_or_create_dev_secret(data_dir)
    size = len(secret_key.encode())
    if size < MIN_SECRET_BYTES:
        message = (
            f"WEBOS_SECRET_KEY is {size} bytes; use at least {MIN_SECRET_BYTES} random bytes, "
            "e.g. openssl rand -hex 32"
        )
        if prod:
            raise ConfigError(message)
        _log.warning("%s (allowed in dev only)", message)
    if prod:
        check_secret_strength(secret_key, "WEBOS_SECRET_KEY")
    return secret_key
