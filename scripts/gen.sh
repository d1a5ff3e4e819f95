#!/usr/bin/env bash
# Generates packages/api/src/generated from proto/ with buf + ts-proto (no protoc needed).
# The output is not committed; `npm test` and `npm start` run this first.
set -euo pipefail
cd "$(dirname "$0")/.."
export PATH="$PWD/node_modules/.bin:$PATH"
out=packages/api/src/generated
stamp="$out/.proto-hash"
hash=$( (cat proto/buf.gen.yaml; find proto -name '*.proto' | sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [[ -f "$stamp" && "$(cat "$stamp")" == "$hash" ]]; then
  exit 0
fi
rm -rf "$out"
buf generate --template proto/buf.gen.yaml
echo "$hash" > "$stamp"
