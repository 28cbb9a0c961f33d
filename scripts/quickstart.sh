#!/usr/bin/env bash
# The quick start: installs what is missing, builds ferry, and runs configs/quickstart/
# on the embedded broker: a folder of sample log files goes into Kafka and back out to
# files. Shows progress and ends with a summary.
#
#   scripts/quickstart.sh              install, build (release), run
#   scripts/quickstart.sh --no-build   use an existing build (FERRY_BUILD_DIR, default build/release)
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
BUILD=${FERRY_BUILD_DIR:-$ROOT/build/release}
# The embedded broker keeps only the newest ~5 MiB per partition: the sample stays
# well below that so a sink that joins its group late still sees every line.
FILES=${QUICKSTART_FILES:-10}
LINES=${QUICKSTART_LINES:-3000}

if [[ "${1:-}" != "--no-build" ]]; then
  "$ROOT/scripts/install-deps.sh" --build-only
  echo "==> building ferry (release)"
  cmake --preset release -S "$ROOT" >/dev/null
  cmake --build "$BUILD" --target ferry ferry_file
fi
FERRY=$BUILD/bin/ferry
[[ -x $FERRY ]] || { echo "no ferry binary at $FERRY; run without --no-build" >&2; exit 1; }

export QUICKSTART_DIR=${QUICKSTART_DIR:-$(mktemp -d /tmp/ferry-quickstart.XXXXXX)}
mkdir -p "$QUICKSTART_DIR"/{in,out,done}
echo "==> writing $FILES sample files of $LINES lines to $QUICKSTART_DIR/in"
python3 - "$QUICKSTART_DIR/in" "$FILES" "$LINES" <<'PY'
import random, sys
out, files, lines = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
rnd = random.Random(42)
paths = ["/", "/login", "/api/orders", "/api/orders/42", "/static/app.js", "/health"]
for f in range(files):
    with open(f"{out}/access-{f:02d}.log", "w") as fh:
        for i in range(lines):
            ip = ".".join(str(rnd.randint(1, 254)) for _ in range(4))
            fh.write(f'{ip} - - [22/Nov/2026:10:{i // 600 % 60:02d}:{i % 60:02d} +0000] '
                     f'"GET {rnd.choice(paths)} HTTP/1.1" {rnd.choice([200, 200, 200, 404, 500])} '
                     f'{rnd.randint(100, 90000)} file={f} line={i + 1}\n')
PY
in_bytes=$(cat "$QUICKSTART_DIR"/in/*.log | wc -c)
total=$((FILES * LINES))

echo "==> starting ferry (embedded broker; see the warning it logs)"
"$FERRY" validate -c "$ROOT/configs/quickstart/ferry.toml"
start=$(date +%s.%N)
"$FERRY" run -c "$ROOT/configs/quickstart/ferry.toml" 2>"$QUICKSTART_DIR/ferry.log" &
pid=$!
trap 'kill $pid 2>/dev/null || true' EXIT

count_out() { { cat "$QUICKSTART_DIR"/out/*.log 2>/dev/null || true; } | wc -l; }
deadline=$((SECONDS + 300))
while :; do
  done_files=$(ls "$QUICKSTART_DIR/done" | wc -l)
  out_lines=$(count_out)
  progress=$(printf '    delivered files %3d/%d   complete files written back %3d/%d' "$done_files" "$FILES" "$(ls "$QUICKSTART_DIR/out" | wc -l)" "$FILES")
  if [[ -t 1 ]]; then printf '\r%s' "$progress"
  elif [[ $progress != "${last_progress:-}" ]]; then echo "$progress"; last_progress=$progress; fi
  if ((done_files == FILES && out_lines >= total)); then break; fi
  if ! kill -0 $pid 2>/dev/null; then echo; echo "ferry exited early:" >&2; tail -20 "$QUICKSTART_DIR/ferry.log" >&2; exit 2; fi
  if ((SECONDS > deadline)); then echo; echo "timed out; log: $QUICKSTART_DIR/ferry.log" >&2; exit 2; fi
  sleep 0.5
done
echo
completed_spans() {
  { "$FERRY" spans list --state completed -c "$ROOT/configs/quickstart/ferry.toml" 2>/dev/null ||
    true; } | tail -n +2 | wc -l
}
for _ in $(seq 1 60); do  # the sink's commit follows the last file by a moment
  spans=$(completed_spans)
  ((spans >= FILES)) && break
  sleep 0.5
done
kill -TERM $pid
wait $pid
trap - EXIT
elapsed=$(python3 -c "import time;print(f'{time.time()-$start:.2f}')")

# Every file must have made the round trip byte for byte.
if diff -r "$QUICKSTART_DIR/done" "$QUICKSTART_DIR/out" >/dev/null; then
  verdict="every line arrived exactly once, every file byte-identical"
else
  echo "MISMATCH between input and output; see $QUICKSTART_DIR" >&2
  exit 2
fi
out_bytes=$(cat "$QUICKSTART_DIR"/out/*.log | wc -c)
echo "==> quick start summary"
printf '    files:  %d read, moved to done/ after delivery\n' "$FILES"
printf '    lines:  %d in, %d out (%s)\n' "$total" "$(count_out)" "$verdict"
printf '    bytes:  %d in, %d out\n' "$in_bytes" "$out_bytes"
printf '    spans:  %d of %d files reported completed by the sink (ferry spans list)\n' "$spans" "$FILES"
printf '    time:   %s s (%s lines/s through Kafka and back)\n' "$elapsed" \
  "$(python3 -c "print(int($total/$elapsed))")"
echo "    files in $QUICKSTART_DIR/{done,out}, log in $QUICKSTART_DIR/ferry.log"
