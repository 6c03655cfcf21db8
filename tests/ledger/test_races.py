"""Real processes racing for one pool, one customer's window, one day's contact capacity.

Each worker is its own OS process with its own engine; a start barrier releases them at once.
Whatever the interleaving, exactly as many accepts succeed as the limit fits, the others get a
409 naming the limit, and the ledger verifies afterwards.
"""

from __future__ import annotations

import multiprocessing
import os
import signal
from collections import Counter

import pytest
import sqlalchemy as sa

from remedy.extensions import db
from remedy.store.tables import Decision, LedgerEntry, PoolCounter, Reservation
from tests.factories import decision_row, set_caps, set_pool, store, verify
from tests.ledger import workers

# forkserver: children fork from a clean server that preloaded the app's modules (fast start,
# no inherited connections of the test process).
CONTEXT = multiprocessing.get_context("forkserver")
CONTEXT.set_forkserver_preload(["tests.ledger.workers"])
PROCESSES = 8
ATTEMPTS = 240
FITS = 37
TIMEOUT = 120
GIFT = "apology+gift_1x"
CALL = "apology+contact_manager"


def race(app, token, jobs_per_worker):
    """Run one worker process per job list; return every (decision id, status, body)."""
    url = app.config["DATABASE_URL"]
    barrier = CONTEXT.Barrier(len(jobs_per_worker) + 1)
    results = CONTEXT.Queue()
    processes = [
        CONTEXT.Process(
            target=workers.fire_accepts,
            args=(url, token, jobs, barrier, results),
        )
        for jobs in jobs_per_worker
    ]
    for process in processes:
        process.start()
    barrier.wait(timeout=TIMEOUT)
    return processes, results


def collect(processes, results, expected):
    """Gather the answers of `expected` workers and reap every process."""
    answers = [answer for _ in range(expected) for answer in results.get(timeout=TIMEOUT)]
    for process in processes:
        process.join(timeout=TIMEOUT)
    return answers


def spread(jobs, n=PROCESSES):
    """Deal jobs round-robin to n workers."""
    return [jobs[i::n] for i in range(n)]


SCENARIOS = {
    "pool": ("pool emea/", GIFT, "370.00", None, lambda i: f"c{i}"),
    "window": (
        "customer serial",
        GIFT,
        "100000.00",
        {"customer_window": {"days": 90, "limit": {"EUR": "370.00"}}},
        lambda i: "serial",
    ),
    "capacity": (
        "contact capacity manager of team emea",
        CALL,
        "100000.00",
        {"contact_capacity": {"manager": FITS}},
        lambda i: f"c{i}",
    ),
}


@pytest.mark.parametrize("limit", list(SCENARIOS))
def test_exactly_the_accepts_that_fit_succeed(app, keys, limit):
    prefix, plan, pool_limit, caps, customer = SCENARIOS[limit]
    set_pool(app, "emea", pool_limit)
    if caps:
        set_caps(app, **caps)
    ids = store(
        app,
        *(decision_row({plan: ("10.00", False)}, customer_id=customer(i)) for i in range(ATTEMPTS)),
    )
    processes, results = race(app, keys["agent"], spread([(i, plan, None) for i in ids]))
    answers = collect(processes, results, PROCESSES)
    statuses = Counter(status for _, status, _ in answers)
    assert statuses == {200: FITS, 409: ATTEMPTS - FITS}, statuses
    for _, status, body in answers:
        if status == 409:
            assert body["errors"]["limit"][0].startswith(prefix), body
    with db.database(app).unit_of_work() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(Reservation)) == FITS
        reserved = session.scalar(sa.select(sa.func.sum(PoolCounter.reserved_minor)))
        assert reserved == FITS * 1000
    report = verify(app)
    assert report.ok, report.failures
    assert report.entries == FITS


def test_retries_with_one_key_reserve_once_and_different_keys_conflict(app, keys):
    set_pool(app, "emea", "1000.00")
    same, contested = store(
        app, decision_row({GIFT: ("10.00", False)}), decision_row({GIFT: ("10.00", False)})
    )
    jobs = [
        [(same, GIFT, "retry-me")] * 5 + [(contested, GIFT, f"own-key-{worker}")]
        for worker in range(PROCESSES)
    ]
    processes, results = race(app, keys["agent"], jobs)
    answers = collect(processes, results, PROCESSES)
    replays = [(status, body) for decision_id, status, body in answers if decision_id == same]
    assert len(replays) == 5 * PROCESSES
    assert {status for status, _ in replays} == {200}
    assert all(body == replays[0][1] for _, body in replays)
    contest = Counter(status for decision_id, status, _ in answers if decision_id == contested)
    assert contest == {200: 1, 409: PROCESSES - 1}
    with db.database(app).unit_of_work() as session:
        entries = session.scalars(sa.select(LedgerEntry.decision_id)).all()
    assert sorted(entries) == sorted([same, contested])
    assert verify(app).ok


def test_killed_processes_leave_a_ledger_that_verifies(app, keys):
    fits = 20
    set_pool(app, "emea", f"{fits * 10}.00")
    victim_id, *ids = store(
        app,
        *(decision_row({GIFT: ("10.00", False)}, customer_id=f"c{i}") for i in range(201)),
    )
    url = app.config["DATABASE_URL"]
    holding = CONTEXT.Event()
    victim = CONTEXT.Process(target=workers.accept_and_hold, args=(url, victim_id, GIFT, holding))
    victim.start()
    assert holding.wait(timeout=TIMEOUT), "the victim never reserved"
    # The worker to kill gets queues of its own: a process killed while writing to a queue
    # leaves its lock held and a partial message behind.
    target_jobs, *other_jobs = spread([(i, GIFT, None) for i in ids], 4)
    barrier = CONTEXT.Barrier(len(other_jobs) + 2)
    results, target_results, progress = CONTEXT.Queue(), CONTEXT.Queue(), CONTEXT.Queue()
    target = CONTEXT.Process(
        target=workers.fire_accepts,
        args=(url, keys["agent"], target_jobs, barrier, target_results, progress),
    )
    others = [
        CONTEXT.Process(
            target=workers.fire_accepts, args=(url, keys["agent"], jobs, barrier, results)
        )
        for jobs in other_jobs
    ]
    for process in (target, *others):
        process.start()
    barrier.wait(timeout=TIMEOUT)
    # The workers queue behind the victim's locks; kill it in the middle of its transaction.
    os.kill(victim.pid, signal.SIGKILL)
    victim.join(timeout=TIMEOUT)
    assert victim.exitcode == -signal.SIGKILL
    # Then kill one worker in the middle of its accepts, after it has done a few.
    for _ in range(5):
        progress.get(timeout=TIMEOUT)
    os.kill(target.pid, signal.SIGKILL)
    target.join(timeout=TIMEOUT)
    answers = collect(others, results, len(others))
    assert target.exitcode == -signal.SIGKILL
    with db.database(app).unit_of_work() as session:
        assert session.get(Decision, victim_id).status == "proposed"
        reserved = session.scalars(sa.select(Reservation.decision_id)).all()
    assert victim_id not in reserved
    assert len(reserved) == fits  # the pool filled exactly, whoever got there
    assert {d for d, status, _ in answers if status == 200} <= set(reserved)
    report = verify(app)
    assert report.ok, report.failures


BOTH = "credit+gift_1x"  # 37.00: a 27.00 credit (fix line) and a 10.00 gift (overdelivery line)
LINES = {
    # the fix line fits exactly FITS plans (27.00 each), the overdelivery line all of them
    "fix": ("fix line of pool emea/", (f"{FITS * 27}.00", "100000.00")),
    # the overdelivery line fits exactly FITS plans (10.00 each), the fix line all of them
    "overdelivery": ("overdelivery line of pool emea/", ("100000.00", f"{FITS * 10}.00")),
}


@pytest.mark.parametrize("line", list(LINES))
def test_racing_accepts_never_overspend_either_line_of_a_split_pool(app, keys, line):
    prefix, lines = LINES[line]
    set_pool(app, "emea", None, lines=lines)
    ids = store(
        app,
        *(decision_row({BOTH: ("37.00", False)}, customer_id=f"c{i}") for i in range(ATTEMPTS)),
    )
    processes, results = race(app, keys["agent"], spread([(i, BOTH, None) for i in ids]))
    answers = collect(processes, results, PROCESSES)
    statuses = Counter(status for _, status, _ in answers)
    assert statuses == {200: FITS, 409: ATTEMPTS - FITS}, statuses
    for _, status, body in answers:
        if status == 409:
            assert body["errors"]["limit"][0].startswith(prefix), body
    with db.database(app).unit_of_work() as session:
        counter = session.scalars(sa.select(PoolCounter)).one()
        assert (counter.reserved_minor, counter.fix_reserved_minor) == (FITS * 3700, FITS * 2700)
    report = verify(app)
    assert report.ok, report.failures
    assert report.entries == FITS
