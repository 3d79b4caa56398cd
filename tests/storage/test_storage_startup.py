"""Start-up checks and settings: misconfiguration must fail fast and say where."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from minio import Minio
from pydantic import ValidationError
from storagetest_helpers import SECRET, MotoS3, free_port

from kernel.errors import ConfigError
from kernel.storage import (
    AFS,
    AccessDenied,
    Backend,
    BackendKinds,
    LocalBackend,
    S3Backend,
    StorageError,
    StorageSettings,
    build_afs,
    default_backend_kinds,
)


@pytest.fixture(autouse=True)
def _clean_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in list(__import__("os").environ):
        if name.startswith("WEBOS_STORAGE_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)  # no stray .env, and ./.webos lands in tmp


async def test_s3_start_creates_missing_bucket(moto_s3: MotoS3, bucket: str) -> None:
    client = Minio(moto_s3.endpoint, moto_s3.access_key, moto_s3.secret_key, secure=False)
    assert not client.bucket_exists(bucket)
    backend = moto_s3.backend(bucket)
    await backend.start()
    assert client.bucket_exists(bucket)
    await backend.start()  # idempotent
    await backend.close()


@pytest.mark.timeout(30)  # a hang guard, not a speed assertion
async def test_s3_wrong_credentials_fail_naming_the_mount(moto_s3: MotoS3, bucket: str) -> None:
    backend = S3Backend(moto_s3.endpoint, bucket, "AKIAWRONGWRONGWRONG", "nope", mount="archive")
    fs = AFS({"archive": backend})
    with pytest.raises(AccessDenied) as caught:
        await fs.start()
    assert "mount 'archive'" in str(caught.value)
    assert "credentials" in str(caught.value)
    assert caught.value.mount == "archive"


@pytest.mark.timeout(30)
async def test_s3_unreachable_endpoint_fails_naming_the_mount() -> None:
    port = free_port()  # nothing listens there any more
    backend = S3Backend(f"127.0.0.1:{port}", "webos", "key", "secret", mount="backups")
    with pytest.raises(StorageError) as caught:
        await AFS({"backups": backend}).start()
    assert "mount 'backups'" in str(caught.value)
    assert f"127.0.0.1:{port}" in str(caught.value)


async def test_failed_start_closes_mounts_already_started(tmp_path: Path) -> None:
    closed: list[str] = []

    class Tracking(LocalBackend):
        async def close(self) -> None:
            closed.append("first")

    bad = S3Backend(f"127.0.0.1:{free_port()}", "webos", "k", "s", mount="second")
    fs = AFS({"first": Tracking(tmp_path / "a"), "second": bad})
    with pytest.raises(StorageError):
        await fs.start()
    assert closed == ["first"]


def test_s3_endpoint_without_keys_names_the_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("WEBOS_STORAGE_S3_ENDPOINT", "127.0.0.1:9000")
    monkeypatch.setenv("WEBOS_STORAGE_S3_ACCESS_KEY", "key-only")
    with pytest.raises(ValidationError) as caught:
        StorageSettings()
    message = str(caught.value)
    assert "WEBOS_STORAGE_S3_SECRET_KEY" in message
    assert "WEBOS_STORAGE_S3_ENDPOINT" in message


def test_secrets_have_no_defaults_and_are_hidden(monkeypatch: pytest.MonkeyPatch) -> None:
    settings = StorageSettings()
    assert settings.s3_access_key is None
    assert settings.s3_secret_key is None
    monkeypatch.setenv("WEBOS_STORAGE_S3_ENDPOINT", "127.0.0.1:9000")
    monkeypatch.setenv("WEBOS_STORAGE_S3_ACCESS_KEY", "AK")
    monkeypatch.setenv("WEBOS_STORAGE_S3_SECRET_KEY", "very-secret-value")
    assert "very-secret-value" not in repr(StorageSettings())


async def test_build_afs_from_environment(
    monkeypatch: pytest.MonkeyPatch, moto_s3: MotoS3, bucket: str, tmp_path: Path
) -> None:
    monkeypatch.setenv("WEBOS_STORAGE_LOCAL_ROOT", str(tmp_path / "main"))
    monkeypatch.setenv("WEBOS_STORAGE_S3_ENDPOINT", f"http://{moto_s3.endpoint}")
    monkeypatch.setenv("WEBOS_STORAGE_S3_BUCKET", bucket)
    monkeypatch.setenv("WEBOS_STORAGE_S3_ACCESS_KEY", moto_s3.access_key)
    monkeypatch.setenv("WEBOS_STORAGE_S3_SECRET_KEY", moto_s3.secret_key)
    extra = {
        "scratch": {"kind": "local", "root": str(tmp_path / "scratch")},
        "backups": {
            "kind": "s3",
            "endpoint": moto_s3.endpoint,
            "bucket": bucket,
            "prefix": "backups",
            "access_key": moto_s3.access_key,
            "secret_key": moto_s3.secret_key,
        },
    }
    monkeypatch.setenv("WEBOS_STORAGE_MOUNTS", json.dumps(extra))
    events: list[tuple[str, dict[str, Any]]] = []

    async def sink(subject: str, payload: dict[str, Any]) -> None:
        events.append((subject, payload))

    fs = build_afs(StorageSettings(), emit=sink, principal_provider=lambda: "bob", secret=SECRET)
    assert sorted(fs.mounts) == ["backups", "local", "s3", "scratch"]
    async with fs:
        await fs.write("fs://local/a.txt", b"local")
        await fs.write("fs://scratch/b.txt", b"scratch")
        await fs.write("fs://s3/c.txt", b"s3")
        await fs.write("fs://backups/d.txt", b"backup")
        # backups shares the bucket under its prefix and sees only its own objects
        assert [s.path for s in await fs.list("fs://backups", recursive=True)] == ["d.txt"]
        assert [s.path for s in await fs.list("fs://s3", recursive=True)] == [
            "backups/d.txt",
            "c.txt",
        ]
        assert (await fs.presign("fs://local/a.txt")).startswith("/api/files/presigned?token=")
    assert (tmp_path / "main" / "a.txt").read_bytes() == b"local"
    assert (tmp_path / "scratch" / "b.txt").read_bytes() == b"scratch"
    assert {p["principal"] for _, p in events} == {"bob"}


def test_default_local_root(tmp_path: Path) -> None:
    fs = build_afs(StorageSettings())
    assert list(fs.mounts) == ["local"]
    backend = fs.mounts["local"]
    assert isinstance(backend, LocalBackend)
    assert backend.root == Path(".webos/storage")


@pytest.mark.parametrize(
    ("mounts", "expected"),
    [
        ({"Bad Name": {"kind": "local"}}, "invalid mount name"),
        ({"x": {"root": "/tmp"}}, '"kind"'),
        ({"local": {"kind": "local"}}, "reserved"),
    ],
)
def test_bad_mounts_setting(monkeypatch: pytest.MonkeyPatch, mounts: Any, expected: str) -> None:
    monkeypatch.setenv("WEBOS_STORAGE_MOUNTS", json.dumps(mounts))
    with pytest.raises(ValidationError, match="WEBOS_STORAGE_MOUNTS") as caught:
        StorageSettings()
    assert expected in str(caught.value)


@pytest.mark.parametrize(
    ("options", "expected"),
    [
        ({"kind": "ftp"}, "unknown kind 'ftp'"),
        ({"kind": "s3", "endpoint": "h:1"}, "access_key"),
        ({"kind": "local", "rooot": "/tmp"}, "rooot"),
    ],
)
def test_bad_mount_options_raise_config_error(
    monkeypatch: pytest.MonkeyPatch, options: dict[str, Any], expected: str
) -> None:
    monkeypatch.setenv("WEBOS_STORAGE_MOUNTS", json.dumps({"extra": options}))
    with pytest.raises(ConfigError, match="WEBOS_STORAGE_MOUNTS") as caught:
        build_afs(StorageSettings())
    assert "'extra'" in str(caught.value)
    assert expected in str(caught.value)


async def test_custom_backend_kind(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    made: list[str] = []

    def memoryish(mount: str, options: Any, secret: str | bytes | None) -> Backend:
        made.append(mount)
        return LocalBackend(tmp_path / options["folder"], mount=mount)

    kinds = default_backend_kinds()
    kinds.register_backend_kind("custom", memoryish)
    with pytest.raises(ValueError, match="already registered"):
        kinds.register_backend_kind("custom", memoryish)
    monkeypatch.setenv("WEBOS_STORAGE_MOUNTS", '{"c": {"kind": "custom", "folder": "cf"}}')
    async with build_afs(StorageSettings(), kinds=kinds) as fs:
        await fs.write("fs://c/x", b"custom")
    assert made == ["c"]
    assert (tmp_path / "cf" / "x").read_bytes() == b"custom"
    # Registries are independent objects: the default one knows nothing of "custom".
    assert "custom" not in default_backend_kinds().factories
    assert isinstance(BackendKinds().factories, dict)


def test_backend_bound_to_another_mount_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="bound to mount 'a'"):
        AFS({"b": LocalBackend(tmp_path, mount="a")})
