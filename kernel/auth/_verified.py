"""Access tokens whose signature the gateway has checked: a client sends the same token with
every call until it refreshes, and checking its signature (Ed25519 or RSA, through PyJWT) costs
more than the rest of a small request.

Only what the signature vouches for is remembered: the token's claims, which never change. Every
use still checks the token's times against the clock (a remembered token is refused from the
moment it expires), and the caller still checks its session against the revocations and asks the
credentials who it is (``SecuritySubsystem.principal_for_access_token``). A token that failed is
not remembered, and a new signing configuration (another key) forgets everything.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from kernel.auth._clock import time_problem, timestamp
from kernel.auth._errors import InvalidToken
from kernel.auth._tokens import TokenConfig, decode_access_token

REMEMBERED = 4096


class VerifiedTokens:
    """The claims of up to ``size`` verified access tokens, the oldest forgotten first."""

    def __init__(self, size: int = REMEMBERED) -> None:
        self._size = size
        self._config: TokenConfig | None = None
        self._claims: dict[str, dict[str, Any]] = {}

    def claims(
        self, config: TokenConfig, token: str, *, now: datetime | None = None
    ) -> dict[str, Any]:
        """``decode_access_token(config, token)``, its signature checked once per token."""
        if config is not self._config:  # another key: what the old one vouched for is void
            self._config = config
            self._claims = {}
        found = self._claims.get(token)
        if found is None:
            claims = decode_access_token(config, token, now=now)
            if len(self._claims) >= self._size:
                del self._claims[next(iter(self._claims))]  # the oldest entry
            self._claims[token] = claims
            return dict(claims)
        problem = time_problem(found, timestamp(now), config.leeway)
        if problem:
            del self._claims[token]
            raise InvalidToken(problem)
        return dict(found)  # a copy: whoever reads the claims cannot change what is remembered

    def __len__(self) -> int:
        return len(self._claims)
