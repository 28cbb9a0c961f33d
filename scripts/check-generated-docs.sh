#!/usr/bin/env bash
# Fails when a generated doc no longer matches what the code generates from its tables,
# so a changed option cannot leave its documentation behind. Part of the test command.
#
#   scripts/check-generated-docs.sh FERRY_BINARY
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${1:?usage: check-generated-docs.sh FERRY_BINARY}
fresh=$(mktemp)
trap 'rm -f "$fresh"' EXIT
FERRY=$FERRY OUT=$fresh "$ROOT/scripts/gen-plugin-docs.sh"
if ! diff -u "$ROOT/docs/plugins.md" "$fresh"; then
  echo "docs/plugins.md is stale: run scripts/gen-plugin-docs.sh and commit it" >&2
  exit 1
fi
echo "docs/plugins.md is current"
