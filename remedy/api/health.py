"""GET /healthz (the process is up) and GET /readyz (the database answers, a model is loaded,
and waiting jobs have a live worker to run them)."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields
from sqlalchemy.exc import SQLAlchemyError

from remedy.errors import ServiceUnavailable
from remedy.extensions import session
from remedy.services import app_services
from remedy.services.jobs import JobQueue

blp = Blueprint("health", __name__, description="Liveness and readiness")


class JobQueueHealthSchema(Schema):
    """The job queue as readiness sees it."""

    queued = fields.Integer()
    oldest_queued_seconds = fields.Integer(allow_none=True)
    stale_leases = fields.Integer(
        metadata={"description": "running jobs whose worker stopped renewing the lease"}
    )
    workers_seen = fields.Integer(
        metadata={"description": "job workers seen in the last minute or holding a live lease"}
    )


class HealthSchema(Schema):
    """Liveness or readiness answer."""

    status = fields.String()
    checks = fields.Dict(keys=fields.String(), values=fields.String())
    queue = fields.Nested(JobQueueHealthSchema)


@blp.route("/healthz")
class Health(MethodView):
    """Liveness."""

    @blp.doc(security=[])  # public: load balancers probe without a key
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, str]:
        """Tell that the process is up (no dependency is checked)."""
        return {"status": "ok"}


@blp.route("/readyz")
class Ready(MethodView):
    """Readiness."""

    @blp.doc(security=[])
    @blp.response(200, HealthSchema)
    def get(self) -> dict[str, Any]:
        """Check the database, the model in use and the job queue; 503 with Retry-After when
        not ready (the database does not answer, or jobs wait with no live worker to run
        them)."""
        try:
            db = session()
            db.execute(sa.text("SELECT 1"))
            scorer = app_services.scorer()(db)
            queue = JobQueue(db).health()
        except SQLAlchemyError:
            raise ServiceUnavailable(
                "the database does not answer", {"database": ["down"]}
            ) from None
        if not queue.runnable:
            why = (
                f"{queue.queued} job(s) queued and {queue.stale_leases} past their lease, "
                "and no job worker was seen in the last minute"
            )
            raise ServiceUnavailable(f"jobs cannot run: {why}", {"jobs": [why]})
        checks = {"database": "ok", "model": scorer.version, "jobs": "ok"}
        return {"status": "ready", "checks": checks, "queue": queue}
