"""Property-based API testing: Schemathesis generates requests from /openapi.json and checks that
no answer is a 5xx, every answer matches the documented schema, data the schema allows is
accepted and data it forbids is refused, with an unscoped admin key and a team-scoped one.

Schemathesis' own pytest plugin does not run under pytest 9 yet, so the operations are walked
here and each is driven by Hypothesis directly, once with valid data (positive) and once with
invalid data (negative); the revoke route is left out of the negative run (its only input is a
prefix: any string is a valid one). A stateful phase then follows the links Schemathesis infers
between operations, with the revoke route excluded: a scenario would otherwise list the keys
and revoke the one it runs with.
"""

from __future__ import annotations

import os

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from hypothesis.stateful import run_state_machine_as_test
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    ignored_auth,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from remedy.extensions import db
from remedy.services.keys import KeyService

# What the API promises: never a 5xx, only documented status codes and content types, bodies
# that match their schemas, no route that works without a key unless documented public, valid
# data accepted (2xx, or 401/403/404/409: a key, a missing resource or a state, never a 422)
# and invalid data refused (4xx).
# Business rules JSON Schema cannot state, each answered 422 naming the field, and the only
# answers to valid-looking data that `accepts_valid_data` lets pass (docs/deployment.md lists
# them under "What validation refuses"):
CROSS_FIELD_RULES = (
    "has more decimals than",  # an amount's decimals depend on its currency (JPY 0, KWD 3)
    "(10^12 minor units)",  # so does its ceiling
    "up to (not including) 9000-01-01",  # date-times between 1970 and 9000 (no bound in JSON
    # Schema's date-time format)
    "must be after from",  # a range's end after its start
    "days after from",  # a report's range at most REMEDY_REPORT_MAX_DAYS long
    "no caps are configured for",  # a currency finance has not capped yet
    "in the future",  # an outcome observed later than now
    "must not be in the past",  # a scheduled change (effective_at) in the past
    "is not a field of the caps document",  # a what-if sweep's path names a field of caps
    "not a plan of decision",  # an accepted plan_id must be one of that decision's plans
    "give its team",  # a lead key needs a team (required only when role is lead)
    "pool in effect for team",  # caps are suggested for a pool that exists (a state)
    "one limit, or fix_limit and overdelivery_limit",  # a pool's one line or its two lines
    "a split pool names both lines",  # fix_limit and overdelivery_limit come together
    "must equal fix_limit + overdelivery_limit",  # a split pool's limit is its lines' sum
    "unknown category",  # categories are the catalog's vocabulary: data an admin changes
    "appears more than once",  # a mass incident lists each customer once
    "unknown touchpoint",  # so are touchpoints (the honesty audit)
)
# The catalog, rules and caps documents are validated whole by their loaders (references between
# them, per-kind fields, rule conditions) and then tried on incidents (config trial): OpenAPI
# gives them as objects, so a generated document is expected to be refused as a whole.
WHOLE_DOCUMENTS = {"/v1/catalog", "/v1/rules", "/v1/caps", "/v1/exchange-rates"}
DOCUMENT_FIELDS = {"catalog", "rules", "caps"}  # the same documents proposed to a what-if


def _only_cross_field_rules(response, case) -> bool:
    """Whether a 422 names only rules the schema cannot state (or a whole document)."""
    if response.status_code != 422:
        return False
    if case.operation.path in WHOLE_DOCUMENTS:
        return True
    errors = (response.json() or {}).get("errors") or {}
    messages = [m for name, field in errors.items() if name not in DOCUMENT_FIELDS for m in field]
    if not messages and errors:
        return True
    return bool(messages) and all(any(r in m for r in CROSS_FIELD_RULES) for m in messages)


def rejects_invalid_data(ctx, response, case):
    """Schemathesis' negative_data_rejection, counting 413 and 414 as refusals too: a generated
    body or query past the service's size limits is refused by its size before its content is
    read (the check's own list of refusing codes lacks both)."""
    if response.status_code in (413, 414):
        return None
    return negative_data_rejection(ctx, response, case)


def accepts_valid_data(ctx, response, case):
    """Schemathesis' positive_data_acceptance, but for the rules listed above."""
    if _only_cross_field_rules(response, case):
        return None
    return positive_data_acceptance(ctx, response, case)


CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    ignored_auth,
    accepts_valid_data,
    rejects_invalid_data,
]

# 35 operations x 2 modes x 12 examples x 2 keys: about 1,600 generated cases on SQLite.
EXAMPLES_PER_OPERATION = int(os.environ.get("REMEDY_SCHEMATHESIS_EXAMPLES", "12"))


@pytest.fixture
def scoped_admin(app):
    """An admin key scoped to team emea."""
    with db.database(app).unit_of_work() as session:
        token, _ = KeyService(session).create("admin", "emea", "schemathesis@emea")
    return token


# One backend is enough here: this checks the HTTP contract, and every database test runs on
# PostgreSQL too; it keeps the suite's longest test from running twice.
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
@pytest.mark.parametrize("key", ["unscoped", "scoped"])
def test_api_conforms_to_its_schema(app, keys, scoped_admin, key):
    """Call every operation with generated valid and invalid input; every check passes."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app)
    token = keys["admin"] if key == "unscoped" else scoped_admin
    headers = {"Authorization": f"Bearer {token}"}
    calls, failures = [], {}
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 30

    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            if mode.is_negative and operation.path.endswith("/revoke"):
                continue

            @given(case=operation.as_strategy(generation_mode=mode))
            @settings(
                max_examples=EXAMPLES_PER_OPERATION,
                deadline=None,
                database=None,
                suppress_health_check=list(HealthCheck),
            )
            def check(case):
                try:
                    case.call_and_validate(headers=headers, checks=CHECKS)
                except (Failure, FailureGroup) as error:  # collected, reported together below
                    name = f"{case.operation.label} ({case.meta.generation.mode})"
                    failures.setdefault(name, f"{error}"[:700])
                calls.append(case.operation.label)

            try:
                check()
            except Unsatisfiable:
                # Nothing to make invalid: the operation takes no parameters and no body.
                assert mode.is_negative, operation.label
    assert not failures, "\n\n".join(f"== {name}: {text}" for name, text in failures.items())
    assert len(calls) >= 40 * EXAMPLES_PER_OPERATION, len(calls)


# Short scenarios following the links Schemathesis infers between operations (a decision's id
# from a recommendation, a key's prefix from the key list, ...).
STATEFUL_EXAMPLES = int(os.environ.get("REMEDY_SCHEMATHESIS_STATEFUL_EXAMPLES", "15"))


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_stateful_scenarios_leave_the_key_they_use_alone(app, client, scoped_admin):
    """Chains of linked calls with a team-scoped admin key; the revoke route is excluded, or a
    scenario would revoke the very key it runs with."""
    schema = schemathesis.openapi.from_wsgi("/openapi.json", app).exclude(path_regex=r"/revoke$")
    headers = {"Authorization": f"Bearer {scoped_admin}"}
    machine = schema.as_state_machine()

    class Scenarios(machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": headers}

        def validate_response(self, response, case, additional_checks=None, **kwargs):
            case.validate_response(response, checks=CHECKS, headers=headers)

    run_state_machine_as_test(
        Scenarios,
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
    assert client.get("/v1/whoami", headers=headers).status_code == 200
