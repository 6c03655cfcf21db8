"""Benchmark a partitioned what-if run by 1, 2 and 4 `remedy worker` processes.

    python benchmarks/whatif_partitions.py [--decisions 20000] [--partition 2500]
        [--workers 1,2,4] [--database-url URL]

Seeds N logged decisions over October 2026 as benchmarks/whatif.py does (the bundled model
promoted, a `default` pool per currency), then for each worker count queues one what-if job
(current vs a stricter default loss multiple) with `REMEDY_WHATIF_PARTITION_INCIDENTS` =
`--partition`, starts that many real `remedy worker` processes (one deciding process each) on
the same database, and times the job from queued to succeeded. Prints the wall clock, the
speed-up over one worker, the CPU seconds of the workers and the load average, and checks that
every run gave the same report. On a 2-core machine 4 workers cannot beat 2: the figure says
what the partitioning costs when workers outnumber cores; on hosts with more cores (or more
hosts on one PostgreSQL) it is how the replay scales.
"""

from __future__ import annotations

import argparse
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.whatif import END, START, seed  # noqa: E402
from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402
from remedy.services.jobs import JobQueue  # noqa: E402
from remedy.services.keys import Principal  # noqa: E402
from remedy.store.migrate import upgrade  # noqa: E402
from remedy.store.tables import Job  # noqa: E402
from remedy.whatif.job import KIND, ROLE, simulate_params  # noqa: E402
from tests.factories import default_document  # noqa: E402


def start_worker(url: str, workdir: Path, partition: int, name: str) -> subprocess.Popen:
    """One `remedy worker` on `url` (a 10 s lease), deciding in one process."""
    env = {
        **os.environ,
        "REMEDY_DATABASE_URL": url,
        "REMEDY_INSTANCE_PATH": str(workdir / "instance"),
        "REMEDY_MODEL_DIR": str(workdir / "models"),
        "REMEDY_WHATIF_PARTITION_INCIDENTS": str(partition),
        "REMEDY_LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "remedy.cli", "worker", "--nice", "0", "--lease", "10"]
    command += ["--poll", "0.2", "--processes", "1"]
    with open(workdir / f"{name}.log", "w") as log:
        return subprocess.Popen(command, env=env, stdout=log, stderr=subprocess.STDOUT)


def children_cpu() -> float:
    """CPU seconds of the child processes that have exited (the workers)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run(app, url: str, workdir: Path, workers: int, partition: int) -> tuple[float, float, dict]:  # type: ignore[no-untyped-def]
    """Queue one what-if, run it with `workers` workers; return wall, CPU and the result."""
    caps = default_document("caps")
    caps["incident_caps"]["default"]["loss_multiple"] = "1.5"
    with db.database(app).unit_of_work() as session:
        params = simulate_params(START, END, {"caps": caps}, None, None)
        job = JobQueue(session).enqueue(KIND, params, ROLE, Principal("bench", "finance", None))
        job_id = job.id
    cpu = children_cpu()
    started = time.perf_counter()
    processes = [start_worker(url, workdir, partition, f"w{workers}-{n}") for n in range(workers)]
    try:
        while True:
            with db.database(app).unit_of_work() as session:
                status, result, error = session.execute(
                    Job.__table__.select()
                    .with_only_columns(Job.status, Job.result, Job.error)
                    .where(Job.id == job_id)
                ).one()
            if status in ("succeeded", "failed"):
                break
            time.sleep(0.2)
        elapsed = time.perf_counter() - started
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=60)
    if status != "succeeded":
        raise SystemExit(f"the what-if failed: {error}")
    return elapsed, children_cpu() - cpu, result


def main() -> None:
    """Seed, then time the what-if with each worker count."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--decisions", type=int, default=20000)
    parser.add_argument("--partition", type=int, default=2500)
    parser.add_argument("--workers", default="1,2,4")
    parser.add_argument("--database-url", default=None)
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="remedy-bench-partitions-"))
    url = args.database_url or f"sqlite:///{workdir / 'whatif.sqlite'}"
    upgrade(url)
    app = create_app({"DATABASE_URL": url, "MODEL_DIR": str(workdir / "models")})
    started = time.perf_counter()
    seed(app, args.decisions)
    print(f"seeded {args.decisions} decisions in {time.perf_counter() - started:.1f} s")
    counts = [int(n) for n in args.workers.split(",")]
    parts = -(-args.decisions // args.partition)
    print(f"{parts} partitions of {args.partition}; current + proposed settings")
    first = None
    baseline = None
    for workers in counts:
        load = ", ".join(f"{v:.2f}" for v in os.getloadavg())
        elapsed, cpu, result = run(app, url, workdir, workers, args.partition)
        baseline = baseline or elapsed * counts[0]
        first = first or result
        same = "same report" if result == first else "A DIFFERENT REPORT"
        print(
            f"{workers} worker(s): {elapsed:.1f} s wall ({args.decisions / elapsed:.0f} "
            f"incidents/s), speed-up {baseline / elapsed:.2f}x over one worker, workers' CPU "
            f"{cpu:.1f} s; load average before {load}; {same}"
        )
    db.database(app).dispose()


if __name__ == "__main__":
    main()
