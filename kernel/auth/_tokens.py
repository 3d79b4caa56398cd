"""Access tokens: short-lived JWTs the gateway issues at login and checks on every request."""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.asymmetric.rsa import RSAPrivateKey, RSAPublicKey

from kernel.auth._clock import time_problem, timestamp
from kernel.auth._errors import InvalidToken
from kernel.auth._pem import PrivateKey, PublicKey, load_private_key, load_public_key, public_pem
from kernel.errors import ConfigError

ALGORITHMS = ("HS256", "RS256", "EdDSA")
MIN_RSA_BITS = 2048
# Real access tokens are a few hundred bytes; refusing big ones bounds the work a bad one costs.
MAX_TOKEN_LENGTH = 8192

ACCESS_TYPE = "access"
REQUIRED_CLAIMS = ("exp", "iat", "nbf", "iss", "aud", "jti", "sub", "typ")
RESERVED_CLAIMS = frozenset({*REQUIRED_CLAIMS, "roles"})

_KEY_TYPES: dict[str, tuple[type[PrivateKey], type[PublicKey]]] = {
    "RS256": (RSAPrivateKey, RSAPublicKey),
    "EdDSA": (Ed25519PrivateKey, Ed25519PublicKey),
}


def _looks_like_key_material(secret: bytes) -> bool:
    # An HMAC "secret" that is really a PEM or SSH key is the set-up of the algorithm-confusion
    # attack (the public key is public); refuse it outright rather than rely on PyJWT alone.
    head = secret.lstrip()[:40]
    return head.startswith(b"-----BEGIN") or head.startswith((b"ssh-", b"ecdsa-sha2-"))


@dataclass(frozen=True)
class TokenConfig:
    """How access tokens are signed and checked.

    ``HS256`` uses one shared secret (``signing_key``; ``verification_key`` may be omitted).
    ``RS256`` and ``EdDSA`` take a private key to sign and a public key to verify, as key objects,
    PEM text/bytes or file paths; a config with only the public key can verify but not issue. Keys
    are loaded and checked when the config is built, so a wrong key fails at start-up.
    """

    algorithm: str = "HS256"
    signing_key: Any = field(default=None, repr=False)
    verification_key: Any = field(default=None, repr=False)
    issuer: str = "webos"
    audience: str = "webos"
    access_ttl: timedelta = timedelta(minutes=15)
    leeway: float = 10.0

    def __post_init__(self) -> None:
        if self.algorithm not in ALGORITHMS:
            raise ConfigError(
                f"JWT algorithm {self.algorithm!r} is not supported; use one of "
                + ", ".join(ALGORITHMS)
            )
        ttl = self.access_ttl
        if not isinstance(ttl, timedelta):
            ttl = timedelta(seconds=float(ttl))
        if ttl.total_seconds() < 1:
            raise ConfigError("the access token lifetime must be at least one second")
        if self.leeway < 0:
            raise ConfigError("the JWT leeway must not be negative")
        object.__setattr__(self, "access_ttl", ttl)
        if self.algorithm == "HS256":
            self._set_secret()
        else:
            self._set_key_pair()

    def _set_secret(self) -> None:
        secret = self.signing_key if self.signing_key is not None else self.verification_key
        if (
            self.signing_key is not None
            and self.verification_key is not None
            and self.signing_key != self.verification_key
        ):
            raise ConfigError("HS256 uses one secret: signing and verification keys must match")
        if isinstance(secret, str):
            secret = secret.encode()
        if not isinstance(secret, bytes) or not secret:
            raise ConfigError("HS256 needs a non-empty secret")
        if _looks_like_key_material(secret):
            raise ConfigError("HS256 needs a random secret, not a PEM or SSH key")
        object.__setattr__(self, "signing_key", secret)
        object.__setattr__(self, "verification_key", secret)

    def _set_key_pair(self) -> None:
        private_type, public_type = _KEY_TYPES[self.algorithm]
        private = self.signing_key
        if isinstance(private, str | bytes | Path):
            private = load_private_key(private)
        public = self.verification_key
        if isinstance(public, str | bytes | Path):
            public = load_public_key(public)
        if private is not None and not isinstance(private, private_type):
            raise ConfigError(f"{self.algorithm} needs a {private_type.__name__} to sign")
        if public is not None and not isinstance(public, public_type):
            raise ConfigError(f"{self.algorithm} needs a {public_type.__name__} to verify")
        if public is None:
            if private is None:
                raise ConfigError(f"{self.algorithm} needs a public key (or a private key)")
            public = private.public_key()
        elif private is not None and public_pem(private) != public_pem(public):
            raise ConfigError(f"the {self.algorithm} public key does not match the private key")
        if isinstance(public, RSAPublicKey) and public.key_size < MIN_RSA_BITS:
            raise ConfigError(f"RSA keys must have at least {MIN_RSA_BITS} bits")
        object.__setattr__(self, "signing_key", private)
        object.__setattr__(self, "verification_key", public)

    @property
    def can_sign(self) -> bool:
        return self.signing_key is not None


def issue_access_token(
    config: TokenConfig,
    subject: str,
    *,
    roles: Iterable[str],
    extra_claims: Mapping[str, Any] | None = None,
    now: datetime | None = None,
) -> str:
    """Sign an access token for ``subject`` (a user or API key id) carrying its ``roles``.

    ``extra_claims`` may add claims (``email``, ``sid``...) but not replace the ones the kernel
    relies on: that would let a caller forge ``typ`` or stretch ``exp``.
    """
    if not config.can_sign:
        raise ConfigError("this process has only a public key: it cannot issue access tokens")
    if not isinstance(subject, str) or not subject:
        raise ValueError("subject must be a non-empty string")
    if isinstance(roles, str):
        raise TypeError("roles must be an iterable of role names, not one string")
    extra = dict(extra_claims or {})
    clash = RESERVED_CLAIMS & extra.keys()
    if clash:
        raise ValueError(f"extra_claims must not set reserved claims: {', '.join(sorted(clash))}")
    import jwt  # on first use: module processes, which never issue or read these, skip PyJWT

    issued = int(timestamp(now))
    payload = {
        **extra,
        "sub": subject,
        "roles": sorted(set(roles)),
        "typ": ACCESS_TYPE,
        "iss": config.issuer,
        "aud": config.audience,
        "iat": issued,
        "nbf": issued,
        "exp": issued + int(config.access_ttl.total_seconds()),
        "jti": secrets.token_urlsafe(16),
    }
    return jwt.encode(payload, config.signing_key, algorithm=config.algorithm)


_DECODE_OPTIONS: Any = {
    "verify_signature": True,
    # Times are checked by time_problem() against an injectable clock.
    "verify_exp": False,
    "verify_nbf": False,
    "verify_iat": False,
    "verify_aud": True,
    "verify_iss": True,
    "strict_aud": True,
    "require": list(REQUIRED_CLAIMS),
}


def decode_access_token(
    config: TokenConfig, token: str, *, now: datetime | None = None
) -> dict[str, Any]:
    """Check an access token and return its claims; raise ``InvalidToken(reason)`` otherwise.

    Only ``config.algorithm`` is accepted, whatever the token's header says: ``alg: none``, or an
    HS256 token "signed" with the RS256 public key, fail as ``algorithm not allowed``.
    """
    if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
        raise InvalidToken("malformed")
    import jwt  # on first use, as in issue_access_token

    try:
        claims = jwt.decode(
            token,
            config.verification_key,
            algorithms=[config.algorithm],
            audience=config.audience,
            issuer=config.issuer,
            options=_DECODE_OPTIONS,
        )
    except jwt.InvalidAlgorithmError:
        raise InvalidToken("algorithm not allowed") from None
    except jwt.InvalidSignatureError:
        raise InvalidToken("bad signature") from None
    except jwt.MissingRequiredClaimError as error:
        raise InvalidToken(f"missing claim {error.claim}") from None
    except jwt.InvalidAudienceError:
        raise InvalidToken("wrong audience") from None
    except jwt.InvalidIssuerError:
        raise InvalidToken("wrong issuer") from None
    except jwt.InvalidTokenError:
        raise InvalidToken("malformed") from None
    problem = time_problem(claims, timestamp(now), config.leeway)
    if problem:
        raise InvalidToken(problem)
    if claims["typ"] != ACCESS_TYPE:
        raise InvalidToken("wrong type")
    roles = claims.get("roles", [])
    if not isinstance(roles, list) or not all(isinstance(role, str) for role in roles):
        raise InvalidToken("malformed")
    return claims
