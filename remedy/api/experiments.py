"""Champion/challenger experiments (finance, admin): start, stop, and the running comparison.

Starting and stopping change which model decides for a share of every team's customers, so
they need an unscoped key, like promotion, and are audited. Reads return what the worker's pass
stored (remedy/services/experiments.py): a GET never reads the outcomes nor promotes.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from flask.views import MethodView
from flask_smorest import Blueprint
from marshmallow import Schema, fields, validate

from remedy.api.auth import current_principal, roles
from remedy.api.reading import reader_locale
from remedy.extensions import session
from remedy.presenting.presenter import Presenter
from remedy.services.experiments import ExperimentService, comparison_facts, series
from remedy.store.tables import ModelExperiment

blp = Blueprint(
    "experiments",
    __name__,
    url_prefix="/v1",
    description="Champion/challenger experiments between model versions",
)


class StartSchema(Schema):
    """What an experiment tests and how."""

    challenger = fields.String(required=True, validate=validate.Length(min=1, max=64))
    # A decimal string, as money travels: exact, and its bounds stay plain numbers in the
    # OpenAPI document; the pattern needs a digit above 0, so the schema admits no zero share
    # (the service checks the bounds again, naming `share`).
    share = fields.String(
        required=True,
        validate=validate.Regexp(
            r"^0?\.[0-9]{0,11}[1-9][0-9]{0,11}$",
            error='a decimal string above 0 and below 1, e.g. "0.2"',
        ),
        metadata={"description": 'the challenger\'s share of customers, e.g. "0.2"'},
    )
    alpha = fields.Float(
        load_default=0.05,
        validate=validate.Range(min=0.001, max=0.2),
        metadata={"description": "the chance the interval ever misses the true difference"},
    )
    max_per_arm = fields.Integer(
        load_default=20000,
        validate=validate.Range(min=100, max=10_000_000),
        metadata={"description": "outcomes on each arm after which the champion stays"},
    )
    reason = fields.String(load_default="", validate=validate.Length(max=200))


class StopSchema(Schema):
    """Why an experiment is stopped."""

    reason = fields.String(load_default="", validate=validate.Length(max=200))


class ComparisonSchema(Schema):
    """One look at the running comparison (US dollars of realised net value per decision)."""

    at = fields.DateTime()
    n = fields.Dict(keys=fields.String(), values=fields.Integer())
    mean = fields.Dict(
        keys=fields.String(),
        values=fields.String(allow_none=True),
        metadata={"description": "each arm's mean realised net value, USD per decision"},
    )
    difference = fields.String(
        allow_none=True, metadata={"description": "challenger - champion, USD per decision"}
    )
    low = fields.String(allow_none=True, metadata={"description": "the interval's low end, USD"})
    high = fields.String(allow_none=True, metadata={"description": "the interval's high end, USD"})
    decision = fields.String(metadata={"description": "promote, retire or continue"})
    reason = fields.String(
        metadata={"description": "shown_better, shown_worse, max_sample, too_few or undecided"}
    )
    left_out = fields.Integer(
        metadata={"description": "outcomes without an exchange rate or a recorded cost"}
    )


class ExperimentSchema(Schema):
    """An experiment and, when checked, its latest comparison."""

    id = fields.String()
    challenger = fields.String()
    champion = fields.String()
    share = fields.String()
    alpha = fields.Float()
    max_per_arm = fields.Integer()
    min_per_arm = fields.Integer()
    state = fields.String(metadata={"description": "running, promoted, retired or stopped"})
    started_at = fields.DateTime()
    started_by = fields.String()
    reason = fields.String()
    ended_at = fields.DateTime(allow_none=True)
    ended_by = fields.String(allow_none=True)
    end_reason = fields.String(allow_none=True)
    latest = fields.Nested(ComparisonSchema, allow_none=True)
    said = fields.Dict(
        keys=fields.String(),
        values=fields.String(),
        metadata={
            "description": "in the reader's language (Accept-Language): the chart's title "
            "(`chart`) and axis (`axis`), and the decision so far (`decision`)"
        },
    )


class ExperimentDetailSchema(ExperimentSchema):
    """An experiment with its comparison over time (the latest 500 checks, oldest first)."""

    checks = fields.List(fields.Nested(ComparisonSchema))


class ExperimentListSchema(Schema):
    """The running experiment's id (or null) and the latest experiments, newest first."""

    running = fields.String(allow_none=True)
    experiments = fields.List(fields.Nested(ExperimentSchema))


def _with_latest(service: ExperimentService, row: ModelExperiment) -> dict[str, Any]:
    """The experiment's fields and its latest check."""
    latest = service.checks(row.id, limit=1)
    found = series(latest)[0] if latest else None
    presenter = Presenter(reader_locale() or "en", finance=True)
    said = {
        key: presenter.say(one) or "" for key, one in comparison_facts(found or {}, row).items()
    }
    return {
        **{c.key: getattr(row, c.key) for c in ModelExperiment.__table__.columns},
        "latest": found,
        "said": said,
    }


@blp.route("/models/experiments")
class Experiments(MethodView):
    """Experiments."""

    @roles("finance", "admin")
    @blp.response(200, ExperimentListSchema)
    def get(self) -> dict[str, Any]:
        """List the latest experiments (newest first) and say which one runs."""
        service = ExperimentService(session())
        running = service.running()
        return {
            "running": running.id if running else None,
            "experiments": [_with_latest(service, row) for row in service.list()],
        }

    @roles("finance", "admin", unscoped=True)
    @blp.arguments(StartSchema)
    @blp.response(201, ExperimentSchema)
    def post(self, data: dict[str, Any]) -> dict[str, Any]:
        """Put a model version that passed the offline gate on a share of customers (chosen by
        a hash of team, customer and experiment: a customer always sees one arm), beside the
        model in use; one experiment at a time. The worker's pass promotes it when it is shown
        better online, or retires it. Audited."""
        service = ExperimentService(session())
        row = service.start(
            data["challenger"],
            Decimal(data["share"]),
            current_principal().prefix,
            alpha=data["alpha"],
            max_per_arm=data["max_per_arm"],
            reason=data["reason"],
        )
        return _with_latest(service, row)


@blp.route("/models/experiments/<experiment_id>")
class Experiment(MethodView):
    """One experiment."""

    @roles("finance", "admin")
    @blp.response(200, ExperimentDetailSchema)
    def get(self, experiment_id: str) -> dict[str, Any]:
        """Return the experiment and its running comparison: n per arm, means, the always-valid
        interval of the difference and the decision so far, over time."""
        service = ExperimentService(session())
        row = service.get(experiment_id)
        return {**_with_latest(service, row), "checks": series(service.checks(row.id))}


@blp.route("/models/experiments/<experiment_id>/stop")
class Stop(MethodView):
    """Stop an experiment."""

    @roles("finance", "admin", unscoped=True)
    @blp.arguments(StopSchema)
    @blp.response(200, ExperimentSchema)
    def post(self, data: dict[str, Any], experiment_id: str) -> dict[str, Any]:
        """End the experiment without promoting anything (the model in use stays); audited."""
        service = ExperimentService(session())
        row = service.stop(experiment_id, current_principal().prefix, data["reason"])
        return _with_latest(service, row)
