"""GET /v1/jobs/<id>: a queued job's status, progress and result or error.

A job is read with the role its kind needs and the team scope of the key that started it: a
team-scoped key sees its team's jobs only; any other job is 404, as if it did not exist.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields

from remedy.api.auth import current_principal, roles
from remedy.extensions import session
from remedy.services.jobs import STATUSES, JobQueue
from remedy.services.keys import ROLES
from remedy.store.tables import Job

blp = Blueprint("jobs", __name__, url_prefix="/v1", description="Long work run by `remedy worker`")

# kind -> how its stored result is shown (the result's own response schema); each API module
# that queues a kind registers it here.
RESULT_VIEWS: dict[str, Callable[[dict[str, Any]], dict[str, Any]]] = {}


class ProgressSchema(Schema):
    """How far the job is: `done` of `total` steps (total unknown until it starts)."""

    done = fields.Integer()
    total = fields.Integer(allow_none=True)


class JobErrorSchema(Schema):
    """Why a job failed, like the error envelope: a message and the fields it names."""

    message = fields.String()
    errors = fields.Dict(keys=fields.String(), values=fields.List(fields.String()))


class JobSchema(Schema):
    """A job: queued, running, succeeded (with its result) or failed (with its error)."""

    id = fields.String()
    kind = fields.String(metadata={"example": "whatif.simulate"})
    status = fields.String(metadata={"enum": list(STATUSES)})
    progress = fields.Nested(ProgressSchema)
    attempts = fields.Integer(metadata={"description": "workers that claimed it so far"})
    created_at = fields.DateTime()
    started_at = fields.DateTime(allow_none=True)
    finished_at = fields.DateTime(allow_none=True)
    result = fields.Dict(
        allow_none=True,
        metadata={"description": "when succeeded: the kind's answer (what-if: SimulateResponse)"},
    )
    error = fields.Nested(JobErrorSchema, allow_none=True)


def job_view(job: Job) -> dict[str, Any]:
    """A job as `JobSchema` shows it."""
    result = job.result
    if result is not None and job.kind in RESULT_VIEWS:
        result = RESULT_VIEWS[job.kind](result)
    return {
        "id": job.id,
        "kind": job.kind,
        "status": job.status,
        "progress": {"done": job.progress_done, "total": job.progress_total},
        "attempts": job.attempts,
        "created_at": job.created_at,
        "started_at": job.started_at,
        "finished_at": job.finished_at,
        "result": result,
        "error": job.error,
    }


@blp.route("/jobs/<job_id>")
class JobStatus(MethodView):
    """One job."""

    @roles(*ROLES)
    @blp.response(200, JobSchema)
    def get(self, job_id: str) -> dict[str, Any]:
        """The job's status, progress and result or error (poll until succeeded or failed)."""
        return job_view(JobQueue(session()).get(job_id, current_principal()))


@blp.route("/jobs/<job_id>/cancel")
class JobCancel(MethodView):
    """Cancel a job."""

    @roles(*ROLES)
    @blp.response(200, JobSchema)
    def post(self, job_id: str) -> dict[str, Any]:
        """Cancel a queued or running job (its worker stops at its next progress report);
        409 once it has ended. Who may read a job may cancel it."""
        return job_view(JobQueue(session()).cancel(job_id, current_principal()))
