"""Nothing addressed by a URN may touch anything outside its mount.

Each nasty URN is thrown at every operation of a real local mount whose root has sibling folders
full of "secrets"; the siblings are snapshotted before and after. One sibling is named like the
root plus a suffix (``root-secrets``): its real path starts with the root's, so only a containment
check that includes the path separator keeps it out. S3 gets the same URN table: keys are not
paths there, but a key like ``../x`` would still surprise whoever syncs the bucket to disk.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from storagetest_helpers import SECRET, snapshot

from kernel.storage import AFS, AccessDenied, InvalidURN, LocalBackend, StorageError, parse_urn

NASTY_PATHS = [
    "..",
    "../outside/secret.txt",
    "../root-secrets/secret.txt",
    "a/../../root-secrets/secret.txt",
    "a/../../outside/secret.txt",
    "a/../b",
    "a/..",
    ".",
    "./a",
    "a/.",
    "a//b",
    "a//",
    "/etc/passwd",  # absolute: fs://local//etc/passwd
    "//outside/secret.txt",
    "%2e%2e/outside/x",
    "%2E%2E%2Foutside%2Fx",
    "a%2fb",
    "a%5c..%5cb",
    "%c0%ae%c0%ae/outside/x",  # overlong UTF-8 dots
    "%00",
    "a\\..\\b",
    "..\\outside\\secret.txt",
    "a\x00b",
    "a\nb",
    "a\r",
    "a\x7f",
    "\u202e..txt",  # right-to-left override
    "a\u200b/x",  # zero-width space
    "\ufeffx",  # byte-order mark
    "\uff0e\uff0e/outside/x",  # fullwidth full stops: NFKC ".."
    "\ufe52\ufe52/x",  # small full stops: NFKC ".."
    "\u2025/x",  # two-dot leader: NFKC ".."
    "a\uff0f..\uff0fb",  # fullwidth solidus: NFKC "/"
    "a\uff3c..",  # fullwidth reverse solidus: NFKC "\\"
    "\ud800",  # lone surrogate
    "x" * 256,  # segment longer than any file system allows
    "/".join(["d"] * 600),  # longer than an S3 key
]

NASTY_URNS = [
    "fs://LOCAL/x",
    "fs://../etc/passwd",
    "fs://local:80/x",
    "fs:/local/x",
    "file:///etc/passwd",
    "FS://local/x",
    " fs://local/x",
    "fs://lo cal/x",
    "fs:///etc/passwd",
    "fs://",
]


@pytest.fixture
def world(tmp_path: Path) -> Path:
    """tmp_path/root is the mount; tmp_path/outside and tmp_path/root-secrets (a name that
    starts like the root's) hold files that must never change."""
    outside = tmp_path / "outside"
    (outside / "etc").mkdir(parents=True)
    (outside / "secret.txt").write_text("top secret")
    (outside / "etc" / "passwd").write_text("root:x:0:0")
    (tmp_path / "root-secrets").mkdir()
    (tmp_path / "root-secrets" / "secret.txt").write_text("sibling secret")
    (tmp_path / "root").mkdir()
    return tmp_path


@pytest.fixture
async def local_afs(world: Path) -> AFS:
    fs = AFS({"local": LocalBackend(world / "root", mount="local", secret=SECRET)})
    await fs.start()
    await fs.write("fs://local/seed.txt", b"seed")  # source for copy/move attempts
    return fs


def outside_state(world: Path) -> dict[str, bytes]:
    return {k: v for k, v in snapshot(world).items() if not k.startswith("root" + os.sep)}


async def attempt_everything(fs: AFS, urn: str) -> list[BaseException]:
    """Run every operation on ``urn``; return what each raised (all must raise)."""
    outcomes: list[BaseException] = []
    attempts = [
        lambda: fs.write(urn, b"pwned"),
        lambda: fs.read(urn),
        lambda: fs.stat(urn),
        lambda: fs.exists(urn),
        lambda: fs.delete(urn),
        lambda: fs.copy("fs://local/seed.txt", urn),
        lambda: fs.move("fs://local/seed.txt", urn),
        lambda: fs.copy(urn, "fs://local/stolen.txt"),
        lambda: fs.list(urn, recursive=True),
    ]
    for attempt in attempts:
        try:
            await attempt()
        except StorageError as exc:
            outcomes.append(exc)
        else:
            raise AssertionError(f"{urn!r} was accepted by an operation")
    return outcomes


@pytest.mark.parametrize("path", NASTY_PATHS)
async def test_nasty_paths_are_refused_and_touch_nothing(
    local_afs: AFS, world: Path, path: str
) -> None:
    before = outside_state(world)
    for error in await attempt_everything(local_afs, f"fs://local/{path}"):
        assert isinstance(error, InvalidURN | AccessDenied), error
    assert outside_state(world) == before
    assert snapshot(world / "root") == {"seed.txt": b"seed"}
    assert not (world / "root" / "stolen.txt").exists()


@pytest.mark.parametrize("urn", NASTY_URNS)
def test_malformed_urns_are_refused(urn: str) -> None:
    with pytest.raises(InvalidURN) as caught:
        parse_urn(urn, allow_root=True)
    assert repr(urn) in str(caught.value) or urn in str(caught.value)


@pytest.mark.parametrize("path", NASTY_PATHS[:12])
async def test_s3_refuses_the_same_paths(afs: AFS, path: str) -> None:
    with pytest.raises(InvalidURN):
        await afs.write(f"fs://s3/{path}", b"pwned")
    assert await afs.list("fs://s3", recursive=True) == []


async def test_trailing_slash_only_for_listing(local_afs: AFS) -> None:
    await local_afs.write("fs://local/a/x.txt", b"x")
    assert [s.path for s in await local_afs.list("fs://local/a/")] == ["a/x.txt"]
    for call in (local_afs.read, local_afs.stat, local_afs.delete):
        with pytest.raises(InvalidURN, match="fs://local/a/"):
            await call("fs://local/a/")


def test_unusual_but_harmless_names_are_accepted() -> None:
    for path in ["...", "a..b", ".hidden", "100%.txt", "50% off", "日本語/ファイル.txt", "a b/c"]:
        assert parse_urn(f"fs://m/{path}").path == path


async def test_symlinked_file_pointing_outside(local_afs: AFS, world: Path) -> None:
    (world / "root" / "leak.txt").symlink_to(world / "outside" / "secret.txt")
    before = outside_state(world)
    for error in await attempt_everything(local_afs, "fs://local/leak.txt"):
        assert isinstance(error, AccessDenied), error
    assert outside_state(world) == before
    assert (world / "outside" / "secret.txt").read_text() == "top secret"


async def test_symlinked_directory_pointing_outside(local_afs: AFS, world: Path) -> None:
    (world / "root" / "escape").symlink_to(world / "outside", target_is_directory=True)
    (world / "root" / "deep" / "er").mkdir(parents=True)
    (world / "root" / "deep" / "er" / "hop").symlink_to(world / "outside" / "etc")
    before = outside_state(world)
    for urn in [
        "fs://local/escape/secret.txt",
        "fs://local/escape/new.txt",
        "fs://local/escape/etc/passwd",
        "fs://local/escape/brand/new/dir/file.txt",
        "fs://local/deep/er/hop/passwd",
        "fs://local/deep/er/hop/new.txt",
    ]:
        for error in await attempt_everything(local_afs, urn):
            assert isinstance(error, AccessDenied), (urn, error)
    with pytest.raises(AccessDenied, match="fs://local/escape"):
        await local_afs.list("fs://local/escape")
    assert outside_state(world) == before


async def test_links_into_a_sibling_named_like_the_root(local_afs: AFS, world: Path) -> None:
    """``<root>-secrets`` shares the root's path as a prefix but is outside the mount."""
    sibling = world / "root-secrets"
    (world / "root" / "twin").symlink_to(sibling, target_is_directory=True)
    (world / "root" / "twin.txt").symlink_to(sibling / "secret.txt")
    (world / "root" / "up").symlink_to("..", target_is_directory=True)  # into tmp_path
    before = outside_state(world)
    for urn in [
        "fs://local/twin/secret.txt",
        "fs://local/twin/new.txt",
        "fs://local/twin.txt",
        "fs://local/up/root-secrets/secret.txt",
        "fs://local/up/root-secrets/new.txt",
    ]:
        for error in await attempt_everything(local_afs, urn):
            assert isinstance(error, AccessDenied), (urn, error)
    with pytest.raises(AccessDenied, match="fs://local/twin"):
        await local_afs.list("fs://local/twin")
    listed = [s.path for s in await local_afs.list("fs://local", recursive=True)]
    assert listed == ["seed.txt"]
    assert outside_state(world) == before
    assert (sibling / "secret.txt").read_text() == "sibling secret"


async def test_symlink_to_absolute_system_path(local_afs: AFS, world: Path) -> None:
    (world / "root" / "etc").symlink_to("/etc", target_is_directory=True)
    with pytest.raises(AccessDenied):
        await local_afs.read("fs://local/etc/hostname")


async def test_listing_does_not_follow_links_outside(local_afs: AFS, world: Path) -> None:
    await local_afs.write("fs://local/inside.txt", b"ok")
    (world / "root" / "escape").symlink_to(world / "outside", target_is_directory=True)
    (world / "root" / "leak.txt").symlink_to(world / "outside" / "secret.txt")
    paths = [s.path for s in await local_afs.list("fs://local", recursive=True)]
    assert paths == ["inside.txt", "seed.txt"]
    flat = [s.path for s in await local_afs.list("fs://local") if not s.is_dir]
    assert flat == ["inside.txt", "seed.txt"]


async def test_symlink_inside_the_root_is_allowed(local_afs: AFS, world: Path) -> None:
    await local_afs.write("fs://local/real/data.txt", b"inside")
    (world / "root" / "alias.txt").symlink_to(world / "root" / "real" / "data.txt")
    assert await local_afs.read("fs://local/alias.txt") == b"inside"
    await local_afs.delete("fs://local/alias.txt")  # removes the link, not its target
    assert await local_afs.read("fs://local/real/data.txt") == b"inside"
