#!/usr/bin/env bash
# Runs every *.test.ts (or the test files given as arguments) with node:test under tsx from an
# explicit file list (Node 20 expands no globs and its discovery ignores .ts). Ends with node's
# TAP summary, then each file's wall time, slowest first, and the total; zero tests is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
if (($# > 0)); then
  files=("$@")
else
  mapfile -t files < <(find packages services $( [[ -d test ]] && echo test) -name '*.test.ts' -not -path '*/node_modules/*' | sort)
fi
if ((${#files[@]} == 0)); then
  echo "kzr: no test files found" >&2
  exit 1
fi
log=$(mktemp)
times=$(mktemp)
trap 'rm -f "$log" "$times"' EXIT
status=0
started=$(date +%s%N)
KZR_TEST_TIMES="$times" node --import tsx --import ./scripts/file-time.mjs --test --test-reporter=tap \
  --test-timeout=90000 "${files[@]}" | tee "$log" || status=$?
wall_ms=$((($(date +%s%N) - started) / 1000000))
# A file whose process did not exit normally (killed, crashed) has no time.
for file in "${files[@]}"; do
  file=$(realpath --relative-to=. "$file")
  cut -f2 "$times" | grep -qxF "$file" || printf -- '-\t%s\n' "$file" >>"$times"
done
echo "# wall time per test file, slowest first (s):"
sort -t $'\t' -k1,1nr "$times" | awk -F '\t' '{ printf "# %8s  %s\n", ($1 == "-" ? "-" : sprintf("%.1f", $1 / 1000)), $2 }'
awk -F '\t' -v wall="$wall_ms" '$1 != "-" { sum += $1; n++ }
  END { printf "# total: %.1f s over %d files, %.1f s wall\n", sum / 1000, n, wall / 1000 }' "$times"
if ! grep -Eq '^# pass [1-9]' "$log"; then
  echo "kzr: no test passed" >&2
  exit 1
fi
exit "$status"
