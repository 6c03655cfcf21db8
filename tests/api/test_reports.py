"""GET /v1/reports/spend and /v1/reports/diagnose on data from the real service."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from decimal import Decimal

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import Reservation, utcnow
from training.drive import drive


@pytest.fixture
def driven(app):
    """Decisions, accepted and fulfilled plans and outcomes from drive()."""
    drive(app, 25, team="sim", seed=5, progress=False)
    return app


def _range() -> str:
    today = utcnow().date()
    return f"from={today - timedelta(days=1)}&to={today + timedelta(days=1)}"


def _committed(app) -> dict[str, Decimal]:
    from remedy.money import from_minor

    totals: dict[str, Decimal] = {}
    with db.database(app).unit_of_work() as session:
        for r in session.scalars(sa.select(Reservation)):
            totals[r.currency] = totals.get(r.currency, Decimal(0)) + from_minor(
                r.committed_minor, r.currency
            )
    return totals


@pytest.mark.parametrize("group_by", ["period", "team", "fault_type", "category", "kind"])
def test_spend_adds_up_whatever_the_grouping(driven, client, auth, group_by):
    """Every grouping sums to the committed spend in the ledger's reservations."""
    response = client.get(
        f"/v1/reports/spend?{_range()}&group_by={group_by}&period=day", headers=auth("finance")
    )
    assert response.status_code == 200, response.json
    totals: dict[str, Decimal] = {}
    for row in response.json["rows"]:
        totals[row["currency"]] = totals.get(row["currency"], Decimal(0)) + Decimal(
            row["committed"]
        )
    assert totals == _committed(driven)
    if group_by == "team":
        assert {row["group"] for row in response.json["rows"]} == {"sim"}


def test_the_rollup_follows_every_step_of_the_lifecycle(driven):
    """After drive()'s recommendations, accepts, fulfilments, cancels and outcomes (the real
    write paths), the ticket rollup equals the tickets computed from the raw rows."""
    from remedy.services.rollup_rebuild import raw_tickets
    from remedy.store.tables import ReportTicket

    with db.database(driven).unit_of_work() as session:
        raw = {key: tally.as_row() for key, tally in raw_tickets(session).items()}
        kept = {}
        for row in session.scalars(sa.select(ReportTicket)):
            columns = {c.name: getattr(row, c.name) for c in ReportTicket.__table__.columns}
            columns["first_at"] = columns["first_at"].astimezone(raw_first_zone(raw))
            kept[(row.team, row.ticket, row.currency)] = columns
    assert raw and kept == raw
    assert any(row["committed_minor"] for row in raw.values())
    assert any(row["outcomes"] for row in raw.values())


def raw_first_zone(raw):
    return next(iter(raw.values()))["first_at"].tzinfo


def test_spend_as_csv(driven, client, auth):
    """format=csv answers text/csv with a header row."""
    response = client.get(f"/v1/reports/spend?{_range()}&format=csv", headers=auth("finance"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    rows = list(csv.DictReader(io.StringIO(response.get_data(as_text=True))))
    assert rows and set(rows[0]) == {
        "group",
        "currency",
        "committed",
        "reserved",
        "plans",
        "fix_committed",
        "fix_reserved",
        "overdelivery_committed",
        "overdelivery_reserved",
    }


def test_diagnose_ranks_by_cost_to_the_company(driven, client, auth):
    """Rows per month, category and fault type, costliest first, with retention."""
    response = client.get(f"/v1/reports/diagnose?{_range()}", headers=auth("finance"))
    assert response.status_code == 200, response.json
    rows = response.json["rows"]
    assert sum(row["incidents"] for row in rows) == 25
    costs = [Decimal(row["cost_to_company"]) for row in rows]
    # Ranked across currencies by minor units; within one currency it is plainly descending.
    for currency in {row["currency"] for row in rows}:
        mine = [Decimal(r["cost_to_company"]) for r in rows if r["currency"] == currency]
        assert mine == sorted(mine, reverse=True)
    assert costs
    assert any(row["retention"] is not None for row in rows)
    csv_response = client.get(
        f"/v1/reports/diagnose?{_range()}&format=csv", headers=auth("finance")
    )
    assert csv_response.mimetype == "text/csv"
    header = csv_response.get_data(as_text=True).splitlines()[0]
    assert header.startswith("month,category,fault_type,currency,incidents,remedy_cost")


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ("spend?from=2026-12-01&to=2026-11-01", "to"),
        ("spend?from=2026-11-01&to=2026-12-01&group_by=colour", "group_by"),
        ("spend?from=2026-11-01&to=2026-12-01&period=year", "period"),
        ("spend?from=nope&to=2026-12-01", "from"),
        ("diagnose?from=2026-12-01&to=2026-12-01", "to"),
        ("diagnose?from=2026-11-01&to=2026-12-01&format=xml", "format"),
    ],
)
def test_bad_input_names_the_field(app, client, auth, query, field):
    """Inverted ranges and unknown options are 422 naming the field."""
    response = client.get(f"/v1/reports/{query}", headers=auth("finance"))
    assert response.status_code == 422, response.json
    assert field in response.json["errors"], response.json


@pytest.mark.parametrize("report", ["spend", "diagnose", "promises"])
def test_a_range_longer_than_the_limit_is_422_on_to_before_anything_is_read(
    app, client, auth, report
):
    """The hardening issue, finding 2: any finance key could ask for 1970-8999."""
    long = client.get(
        f"/v1/reports/{report}?from=1970-01-01&to=8999-01-01", headers=auth("finance")
    )
    assert long.status_code == 422, long.json
    assert "at most 366 days" in long.json["errors"]["to"][0]
    year = client.get(
        f"/v1/reports/{report}?from=2025-01-01&to=2026-01-02", headers=auth("finance")
    )
    assert year.status_code == 200, year.json  # 366 days: the limit itself


@pytest.mark.parametrize("app", [{"REPORT_MAX_DAYS": 31}], indirect=True)
def test_the_longest_range_is_configured(app, client, auth):
    response = client.get(
        "/v1/reports/spend?from=2026-01-01&to=2026-02-02", headers=auth("finance")
    )
    assert response.status_code == 422 and "at most 31 days" in response.json["errors"]["to"][0]
    ok = client.get("/v1/reports/spend?from=2026-01-01&to=2026-02-01", headers=auth("finance"))
    assert ok.status_code == 200


def test_agents_may_not_read_reports(app, client, auth):
    """Finance's reports."""
    response = client.get("/v1/reports/spend?from=2026-11-01&to=2026-12-01", headers=auth())
    assert response.status_code == 403
