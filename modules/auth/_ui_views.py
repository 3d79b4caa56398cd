"""HTML of the auth module's console apps (``ui.py`` serves it). Pure functions of what they are
given: every value interpolated is escaped; no inline script or style (the console's CSP)."""

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any
from urllib.parse import quote

from kernel.auth import Principal
from kernel.console import escape

from .models import ApiKey, User

ADMIN = "/api/auth/console/admin"
ACCOUNT = "/api/auth/console/account"


def _when(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%d %H:%M")


def _chips(names: Iterable[str]) -> str:
    return " ".join(f'<span class="chip">{escape(n)}</span>' for n in names) or "-"


def notice(text: str, secret: str | None = None, kind: str = "ok") -> str:
    """A status line; ``secret`` (a generated password, a new key) is shown this once."""
    shown = ""
    if secret is not None:
        shown = (
            f' <code class="shown-once" data-secret>{escape(secret)}</code>'
            " <small>shown once: copy it now</small>"
        )
    return f'<p class="alert {kind}" role="status">{escape(text)}{shown}</p>'


def admin_page(role_map: Mapping[str, frozenset[str]], opened: str | None = None) -> str:
    options = "".join(
        f'<label class="check"><input type="checkbox" name="roles" value="{escape(r)}"'
        f"{' checked' if r == 'user' else ''}> {escape(r)}</label>"
        for r in sorted(role_map)
    )
    roles = "".join(
        f"<tr><td>{escape(r)}</td><td>{_chips(sorted(p))}</td></tr>"
        for r, p in sorted(role_map.items())
    )
    load = f' hx-get="{ADMIN}/users/{escape(opened)}" hx-trigger="load"' if opened else ""
    return f"""
<form class="toolbar" role="search" hx-get="{ADMIN}/users" hx-target="#users"
      hx-trigger="input changed delay:250ms from:#user-search, submit">
  <label for="user-search">Search users</label>
  <input id="user-search" name="q" type="search" placeholder="e-mail contains…" autofocus>
</form>
<div id="users" hx-get="{ADMIN}/users" hx-trigger="load, users-changed from:body"
     hx-include="#user-search"><p class="muted">Loading users…</p></div>
<div id="user-detail" aria-live="polite"{load}></div>
<details class="card admin-create" id="create-user">
  <summary>Create user</summary>
  <form class="auth-form" method="post" hx-post="{ADMIN}/users" hx-target="#create-result">
    <label for="new-email">E-mail</label>
    <input id="new-email" name="email" type="email" required maxlength="320">
    <label for="new-password">Password (leave empty to generate one)</label>
    <input id="new-password" name="password" type="password" maxlength="1024"
           autocomplete="new-password">
    <fieldset><legend>Roles</legend>{options}</fieldset>
    <button class="button primary" type="submit">Create user</button>
  </form>
  <div id="create-result" aria-live="polite"></div>
</details>
<section class="card"><h3>Roles</h3>
<p class="muted">From <code>WEBOS_ROLES</code> over the defaults; read-only here.</p>
<table class="table" id="roles"><thead><tr><th>Role</th><th>Permissions</th></tr></thead>
<tbody>{roles}</tbody></table></section>
"""


def users_table(users: list[User], limit: int) -> str:
    if not users:
        return '<p class="empty">No user matches.</p>'
    rows = "".join(
        f'<tr data-user="{escape(u.email)}">'
        f'<td><button class="link-button" hx-get="{ADMIN}/users/{u.id}" hx-target="#user-detail">'
        f"{escape(u.email)}</button></td><td>{_chips(u.roles)}</td>"
        f"<td>{'active' if u.active else '<strong>disabled</strong>'}</td>"
        f"<td>{_when(u.created_at)}</td></tr>"
        for u in users
    )
    more = (
        f'<p class="muted">The first {limit} shown: search to narrow.</p>'
        if len(users) >= limit
        else ""
    )
    return (
        '<table class="table"><thead><tr><th>E-mail</th><th>Roles</th><th>State</th>'
        f"<th>Created</th></tr></thead><tbody>{rows}</tbody></table>{more}"
    )


def user_detail(
    user: User,
    viewer: Principal,
    role_map: Mapping[str, frozenset[str]],
    keys: list[ApiKey],
    sessions: list[dict[str, Any]],
    message: str = "",
) -> str:
    base = f"{ADMIN}/users/{user.id}"
    post = f'hx-target="#user-detail" hx-post="{base}'
    if str(user.id) == viewer.id:
        manage = (
            '<p class="muted">This is your own account: another admin changes its roles, state '
            'and password. Change your password in <a href="/console/apps/auth/account">'
            "My account</a>.</p>"
        )
    else:
        boxes = "".join(
            f'<label class="check"><input type="checkbox" name="roles" value="{escape(r)}"'
            f"{' checked' if r in user.roles else ''}> {escape(r)}</label>"
            for r in sorted(role_map)
        )
        state = "false" if user.active else "true"
        manage = f"""
<form class="auth-form" method="post" {post}/roles">
  <fieldset><legend>Roles</legend>{boxes}</fieldset>
  <button class="button" type="submit">Save roles</button>
  <small class="muted">A role change revokes the user's API keys.</small></form>
<div class="toolbar">
  <button class="button" {post}/active" hx-vals='{{"active": "{state}"}}'
    hx-confirm="{"Enable" if not user.active else "Disable"} {escape(user.email)}?">
    {"Enable" if not user.active else "Disable"}</button>
  <button class="button" {post}/password"
    hx-confirm="Reset the password of {escape(user.email)}? Their sessions and keys end.">
    Reset password</button>
</div>"""
    key_rows = "".join(
        f'<tr data-key="{escape(k.prefix)}"><td>{escape(k.name) or "-"}</td>'
        f"<td><code>{escape(k.prefix)}</code></td><td>{_chips(k.permissions)}</td>"
        f"<td>{_when(k.created_at)}</td><td>"
        + (
            "revoked"
            if k.revoked
            else f'<button class="button danger" {post}/keys/{k.id}/revoke" '
            f'hx-confirm="Revoke key {escape(k.prefix)}?">Revoke</button>'
        )
        + "</td></tr>"
        for k in keys
    )
    session_rows = "".join(
        f"<tr><td>{_when(s['started'])}</td><td>{_when(s['expires_at'])}</td>"
        f'<td><button class="button danger" {post}/sessions/{quote(s["family"], safe="")}'
        f'/revoke" hx-confirm="End this session?">End session</button></td></tr>'
        for s in sessions
    )
    return f"""
<section class="card user-detail" data-user-detail="{escape(user.email)}">
<h3>{escape(user.email)}</h3>{message}
<p>{_chips(user.roles)} · {"active" if user.active else "<strong>disabled</strong>"} ·
created {_when(user.created_at)}</p>{manage}
<h4>API keys</h4>
{_table(["Name", "Prefix", "Permissions", "Created", ""], key_rows, "No API keys.")}
<h4>Sessions</h4>
{_table(["Signed in", "Expires", ""], session_rows, "No live sessions.")}
</section>"""


def _table(head: list[str], rows: str, empty: str) -> str:
    if not rows:
        return f'<p class="empty">{escape(empty)}</p>'
    cells = "".join(f"<th>{escape(h)}</th>" for h in head)
    return f'<table class="table"><thead><tr>{cells}</tr></thead><tbody>{rows}</tbody></table>'


def account_page(viewer: Principal, keys_html: str) -> str:
    return f"""
<section class="card"><h3>{escape(viewer.email or viewer.id)}</h3>
<p>Roles: {_chips(sorted(viewer.roles))}</p>
<p>Permissions: {_chips(sorted(viewer.permissions))}</p></section>
<section class="card" id="my-keys">{keys_html}</section>
<details class="card"><summary>Change password</summary>
<form class="auth-form" method="post" hx-post="{ACCOUNT}/password" hx-target="#password-result">
  <label for="current-password">Current password</label>
  <input id="current-password" name="current_password" type="password" required
         autocomplete="current-password">
  <label for="new-password">New password</label>
  <input id="new-password" name="new_password" type="password" required
         autocomplete="new-password">
  <button class="button primary" type="submit">Change password</button>
</form>
<div id="password-result" aria-live="polite"></div></details>
"""


def my_keys(viewer: Principal, keys: list[ApiKey], message: str = "") -> str:
    rows = "".join(
        f'<tr data-key="{escape(k.prefix)}"><td>{escape(k.name) or "-"}</td>'
        f"<td><code>{escape(k.prefix)}</code></td><td>{_chips(k.permissions)}</td>"
        f"<td>{_when(k.created_at)}</td><td>"
        + (
            "revoked"
            if k.revoked
            else f'<button class="button danger" hx-post="{ACCOUNT}/keys/{k.id}/revoke" '
            f'hx-target="#my-keys" hx-confirm="Revoke key {escape(k.prefix)}?">Revoke</button>'
        )
        + "</td></tr>"
        for k in keys
    )
    held = ", ".join(sorted(viewer.permissions))
    return f"""
<h3>My API keys</h3>{message}
{_table(["Name", "Prefix", "Permissions", "Created", ""], rows, "No API keys yet.")}
<form class="auth-form" method="post" hx-post="{ACCOUNT}/keys" hx-target="#my-keys">
  <label for="key-name">Key name</label>
  <input id="key-name" name="name" maxlength="100" placeholder="ci">
  <label for="key-permissions">Permissions (space or comma separated)</label>
  <input id="key-permissions" name="permissions" required placeholder="system.read">
  <small class="muted">No wider than yours: {escape(held)}</small>
  <button class="button primary" type="submit">Create key</button>
</form>"""
