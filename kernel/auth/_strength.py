"""How hard a password or a secret is to guess: zxcvbn's estimate and the rules built on it.

zxcvbn looks for what attackers try first (common passwords, names, dictionary words, keyboard
walks, dates, repeats, sequences) and estimates the number of guesses an attacker needs. A password
must reach score 3 ("safely unguessable: moderate protection from an offline attack"); a secret
the kernel signs with must need at least 2^128 guesses, which random hex of 64 characters does
(``openssl rand -hex 32``) and a word or a letter repeated 32 times does not.
"""

from __future__ import annotations

import math
from collections.abc import Iterable

from kernel.errors import ConfigError

# zxcvbn 4.5 refuses longer input, and its cost grows with length: the estimate reads this many
# characters, which is plenty to tell a strong password or secret from a weak one.
ESTIMATED_LENGTH = 72
MIN_PASSWORD_SCORE = 3
MIN_SECRET_BITS = 128.0


def _estimate(text: str, user_inputs: Iterable[str] = ()) -> dict:
    # Imported here, deliberately: zxcvbn's frequency lists take about 13 MB, which only a
    # process that judges a password (the auth module's) or a production secret should pay.
    from zxcvbn import zxcvbn

    return zxcvbn(text[:ESTIMATED_LENGTH], user_inputs=[i for i in user_inputs if i])


def guess_bits(text: str) -> float:
    """log2 of the guesses zxcvbn estimates an attacker needs for ``text``."""
    if not text:
        return 0.0
    return float(_estimate(text)["guesses_log10"]) * math.log2(10)


def password_weakness(plain: str, user_inputs: Iterable[str] = ()) -> str | None:
    """Why ``plain`` is too easy to guess (zxcvbn score below 3), or None when it is not.

    ``user_inputs`` are words an attacker would try first for this account (its e-mail address).
    """
    estimate = _estimate(plain, user_inputs)
    if estimate["score"] >= MIN_PASSWORD_SCORE:
        return None
    warning = str(estimate["feedback"].get("warning") or "").strip().rstrip(".")
    return "password is too easy to guess" + (f" ({warning.lower()})" if warning else "")


def check_secret_strength(secret: str, setting: str) -> None:
    """Refuse a secret estimated below 128 bits, naming the ``setting`` it came from."""
    bits = guess_bits(secret)
    if bits < MIN_SECRET_BITS:
        raise ConfigError(
            f"{setting} is too easy to guess (about {bits:.0f} bits; at least "
            f"{MIN_SECRET_BITS:.0f} needed): generate one with openssl rand -hex 32"
        )
