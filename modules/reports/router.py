from typing import Annotated

from litestar import post
from litestar.params import JSONBody
from pydantic import BaseModel, Field, StringConstraints

from reports.tasks import build_report

Title = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class ReportRequest(BaseModel):
    title: Title
    pages: int = Field(3, ge=1, le=100)


class ReportStarted(BaseModel):
    task_id: str = Field(description="Follow it at GET /api/tasks/{task_id}.")


@post("/", status_code=202)
async def start_report(data: JSONBody[ReportRequest]) -> ReportStarted:
    """Start building a report in a worker; it runs as the caller, in the caller's trace."""
    sent = await build_report.kiq(data.title, pages=data.pages)
    return ReportStarted(task_id=sent.task_id)
