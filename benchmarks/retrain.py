"""`remedy train` end to end on large logs in PostgreSQL: wall time and peak memory.

    python -m benchmarks.retrain --source /tmp/sim.sqlite --sizes 100000 300000 1000000

`--source` is a SQLite database that `remedy simulate` filled (decisions through the service's
own code, with outcomes). The script creates its own PostgreSQL database (`--database`,
default `remedy_bench`, on `--server`), runs `remedy init` there, copies the source's decisions
and outcomes in, and then, for each size, tiles them inside PostgreSQL (`INSERT ... SELECT ...
generate_series`: new ids, later timestamps) until the log holds that many decisions with
outcomes, and runs `remedy train --no-progress` on it in a subprocess under `/usr/bin/time -v`
(CPU time, peak RSS); run the script itself with `nice -n 10`. It drops its database at the
end and touches no other.

What the copies leave out: each tiled decision keeps the plans it showed as its candidates
instead of every candidate (~1 kB of JSON instead of ~20 kB), so a million of them fit on the
disk in minutes. `remedy train` reads the candidates column only for the latest 10,000 holdout
decisions and the 600 before the holdout; PostgreSQL keeps large JSON out of line (TOAST), so
the full column would cost those rows more and the others nothing. Copies of the same decisions
give the same features, so the fit's cost per row is that of real rows, not its accuracy.
"""

from __future__ import annotations

import argparse
import os
import re
import subprocess
import sys
import tempfile
import time

import sqlalchemy as sa

from remedy.services.outcomes import plan_items, training_row
from remedy.store.tables import Decision, Outcome

_INSTANCE = tempfile.mkdtemp(prefix="remedy-bench-")  # models the benchmark trains go here


def _env(url: str) -> dict[str, str]:
    """Return the environment the `remedy` commands run with."""
    return {**os.environ, "REMEDY_DATABASE_URL": url, "REMEDY_INSTANCE_PATH": _INSTANCE}


def _remedy(url: str, *args: str, measure: bool = False) -> tuple[str, float, float, int]:
    """Run a `remedy` command; return its output, wall and CPU seconds and peak RSS (kB).

    CPU time (user + system) is the figure to read on a shared machine: wall time there
    measures the other sessions' load as much as the work.
    """
    command = [sys.executable, "-m", "remedy.cli", *args]
    if measure:
        command = ["/usr/bin/time", "-v", *command]  # run the script itself under `nice`
    started = time.perf_counter()
    done = subprocess.run(command, env=_env(url), capture_output=True, text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode != 0:
        raise RuntimeError(f"remedy {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    found = re.search(r"Maximum resident set size \(kbytes\): (\d+)", done.stderr)
    cpu = sum(
        float(t) for t in re.findall(r"(?:User|System) time \(seconds\): ([\d.]+)", done.stderr)
    )
    return done.stdout, seconds, cpu, int(found.group(1)) if found else 0


def copy_source(source: str, target: sa.Engine) -> int:
    """Copy the source's decisions with outcomes (candidates: the plans shown) into `target`.

    Outcomes carry their plan's priced items, feature row and cost as the service records them
    now (migrations 0010 and 0011), also when the source was filled before they were kept.
    """
    decisions, outcomes = Decision.__table__, Outcome.__table__
    with sa.create_engine(f"sqlite:///{source}").connect() as read, target.begin() as write:
        joined = decisions.join(outcomes, outcomes.c.decision_id == decisions.c.id)
        rows = read.execute(sa.select(decisions).select_from(joined)).mappings().all()
        light = []
        decided = {}
        for row in rows:
            shown = set(row["shown"])
            decided[row["id"]] = Decision(
                priced_items=row["priced_items"], incident=row["incident"], currency=row["currency"]
            )
            light.append(
                {**row, "candidates": [c for c in row["candidates"] if c["plan_id"] in shown]}
            )
        write.execute(decisions.insert(), light)
        ids = [row["id"] for row in rows]
        have = {c["name"] for c in sa.inspect(read).get_columns("outcomes")}
        columns = [c for c in outcomes.columns if c.name in have]
        found = read.execute(sa.select(*columns).where(outcomes.c.decision_id.in_(ids)))
        copied = []
        for outcome in found.mappings():
            decision = decided[outcome["decision_id"]]
            kept = {
                "plan_items": plan_items(decision.priced_items, outcome["plan_id"]),
                **training_row(decision, outcome["plan_id"]),
            }
            copied.append({**outcome, **{k: outcome.get(k) or v for k, v in kept.items()}})
        write.execute(outcomes.insert(), copied)
    return len(rows)


def _tile_sql(table: sa.Table, key: str, copies: int, span_days: int) -> str:
    """Return INSERT ... SELECT making `copies` copies of the seed rows with new ids and times."""
    columns = [c.name for c in table.columns]
    picked = []
    for name in columns:
        if name == key:
            picked.append(f"substr(md5(s.{key} || '-' || k), 1, 32)")
        elif name in ("created_at", "observed_at", "recorded_at", "responded_at", "fixed_at"):
            picked.append(f"s.{name} + make_interval(days => k * {span_days})")
        else:
            picked.append(f"s.{name}")
    seed = "seed_" + table.name
    # Table and column names come from the SQLAlchemy metadata, never from input.
    return (
        f"INSERT INTO {table.name} ({', '.join(columns)}) SELECT {', '.join(picked)} "  # noqa: S608
        f"FROM {seed} s CROSS JOIN generate_series(CAST(:first AS int), CAST(:last AS int)) k"
    )


def grow(target: sa.Engine, seed_rows: int, have: int, want: int) -> int:
    """Tile the seed decisions and outcomes until `want` decisions have outcomes."""
    first = have // seed_rows
    last = want // seed_rows - 1
    if last < first:
        return have
    with target.begin() as connection:
        for table, key in ((Decision.__table__, "id"), (Outcome.__table__, "decision_id")):
            connection.execute(
                sa.text(_tile_sql(table, key, last - first + 1, 30)),
                {"first": first, "last": last},
            )
        connection.execute(sa.text("ANALYZE decisions"))
        connection.execute(sa.text("ANALYZE outcomes"))
    return (last + 1) * seed_rows


def main(argv: list[str] | None = None) -> int:
    """Build the log at each size, time `remedy train` on it, print one row per size."""
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.retrain",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--source", required=True, help="SQLite file `remedy simulate` filled")
    parser.add_argument("--server", default="postgresql+psycopg://postgres@127.0.0.1:5432")
    parser.add_argument("--database", default="remedy_bench")
    parser.add_argument("--sizes", type=int, nargs="+", default=[100_000, 300_000, 1_000_000])
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    args = parser.parse_args(argv)
    admin = sa.create_engine(f"{args.server}/postgres", isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(sa.text(f'DROP DATABASE IF EXISTS "{args.database}"'))
        connection.execute(sa.text(f'CREATE DATABASE "{args.database}"'))
    url = f"{args.server}/{args.database}"
    try:
        _remedy(url, "init")
        target = sa.create_engine(url)
        seed_rows = copy_source(args.source, target)
        with target.begin() as connection:
            connection.execute(sa.text("CREATE TABLE seed_decisions AS SELECT * FROM decisions"))
            connection.execute(sa.text("CREATE TABLE seed_outcomes AS SELECT * FROM outcomes"))
            connection.execute(sa.text("DELETE FROM outcomes"))
            connection.execute(sa.text("DELETE FROM decisions"))
        print(f"{seed_rows} seed decisions; load average {os.getloadavg()[0]:.2f} at start")
        print(
            "| decisions | build s | `remedy train` wall s | CPU s | peak RSS MB | load average |"
        )
        print("|---|---|---|---|---|---|")
        have = 0
        for size in sorted(args.sizes):
            started = time.perf_counter()
            have = grow(target, seed_rows, have, size)
            built = time.perf_counter() - started
            output, seconds, cpu, rss = _remedy(
                url, "train", "--version", f"bench-{have}", "--no-progress", measure=True
            )
            print(
                f"| {have:,} | {built:.0f} | {seconds:.1f} | {cpu:.1f} | {rss / 1024:.0f} | "
                f"{os.getloadavg()[0]:.2f} |",
                flush=True,
            )
            print("   " + " / ".join(output.strip().splitlines()[:2]), flush=True)
        target.dispose()
    finally:
        if not args.keep:
            with admin.connect() as connection:
                connection.execute(
                    sa.text(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')
                )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
