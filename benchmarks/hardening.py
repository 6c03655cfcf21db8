"""The ten findings of the hardening issue (22), tried again as the probe tried them: prints, per
finding, what was measured and whether it is fixed, on SQLite and (with --postgres-url) on a
throwaway PostgreSQL database.

Findings that need a real server (slow clients, the job worker, raw chunking, the 413's
connection, SCRIPT_NAME) run against `remedy serve`, with its nginx front and with gunicorn
alone (benchmarks/hardening_served.py); the rest run against the app in process, which is the
same code without sockets. Each finding's tests are listed in benchmarks/README.md.

    nice -n 10 python benchmarks/hardening.py [--postgres-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.store.tables import ApprovalRequest, AuditEntry, Decision, utcnow  # noqa: E402
from tests.factories import decision_row, default_document, key_headers, set_pool  # noqa: E402

GIFT = "apology+gift_1x"
LEAD_TIER, FINANCE_TIER = "1500.00", "6000.00"  # the bundled approval tiers (EUR)
INCIDENT = {
    "customer_id": "c-probe",
    "severity": 3,
    "fault_type": "company",
    "customer_value": "1200.00",
    "loss_amount": "60.00",
    "currency": "EUR",
    "category": "delivery",
}


@dataclass
class Finding:
    """One finding's outcome: its number, what was tried, what was measured, fixed or not."""

    number: str
    what: str
    measured: str
    fixed: bool


def timed(call, *args, **kwargs):
    """(result, milliseconds)."""
    started = time.monotonic()
    result = call(*args, **kwargs)
    return result, (time.monotonic() - started) * 1000


def init(url: str, folder: Path) -> dict[str, str]:
    """`remedy init` on `url`; the environment every process of the run shares."""
    env = {
        **os.environ,
        "REMEDY_DATABASE_URL": url,
        "REMEDY_INSTANCE_PATH": str(folder / "instance"),
        "REMEDY_RATE_LIMIT": "",
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    subprocess.run(  # noqa: S603 - our own command
        [sys.executable, "-m", "remedy.cli", "init"], env=env, check=True, capture_output=True
    )
    return env


def people(app):
    """Request headers by name."""
    set_pool(app, "emea", "50000.00")
    return key_headers(
        app,
        (
            ("agent", "agent", "emea"),
            ("lead", "lead", "emea"),
            ("finance", "finance", None),
            ("scoped finance", "finance", "emea"),
            ("admin", "admin", None),
        ),
    )


def accepted(app, client, headers, cost: str) -> str:
    """A stored decision whose plan costing `cost` the key of `headers` accepted."""
    with db.database(app).unit_of_work() as session:
        row = decision_row({GIFT: (cost, True)})
        session.add(row)
        session.flush()
        decision_id = row.id
    answer = client.post(
        f"/v1/decisions/{decision_id}/accept", json={"plan_id": GIFT}, headers=headers
    )
    assert answer.json["status"] == "pending_approval", answer.json
    return decision_id


def reports(client, who) -> Finding:
    """2. A scoped finance key asks for 1970-8999."""
    answer, ms = timed(
        client.get, "/v1/reports/spend?from=1970-01-01&to=8999-12-31", headers=who("scoped finance")
    )
    year, year_ms = timed(
        client.get, "/v1/reports/spend?from=2026-01-01&to=2027-01-01", headers=who("scoped finance")
    )
    return Finding(
        "2",
        "reports over 1970-8999 (scoped finance key)",
        f"{answer.status_code} on `to` in {ms:.0f} ms; 366 days: {year.status_code} in "
        f"{year_ms:.0f} ms",
        answer.status_code == 422 and "to" in answer.json["errors"] and year.status_code == 200,
    )


def catalog(client, who) -> Finding:
    """3. 60 small extra items; then `max_extras: 4`; a recommendation after."""
    document = default_document("catalog")
    for n in range(60):
        document["items"].append(
            {
                "id": f"extra_gift_{n}",
                "kind": "gift",
                "audience": "customer",
                "labels": {"en": f"Extra gift {n}"},
                "value": {"basis": "loss_multiple", "factor": "1"},
                "cost": {"basis": "value_fraction", "factor": "0.4"},
            }
        )
    big, big_ms = timed(client.put, "/v1/catalog", json=document, headers=who("admin"))
    caps = default_document("caps") | {"max_extras": 4}
    extras, extras_ms = timed(client.put, "/v1/caps", json=caps, headers=who("finance"))
    body = {"incident": INCIDENT}
    client.post("/v1/recommendations", json=body, headers=who("agent"))  # the new engine built
    after, after_ms = timed(client.post, "/v1/recommendations", json=body, headers=who("agent"))
    client.put("/v1/caps", json=default_document("caps"), headers=who("finance"))
    return Finding(
        "3",
        "catalog +60 items; caps max_extras 4",
        f"+60 items: {big.status_code} in {big_ms:.0f} ms (was 200 after 69 s); max_extras 4: "
        f"{extras.status_code} in {extras_ms:.0f} ms (was 97.5 s); a recommendation after: "
        f"{after_ms:.0f} ms (was 340-560)",
        big.status_code == 422 and big_ms < 5000 and after.status_code == 201,
    )


def four_eyes(app, client, who) -> Finding:
    """4. A lead accepts in the lead tier and approves with the same key; an admin (configured
    for the finance tier) does the same in the finance tier."""
    outcomes = []
    for accepter, cost in (("lead", LEAD_TIER), ("admin", FINANCE_TIER)):
        decision_id = accepted(app, client, who(accepter), cost)
        answer = client.post(f"/v1/decisions/{decision_id}/approve", json={}, headers=who(accepter))
        with db.database(app).unit_of_work() as session:
            status = session.get(Decision, decision_id).status
        outcomes.append((accepter, answer.status_code, status))
    return Finding(
        "4",
        "approve what one accepted (lead; admin in the finance tier)",
        "; ".join(f"{who_}: {code}, stays {status}" for who_, code, status in outcomes),
        all(code == 403 and status == "pending_approval" for _, code, status in outcomes),
    )


def inputs(client, who) -> Finding:
    """6. A lone surrogate and a 5,000-digit integer (chunking: the served part)."""
    surrogate = client.post(
        "/v1/recommendations",
        data=b'{"incident": {"customer_id": "\\ud800"}}',
        content_type="application/json",
        headers=who("agent"),
    )
    digits = client.post(
        "/v1/recommendations",
        data=b'{"incident": {}, "limit": ' + b"9" * 5000 + b"}",
        content_type="application/json",
        headers=who("agent"),
    )
    return Finding(
        "6",
        'a lone "\\ud800"; a 5,000-digit integer',
        f"{surrogate.status_code} naming {sorted(surrogate.json['errors'])}; "
        f"{digits.status_code} naming {sorted(digits.json['errors'])}",
        surrogate.status_code == 422 and digits.status_code == 422,
    )


def job_quota(client, who) -> Finding:
    """8. One scoped finance key queues what-ifs with 50-point sweeps until refused."""
    day = utcnow().date()
    body = {
        "from": str(day - timedelta(days=30)),
        "to": str(day),
        "sweep": {
            "path": "incident_caps.default.loss_multiple",
            "values": [str(n) for n in range(1, 51)],
        },
    }
    statuses, took, jobs = [], [], []
    for _ in range(10):
        answer, ms = timed(
            client.post, "/v1/budgets/simulate", json=body, headers=who("scoped finance")
        )
        statuses.append(answer.status_code)
        took.append(ms)
        if answer.status_code == 202:
            jobs.append(answer.json["id"])
    refused = answer
    cancel = client.post(f"/v1/jobs/{jobs[0]}/cancel", headers=who("scoped finance"))
    again = client.post("/v1/budgets/simulate", json=body, headers=who("scoped finance"))
    return Finding(
        "8",
        "one scoped key queues 10 what-ifs (50-point sweeps)",
        f"{statuses.count(202)} queued, then {refused.status_code} Retry-After "
        f"{refused.headers.get('Retry-After')}; enqueue {sum(took) / len(took):.0f} ms each; "
        f"cancel {cancel.status_code}, then one more: {again.status_code}",
        statuses.count(202) == 5
        and refused.status_code == 429
        and cancel.status_code == 200
        and again.status_code == 202,
    )


def get_writes(app, client, who) -> Finding:
    """9. Reading the approval queue while a request is overdue for escalation."""
    decision_id = accepted(app, client, who("agent"), LEAD_TIER)
    with db.database(app).unit_of_work() as session:
        session.execute(
            sa.update(ApprovalRequest)
            .where(ApprovalRequest.decision_id == decision_id)
            .values(requested_at=utcnow() - timedelta(minutes=30))
        )

    def snapshot():
        with db.database(app).unit_of_work() as session:
            audit = session.scalar(sa.select(sa.func.count()).select_from(AuditEntry))
            requests = session.execute(sa.select(ApprovalRequest)).scalars().all()
            return audit, sorted((r.decision_id, r.tier, str(r.escalated_at)) for r in requests)

    before = snapshot()
    queue = client.get("/v1/approvals", headers=who("finance")).json["approvals"]
    shown = [e for e in queue if e["decision_id"] == decision_id]
    after = snapshot()
    return Finding(
        "9",
        "GET /v1/approvals with a request overdue for escalation",
        f"shown escalated: {bool(shown and shown[0]['escalated'])}; rows changed by the read: "
        f"{'none' if before == after else 'some'}",
        before == after and bool(shown) and shown[0]["escalated"],
    )


def static_pages(client) -> Finding:
    """10a. The Swagger bundle's stock pages and the docs' headers."""
    pages = {
        p: client.get(f"/docs/static/{p}").status_code
        for p in ("index.html", "oauth2-redirect.html")
    }
    docs = client.get("/docs")
    locked = "default-src 'none'" in docs.headers.get("Content-Security-Policy", "")
    return Finding(
        "10a",
        "Swagger's stock pages; /docs headers",
        f"{pages}; /docs CSP default-src 'none': {locked}, "
        f"X-Frame-Options {docs.headers.get('X-Frame-Options')}, petstore in page: "
        f"{b'petstore' in docs.data}",
        set(pages.values()) == {404}
        and locked
        and docs.headers.get("X-Frame-Options") == "DENY"
        and b"petstore" not in docs.data,
    )


def in_process(url: str, folder: Path) -> list[Finding]:
    """The findings the app answers the same without sockets."""
    app = create_app(
        {
            "DATABASE_URL": url,
            "RATE_LIMIT": "",
            "ADMIN_APPROVAL_TIERS": "finance",
            "LOG_LEVEL": "WARNING",
        },
        instance_path=str(folder / "instance"),
    )
    client = app.test_client()
    who = people(app)
    # Warm: the first decision loads the model, which is not what any finding is about.
    client.post("/v1/recommendations", json={"incident": INCIDENT}, headers=who("agent"))
    try:
        return [
            reports(client, who),
            catalog(client, who),
            four_eyes(app, client, who),
            inputs(client, who),
            job_quota(client, who),
            get_writes(app, client, who),
            static_pages(client),
        ]
    finally:
        db.database(app).dispose()


def throwaway_postgres(url: str) -> tuple[str, sa.Engine, str]:
    """A new empty database on the server of `url`: (its URL, the admin engine, its name)."""
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    name = f"remedy_hardening_{uuid.uuid4().hex[:8]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    return sa.engine.make_url(url).set(database=name).render_as_string(False), admin, name


def run(url: str, folder: Path) -> list[Finding]:
    """Every finding on one database."""
    from benchmarks.hardening_served import hung_database, served

    env = init(url, folder)
    findings = in_process(url, folder)
    findings += [hung_database(folder), *served(env)]
    return sorted(findings, key=lambda f: (int(f.number.rstrip("abc")), f.number))


def main() -> None:
    """Print the findings' table for SQLite and, when named, PostgreSQL."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--postgres-url", help="a PostgreSQL server to make a database on")
    args = parser.parse_args()
    print(f"load average {os.getloadavg()[0]:.2f} at the start")
    backends = [("SQLite", None)] + (
        [("PostgreSQL", args.postgres_url)] if args.postgres_url else []
    )
    for label, server in backends:
        with tempfile.TemporaryDirectory() as name:
            folder = Path(name)
            admin = None
            url = f"sqlite:///{folder / 'hardening.sqlite'}"
            if server:
                url, admin, database = throwaway_postgres(server)
            try:
                findings = run(url, folder)
            finally:
                if admin is not None:
                    with admin.connect() as connection:
                        connection.execute(
                            sa.text(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
                        )
                    admin.dispose()
        print(f"\n## {label} (load average {os.getloadavg()[0]:.2f})\n")
        print("| finding | tried | measured | fixed |")
        print("|---|---|---|---|")
        for f in findings:
            print(
                f"| {f.number} | {f.what} | {f.measured} | {'fixed' if f.fixed else 'NOT FIXED'} |"
            )
        print(f"\n{sum(f.fixed for f in findings)} of {len(findings)} fixed on {label}")


if __name__ == "__main__":
    main()
