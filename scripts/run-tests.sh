#!/usr/bin/env bash
# Runs every *.test.ts with node:test under tsx from an explicit file list (Node 20 expands no
# globs and its discovery ignores .ts). Ends with node's TAP summary; zero tests is a failure.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find packages services $( [[ -d test ]] && echo test) -name '*.test.ts' -not -path '*/node_modules/*' | sort)
if ((${#files[@]} == 0)); then
  echo "kzr: no test files found" >&2
  exit 1
fi
log=$(mktemp)
trap 'rm -f "$log"' EXIT
status=0
node --import tsx --test --test-reporter=tap --test-timeout=90000 "${files[@]}" | tee "$log" || status=$?
if ! grep -Eq '^# pass [1-9]' "$log"; then
  echo "kzr: no test passed" >&2
  exit 1
fi
exit "$status"
