#!/usr/bin/env bash
# Runs every *.test.ts (or the test files given as arguments) with node:test under tsx from an
# explicit file list (Node 20 expands no globs and its discovery ignores .ts). Two tiers:
# - fast: every *.test.ts, at most 90 s per file;
# - slow: *.slow.test.ts (whole runs, image builds), at most 10 min per file, run when CI=true or
#   KZR_TEST_SLOW=1 (or when named as arguments), after the fast tier.
# Each tier ends with node's TAP summary, then each file's wall time, slowest first, and the
# tier's total; zero tests passed is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# > 0)); then
  files=("$@")
  slow_tier=1
else
  mapfile -t files < <(find packages services $( [[ -d test ]] && echo test) -name '*.test.ts' -not -path '*/node_modules/*' | sort)
  slow_tier=0
  [[ "${CI:-}" == "true" || "${KZR_TEST_SLOW:-}" == "1" ]] && slow_tier=1
fi
fast=()
slow=()
for file in "${files[@]}"; do
  if [[ "$file" == *.slow.test.ts ]]; then slow+=("$file"); else fast+=("$file"); fi
done
if ((${#fast[@]} + ${#slow[@]} == 0)); then
  echo "kzr: no test files found" >&2
  exit 1
fi
log=$(mktemp)
times=$(mktemp)
trap 'rm -f "$log" "$times"' EXIT
status=0

# run_tier <name> <per-file timeout ms> <files...>
run_tier() {
  local name=$1 timeout_ms=$2
  shift 2
  : >"$times"
  local started
  started=$(date +%s%N)
  KZR_TEST_TIMES="$times" node --import tsx --import ./scripts/file-time.mjs --test --test-reporter=tap \
    --test-timeout="$timeout_ms" "$@" | tee -a "$log" || status=$?
  local wall_ms=$((($(date +%s%N) - started) / 1000000))
  # A file whose process did not exit normally (killed, crashed) has no time.
  for file in "$@"; do
    file=$(realpath --relative-to=. "$file")
    cut -f2 "$times" | grep -qxF "$file" || printf -- '-\t%s\n' "$file" >>"$times"
  done
  echo "# $name tier: wall time per test file, slowest first (s):"
  sort -t $'\t' -k1,1nr "$times" | awk -F '\t' '{ printf "# %8s  %s\n", ($1 == "-" ? "-" : sprintf("%.1f", $1 / 1000)), $2 }'
  awk -F '\t' -v wall="$wall_ms" -v name="$name" '$1 != "-" { sum += $1; n++ }
    END { printf "# %s tier total: %.1f s over %d files, %.1f s wall\n", name, sum / 1000, n, wall / 1000 }' "$times"
}

((${#fast[@]} > 0)) && run_tier fast 90000 "${fast[@]}"
if ((${#slow[@]} > 0)); then
  if ((slow_tier)); then
    run_tier slow 600000 "${slow[@]}"
  else
    echo "# slow tier: ${#slow[@]} files skipped (they run when CI=true or KZR_TEST_SLOW=1)"
  fi
fi
if ! grep -Eq '^# pass [1-9]' "$log"; then
  echo "kzr: no test passed" >&2
  exit 1
fi
exit "$status"
