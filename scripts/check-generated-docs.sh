#!/usr/bin/env bash
# Fails when a generated doc no longer matches what the code generates from its tables,
# so a changed option cannot leave its documentation behind. Part of the test command.
#
#   scripts/check-generated-docs.sh FERRY_BINARY DOC_TABLES_BINARY
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
FERRY=${1:?usage: check-generated-docs.sh FERRY_BINARY DOC_TABLES_BINARY}
DOC_TABLES=${2:?usage: check-generated-docs.sh FERRY_BINARY DOC_TABLES_BINARY}
plugins=$(mktemp)
options=$(mktemp)
trap 'rm -f "$plugins" "$options"' EXIT
FERRY=$FERRY DOC_TABLES=$DOC_TABLES OUT=$plugins OPTIONS_OUT=$options "$ROOT/scripts/gen-plugin-docs.sh"
stale=0
for pair in "plugins.md:$plugins" "options.md:$options"; do
  doc=${pair%%:*}
  if ! diff -u "$ROOT/docs/$doc" "${pair#*:}"; then
    echo "docs/$doc is stale: run scripts/gen-plugin-docs.sh and commit it" >&2
    stale=1
  fi
done
((stale == 0)) && echo "docs/plugins.md and docs/options.md are current"
exit $stale
