"""``kernel._lazy.absent``: a library imported inside the block sees a package as not installed;
everything imported afterwards gets the real package."""

from __future__ import annotations

import subprocess
import sys
import textwrap


def run(code: str) -> str:
    # A fresh interpreter: the packages in play must not be imported yet.
    done = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def test_inside_the_block_the_package_is_missing_and_afterwards_it_imports() -> None:
    out = run(
        """
        from kernel._lazy import absent

        with absent("uvicorn"):
            import faststream._internal._compat as compat
        import uvicorn

        print(compat.HAS_UVICORN, compat.uvicorn, uvicorn.Config.__name__)
        """
    )
    assert out == "False None Config"


def test_a_package_already_loaded_is_left_alone() -> None:
    out = run(
        """
        import uvicorn
        from kernel._lazy import absent

        with absent("uvicorn"):
            import faststream._internal._compat as compat
        print(compat.HAS_UVICORN, compat.uvicorn is uvicorn)
        """
    )
    assert out == "True True"
