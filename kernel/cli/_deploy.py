"""``webos nats-config``: the nats-server configuration generated from the module manifests, or
(``--client``) what NATS tools need to connect as this process would."""

from __future__ import annotations

import shlex
from pathlib import Path

import click

from kernel.errors import WebOSError


@click.command("nats-config")
@click.option(
    "--client",
    is_flag=True,
    help="Print NATS_URL for NATS tools instead (on embedded defaults: the URL with the "
    'credentials `webos run` keeps in WEBOS_DATA_DIR). Use: eval "$(webos nats-config --client)"',
)
@click.option(
    "--module",
    "modules",
    multiple=True,
    help="A module run as its own process (repeatable); it gets its own user. Default: all.",
)
@click.option("--out", type=click.Path(dir_okay=False, path_type=Path), help="Write to FILE.")
@click.option("--listen", default="0.0.0.0:4222", show_default=True, help="Client address.")
@click.option("--http", default="0.0.0.0:8222", show_default=True, help="Monitoring ('' off).")
@click.option("--store-dir", default="/data", show_default=True, help="JetStream storage.")
@click.option("--max-file-store", default="10GB", show_default=True, help="JetStream disk cap.")
@click.option("--max-memory-store", default="256MB", show_default=True, help="JetStream memory.")
def nats_config(
    client: bool,
    modules: tuple[str, ...],
    out: Path | None,
    listen: str,
    http: str,
    store_dir: str,
    max_file_store: str,
    max_memory_store: str,
) -> None:
    """Print a nats-server config: JetStream, limits, one user per process kind.

    Users: gateway, worker, scheduler, cli, and module-NAME for each module run on its own, whose
    rights come from its manifest (emits) and its handlers, services and durable consumers.
    Passwords are read by nats-server from NATS_<USER>_PASSWORD environment variables.
    """
    from kernel.deploy import ServerOptions, inspect_modules, nats_users, render_nats_config
    from kernel.settings import load_settings

    settings = load_settings()
    if client:
        if modules or out:
            raise click.UsageError("--client prints NATS_URL only: drop --module and --out")
        url = settings.nats.client_url(settings.data_dir)
        click.echo(f"export NATS_URL={shlex.quote(url)}")
        return
    try:
        facts = inspect_modules(settings.modules.modules_path)
        users = nats_users(facts, modules or None)
    except (WebOSError, ValueError) as error:
        raise click.ClickException(str(error)) from None
    options = ServerOptions(
        listen=listen,
        http=http or None,
        store_dir=store_dir,
        max_file_store=max_file_store,
        max_memory_store=max_memory_store,
    )
    text = render_nats_config(users, options)
    if out is None:
        click.echo(text, nl=False)
        return
    out.write_text(text, encoding="utf-8")
    click.echo(f"wrote {out} with users: {', '.join(user.name for user in users)}", err=True)
    click.echo(
        "set in nats-server's environment: " + ", ".join(user.password_env for user in users),
        err=True,
    )


@click.command("init")
@click.option("--admin-email", help="E-mail of the first admin (asked when not given).")
def init(admin_email: str | None) -> None:
    """Write .env for compose.yaml with every secret generated (keys, NATS, MongoDB, MinIO, the
    first admin's password, printed once). Never overwrites an existing .env."""
    from pydantic import validate_email
    from pydantic_core import PydanticCustomError

    from kernel.cli._project import project_root
    from kernel.deploy import ENV_NAME, TEMPLATE_NAME, compose_env, write_new_file

    root = project_root(Path.cwd(), marker="compose.yaml")
    if root is None:
        raise click.ClickException(
            f"no compose.yaml in {Path.cwd()} or above: run webos init in the project folder"
        )
    env_path, template = root / ENV_NAME, root / TEMPLATE_NAME
    if env_path.exists():  # before asking anything; write_new_file checks again, atomically
        raise click.ClickException(
            f"{env_path} exists already: webos init never overwrites it (move it away to start "
            "anew)"
        )
    if not template.is_file():
        raise click.ClickException(f"{template} is missing: it lists what compose.yaml needs")
    email = admin_email or click.prompt("E-mail of the first admin")
    try:
        # The validator the auth module's account rules use; the gateway checks it again.
        email = validate_email(email.strip())[1]
    except PydanticCustomError as error:
        reason = (error.context or {}).get("reason", error.message())
        raise click.BadParameter(
            f"{email!r} is not a valid e-mail address: {reason}", param_hint="--admin-email"
        ) from None
    made = compose_env(template.read_text(encoding="utf-8"), email)
    write_new_file(env_path, made.text)
    click.echo(f"wrote {env_path} (mode 0600): every secret compose.yaml needs, generated")
    click.echo(f"first admin: {email}, created when the gateway first starts")
    click.echo(f"its password, shown once (.env keeps it for compose): {made.admin_password}")
    click.echo("next: docker compose up")
