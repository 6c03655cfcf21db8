"""The `remedy` command: init, keys, suggest, idempotency purge and reports rebuild (budgets and
the ledger: test_ledger_commands.py; serve: test_serve.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from click.testing import CliRunner

from remedy.cli import cli
from tests.cli.driving import run


def test_init_is_idempotent_and_creates_one_admin_key(env):
    first = run(env, "init")
    assert first.exit_code == 0, first.output
    assert "loaded defaults: catalog, rules, caps, exchange_rates" in first.output
    assert "admin key (shown once" in first.output
    second = run(env, "init")
    assert "none needed" in second.output and "admin key exists" in second.output


def test_init_registers_the_bundled_models_and_promotes_the_newest(env):
    """sim-1 to sim-3 stay registered (databases have them promoted); a fresh install starts
    on sim-4, the model that sees what the rules see (feature version 2)."""
    assert "bundled models registered: sim-1, sim-2, sim-3, sim-4" in run(env, "init").output
    listed = run(env, "models", "list").output
    assert "in use: sim-4" in listed
    assert "* sim-4 " in listed and "  sim-3 " in listed and "  sim-1 " in listed


def test_keys_create_list_revoke(env):
    run(env, "init")
    created = run(env, "keys", "create", "--role", "agent", "--team", "emea", "--label", "desk")
    token = created.output.strip()
    assert token.startswith("rmd_")
    prefix = token.split("_")[1]
    listed = run(env, "keys", "list").output
    assert prefix in listed and "emea" in listed and token not in listed
    assert run(env, "keys", "revoke", prefix).exit_code == 0
    assert "revoked" in run(env, "keys", "list").output
    assert run(env, "keys", "revoke", "nope").exit_code == 1
    bad = CliRunner().invoke(cli, ["keys", "create", "--role", "god"], env=env)
    assert bad.exit_code == 2


def test_suggest_prints_a_ranked_table(env):
    run(env, "init")
    result = run(
        env,
        "suggest",
        "--severity",
        "4",
        "--fault",
        "company",
        "--value",
        "2400",
        "--loss",
        "80.00",
        "--currency",
        "EUR",
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0].startswith("cap 320.00 EUR (loss_multiple)")
    assert "apology" in lines[2] and "contact_manager" in lines[2]
    bad = CliRunner().invoke(
        cli,
        [
            "suggest",
            "--severity",
            "4",
            "--fault",
            "company",
            "--value",
            "1",
            "--loss",
            "x",
            "--currency",
            "EUR",
        ],
        env=env,
    )
    assert bad.exit_code == 2


def test_suggest_counts_the_promises_from_reported_at(env):
    run(env, "init")
    reported = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=50)
    flags = ["suggest", "--severity", "2", "--fault", "company", "--value", "2400"]
    flags += ["--loss", "80.00", "--reported-at", reported.isoformat()]
    result = run(env, *flags)
    assert result.exit_code == 0, result.output
    due = (reported + timedelta(minutes=30)).isoformat()
    fix = (reported + timedelta(hours=1)).isoformat()
    assert f"answer by {due}, fix by {fix}" in result.output
    assert (
        "note: answer overdue: the customer complained 50 minutes ago and we promise an "
        "answer within 30 minutes"
    ) in result.output
    for bad, said in (
        ("2026-03-02T09:00:00", "a date-time needs a zone"),
        ((reported + timedelta(hours=2)).isoformat(), "in the future"),
    ):
        refused = CliRunner().invoke(cli, [*flags[:-1], bad], env=env)
        assert refused.exit_code == 2 and said in refused.output, refused.output


def test_init_gives_a_new_install_starter_pools_once(env):
    first = run(env, "init").output
    assert "default monthly pools" in first and "25000.00 EUR" in first
    assert "default monthly pools" not in run(env, "init").output
    listed = run(env, "budgets", "list").output
    assert "default" in listed and "EUR" in listed


def test_idempotency_purge_deletes_only_keys_older_than_the_window(env):
    """Answers claimed before --days ago go (finished or not); recent ones stay replayable."""
    from datetime import timedelta

    from remedy import create_app
    from remedy.extensions import db
    from remedy.store.tables import IdempotencyKey, utcnow

    run(env, "init")
    app = create_app({"DATABASE_URL": env["REMEDY_DATABASE_URL"]})
    now = utcnow()
    with db.database(app).unit_of_work() as session:
        for key, age_days, status in (("old", 10, 200), ("stuck", 8, None), ("recent", 1, 200)):
            session.add(
                IdempotencyKey(
                    principal="p",
                    key=key,
                    fingerprint="f",
                    status_code=status,
                    body={},
                    created_at=now - timedelta(days=age_days),
                )
            )
    result = run(env, "idempotency", "purge", "--days", "7")
    assert result.exit_code == 0, result.output
    assert "purged 2 idempotency key(s) older than 7 day(s)" in result.output
    with db.database(app).unit_of_work() as session:
        assert [row.key for row in session.query(IdempotencyKey)] == ["recent"]
    refused = CliRunner().invoke(cli, ["idempotency", "purge", "--days", "0"], env=env)
    assert refused.exit_code == 2
    db.database(app).dispose()


def test_reports_rebuild_rolls_up_rows_the_service_did_not_write(env):
    """A decision inserted past the ORM (a bulk load) is in no report until `remedy reports
    rebuild`; `remedy init` rolls up when the rollup is empty and decisions exist."""
    import sqlalchemy as sa

    from remedy.store.tables import Decision, ReportTicket
    from tests.factories import decision_row

    run(env, "init")
    engine = sa.create_engine(env["REMEDY_DATABASE_URL"])
    row = decision_row({"refund": ("50.00", False)}, external_id="T-1", touchpoint="courier")
    columns = {c.key: getattr(row, c.key) for c in Decision.__table__.columns}
    columns.update(id="d1", created_at=datetime.now(UTC), propensity="1", cost_price="1")
    columns.update(status="proposed", record_version=5)
    with engine.begin() as connection:
        connection.execute(Decision.__table__.insert(), [columns])

    def tickets() -> list[tuple[str, str, str | None, int]]:
        with engine.connect() as connection:
            return [
                tuple(r)
                for r in connection.execute(
                    sa.select(
                        ReportTicket.team,
                        ReportTicket.ticket,
                        ReportTicket.touchpoint,
                        ReportTicket.decisions,
                    )
                )
            ]

    assert tickets() == []
    assert "reports' rollup: 1 tickets rolled up" in run(env, "init").output
    assert tickets() == [("emea", "e:T-1", "courier", 1)]
    rebuilt = run(env, "reports", "rebuild")
    assert rebuilt.exit_code == 0 and "rolled up 1 tickets" in rebuilt.output
    assert tickets() == [("emea", "e:T-1", "courier", 1)]
    engine.dispose()
