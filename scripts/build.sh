#!/usr/bin/env bash
# `tsc --build` (incremental) of every workspace into its dist/, then the stamp packages/cli/bin/kzr.js
# reads to decide that dist/ is current: written only after a successful build, with the time the
# build started as its mtime, so a source saved while tsc ran still counts as newer than the build.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
started=$(date +%s.%N)
tsc --build
touch -d "@$started" packages/cli/dist/.kzr-build
