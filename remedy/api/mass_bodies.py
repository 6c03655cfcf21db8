"""A mass incident's body: JSON, `text/csv` or `multipart/form-data`, read within its bounds
and checked row by row before anything is stored.

The body is bounded twice: its size (`REMEDY_MASS_INCIDENT_MAX_BYTES`, this route only; every
other route keeps `REMEDY_MAX_BODY_BYTES`) and its rows (`REMEDY_MASS_INCIDENT_MAX_ROWS`).
A bad row is 422 naming `customers.<row>.<field>` (row 1 is the first customer; in CSV, the
line after the header)."""

from __future__ import annotations

import csv
import io
import json
from typing import Any

from flask import current_app, request
from marshmallow import ValidationError

from remedy.api.errors import flatten
from remedy.api.mass_schemas import ROW_FIELDS, MassIncidentRequestSchema
from remedy.api.recommendations import incident_from_request
from remedy.domain import FaultType, Incident
from remedy.errors import InvalidInput
from remedy.money import MoneyError, check_amount
from remedy.services.incidents import canonical_incident
from remedy.store.tables import utcnow

_TRUE, _FALSE = ("true", "1", "yes"), ("false", "0", "no")
CSV_TYPES = ("text/csv", "multipart/form-data")


_INTEGERS = ("reach",)


_BOOLEANS = ("churn_threat", "public")


def _max_rows() -> int:
    return int(current_app.config["MASS_INCIDENT_MAX_ROWS"])


def read_body() -> dict[str, Any]:
    """The request as one JSON-shaped object, whatever it came as."""
    if request.mimetype == "text/csv":
        shared = {k: v for k, v in request.args.items() if k != "team"}
        return {
            "incident": _typed(shared),
            "team": request.args.get("team"),
            "customers": _csv_rows(request.get_data(cache=True)),
        }
    if request.mimetype == "multipart/form-data":
        try:
            shared = json.loads(request.form.get("incident") or "{}")
        except ValueError:
            raise InvalidInput("incident is not JSON", {"incident": ["not JSON"]}) from None
        upload = request.files.get("customers")
        if upload is None:
            message = "attach the customers as a CSV file named customers"
            raise InvalidInput(message, {"customers": [message]})
        return {
            "incident": shared,
            "team": request.form.get("team") or None,
            "customers": _csv_rows(upload.read()),
        }
    body = request.get_json()
    if not isinstance(body, dict):
        raise InvalidInput("the body must be a JSON object", {"_request": ["not an object"]})
    customers = body.get("customers")
    if isinstance(customers, list) and len(customers) > _max_rows():
        _too_many()
    return body


def _too_many() -> None:
    message = f"at most {_max_rows()} customers in one mass incident; split it"
    raise InvalidInput(message, {"customers": [message]})


def _csv_rows(raw: bytes) -> list[dict[str, Any]]:
    """The CSV's rows as objects (empty cells left out, numbers and booleans typed)."""
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InvalidInput("the CSV is not UTF-8", {"customers": ["not UTF-8"]}) from None
    reader = csv.DictReader(io.StringIO(text, newline=""))
    columns = reader.fieldnames or []
    unknown = [c for c in columns if c not in ROW_FIELDS]
    if not columns or unknown:
        message = f"unknown column(s) {unknown}; columns: {', '.join(ROW_FIELDS)}"
        if not columns:
            message = f"the CSV needs a header row naming its columns: {', '.join(ROW_FIELDS)}"
        raise InvalidInput(message, {"customers": [message]})
    rows = []
    try:
        for row in reader:
            if len(rows) >= _max_rows():
                _too_many()
            extra = row.pop(None, None)  # type: ignore[call-overload]
            cells = {k: v for k, v in row.items() if v not in (None, "")}
            if extra:
                cells["_extra"] = extra
            rows.append(_typed(cells))
    except csv.Error as error:
        message = f"unreadable CSV at line {reader.line_num}: {error}"
        raise InvalidInput(message, {"customers": [message]}) from None
    return rows


def _typed(cells: dict[str, Any]) -> dict[str, Any]:
    """Text cells as the JSON types the schema takes (left as text when they are not)."""
    typed: dict[str, Any] = dict(cells)
    for name in (*_INTEGERS, "severity"):
        value = typed.get(name)
        if isinstance(value, str) and value.strip().lstrip("-").isdigit():
            typed[name] = int(value)
    for name in _BOOLEANS:
        value = typed.get(name)
        if isinstance(value, str) and value.strip().lower() in (*_TRUE, *_FALSE):
            typed[name] = value.strip().lower() in _TRUE
    return typed


def load_body(body: dict[str, Any]) -> dict[str, Any]:
    """Validate the whole request (422 naming every bad field, rows numbered from 1)."""
    errors: dict[str, list[str]] = {}
    for number, row in enumerate(body.get("customers") or [], start=1):
        if isinstance(row, dict) and "_extra" in row:
            errors[f"customers.{number}"] = ["more cells than the header names"]
            row.pop("_extra")
    try:
        data = MassIncidentRequestSchema().load(body)
    except ValidationError as error:
        errors.update(flatten(error.messages))
        data = None
    if errors or data is None:
        names = ", ".join(sorted(errors)[:10])
        raise InvalidInput(f"Invalid fields: {names}", errors)
    return data


def incidents_of(data: dict[str, Any], team: str, engine: Any) -> list[Incident]:
    """Each customer's incident: the shared fields under its own; every row checked (money for
    its currency, a currency finance has capped, no customer twice) before any is kept."""
    shared = data["incident"]
    probe = canonical_incident(engine.catalog, _probe(shared))  # 422: unknown category, touchpoint
    category, touchpoint = probe.category, probe.touchpoint
    errors: dict[str, list[str]] = {}
    seen: dict[str, int] = {}
    incidents = []
    # One failure, one clock: the promises of every customer count from when it reached them,
    # or from now (its declaration), not from when the job gets to each customer.
    shared = {**shared, "reported_at": shared.get("reported_at") or utcnow()}
    for number, row in enumerate(data["customers"], start=1):
        given = {k: v for k, v in row.items() if v is not None}
        merged = {**shared, **given, "category": category, "touchpoint": touchpoint}
        where = f"customers.{number}"
        currency = merged["currency"]
        if not engine.caps.supports(currency):
            errors[f"{where}.currency"] = [f"no caps are configured for {currency}"]
        for name in ("customer_value", "loss_amount"):
            try:
                check_amount(merged[name], currency)
            except MoneyError as error:
                errors[f"{where}.{name}"] = [str(error)]
        first = seen.setdefault(merged["customer_id"], number)
        if first != number:
            errors[f"{where}.customer_id"] = [f"appears more than once (first in row {first})"]
        merged.setdefault("customer_status", "active")
        merged.setdefault("external_id", None)
        merged.setdefault("reach", None)
        incidents.append(incident_from_request({"incident": merged}, team))
    if errors:
        names = ", ".join(sorted(errors)[:10])
        raise InvalidInput(f"Invalid fields: {names}", errors)
    return incidents


def _probe(shared: dict[str, Any]) -> Incident:
    """An incident holding only the shared fields (to normalise the category and the
    touchpoint once)."""
    return Incident(
        customer_id="-",
        severity=shared["severity"],
        fault_type=FaultType(shared["fault_type"]),
        customer_value=0,  # type: ignore[arg-type]
        loss_amount=0,  # type: ignore[arg-type]
        currency=shared.get("currency") or "EUR",
        category=shared["category"],
        touchpoint=shared.get("touchpoint"),
    )
