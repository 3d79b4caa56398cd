"""The first lines of a started gateway say where to go and, until an admin exists, how to make
one: the command they name works, and once it has, the hint is gone."""

from __future__ import annotations

import subprocess

from tests.cli.conftest import REPO_MODULES, WEBOS, Gateway


def _first_start_log(gateway: Gateway) -> str:
    process = gateway.start()
    gateway.wait_ready()
    gateway.stop()
    assert process.stdout is not None
    return process.stdout.read()


def _ready_lines(log: str) -> list[str]:
    lines = log.splitlines()
    start = next(i for i, line in enumerate(lines) if "WebOS is ready at" in line)
    return [line.split(": ", 1)[1] for line in lines[start:] if "webos.run:" in line][:4]


def test_first_start_names_the_console_the_docs_and_the_command_for_an_admin(
    make_gateway,
) -> None:
    gateway = make_gateway(REPO_MODULES)  # no WEBOS_ADMIN_EMAIL: nobody can sign in yet
    url = gateway.url

    lines = _ready_lines(_first_start_log(gateway))

    assert lines[:3] == [
        f"WebOS is ready at {url}",
        f"  console:  {url}/console",
        f"  API docs: {url}/schema",
    ]
    assert lines[3].startswith("  next: no admin account yet: create one with `webos users create")
    command = lines[3].split("`")[1].split()  # what it says to run, run as said
    email = "ada@example.org"
    args = [email if part == "EMAIL" else part for part in command[1:]]
    answer = subprocess.run(
        [WEBOS, *args, "--password-stdin"],
        input="correct horse battery staple\n",
        cwd=gateway.workdir,
        env=gateway.env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert answer.returncode == 0, answer.stderr

    again = _ready_lines(_first_start_log(gateway))
    assert not any("next:" in line for line in again), again
