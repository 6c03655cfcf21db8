"""The one team-scope filter for lists, on SQLite and PostgreSQL."""

from __future__ import annotations

import sqlalchemy as sa

from remedy.extensions import db
from remedy.services.audit_log import AuditLog
from remedy.services.keys import KeyService
from remedy.store.scoping import decision_team, in_team
from remedy.store.tables import Decision
from tests.factories import decision_row, store


def test_a_team_sees_its_rows_and_an_unscoped_reader_all(app):
    emea = store(app, *(decision_row({"apology": ("0.00", False)}) for _ in range(2)))
    apac = store(app, decision_row({"apology": ("0.00", False)}, team="apac"))
    with db.database(app).unit_of_work() as session:

        def ids(team):
            return set(session.scalars(sa.select(Decision.id).where(in_team(team))))

        assert ids("emea") == set(emea) and ids("apac") == set(apac)
        assert ids(None) == set(emea) | set(apac) and ids("nowhere") == set()
        assert decision_team(session, apac[0]) == "apac" and decision_team(session, "x") is None


def test_a_scoped_audit_reader_sees_only_what_its_teams_keys_did(app):
    with db.database(app).unit_of_work() as session:
        keys = KeyService(session)
        _, emea = keys.create("agent", "emea", "emea agent")
        _, apac = keys.create("agent", "apac", "apac agent")
        keys.revoke(emea.prefix, emea.prefix)  # an entry by emea's key
        keys.revoke(apac.prefix, apac.prefix)  # and one by apac's
    with db.database(app).unit_of_work() as session:
        log = AuditLog(session)
        assert {e.actor for e in log.page("emea", 100)} == {emea.prefix}
        assert {emea.prefix, apac.prefix} <= {e.actor for e in log.page(None, 100)}
        newest = log.page(None, 1)
        assert len(newest) == 1 and log.page(None, 100, before_id=newest[0].id)[0].id < newest[0].id
