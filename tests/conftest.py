"""Fixtures: a fresh app per test on a real, migrated database (SQLite always, PostgreSQL when
REMEDY_TEST_DATABASE_URL is set), API keys for every role, and incident factories."""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
import sqlalchemy as sa
from flask import Flask
from flask.testing import FlaskClient

from remedy import create_app
from remedy.extensions import db
from remedy.services.configs import ConfigService
from remedy.services.keys import KeyService
from remedy.store.migrate import upgrade
from remedy.store.tables import Base

PG_URL = os.environ.get("REMEDY_TEST_DATABASE_URL")
BACKENDS = ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgresql)]


def pytest_configure(config: pytest.Config) -> None:
    """Register the markers used here."""
    config.addinivalue_line("markers", "postgresql: runs against REMEDY_TEST_DATABASE_URL")


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Migrate one SQLite file per test session; each test copies it."""
    path = tmp_path_factory.mktemp("template") / "remedy.sqlite"
    upgrade(f"sqlite:///{path}")
    return path


@contextlib.contextmanager
def throwaway_postgres() -> Iterator[str]:
    """Create a PostgreSQL database of its own, migrate it, and drop it after."""
    if not PG_URL:
        pytest.skip("REMEDY_TEST_DATABASE_URL is not set")
    admin = sa.create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    name = f"remedy_test_{uuid.uuid4().hex[:10]}"
    with admin.connect() as connection:
        connection.execute(sa.text(f'CREATE DATABASE "{name}"'))
    url = sa.engine.make_url(PG_URL).set(database=name).render_as_string(hide_password=False)
    try:
        upgrade(url)
        yield url
    finally:
        with admin.connect() as connection:
            connection.execute(
                sa.text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"
                ),
                {"n": name},
            )
            connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{name}"'))
        admin.dispose()


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """A throwaway PostgreSQL database for this test session (tests empty it in turn)."""
    with throwaway_postgres() as url:
        yield url


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database: a copied SQLite file, or the PostgreSQL test database."""
    if request.param == "sqlite":
        path = tmp_path / "remedy.sqlite"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url = request.getfixturevalue("postgres_url")
    engine = sa.create_engine(url)
    # The cache generation's one row (migration 0008) stays: it only ever counts up.
    tables = ", ".join(
        f'"{t.name}"' for t in Base.metadata.sorted_tables if t.name != "cache_generation"
    )
    with engine.begin() as connection:
        connection.execute(sa.text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def app(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Flask]:
    """A fresh app on a fresh database with the default catalog, rules and caps loaded.

    Indirect parametrisation (`@pytest.mark.parametrize("app", [{...}], indirect=True)`)
    overrides settings.
    """
    overrides = getattr(request, "param", None) or {}
    app = create_app(
        {
            "TESTING": True,
            "DATABASE_URL": database_url,
            "MODEL_DIR": str(tmp_path / "models"),
            # Exploration off unless a test asks for it: ranking assertions stay deterministic.
            "EXPLORATION_RATE": Decimal(0),
            "EXPLORATION_SEED": 1234,
            "RATE_LIMIT": "",  # off unless a test asks for it
            "LOG_LEVEL": "WARNING",  # access lines are tested where they matter
            # Webhook receivers in tests listen on 127.0.0.1 (refused by default: tested in
            # tests/api/test_webhooks.py).
            "WEBHOOK_ALLOW_PRIVATE": True,
            **overrides,
        },
        instance_path=str(tmp_path / "instance"),  # never the checkout's instance/ folder
    )
    with app.app_context(), db.database(app).unit_of_work() as session:
        ConfigService(session).seed_defaults()
    yield app
    db.database(app).dispose()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    """A test client for `app`."""
    return app.test_client()


@pytest.fixture
def keys(app: Flask) -> dict[str, str]:
    """One API key per role, as bearer tokens."""
    tokens = {}
    with db.database(app).unit_of_work() as session:
        for role in ("agent", "finance", "admin"):
            tokens[role], _ = KeyService(session).create(role, label=f"test {role}")
    return tokens


@pytest.fixture
def auth(keys: dict[str, str]):
    """Return headers for a role: auth('agent')."""

    def headers(role: str = "agent") -> dict[str, str]:
        return {"Authorization": f"Bearer {keys[role]}"}

    return headers


def incident_payload(**overrides: Any) -> dict[str, Any]:
    """A valid incident as the API takes it; override any field."""
    incident = {
        "customer_id": "cust-1",
        "severity": 3,
        "fault_type": "company",
        "customer_value": "1200.00",
        "loss_amount": "60.00",
        "currency": "EUR",
        "category": "delivery",
        "channel": "chat",
        "locale": "en-GB",
        "churn_threat": False,
        "external_id": "TICKET-1",
    }
    incident.update(overrides)
    return incident


def row_count(app: Flask, model: type) -> int:
    """Count the rows of a table."""
    with db.database(app).unit_of_work() as session:
        return session.scalar(sa.select(sa.func.count()).select_from(model))


# The model and training tests share one small model, trained once per session.
from tests.model_fixtures import *  # noqa: E402, F403 - pytest fixtures
