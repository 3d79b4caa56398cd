"""What a 401 says: the refused credential's ``reason`` in words its holder can act on.

``InvalidToken.reason`` stays a short, stable phrase (``expired``, ``session ended``...) that
clients may branch on; it goes in the problem document as ``reason``. ``detail`` says the same
for a person: which credential, what is wrong with it, and what to do next. Neither ever carries
the credential, a claim's value or which key was expected: only what the holder already knows.
"""

from __future__ import annotations

SIGN_IN = "sign in again (POST /api/auth/login) for a new one"

#: The sentence for each reason the kernel and the auth module raise.
EXPLAINED = {
    "malformed": f"the access token is not a token this server can read; {SIGN_IN}",
    "algorithm not allowed": (
        f"the access token is signed with an algorithm this server does not accept; {SIGN_IN}"
    ),
    "bad signature": (
        f"the access token's signature does not match: it was altered, or another server "
        f"issued it; {SIGN_IN}"
    ),
    "wrong audience": f"the access token was issued for another service; {SIGN_IN}",
    "wrong issuer": f"the access token was issued by another server; {SIGN_IN}",
    "expired": (
        "the access token has expired; get a new one with POST /api/auth/refresh, or sign in again"
    ),
    "not yet valid": (
        "the access token is not valid yet: the clocks of this server and the one that issued "
        "it disagree"
    ),
    "wrong type": (
        "this token is not an access token; send the access_token that POST /api/auth/login answers"
    ),
    "session ended": f"this session has ended (signed out, or its refresh token reused); {SIGN_IN}",
    "token revoked": (
        f"the access token no longer counts: the account's password or access changed; {SIGN_IN}"
    ),
    "account disabled": "the account is disabled; ask an administrator",
    "malformed API key": "the API key is malformed: keys read wos_<prefix>_<secret>",
    "unknown or revoked API key": "the API key is unknown, or was revoked",
    "unsupported authorization scheme": (
        "unsupported Authorization scheme: send 'Bearer <access token>' or 'ApiKey <key>'"
    ),
    "more than one Authorization header": "send one Authorization header, not several",
    "more than one API key": "send one API key, not several",
    "send one credential, not several": (
        "send one credential (an access token or an API key), not several"
    ),
}

#: A closed route asked with no credential at all.
AUTHENTICATION_REQUIRED = (
    "authentication required: send an access token (Authorization: Bearer ..., from "
    "POST /api/auth/login) or an API key (X-API-Key)"
)


def explain(reason: str) -> str:
    """The sentence for ``reason``; a reason without one (a missing claim, a new reason) is
    shown as it is, which already says what is wrong."""
    if reason.startswith("missing claim "):
        return f"the access token lacks its {reason[len('missing claim ') :]!r} claim; {SIGN_IN}"
    return EXPLAINED.get(reason, reason)
