"""Where an in-process POST /v1/recommendations spends its time, part by part (issue 20).

    python benchmarks/post_split.py [--requests 400] [--postgres-url URL]

Runs `--requests` varied recommendations through Flask's test client against a throwaway
SQLite database (and PostgreSQL when a server URL is given) under cProfile, and prints each
part's share of the POST and its size against the pipeline (`engine.decide`, the ranking
`benchmarks/recommend.py` compares the POST with). cProfile inflates Python-heavy parts more
than numpy-heavy ones, so the shares are a map of the work, not a stopwatch; the wall-clock
ratio is `benchmarks/recommend.py`'s. What the map answers: how much of the POST is the stack
every authenticated write pays (Flask, the key, webargs, the commit) before anything of the
decision is done, against the 2x the issue asks for.
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import random
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks.recommend_data import (  # noqa: E402
    MODEL_DIR,
    prepare,
    random_incident,
    throwaway_postgres,
)
from remedy import create_app  # noqa: E402
from remedy.extensions import db  # noqa: E402

# (label, function as pstats names it: file suffix and function name), cumulative time each
PARTS = (
    ("the pipeline (engine.decide)", "remedy/decisions/engine.py", "decide"),
    (
        "deciding around it (budget fit, exploration, record)",
        "remedy/decisions/deciding.py",
        "decide",
    ),
    ("reading the headroom", "remedy/ledger/headroom.py", "read_headroom"),
    ("the presenter (facts said once)", "remedy/presenting/decisions.py", "present_decision"),
    ("dumping the answer", "remedy/api/dumping.py", "dumped_response"),
    ("parsing the body (webargs)", "webargs/core.py", "parse"),
    ("the commit (insert, rollup upsert)", "remedy/api/unit_of_work.py", "_commit_or_rollback"),
    ("the key (auth)", "remedy/api/auth.py", "authenticate"),
)


def cumulative(stats: pstats.Stats, suffix: str, name: str) -> float:
    """Cumulative seconds of the function `name` in a file ending with `suffix`."""
    total = 0.0
    for (path, _line, function), row in stats.stats.items():  # type: ignore[attr-defined]
        if function == name and path.endswith(suffix):
            total += row[3]
    return total


def split(url: str, requests: int) -> None:
    """Profile `requests` POSTs on `url` and print the parts."""
    key, _ = prepare(url, 0)
    app = create_app({"DATABASE_URL": url, "MODEL_DIR": MODEL_DIR, "RATE_LIMIT": ""})
    rng = random.Random(7)
    bodies = [random_incident(rng) for _ in range(requests + 20)]
    client = app.test_client()
    headers = {"Authorization": f"Bearer {key}"}
    for body in bodies[:20]:  # warm: the first requests load the engine and the model
        client.post("/v1/recommendations", json={"incident": body}, headers=headers)
    profile = cProfile.Profile()
    profile.enable()
    for body in bodies[20:]:
        response = client.post("/v1/recommendations", json={"incident": body}, headers=headers)
        if response.status_code != 201:
            raise SystemExit(f"unexpected {response.status_code}: {response.json}")
    profile.disable()
    db.database(app).dispose()
    stats = pstats.Stats(profile)
    whole = cumulative(stats, "werkzeug/test.py", "run_wsgi_app") / 2  # nested once
    engine = cumulative(stats, "remedy/decisions/engine.py", "decide")
    each = whole / requests * 1000
    print(f"\n{url.split(':')[0]}: {requests} POSTs, {each:.2f} ms each under cProfile")
    print("| part | share of the POST | x the pipeline |")
    print("|---|---:|---:|")
    named = 0.0
    for label, suffix, name in PARTS:
        seconds = cumulative(stats, suffix, name)
        if label.startswith("deciding around"):
            seconds -= engine  # the engine is inside deciding.decide
        named += seconds
        print(f"| {label} | {seconds / whole:.1%} | {seconds / engine:.2f} |")
    rest = whole - named
    rest_label = "the rest (Flask, WSGI, test client, service glue)"
    print(f"| {rest_label} | {rest / whole:.1%} | {rest / engine:.2f} |")
    floor = (
        sum(
            cumulative(stats, suffix, name)
            for label, suffix, name in PARTS
            if label.startswith(("parsing", "the commit", "the key"))
        )
        + rest
    )
    print(
        f"\nThe stack any authenticated write pays (parse, key, commit, Flask): "
        f"{floor / engine:.2f}x the pipeline; the POST is {whole / engine:.2f}x. "
        f"load average {os.getloadavg()}"
    )


def main() -> None:
    """Profile on SQLite, and on PostgreSQL when a server is named."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--postgres-url", default=os.environ.get("REMEDY_TEST_DATABASE_URL"))
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        split(f"sqlite:///{folder}/bench.sqlite", args.requests)
    if args.postgres_url:
        with throwaway_postgres(args.postgres_url) as url:
            split(url, args.requests)


if __name__ == "__main__":
    main()
