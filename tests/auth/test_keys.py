import json
import os
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from pydantic import SecretStr

from kernel.auth import (
    ANONYMOUS,
    _keys,
    decode_access_token,
    issue_access_token,
    load_identity_private_key,
    load_identity_public_key,
    load_or_create_dev_secret,
    load_or_create_identity_keys,
    resolve_signing,
    sign_identity,
    system_principal,
    verify_identity,
)
from kernel.auth._pem import private_pem, public_pem
from kernel.errors import ConfigError

# Random hex, as `openssl rand -hex 32` makes: production accepts it (about 200 bits).
STRONG = "8f0c2a61d94be7730b5e12c4a9f6d0837e21c5b94a06f3d8e7b1a29c04d65f3e"


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_dev_secret_is_created_once(tmp_path: Path) -> None:
    first = load_or_create_dev_secret(tmp_path / "data")
    assert len(first.encode()) >= 32
    assert load_or_create_dev_secret(tmp_path / "data") == first
    path = tmp_path / "data" / "secret.key"
    assert path.read_text().strip() == first
    assert mode(path) == 0o600
    assert [p.name for p in path.parent.iterdir()] == ["secret.key"]  # no temporary left over


def test_identity_keys_created_once(tmp_path: Path) -> None:
    private_path, public_path = load_or_create_identity_keys(tmp_path)
    assert (private_path.name, public_path.name) == ("identity_ed25519.pem", "identity_ed25519.pub")
    assert mode(private_path) == 0o600
    before = private_path.read_bytes()
    assert load_or_create_identity_keys(tmp_path) == (private_path, public_path)
    assert private_path.read_bytes() == before
    private = load_identity_private_key(private_path)
    public = load_identity_public_key(public_path)
    token = sign_identity(system_principal("t"), private)
    assert verify_identity(token, public).id == "system:t"


def test_mismatched_public_key_file_is_refused(tmp_path: Path) -> None:
    _, public_path = load_or_create_identity_keys(tmp_path)
    public_path.write_bytes(public_pem(Ed25519PrivateKey.generate()))
    with pytest.raises(ConfigError, match="does not match"):
        load_or_create_identity_keys(tmp_path)


def test_empty_secret_file_is_refused(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_keys, "_SETTLE_SECONDS", 0.05)
    (tmp_path / "secret.key").write_text("")
    with pytest.raises(ConfigError, match="empty"):
        load_or_create_dev_secret(tmp_path)


RACE = """
import json, sys, time
from kernel.auth import load_or_create_dev_secret, load_or_create_identity_keys
start, data_dir = float(sys.argv[1]), sys.argv[2]
time.sleep(max(0.0, start - time.time()))
secret = load_or_create_dev_secret(data_dir)
private_path, public_path = load_or_create_identity_keys(data_dir)
print(json.dumps([secret, open(public_path).read()]))
"""


def test_concurrent_creation_ends_with_one_secret(tmp_path: Path) -> None:
    start = time.time() + 1.5  # every process is past its imports by then
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", RACE, str(start), str(tmp_path)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(6)
    ]
    results = []
    for process in processes:
        out, err = process.communicate(timeout=60)
        assert process.returncode == 0, err
        results.append(tuple(json.loads(out)))
    assert len(set(results)) == 1
    secret, public = results[0]
    assert load_or_create_dev_secret(tmp_path) == secret
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "identity_ed25519.pem",
        "identity_ed25519.pub",
        "secret.key",
    ]
    assert (tmp_path / "identity_ed25519.pub").read_text() == public


def test_loaders_accept_text_and_paths_and_refuse_the_wrong_kind(tmp_path: Path) -> None:
    key = Ed25519PrivateKey.generate()
    text = private_pem(key).decode()
    assert public_pem(load_identity_private_key(text)) == public_pem(key)
    path = tmp_path / "k.pem"
    path.write_text(text)
    assert public_pem(load_identity_private_key(path)) == public_pem(key)
    assert public_pem(load_identity_public_key(public_pem(key))) == public_pem(key)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    with pytest.raises(ConfigError, match="Ed25519"):
        load_identity_private_key(private_pem(rsa_key))
    with pytest.raises(ConfigError, match="not an unencrypted PEM"):
        load_identity_private_key(b"garbage")
    with pytest.raises(ConfigError, match="cannot read"):
        load_identity_private_key(tmp_path / "missing.pem")


# ---- resolve_signing -------------------------------------------------------------------------


def test_dev_generates_and_shares_under_data_dir(tmp_path: Path) -> None:
    first = resolve_signing(env="dev", secret_key=None, data_dir=tmp_path)
    second = resolve_signing(env="dev", secret_key=None, data_dir=tmp_path)
    assert first.tokens().algorithm == "EdDSA"  # the default: only the key holder can sign
    assert mode(tmp_path / "jwt_ed25519.pem") == 0o600
    token = issue_access_token(first.tokens(), "u1", roles=[])
    assert decode_access_token(second.tokens(), token)["sub"] == "u1"
    assert not (tmp_path / "secret.key").exists()  # no shared secret made
    token = sign_identity(system_principal("x"), first.identity_private_key)
    assert verify_identity(token, second.identity_public_key).id == "system:x"


def test_dev_hs256_uses_the_generated_secret(tmp_path: Path) -> None:
    signing = resolve_signing(env="dev", secret_key=None, data_dir=tmp_path, jwt_algorithm="HS256")
    assert signing.tokens().signing_key == load_or_create_dev_secret(tmp_path).encode()


def test_dev_uses_a_configured_secret_and_warns_when_short(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    signing = resolve_signing(
        env="dev", secret_key=SecretStr("short"), data_dir=tmp_path, jwt_algorithm="HS256"
    )
    assert signing.tokens().signing_key == b"short"
    assert "WEBOS_SECRET_KEY is 5 bytes" in caplog.text
    assert not (tmp_path / "secret.key").exists()


@pytest.mark.parametrize(("algorithm", "stem"), [("RS256", "jwt_rs256"), ("EdDSA", "jwt_ed25519")])
def test_dev_generates_jwt_key_pairs(tmp_path: Path, algorithm: str, stem: str) -> None:
    signing = resolve_signing(
        env="dev", secret_key=None, data_dir=tmp_path, jwt_algorithm=algorithm
    )
    assert mode(tmp_path / f"{stem}.pem") == 0o600
    assert (tmp_path / f"{stem}.pub").exists()
    assert issue_access_token(signing.tokens(), "u1", roles=[])


def test_prod_refuses_hs256_without_a_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="WEBOS_SECRET_KEY must be set"):
        resolve_signing(env="prod", secret_key=None, data_dir=tmp_path, jwt_algorithm="HS256")
    assert not tmp_path.joinpath("secret.key").exists()


def test_prod_refuses_a_short_secret(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"WEBOS_SECRET_KEY is 31 bytes; use at least 32"):
        resolve_signing(env="prod", secret_key="x" * 31, data_dir=tmp_path, jwt_algorithm="HS256")


@pytest.mark.parametrize("secret", ["a" * 32, "s" * 48, "correct horse battery staple 123"])
def test_prod_refuses_a_guessable_secret(tmp_path: Path, secret: str) -> None:
    """32 bytes of one letter passed the length rule; its estimate is a few bits."""
    with pytest.raises(ConfigError, match="WEBOS_SECRET_KEY is too easy to guess"):
        resolve_signing(env="prod", secret_key=secret, data_dir=tmp_path, jwt_algorithm="HS256")


def _pair_files(folder: Path, stem: str) -> tuple[Path, Path]:
    key = Ed25519PrivateKey.generate()
    private_path, public_path = folder / f"{stem}.pem", folder / f"{stem}.pub"
    private_path.write_bytes(private_pem(key))
    public_path.write_bytes(public_pem(key))
    return private_path, public_path


@pytest.fixture
def identity_files(tmp_path: Path) -> tuple[Path, Path]:
    return _pair_files(tmp_path, "id")


@pytest.fixture
def jwt_files(tmp_path: Path) -> tuple[Path, Path]:
    return _pair_files(tmp_path, "jwt")


def test_prod_refuses_without_identity_keys(tmp_path: Path, jwt_files: tuple[Path, Path]) -> None:
    with pytest.raises(ConfigError, match="WEBOS_IDENTITY_PRIVATE_KEY_FILE must be set"):
        resolve_signing(
            env="prod", secret_key=None, data_dir=tmp_path / "d", jwt_private_key_file=jwt_files[0]
        )
    with pytest.raises(ConfigError, match="WEBOS_IDENTITY_PUBLIC_KEY_FILE"):
        resolve_signing(env="prod", secret_key=None, data_dir=tmp_path / "d", signer=False)
    assert not (tmp_path / "d").exists()  # nothing generated in prod


@pytest.mark.parametrize("algorithm", ["EdDSA", "RS256"])
def test_prod_refuses_asymmetric_jwt_without_key_files(
    tmp_path: Path, identity_files: tuple[Path, Path], algorithm: str
) -> None:
    with pytest.raises(ConfigError, match="WEBOS_JWT_PRIVATE_KEY_FILE must be set"):
        resolve_signing(
            env="prod",
            secret_key=None,
            data_dir=tmp_path / "d",
            jwt_algorithm=algorithm,
            identity_private_key_file=identity_files[0],
        )


def test_prod_with_explicit_configuration(
    tmp_path: Path, identity_files: tuple[Path, Path], jwt_files: tuple[Path, Path]
) -> None:
    signing = resolve_signing(
        env="prod",
        secret_key=None,
        data_dir=tmp_path / "d",
        jwt_private_key_file=jwt_files[0].read_text(),  # PEM text, as a Secret holds it
        identity_private_key_file=identity_files[0],
        identity_public_key_file=identity_files[1],
        access_token_ttl=60,
        jwt_leeway=2,
    )
    assert signing.tokens().access_ttl.total_seconds() == 60
    assert signing.tokens().leeway == 2
    token = sign_identity(system_principal("x"), signing.identity_private_key)
    assert verify_identity(token, signing.identity_public_key) != ANONYMOUS
    assert not (tmp_path / "d").exists()


def test_prod_hs256_with_a_strong_secret(tmp_path: Path, identity_files: tuple[Path, Path]) -> None:
    signing = resolve_signing(
        env="prod",
        secret_key=SecretStr(STRONG),
        data_dir=tmp_path / "d",
        jwt_algorithm="HS256",
        identity_private_key_file=identity_files[0],
    )
    assert signing.tokens().signing_key == STRONG.encode()


def test_a_module_process_holds_nothing_that_mints_tokens(
    tmp_path: Path, identity_files: tuple[Path, Path]
) -> None:
    signing = resolve_signing(
        env="prod",
        secret_key=None,
        data_dir=tmp_path / "d",
        identity_public_key_file=identity_files[1],
        signer=False,
    )
    assert signing.identity_private_key is None
    assert signing.token_config is None
    with pytest.raises(ConfigError, match="only the gateway"):
        signing.tokens()
    # In dev it neither reads nor generates the token key of the data folder.
    resolve_signing(env="dev", secret_key=None, data_dir=tmp_path / "dev", signer=False)
    assert sorted(p.name for p in (tmp_path / "dev").iterdir()) == [
        "identity_ed25519.pem",
        "identity_ed25519.pub",
    ]


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"jwt_algorithm": "HS256"}, "WEBOS_JWT_ALGORITHM=HS256 is refused outside the gateway"),
        ({"secret_key": STRONG}, "WEBOS_SECRET_KEY is set"),
        ({"jwt_private_key_file": "/run/secrets/jwt.pem"}, "WEBOS_JWT_PRIVATE_KEY_FILE is set"),
    ],
)
@pytest.mark.parametrize("env", ["dev", "prod"])
def test_a_module_process_refuses_what_would_let_it_mint_tokens(
    tmp_path: Path, identity_files: tuple[Path, Path], overrides: dict, setting: str, env: str
) -> None:
    arguments = {
        "env": env,
        "secret_key": None,
        "data_dir": tmp_path / "d",
        "identity_public_key_file": identity_files[1],
        "signer": False,
        **overrides,
    }
    with pytest.raises(ConfigError, match=setting):
        resolve_signing(**arguments)


def test_mismatched_identity_pair_is_refused(
    tmp_path: Path, identity_files: tuple[Path, Path]
) -> None:
    other = tmp_path / "other.pub"
    other.write_bytes(public_pem(Ed25519PrivateKey.generate()))
    with pytest.raises(ConfigError, match="WEBOS_IDENTITY_PUBLIC_KEY_FILE does not match"):
        resolve_signing(
            env="dev",
            secret_key=STRONG,
            data_dir=tmp_path,
            identity_private_key_file=identity_files[0],
            identity_public_key_file=other,
        )


def test_rsa_identity_key_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "rsa.pem"
    path.write_bytes(private_pem(rsa.generate_private_key(public_exponent=65537, key_size=2048)))
    with pytest.raises(ConfigError, match="Ed25519"):
        resolve_signing(
            env="dev", secret_key=STRONG, data_dir=tmp_path, identity_private_key_file=path
        )


@pytest.mark.parametrize(
    ("overrides", "setting"),
    [
        ({"env": "staging"}, "WEBOS_ENV"),
        ({"jwt_algorithm": "none"}, "WEBOS_JWT_ALGORITHM"),
        ({"jwt_algorithm": "RS256", "jwt_private_key_file": "/nonexistent/k.pem"}, "PRIVATE_KEY"),
    ],
)
def test_bad_settings_are_named(tmp_path: Path, overrides: dict[str, str], setting: str) -> None:
    arguments = {"env": "dev", "secret_key": STRONG, "data_dir": tmp_path, **overrides}
    with pytest.raises(ConfigError, match=setting):
        resolve_signing(**arguments)  # type: ignore[arg-type]


@pytest.mark.skipif(os.name != "posix", reason="POSIX permissions")
def test_group_readable_secret_warns(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    load_or_create_dev_secret(tmp_path)
    (tmp_path / "secret.key").chmod(0o644)
    load_or_create_dev_secret(tmp_path)
    assert "chmod 600" in caplog.text


def test_file_systems_without_hard_links(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_links(source: object, target: object) -> None:
        raise PermissionError("hard links not supported")

    monkeypatch.setattr(_keys.os, "link", no_links)
    secret = load_or_create_dev_secret(tmp_path)
    assert load_or_create_dev_secret(tmp_path) == secret
    assert mode(tmp_path / "secret.key") == 0o600
    assert [p.name for p in tmp_path.iterdir()] == ["secret.key"]


def test_losing_the_race_returns_the_winners_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Another process creates the file between our existence check and our link.
    (tmp_path / "secret.key").write_text("the-winner-secret-" + "w" * 40 + "\n")
    monkeypatch.setattr(Path, "exists", lambda self: False)
    assert load_or_create_dev_secret(tmp_path) == "the-winner-secret-" + "w" * 40
    assert sorted(p.name for p in tmp_path.iterdir()) == ["secret.key"]


@pytest.mark.parametrize("joint", [" ", "\\n"])
def test_pem_text_on_one_line_as_an_env_file_holds_it(joint: str) -> None:
    """docker compose reads .env one line per variable: a key pair must fit on one line."""
    key = Ed25519PrivateKey.generate()
    private_line = joint.join(private_pem(key).decode().strip().splitlines())
    public_line = joint.join(public_pem(key).decode().strip().splitlines())
    assert "\n" not in private_line
    assert public_pem(load_identity_private_key(private_line)) == public_pem(key)
    assert public_pem(load_identity_public_key(public_line)) == public_pem(key)
