import asyncio

from kernel.auth import current_principal
from kernel.context import current_traceparent
from kernel.tasks import progress, task, task_info


@task(retries=2)
async def build_report(title: str, pages: int = 3) -> dict:
    """Build a (pretend) report page by page, reporting progress; runs in a worker."""
    for page in range(pages):
        await progress(page / pages, f"page {page + 1} of {pages}")
        await asyncio.sleep(0.05)
    await progress(1.0, "done")
    return {
        "title": title,
        "pages": pages,
        "requested_by": current_principal.get().id,
        "traceparent": current_traceparent.get(),
        "attempt": task_info().attempt,
    }
