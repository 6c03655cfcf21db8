"""The `remedy` command: init, keys, suggest, and serve under gunicorn."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO

import pytest
from click.testing import CliRunner

from remedy.cli import cli


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    """Point the CLI at a fresh SQLite file."""
    return {"REMEDY_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.sqlite'}"}


def run(env: dict[str, str], *args: str):
    """Invoke the CLI in-process and return the result."""
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


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


def free_port() -> int:
    """Ask the OS for a free TCP port."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, process: subprocess.Popen, timeout: float = 60) -> None:
    """Poll `url` until it answers (the server needs a moment to bind; a loaded machine, and
    the job worker `remedy serve` starts beside gunicorn, make that moment longer)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"server exited: {server_log(process)}")
        try:
            urllib.request.urlopen(url, timeout=1).close()  # noqa: S310 - local test server
            return
        except OSError:  # refused, reset or timed out while the workers boot
            time.sleep(0.1)
    raise AssertionError(f"{url} did not answer within {timeout}s")


class Drained:
    """A server's stderr, read as it comes and kept for failure messages.

    Nobody reading a pipe lets it fill (64 kB): the server then blocks in the middle of writing
    an access-log line, and every request after waits. A test that polls a job twenty times a
    second on a loaded machine writes that much in seconds.
    """

    def __init__(self, stream: IO[bytes]) -> None:
        """Start reading `stream` until every process that holds it has closed it."""
        self._lines: list[bytes] = []
        self._reader = threading.Thread(target=self._read, args=(stream,), daemon=True)
        self._reader.start()

    def _read(self, stream: IO[bytes]) -> None:
        with stream:  # closed here, at the end of what the server wrote
            for line in iter(stream.readline, b""):
                self._lines.append(line)

    def text(self, wait: float = 5) -> str:
        """What was written, after waiting up to `wait` s for every writer to close it."""
        self._reader.join(wait)
        return b"".join(self._lines).decode(errors="replace")


def start_serve(env: dict[str, str], workers: int, *options: str) -> tuple[subprocess.Popen, int]:
    """Run `remedy serve` (gunicorn, behind nginx when installed) on a free port, with more
    `options`; stderr is kept for failure messages (`process.log`, drained as it comes)."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "remedy.cli", "serve", "--port", str(port)]
        + ["--workers", str(workers), *options],
        env={**os.environ, **env},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    process.log = Drained(process.stderr)  # type: ignore[attr-defined]
    return process, port


def server_log(process: subprocess.Popen) -> str:
    """The server's stderr so far (drained when `start_serve` started it)."""
    log = getattr(process, "log", None)
    return log.text() if log is not None else process.stderr.read().decode()


def test_serve_runs_gunicorn_and_answers_a_recommendation(env):
    output = run(env, "init").output
    admin = output.split("keep it safe): ")[1].split()[0]
    process, port = start_serve(env, workers=2)
    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        body = json.dumps(
            {
                "incident": {
                    "customer_id": "c9",
                    "severity": 3,
                    "fault_type": "partner",
                    "customer_value": "900.00",
                    "loss_amount": "45.00",
                    "currency": "USD",
                }
            }
        ).encode()
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/recommendations",
            data=body,
            method="POST",
            headers={"Authorization": f"Bearer {admin}", "Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=10) as response:  # noqa: S310
            assert response.status == 201
            decision = json.loads(response.read())
        assert decision["plans"] and decision["currency"] == "USD"
        # A long request line is the app's 414 in the envelope up to gunicorn's 8190 bytes,
        # then gunicorn's own (HTML) 414: docs/deployment.md.
        for length, kind in ((5000, "application/json"), (9000, "text/html")):
            url = f"http://127.0.0.1:{port}/healthz?q=" + "a" * length
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(url, timeout=10)  # noqa: S310 - local test server
            assert refused.value.code == 414
            assert refused.value.headers["Content-Type"] == kind
            if kind == "application/json":
                assert json.loads(refused.value.read())["code"] == 414
            refused.value.close()
    finally:
        process.terminate()
        process.wait(timeout=30)
        server_log(process)  # drained: closed once every writer has exited


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


def wait_until(ready, process: subprocess.Popen, what: str, timeout: float = 30) -> None:
    """Poll `ready()` until it holds; fail if the server exits or `timeout` passes first."""
    deadline = time.monotonic() + timeout
    while not ready():
        if process.poll() is not None:
            raise AssertionError(f"server exited: {server_log(process)}")
        if time.monotonic() > deadline:
            raise AssertionError(f"{what} did not happen within {timeout}s")
        time.sleep(0.05)


def test_serve_runs_a_replay_in_its_job_worker_and_stops_cleanly(env):
    """`remedy serve` starts a job worker beside gunicorn: a what-if answers 202 at once and
    the worker runs it; SIGTERM stops gunicorn (exit 0) and the worker with it."""
    import signal
    from datetime import timedelta

    from remedy import create_app
    from remedy.decisions.record import incident_to_json
    from remedy.extensions import db
    from remedy.store.tables import utcnow
    from tests.factories import decision_row, make_incident

    run(env, "init")
    finance = run(env, "keys", "create", "--role", "finance").output.strip()
    app = create_app({"DATABASE_URL": env["REMEDY_DATABASE_URL"]})
    incidents = 100
    now = utcnow()
    with db.database(app).unit_of_work() as session:
        for n in range(incidents):
            row = decision_row({"apology+gift_1x": ("10.00", False)}, customer_id=f"c{n}")
            loss = f"{20 + n % 300}.00"
            row.incident = incident_to_json(
                make_incident(customer_id=f"c{n}", severity=1 + n % 5, loss_amount=loss)
            )
            row.created_at = now - timedelta(minutes=n)
            session.add(row)
    db.database(app).dispose()
    process, port = start_serve(env, workers=1)
    headers = {"Authorization": f"Bearer {finance}", "Content-Type": "application/json"}
    job: dict = {}

    def finished() -> bool:
        request = urllib.request.Request(location, headers=headers)
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            job.update(json.loads(response.read()))
        return job["status"] in ("succeeded", "failed")

    try:
        wait_for(f"http://127.0.0.1:{port}/healthz", process)
        window = {
            "from": str(now.date() - timedelta(days=2)),
            "to": str(now.date() + timedelta(days=1)),
        }
        request = urllib.request.Request(
            f"http://127.0.0.1:{port}/v1/budgets/simulate",
            data=json.dumps(window).encode(),
            method="POST",
            headers=headers,
        )
        with urllib.request.urlopen(request, timeout=30) as response:  # noqa: S310
            assert response.status == 202
            location = f"http://127.0.0.1:{port}" + response.headers["Location"]
        wait_until(finished, process, "the job worker finishing the replay", timeout=120)
        assert job["status"] == "succeeded", job
        assert job["result"]["current"]["decisions"] == incidents
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=40) == 0
        # stderr closes once the worker, which shares it, has exited too.
        assert "stopped after 1 job(s)" in process.log.text(wait=40)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        server_log(process)  # drained: closed once every writer has exited


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
