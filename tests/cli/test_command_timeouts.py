"""The statement timeout guards web requests; commands and the job worker run long statements
on purpose (training's read of a million outcomes once hit it under load)."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from remedy import create_app
from remedy.cli.common import current_or_new_app
from remedy.extensions import db


@pytest.mark.postgresql
def test_a_command_waits_for_a_long_statement_a_request_does_not(postgres_url, monkeypatch):
    monkeypatch.setenv("REMEDY_DATABASE_URL", postgres_url)
    monkeypatch.setenv("REMEDY_DATABASE_STATEMENT_TIMEOUT_MS", "200")
    web = create_app()
    command = current_or_new_app()
    assert web.config["DATABASE_STATEMENT_TIMEOUT_MS"] == 200
    assert command.config["DATABASE_STATEMENT_TIMEOUT_MS"] == 0
    try:
        with db.database(command).unit_of_work() as session:
            assert session.execute(sa.text("SELECT pg_sleep(0.5), 1")).all()[0][1] == 1
        refused = pytest.raises(sa.exc.OperationalError, match="statement timeout")
        with refused, db.database(web).unit_of_work() as session:
            session.execute(sa.text("SELECT pg_sleep(0.5)"))
    finally:
        db.database(web).dispose()
        db.database(command).dispose()
