"""The money commands: `remedy budgets set` and `list` (one line or a fix line and an
overdelivery line), and `remedy ledger verify` and `expire`."""

from __future__ import annotations

from click.testing import CliRunner

from remedy.cli import cli
from tests.cli.driving import run


def test_budgets_set_and_list(env):
    run(env, "init")
    result = run(
        env, "budgets", "set", "emea", "--period", "month", "--limit", "5000", "--currency", "EUR"
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("emea EUR: 5000 per month (version 1")
    listed = run(env, "budgets", "list").output
    assert "emea" in listed and "limit      5000.00" in listed
    bad = CliRunner().invoke(
        cli,
        ["budgets", "set", "emea", "--period", "month", "--limit", "1.001", "--currency", "EUR"],
        env=env,
    )
    assert bad.exit_code == 1 and "limit" in bad.output
    for option, value in (("--limit", "1E+999999"), ("--effective-at", "9999-12-31")):
        args = ["budgets", "set", "emea", "--period", "month", "--currency", "EUR"]
        args += ["--limit", "10", option, value] if option != "--limit" else [option, value]
        refused = CliRunner().invoke(cli, args, env=env)
        assert refused.exit_code == 2 and option in refused.output, refused.output


def test_budgets_set_with_a_fix_line_and_an_overdelivery_line(env):
    run(env, "init")
    result = run(
        env, "budgets", "set", "emea", "--period", "month", "--currency", "EUR",
        "--fix-limit", "4000", "--overdelivery-limit", "1000",
    )  # fmt: skip
    assert result.output.startswith(
        "emea EUR: 5000.00 (fix line 4000.00, overdelivery line 1000.00) per month"
    ), result.output
    listed = run(env, "budgets", "list").output
    assert "fix          limit      4000.00" in listed, listed
    assert "overdelivery limit      1000.00" in listed
    half = CliRunner().invoke(
        cli,
        ["budgets", "set", "emea", "--period", "month", "--currency", "EUR", "--fix-limit", "9"],
        env=env,
    )
    assert half.exit_code == 1 and "overdelivery_limit" in half.output


def test_ledger_verify_passes_then_fails_on_a_tampered_counter(env):
    import sqlalchemy as sa

    from remedy import create_app
    from remedy.extensions import db
    from tests.factories import decision_row

    run(env, "init")
    run(env, "budgets", "set", "emea", "--period", "month", "--limit", "100", "--currency", "EUR")
    app = create_app({"DATABASE_URL": env["REMEDY_DATABASE_URL"]})
    key = run(env, "keys", "create", "--role", "agent").output.strip()
    with db.database(app).unit_of_work() as session:
        decision = decision_row({"apology+gift_1x": ("40.00", False)})
        session.add(decision)
        session.flush()
        decision_id = decision.id
    response = app.test_client().post(
        f"/v1/decisions/{decision_id}/accept",
        json={"plan_id": "apology+gift_1x"},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert response.status_code == 200, response.json
    ok = run(env, "ledger", "verify")
    assert ok.exit_code == 0 and ok.output.startswith("ledger verifies: 1 entries, 1 reservations")
    with db.database(app).unit_of_work() as session:
        session.execute(sa.text("UPDATE pool_counters SET reserved_minor = reserved_minor - 1"))
    failed = CliRunner().invoke(cli, ["ledger", "verify"], env=env)
    assert failed.exit_code == 1
    assert (
        "FAIL pool emea/EUR/" in failed.output and "counter says (3999, 0, 0, 0)" in failed.output
    )
    db.database(app).dispose()


def test_ledger_expire_releases_overdue_reservations(env):
    from remedy import create_app
    from remedy.extensions import db
    from remedy.store.tables import Decision
    from tests.factories import decision_row

    run(env, "init")
    run(env, "budgets", "set", "emea", "--period", "week", "--limit", "100", "--currency", "EUR")
    expiring = {**env, "REMEDY_RESERVATION_TTL_SECONDS": "0"}
    app = create_app({"DATABASE_URL": env["REMEDY_DATABASE_URL"], "RESERVATION_TTL_SECONDS": 0})
    key = run(env, "keys", "create", "--role", "agent").output.strip()
    with db.database(app).unit_of_work() as session:
        decisions = [decision_row({"apology+gift_1x": ("10.00", False)}) for _ in range(3)]
        session.add_all(decisions)
        session.flush()
        ids = [d.id for d in decisions]
    client = app.test_client()
    for decision_id in ids:
        client.post(
            f"/v1/decisions/{decision_id}/accept",
            json={"plan_id": "apology+gift_1x"},
            headers={"Authorization": f"Bearer {key}"},
        )
    result = run(expiring, "ledger", "expire")
    assert result.exit_code == 0, result.output
    assert "released" in result.output
    with db.database(app).unit_of_work() as session:
        assert {session.get(Decision, i).status for i in ids} == {"expired"}
    assert run(env, "ledger", "verify").exit_code == 0
    db.database(app).dispose()
