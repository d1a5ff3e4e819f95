#!/usr/bin/env bash
# `buf breaking` of proto/ (working tree, uncommitted changes included) against the previous
# commit's protos, with the rules of proto/buf.yaml; `npm run lint` runs it. Where there is no
# previous commit to compare with (not a git checkout, a shallow clone without the parent, proto/
# new in the last commit) it prints why and passes.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
against=HEAD~1
skip() {
  echo "kzr: buf breaking skipped: $1" >&2
  exit 0
}
[[ "$(git rev-parse --show-toplevel 2>/dev/null)" == "$(pwd -P)" ]] || skip "not a git checkout"
git rev-parse -q --verify "$against^{commit}" >/dev/null || skip "no commit before HEAD (a shallow clone?)"
git cat-file -e "$against:proto/buf.yaml" 2>/dev/null || skip "$against has no proto/buf.yaml"
previous=$(mktemp -d)
trap 'rm -rf "$previous"' EXIT
git archive "$against" proto | tar -x -C "$previous"
buf breaking proto --against "$previous/proto"
