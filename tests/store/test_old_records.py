"""Decisions stored before the typed record (record version 1) still read, replay and train.

The database is made by the old schema: decisions logged by the service, their candidates
rewritten as version 1 wrote them (no `dropped_by`), and the schema taken back to revision 0003
(no `record_version` column), then migrated forward again as an upgrade would.
"""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import sqlalchemy as sa

from remedy.decisions.ranker import HeuristicPrior, ValueSettings
from remedy.decisions.record import DecisionRecord, DroppedBy
from remedy.extensions import db
from remedy.store.migrate import downgrade, upgrade
from remedy.store.tables import Decision, utcnow
from tests.factories import simulated
from training.drive import drive
from training.from_logs import load_logged, train_from_logs


def _as_version_1(url: str) -> int:
    """Rewrite every stored candidate as record version 1 did, then drop the version column."""
    engine = sa.create_engine(url)
    table = sa.table("decisions", sa.column("id"), sa.column("candidates", sa.JSON))
    with engine.begin() as connection:
        rows = connection.execute(sa.select(table.c.id, table.c.candidates)).all()
        for decision_id, candidates in rows:
            old = [{k: v for k, v in c.items() if k != "dropped_by"} for c in candidates]
            connection.execute(
                table.update().where(table.c.id == decision_id).values(candidates=old)
            )
    engine.dispose()
    downgrade(url, "0003")
    engine = sa.create_engine(url)
    columns = {c["name"] for c in sa.inspect(engine).get_columns("decisions")}
    engine.dispose()
    assert "record_version" not in columns
    upgrade(url)
    return len(rows)


def test_version_1_decisions_read_replay_and_train(app, client, auth, database_url, tmp_path):
    app.config["EXPLORATION_RATE"] = 0
    drive(app, 60, team="sim", seed=4, progress=False)
    db.database(app).dispose()
    assert _as_version_1(database_url) == 60

    with db.database(app).unit_of_work() as session:
        rows = session.scalars(sa.select(Decision)).all()
        assert {row.record_version for row in rows} == {1}
        records = [DecisionRecord.of(row) for row in rows]
        dropped = [c for r in records for c in r.candidates if c.dropped_reason]
        assert dropped and all(c.dropped_by is DroppedBy.CAP for c in dropped)
        assert all(r.version == 1 for r in records)
        logged = load_logged(session, progress=False)
        assert logged
        card = train_from_logs(
            session,
            Path(tmp_path / "old"),
            HeuristicPrior(),
            ValueSettings(),
            min_rows=10,
            progress=False,
            max_iter=5,
        )
    assert card["source"] == {**card["source"], "kind": "logged", "decisions": len(logged)}

    today = utcnow().date()
    window = {"from": str(today - timedelta(days=1)), "to": str(today + timedelta(days=1))}
    answer = simulated(app, client, window, auth("finance"))
    assert answer["current"]["decisions"] == 60
