#!/usr/bin/env bash
# Mutation testing of the code that guards money: mutmut mutates one module at a time and runs
# that module's own tests against every mutant; a mutant the tests do not notice ("survived")
# is a change to the code that no test would catch. Prints the kill rate per module.
#
# Not part of .ci/run: it is CPU heavy (minutes per module). Run it by hand, niced:
#
#   .venv/bin/pip install -e '.[test,mutation]'
#   nice -n 15 bash benchmarks/mutation.sh                 # every module below
#   nice -n 15 bash benchmarks/mutation.sh money caps      # only these (names from the table)
#
# Each module runs in its own copy of the work tree under $MUTATION_DIR (default
# /tmp/remedy-mutation/<name>), so the checkout is never touched and runs do not share state;
# `cd $MUTATION_DIR/<name> && mutmut results` lists the survivors, `mutmut show NAME` one diff.
# Kill rate = (killed + timeout) / (all mutants - skipped); "no tests" mutants (lines no test of
# the module reaches) count as not killed.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
VENV="${VENV:-$ROOT/.venv}"
MUTATION_DIR="${MUTATION_DIR:-/tmp/remedy-mutation}"
CHILDREN="${MUTATION_CHILDREN:-2}"

# name | module to mutate | its own tests (space-separated)
MODULES=(
  "money|remedy/money.py|tests/test_money.py tests/test_money_exact.py"
  "periods|remedy/ledger/periods.py|tests/ledger/test_periods.py tests/ledger/test_pacing.py"
  "pacing|remedy/ledger/pacing.py|tests/ledger/test_pacing.py"
  "limits|remedy/ledger/limits.py|tests/ledger/test_limits_exact.py tests/ledger/test_limits.py"
  # The same module with only its example tests: minutes instead of the property test's hour
  # on a busy machine (run only when named: `bash benchmarks/mutation.sh limits-fast`).
  "limits-fast|remedy/ledger/limits.py|tests/ledger/test_limits_exact.py"
  "exploration|remedy/decisions/exploration.py|tests/decisions/test_exploration.py"
  "caps|remedy/decisions/caps.py|tests/decisions/test_caps.py tests/decisions/test_caps_exact.py"
  "book|remedy/ledger/book.py|tests/ledger/test_verify.py tests/services/test_lifecycle_service.py"
)

wanted=("$@")
summary=()

for row in "${MODULES[@]}"; do
  IFS='|' read -r name module tests <<<"$row"
  if ((${#wanted[@]})) && [[ ! " ${wanted[*]} " =~ " $name " ]]; then
    continue
  fi
  if ((${#wanted[@]} == 0)) && [[ $name == *-fast ]]; then
    continue
  fi
  work="$MUTATION_DIR/$name"
  rm -rf "$work"
  mkdir -p "$work"
  # A copy of the tracked (and modified) files, without the virtual environment or old runs.
  (cd "$ROOT" && git ls-files -co --exclude-standard -z | grep -zv '^benchmarks/out/' |
    xargs -0 tar -cf - 2>/dev/null) | tar -xf - -C "$work"
  test_args=$(printf '"%s", ' $tests)
  cat >>"$work/pyproject.toml" <<EOF

[tool.mutmut]
source_paths = ["remedy/"]
only_mutate = ["$module"]
also_copy = ["catalog/", "models/", "training/", "tests/"]
pytest_add_cli_args_test_selection = [${test_args%, }]
# One process per mutant already: no xdist workers inside, and warnings are not errors here.
pytest_add_cli_args = ["-o", "addopts=", "-p", "no:xdist", "-p", "no:cacheprovider", "-q"]
EOF
  echo "== $name: $module with $tests"
  start=$(date +%s)
  (cd "$work" && "$VENV/bin/mutmut" run --max-children "$CHILDREN" >"$work/run.log" 2>&1) || {
    echo "mutmut failed for $name; see $work/run.log"
    tail -20 "$work/run.log"
    summary+=("$name|$module|error|||||")
    continue
  }
  (cd "$work" && "$VENV/bin/mutmut" export-cicd-stats >/dev/null)
  seconds=$(($(date +%s) - start))
  line=$("$VENV/bin/python" - "$work/mutants/mutmut-cicd-stats.json" "$name" "$module" "$seconds" <<'PY'
import json, sys
stats = json.load(open(sys.argv[1]))
total = stats["total"] - stats.get("skipped", 0)
killed = stats["killed"] + stats.get("timeout", 0)
rate = 100.0 * killed / total if total else 100.0
print(f"{sys.argv[2]}|{sys.argv[3]}|{rate:.1f}%|{killed}|{total}|{stats['survived']}"
      f"|{stats.get('no_tests', 0)}|{sys.argv[4]}")
PY
)
  summary+=("$line")
  (cd "$work" && "$VENV/bin/mutmut" results 2>/dev/null | sed 's/^/   /') || true
done

echo
printf '%-12s %-34s %8s %7s %6s %9s %9s %6s\n' module file killed n total survived no_tests secs
for line in "${summary[@]}"; do
  IFS='|' read -r name module rate killed total survived none seconds <<<"$line"
  printf '%-12s %-34s %8s %7s %6s %9s %9s %6s\n' "$name" "$module" "$rate" "$killed" "$total" \
    "$survived" "$none" "$seconds"
done
