#!/usr/bin/env bash
# scripts/check-includes.py on the real tree passes, and on a copy with one include
# against each rule it fails, naming each: the check can fail.
set -euo pipefail
SRC=$(cd "$(dirname "$0")/../.." && pwd)
CHECK=$SRC/scripts/check-includes.py
"$CHECK" "$SRC"

T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cp -r "$SRC/host" "$SRC/sdk" "$SRC/plugins" "$T/"
echo '#include "runtime/worker.hpp"' >>"$T/host/config/options.cpp"      # upward in host/
echo '#include "config/options.hpp"' >>"$T/host/config/units.cpp"        # same folder: fine
echo '#include <nlohmann/json.hpp>' >>"$T/sdk/ferry/status.hpp"          # SDK: a library
echo '#include "common/base64.hpp"' >>"$T/plugins/file/file_sink.cpp"    # plugin: host code
echo '#include "odbc_handles.hpp"' >>"$T/plugins/file/file_source.cpp"   # another plugin's
mkdir "$T/host/newfolder" && echo '// x' >"$T/host/newfolder/x.cpp"      # not on a layer
if out=$("$CHECK" "$T"); then
  echo "FAIL: the check passed a tree with bad includes"; exit 1
fi
for want in "host/config/options.cpp" "sdk/ferry/status.hpp" "plugins/file/file_sink.cpp" \
            "plugins/file/file_source.cpp" "host/newfolder/" "5 include(s)"; do
  grep -qF "$want" <<<"$out" || { echo "FAIL: not reported: $want"; echo "$out"; exit 1; }
done
if grep -qF "host/config/units.cpp" <<<"$out"; then echo "FAIL: same-folder include reported"; exit 1; fi
echo "check-includes catches each rule"
