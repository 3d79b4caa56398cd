"""The audit log in the console: a dashboard widget with the latest events and a full-page app."""

from litestar import Response, get

from kernel import registry
from kernel.console import App, Widget, escape, fragment

log_app = App(
    name="log",
    title="Audit log",
    icon="▤",
    route="/console",
    description="The most recent application events this audit instance recorded.",
    permission="audit.read",
)
latest = Widget(
    name="latest",
    title="Latest events",
    url="/console/widget",
    size="medium",
    refresh=3,
    permission="audit.read",
)


def _rows(entries: list[dict]) -> str:
    return "".join(
        f"<tr><td><code>{escape(e['subject'])}</code></td><td>{escape(e.get('source') or '')}</td>"
        f"<td>{escape(e.get('time') or '')}</td></tr>"
        for e in entries
    )


def _table(entries: list[dict]) -> str:
    if not entries:
        return '<p class="empty">No events recorded yet.</p>'
    head = (
        "<tr><th scope='col'>Subject</th><th scope='col'>Source</th><th scope='col'>Time</th></tr>"
    )
    return (
        f"<div class='table-wrap'><table class='table'><thead>{head}</thead>"
        f"<tbody>{_rows(entries)}</tbody></table></div>"
    )


@get("/console/widget", include_in_schema=False)
async def latest_widget() -> Response[str]:
    return fragment(_table(await registry.get("audit_log").recent(5)))


@get("/console", include_in_schema=False)
async def log_page() -> Response[str]:
    return fragment(_table(await registry.get("audit_log").recent(100)))
