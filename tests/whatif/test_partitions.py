"""A what-if split into partitions gives the report of one process, on both databases."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import Job
from remedy.whatif.deciding import Choice, Decided
from remedy.whatif.keys import KeyRange, split
from remedy.whatif.partitions import PARTITION_KIND, decode, encode, merge
from tests.factories import simulated
from tests.whatif.partitioned import request, seed_month

DECISIONS = 300


@pytest.mark.parametrize("app", [{"WHATIF_PARTITION_INCIDENTS": 70}], indirect=True)
def test_partitions_give_the_single_process_report(app, client, auth):
    """300 decisions in 5 partitions (the last one short), merged by the parent's worker."""
    seed_month(app, DECISIONS)
    partitioned = simulated(app, client, request(), auth("finance"))
    with db.database(app).unit_of_work() as session:
        children = session.scalars(sa.select(Job).where(Job.kind == PARTITION_KIND)).all()
        assert len(children) == 5
        assert {child.status for child in children} == {"succeeded"}
        assert sorted(child.params["size"] for child in children) == [20, 70, 70, 70, 70]
        assert sum(child.result["count"] for child in children) == DECISIONS
    app.config["WHATIF_PARTITION_INCIDENTS"] = 0  # one process, as before partitions
    single = simulated(app, client, request(), auth("finance"))
    assert partitioned == single
    assert single["current"]["decisions"] == DECISIONS
    proposed = single["proposed"]
    # the balances that carry across partition boundaries were exercised
    assert proposed["skipped_for_pool"] > 0 and proposed["skipped_for_contact_capacity"] > 0


def test_decided_survive_encoding_and_merge_in_order():
    """Money as decimal text, contacts as sets, a settings set given twice written once."""
    choice = Choice(
        Decimal("12.50"),
        1250,
        "manager",
        Decimal("-3.10"),
        Decimal("0.912345"),
        True,
        (("refund", Decimal("12.50")),),
        1000,  # the part a pool's fix line carries
    )
    one = Decided(True, False, (choice,), (("manager",), frozenset({"agent", "manager"})))
    two = Decided(False, False, ())
    shared = [one, two]
    decided = [shared, [two, one], shared]
    back = decode(encode(decided))
    assert back == decided and back[0] is back[2]
    assert merge([back, back])[1] == [two, one, two, one]


def test_split_covers_every_key_once():
    """Contiguous ranges of at most `size` keys, first and last included."""
    at = datetime(2026, 10, 1, tzinfo=UTC)
    keys = [(at, f"{n:04d}") for n in range(10)]
    ranges = split(keys, 4)
    assert ranges == [
        KeyRange(keys[0], keys[3]),
        KeyRange(keys[4], keys[7]),
        KeyRange(keys[8], keys[9]),
    ]
    assert KeyRange.from_json(ranges[1].to_json()) == ranges[1]


def test_partitions_count_in_no_quota_and_go_with_a_cancel(app):
    """A key's what-if is one job however many partitions it has; cancelling it cancels them."""
    from remedy.services.job_children import JobChildren
    from remedy.services.jobs import JobQueue, JobQuota
    from remedy.services.keys import Principal

    finance = Principal("fin", "finance", None)
    with db.database(app).unit_of_work() as session:
        queue = JobQueue(session)
        parent = queue.enqueue("whatif.simulate", {}, "finance", finance)
        JobChildren(session).enqueue_children(
            parent, PARTITION_KIND, [{"index": n} for n in range(6)]
        )
        queue.check_quota(finance, JobQuota(per_key=2))  # one job of two: room for another
        parent_id = parent.id
    with db.database(app).unit_of_work() as session:
        JobQueue(session).cancel(parent_id, finance)
    with db.database(app).unit_of_work() as session:
        statuses = session.scalars(sa.select(Job.status)).all()
        assert statuses == ["cancelled"] * 7
