"""Mass incidents: declared once for many customers (JSON, CSV, multipart), decided by the same
pipeline as single incidents as a job, totalled against the pool before anything is reserved,
approved by a lead within its tier or finance, and reserved one chunk (one transaction) at a
time with the single incidents' ledger: no overspend, the pool running out refuses the rest
cleanly, and a re-run reserves nobody twice."""

from __future__ import annotations

import time
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.ledger.book import verify_ledger
from remedy.services.keys import KeyService
from remedy.store.tables import (
    Decision,
    MassIncident,
    MassIncidentCustomer,
    PoolCounter,
    Reservation,
    utcnow,
)
from tests.factories import run_jobs, set_pool

SHARED = {"severity": 3, "fault_type": "company", "category": "delivery", "currency": "EUR"}


def customers(n: int, loss: str = "20.00", value: str = "300.00") -> list[dict]:
    """`n` affected customers, each with its own ticket and language."""
    return [
        {
            "customer_id": f"mass-{i}",
            "customer_value": value,
            "loss_amount": loss,
            "external_id": f"T-{i}",
            "locale": ("fr-FR", "de-DE", "en-GB")[i % 3],
        }
        for i in range(n)
    ]


@pytest.fixture
def leads(app):
    """Two lead keys of team emea (one declares, the other approves) and one of apac."""
    with db.database(app).unit_of_work() as session:
        keys = KeyService(session)
        made = {
            name: keys.create("lead", team, name)[0]
            for name, team in (("declarer", "emea"), ("approver", "emea"), ("other", "apac"))
        }
    return {name: {"Authorization": f"Bearer {token}"} for name, token in made.items()}


def declare(client, headers, rows, **body):
    answer = client.post(
        "/v1/mass-incidents",
        json={"incident": SHARED, "team": "emea", "customers": rows, **body},
        headers=headers,
    )
    assert answer.status_code == 202, answer.json
    return answer


def ledger_ok(app) -> None:
    with db.database(app).unit_of_work() as session:
        report, _ = verify_ledger(session)
    assert report.ok, report


def reserved_per_decision(app, mass_id: str) -> dict[str, int]:
    with db.database(app).unit_of_work() as session:
        return dict(
            session.execute(
                sa.select(Reservation.decision_id, sa.func.count())
                .join(
                    MassIncidentCustomer,
                    MassIncidentCustomer.decision_id == Reservation.decision_id,
                )
                .where(MassIncidentCustomer.mass_incident_id == mass_id)
                .group_by(Reservation.decision_id)
            ).all()
        )


@pytest.mark.parametrize("app", [{"MASS_INCIDENT_CHUNK_SIZE": 25}], indirect=True)
def test_decided_totalled_approved_and_reserved_without_overspend(app, client, leads, auth):
    set_pool(app, "emea", "100000.00")
    queued = declare(client, leads["declarer"], customers(60))
    mass = queued.json
    assert mass["status"] == "deciding" and mass["customers"] == 60
    assert mass["job"]["kind"] == "mass_incident.decide"
    assert client.get(queued.headers["Location"], headers=leads["other"]).status_code == 404

    run_jobs(app)
    ready = client.get(queued.headers["Location"], headers=leads["declarer"]).json
    assert ready["status"] == "ready", ready
    assert ready["counts"]["decided"] == 60 and ready["progress"] == {"done": 60, "total": 60}
    (total,) = ready["totals"]
    assert total["currency"] == "EUR" and total["customers"] == 60
    assert Decimal(total["planned"]) > 0 and total["reserved"] == "0.00"
    assert total["pool"]["remaining"] == "100000.00" and total["pool"]["fits"] is True
    assert Decimal(total["fix"]) > 0  # every customer is made whole first
    assert Decimal(total["fix"]) + Decimal(total["overdelivery"]) == Decimal(total["planned"])
    # Nothing is reserved before approval; every decision is a proposed one of the pipeline.
    with db.database(app).unit_of_work() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Reservation)) == 0
        statuses = set(session.scalars(sa.select(Decision.status)))
    assert statuses == {"proposed"}

    # Four eyes: the key that declared it does not approve it; an agent may not either.
    mass_url = queued.headers["Location"]
    assert client.post(f"{mass_url}/approve", json={}, headers=leads["declarer"]).status_code == 403
    assert client.post(f"{mass_url}/approve", json={}, headers=auth("agent")).status_code == 403
    approved = client.post(
        f"{mass_url}/approve", json={"reason": "outage"}, headers=leads["approver"]
    )
    assert approved.status_code == 202, approved.json
    assert approved.json["status"] == "reserving" and approved.json["chunks"]["total"] == 3
    run_jobs(app)
    done = client.get(mass_url, headers=leads["approver"]).json
    assert done["status"] == "reserved", done
    assert done["counts"]["reserved"] == 60 and done["chunks"]["reserved"] == 3
    (total,) = done["totals"]
    assert total["reserved"] == total["planned"] and total["to_reserve"] == "0.00"
    with db.database(app).unit_of_work() as session:
        counter = session.scalar(sa.select(PoolCounter).where(PoolCounter.team == "emea"))
        assert Decimal(counter.reserved_minor) / 100 == Decimal(total["planned"])
    assert set(reserved_per_decision(app, mass["id"]).values()) == {1}
    ledger_ok(app)
    # Approving again is refused; nothing is reserved twice.
    assert client.post(f"{mass_url}/approve", json={}, headers=leads["approver"]).status_code == 409

    page = client.get(f"{mass_url}/customers?limit=5&after=2", headers=leads["approver"]).json
    assert [c["row"] for c in page["customers"]] == [3, 4, 5, 6, 7]
    assert all(c["state"] == "reserved" and c["decision_id"] for c in page["customers"])


@pytest.mark.parametrize("app", [{"MASS_INCIDENT_CHUNK_SIZE": 10}], indirect=True)
def test_when_the_pool_runs_out_the_remaining_chunks_are_refused_cleanly(app, client, leads, auth):
    set_pool(app, "emea", "100000.00")
    queued = declare(client, leads["declarer"], customers(40))
    run_jobs(app)
    ready = client.get(queued.headers["Location"], headers=leads["approver"]).json
    planned = Decimal(ready["totals"][0]["planned"])
    per_customer = planned / 40
    # The pool now holds a little over two and a half chunks' worth.
    room = (per_customer * 25).quantize(Decimal("0.01"))
    set_pool(app, "emea", str(room))
    ready = client.get(queued.headers["Location"], headers=leads["approver"]).json
    assert ready["totals"][0]["pool"]["fits"] is False  # said before anything is reserved
    url = queued.headers["Location"]
    assert client.post(f"{url}/approve", json={}, headers=auth("finance")).status_code == 202
    run_jobs(app)
    done = client.get(url, headers=leads["approver"]).json
    assert done["status"] == "partly_reserved", done
    assert done["chunks"] == {"total": 4, "pending": 0, "reserved": 2, "refused": 2, "size": 10}
    assert done["counts"]["reserved"] == 20 and done["counts"]["refused"] == 20
    assert done["refusal"].startswith("pool emea/") and "would exceed the limit" in done["refusal"]
    refused = client.get(f"{url}/customers?state=refused&limit=100", headers=auth("finance")).json
    assert len(refused["customers"]) == 20
    assert all(c["reason"].startswith("pool emea/") for c in refused["customers"])
    with db.database(app).unit_of_work() as session:
        counter = session.scalar(sa.select(PoolCounter).where(PoolCounter.team == "emea"))
        assert counter.reserved_minor <= int(room * 100)
    ledger_ok(app)

    # Finance raises the pool and approves again: only the refused chunks are tried.
    set_pool(app, "emea", "100000.00")
    assert client.post(f"{url}/approve", json={}, headers=auth("finance")).status_code == 202
    run_jobs(app)
    done = client.get(url, headers=auth("finance")).json
    assert done["status"] == "reserved" and done["counts"]["reserved"] == 40
    assert set(reserved_per_decision(app, done["id"]).values()) == {1}
    ledger_ok(app)


def test_every_bad_row_is_named_by_number_and_field_and_nothing_is_stored(app, client, leads):
    rows = customers(5)
    rows[1]["loss_amount"] = "-3"
    rows[3]["customer_value"] = "12.345"  # more decimals than EUR has
    rows[4]["customer_id"] = rows[0]["customer_id"]
    del rows[2]["customer_id"]
    answer = client.post(
        "/v1/mass-incidents",
        json={"incident": SHARED, "team": "emea", "customers": rows},
        headers=leads["declarer"],
    )
    assert answer.status_code == 422, answer.json
    errors = answer.json["errors"]
    assert "customers.2.loss_amount" in errors and "customers.3.customer_id" in errors
    answer = client.post(
        "/v1/mass-incidents",
        json={
            "incident": SHARED,
            "team": "emea",
            "customers": customers(5)[:1]
            + [
                {**customers(5)[1], "customer_value": "12.345"},
                {**customers(5)[2], "customer_id": "mass-0"},
            ],
        },
        headers=leads["declarer"],
    )
    assert answer.status_code == 422, answer.json
    assert set(answer.json["errors"]) == {"customers.2.customer_value", "customers.3.customer_id"}
    assert "first in row 1" in answer.json["errors"]["customers.3.customer_id"][0]
    bad_category = client.post(
        "/v1/mass-incidents",
        json={"incident": {**SHARED, "category": "nonsense"}, "customers": customers(1)},
        headers=leads["declarer"],
    )
    assert bad_category.status_code == 422 and "incident.category" in bad_category.json["errors"]
    with db.database(app).unit_of_work() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MassIncident)) == 0
        assert session.scalar(sa.select(sa.func.count()).select_from(MassIncidentCustomer)) == 0


@pytest.mark.parametrize("app", [{"MASS_INCIDENT_MAX_ROWS": 3}], indirect=True)
def test_rows_and_body_are_bounded(app, client, leads):
    too_many = client.post(
        "/v1/mass-incidents",
        json={"incident": SHARED, "customers": customers(4)},
        headers=leads["declarer"],
    )
    assert too_many.status_code == 422 and "at most 3" in too_many.json["errors"]["customers"][0]
    csv_rows = "customer_id,customer_value,loss_amount\n" + "".join(
        f"c{i},100.00,10.00\n" for i in range(4)
    )
    as_csv = client.post(
        "/v1/mass-incidents?severity=3&fault_type=company&currency=EUR",
        data=csv_rows,
        content_type="text/csv",
        headers=leads["declarer"],
    )
    assert as_csv.status_code == 422 and "customers" in as_csv.json["errors"]
    huge = client.post(
        "/v1/mass-incidents",
        data="x" * (app.config["MASS_INCIDENT_MAX_BYTES"] + 1),
        content_type="text/csv",
        headers=leads["declarer"],
    )
    assert huge.status_code == 413
    # Every other route keeps the ordinary limit.
    big = client.post("/v1/recommendations", json={"x": "y" * 70000}, headers=leads["declarer"])
    assert big.status_code == 413


def test_csv_and_multipart_declare_the_same_way(app, client, leads):
    set_pool(app, "emea", "100000.00")
    table = (
        "customer_id,customer_value,loss_amount,currency,locale,churn_threat,reach\n"
        "c1,100.00,10.00,EUR,fr-FR,true,\n"
        "c2,2000.00,80.00,,de-DE,no,\n"
    )
    as_csv = client.post(
        "/v1/mass-incidents?severity=4&fault_type=partner&category=delivery&currency=EUR&team=emea",
        data=table,
        content_type="text/csv",
        headers=leads["declarer"],
    )
    assert as_csv.status_code == 202, as_csv.json
    assert as_csv.json["customers"] == 2 and as_csv.json["incident"]["severity"] == 4
    import io

    multipart = client.post(
        "/v1/mass-incidents",
        data={
            "incident": '{"severity": 2, "fault_type": "company", "currency": "EUR"}',
            "team": "emea",
            "customers": (io.BytesIO(table.encode()), "customers.csv"),
        },
        content_type="multipart/form-data",
        headers=leads["declarer"],
    )
    assert multipart.status_code == 202, multipart.json
    bad = client.post(
        "/v1/mass-incidents?severity=4&fault_type=partner&currency=EUR",
        data="customer_id,customer_value,loss_amount\nc1,abc,10.00\n",
        content_type="text/csv",
        headers=leads["declarer"],
    )
    assert bad.status_code == 422 and "customers.1.customer_value" in bad.json["errors"]
    run_jobs(app)
    with db.database(app).unit_of_work() as session:
        incidents = {d.customer_id: d.incident for d in session.scalars(sa.select(Decision))}
    assert len(incidents) == 4 or len(incidents) == 2  # c1 and c2, twice (two declarations)
    assert {m for m in ("c1", "c2")} <= set(incidents)


@pytest.mark.postgresql
@pytest.mark.parametrize("database_url", ["postgresql"], indirect=True)
def test_five_thousand_customers_on_postgresql(app, client, leads, auth):
    """5,000 customers decided, totalled, approved and reserved without overspend."""
    set_pool(app, "emea", "60000.00")
    started = time.perf_counter()
    queued = declare(client, leads["declarer"], customers(5000, loss="10.00", value="200.00"))
    run_jobs(app)
    url = queued.headers["Location"]
    ready = client.get(url, headers=leads["approver"]).json
    assert ready["status"] == "ready" and ready["counts"]["decided"] == 5000
    planned = Decimal(ready["totals"][0]["planned"])
    assert client.post(f"{url}/approve", json={}, headers=auth("finance")).status_code == 202
    run_jobs(app)
    done = client.get(url, headers=leads["approver"]).json
    with db.database(app).unit_of_work() as session:
        counter = session.scalar(sa.select(PoolCounter).where(PoolCounter.team == "emea"))
    assert counter.reserved_minor <= 6_000_000  # never past the pool
    if planned <= Decimal("60000.00"):
        assert done["status"] == "reserved" and done["counts"]["reserved"] == 5000
    else:
        assert done["status"] == "partly_reserved"
    assert set(reserved_per_decision(app, done["id"]).values()) == {1}
    ledger_ok(app)
    print(f"5,000 customers: {time.perf_counter() - started:.1f} s")


def test_customers_alike_share_a_ranking_and_get_the_very_same_decision(app):
    """`RankOnce` ranks customers alike in all but who they are once: each still gets the
    decision the plain engine makes for it (candidates, plans shown, notes, talking points)."""
    from remedy.decisions.stored import incident_from_json
    from remedy.services import app_services
    from remedy.services.mass_jobs import RankOnce
    from remedy.services.recommendations import RecommendationService

    set_pool(app, "emea", "1000.00")
    base = {
        "severity": 4,
        "fault_type": "company",
        "customer_value": "800.00",
        "loss_amount": "45.00",
        "currency": "EUR",
        "category": "delivery",
        "team": "emea",
        "locale": "de-DE",
    }
    now = utcnow()
    base["reported_at"] = (now - timedelta(minutes=40)).isoformat()
    columns = ("candidates", "shown", "notes", "presentation", "cap", "priced_items")
    with app.app_context(), db.database(app).unit_of_work() as session:
        engine = app_services.engines().engine(session)
        shared = RankOnce(engine)
        made = []
        for customer in ("alike-1", "alike-2", "alike-3"):
            incident = incident_from_json(
                {**base, "customer_id": customer, "external_id": customer}
            )
            plain = RecommendationService(session, engine).recommend(incident, 1, "t", now)
            once = RecommendationService(session, shared).recommend(incident, 1, "t", now)
            made.append(once)
            for column in columns:
                assert getattr(plain, column) == getattr(once, column), column
        assert len(shared._ranked) == 1  # ranked once for the three
        assert {d.customer_id for d in made} == {"alike-1", "alike-2", "alike-3"}
        session.rollback()


def test_a_failed_job_shows_failed_and_a_retry_resumes_it(app, client, leads):
    """A deciding job that fails leaves the mass incident `failed` on read (not `deciding`
    forever), with the failed job; a retry queues it again and it resumes where it stopped."""
    set_pool(app, "emea", "100000.00")
    queued = declare(client, leads["declarer"], customers(6))
    mass_url = queued.headers["Location"]
    with db.database(app).unit_of_work() as session:  # one customer's stored fields broken
        row = session.scalar(sa.select(MassIncidentCustomer).where(MassIncidentCustomer.row == 4))
        good, row.fields = row.fields, {"broken": True}
    # Retrying what has not failed is refused.
    early = client.post(f"{mass_url}/retry", headers=leads["declarer"])
    assert early.status_code == 409 and "status" in early.json["errors"], early.json
    run_jobs(app)
    failed = client.get(mass_url, headers=leads["declarer"]).json
    assert failed["status"] == "failed", failed
    assert failed["job"]["status"] == "failed" and failed["job"]["error"], failed["job"]
    assert client.get(mass_url, headers=leads["other"]).status_code == 404
    assert client.post(f"{mass_url}/retry", headers=leads["other"]).status_code == 404

    with db.database(app).unit_of_work() as session:  # mended, then retried
        row = session.scalar(sa.select(MassIncidentCustomer).where(MassIncidentCustomer.row == 4))
        row.fields = good
    retried = client.post(f"{mass_url}/retry", headers=leads["declarer"])
    assert retried.status_code == 202, retried.json
    assert retried.json["status"] == "deciding" and retried.json["job"]["status"] == "queued"
    assert retried.json["decide_job_id"] != failed["decide_job_id"]
    run_jobs(app)
    ready = client.get(mass_url, headers=leads["declarer"]).json
    assert ready["status"] == "ready" and ready["counts"]["decided"] == 6, ready
    with db.database(app).unit_of_work() as session:  # each customer decided once
        decided = session.scalars(
            sa.select(MassIncidentCustomer.decision_id).where(
                MassIncidentCustomer.mass_incident_id == queued.json["id"]
            )
        ).all()
        assert len(set(decided)) == 6 and None not in decided
        assert session.scalar(sa.select(sa.func.count()).select_from(Decision)) == 6
