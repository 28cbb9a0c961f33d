#!/usr/bin/env python3
"""What spans cost and how quickly they report, on a real Kafka broker, in one run.

    bench/span_bench.py [--lines 1000000] [--runs 3] [--files 200] [--bootstrap HOST:PORT]
                        [--line-bytes 100] [--compression none|lz4|zstd|...]
                        [--overhead-only | --latency-only]

Overhead: file-source (batch mode) sends the same file of 100-byte lines with spans
off and with spans on, alternating, and prints the median throughput ratio.
Target: spans on is at most 3 % slower. Each run's topic is created beforehand, so the
~1 s topic auto-creation does not dilute the difference. References in the same run,
to say where the difference comes from:
  - spans off plus two static headers of the span tags' size (`insert_header`): the
    headers without span bookkeeping;
  - spans off with every line TAG_WIRE_BYTES longer: the tags' bytes without headers
    (librdkafka sends one request at a time per partition with idempotence on, each at
    most batch.size, so bytes per record bound records per second);
  - `kcat -P` without and with the same two headers (`-H`): what they cost librdkafka's
    own command-line producer.
`--compression` applies to ferry and kcat alike.

Latency: `--files` files of 500 lines go through file-source -> Kafka -> file-sink with
spans on (one span per file).
  - span.delivered: the broker's append time of the event (the span topic uses
    LogAppendTime) minus `acked_at`, the time ferry received the span's last delivery
    report. Target: p99 <= 50 ms.
  - span.completed (group ferry-sink): the event's timestamp minus the time the sink
    logged the offset commit that covered the span's last record. Target: p99 <= 1 s.
Both sides of each difference are read from the same clock (this machine).
Set FERRY_BENCH_KEEP=1 to keep the work files (logs) after a successful run.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import datetime, timezone

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import file_throughput as ft  # noqa: E402

ROOT = ft.ROOT


# Two headers of the same size as the span tags, added by a transform: separates what
# the header bytes cost from what span bookkeeping costs.
SAME_SIZE_HEADERS = ('[[transforms]]\ntype = "insert_header"\nheader = "ferry.span"\n'
                     'value = "01a2022aebc5fb688ed66ff98a1bbc7e"\n'
                     '[[transforms]]\ntype = "insert_header"\nheader = "ferry.span.seq"\nvalue = "123456"\n')


# What the two span tags add to a record on the wire: per header a varint key length, the
# key, a varint value length and the value ("ferry.span": 32-character id; "ferry.span.seq":
# 1-7 digits, ~6 on average over 1,000,000 records).
TAG_WIRE_BYTES = (1 + len("ferry.span") + 1 + 32) + (1 + len("ferry.span.seq") + 1 + 6)


def kcat_produce(bootstrap, data, topic, headers, compression):
    """The reference: kcat -P with ferry's acks and idempotence, optionally with two
    static headers of the same size as the span tags on every record."""
    ft.create_topic(bootstrap, topic)
    ft.settle()
    extra = ["-H", "ferry.span=01a2022aebc5fb688ed66ff98a1bbc7e", "-H", "ferry.span.seq=123456"]
    with open(data, "rb") as stdin:
        return ft.run_measured(["kcat", "-P", "-b", bootstrap, "-t", topic, "-X", "acks=all",
                                "-X", "enable.idempotence=true", "-X", "linger.ms=5",
                                "-X", f"compression.codec={compression}"]
                               + (extra if headers else []), stdin=stdin)


def produce(ferry, bootstrap, data, topic, work, spans, compression):
    """spans: False (off), True (on), "headers" (off, plus two same-size headers) or
    "bytes" (off; `data` then holds the lines lengthened by the tags' wire size)."""
    ft.create_topic(bootstrap, topic)
    d = tempfile.mkdtemp(dir=work)
    os.makedirs(f"{d}/in")
    os.link(data, f"{d}/in/data.txt")
    ft.settle()
    with open(f"{d}/ferry.toml", "w") as f:
        f.write(f'[host]\nstate_dir = "{d}/state"\noffset_flush_interval = "50ms"\n'
                f'[kafka]\n"bootstrap.servers" = "{bootstrap}"\n"compression.type" = "{compression}"\n'
                f'[spans]\ntopic = "{topic}.spans"\ntrack = false\n[rest]\nenabled = false\n')
    with open(f"{d}/src.toml", "w") as f:
        f.write(f'plugin = "file-source"\ntopic = "{topic}"\n[config]\npaths = ["{d}/in/*.txt"]\n'
                f'mode = "batch"\non_done = "move:{d}/done"\nscan_interval = "10ms"\n'
                f'[span]\nenabled = {"true" if spans is True else "false"}\n'
                + (SAME_SIZE_HEADERS if spans == "headers" else ""))
    moved = ft.MovedInto(f"{d}/done", "data.txt")
    try:
        return ft.run_measured([ferry, "run", "-c", f"{d}/ferry.toml", f"{d}/src.toml"], done=moved,
                               log=f"{d}/ferry.log")
    finally:
        moved.close()


def ms(iso):
    return datetime.strptime(iso, "%Y-%m-%dT%H:%M:%S.%fZ").replace(tzinfo=timezone.utc).timestamp() * 1000


def percentile(values, p):
    v = sorted(values)
    return v[min(len(v) - 1, int(round(p / 100 * (len(v) - 1))))]


def latencies(ferry, bootstrap, work, files):
    d = tempfile.mkdtemp(dir=work)
    os.makedirs(f"{d}/in")
    for i in range(files):
        with open(f"{d}/in/f{i:04d}.txt", "w") as f:
            f.write("".join(f"file {i:04d} line {j:06d}\n" for j in range(500)))
    stamp = int(time.time())
    topic, span_topic = f"bench.spans.{stamp}", f"bench.spans.{stamp}.events"
    with open(f"{d}/ferry.toml", "w") as f:
        f.write(f'[host]\nstate_dir = "{d}/state"\noffset_flush_interval = "100ms"\nlog_level = "debug"\n'
                f'[kafka]\n"bootstrap.servers" = "{bootstrap}"\n[spans]\ntopic = "{span_topic}"\n'
                f'[rest]\nenabled = false\n')
    with open(f"{d}/src.toml", "w") as f:
        f.write(f'plugin = "file-source"\ntopic = "{topic}"\n[config]\npaths = ["{d}/in/*.txt"]\n'
                f'mode = "batch"\nscan_interval = "50ms"\n[span]\nenabled = true\n')
    with open(f"{d}/sink.toml", "w") as f:
        f.write(f'plugin = "file-sink"\ntopics = ["{topic}"]\n[config]\npath = "{d}/out/{{partition}}.txt"\n')
    # Create the data topic first: the first produce to a missing topic waits ~1 s for
    # auto-creation, which would be billed to the first spans.
    subprocess.run(["kcat", "-P", "-b", bootstrap, "-t", topic], input=b"warm-up\n", check=True)
    log = f"{d}/ferry.log"
    proc = subprocess.Popen([ferry, "run", "-c", f"{d}/ferry.toml", f"{d}/src.toml", f"{d}/sink.toml"],
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"), env={**os.environ, "TZ": "UTC"})
    events = []
    deadline = time.monotonic() + 180
    try:
        while time.monotonic() < deadline:
            out = subprocess.run(["kcat", "-C", "-b", bootstrap, "-t", span_topic, "-e", "-q", "-f", "%T %s\n"],
                                 capture_output=True, text=True).stdout
            events = []
            for line in out.splitlines():
                t, _, value = line.partition(" ")
                if value.startswith("{"):
                    events.append({**json.loads(value), "appended_ms": int(t)})
            if sum(1 for e in events if e["type"] == "span.completed") >= files:
                break
            time.sleep(0.5)
        else:
            raise RuntimeError(f"spans did not complete in 180 s; log {log}")
    finally:
        proc.terminate()
        proc.wait()

    commits = []  # (time ms, {(topic, partition): next offset})
    pat = re.compile(r"^(\S+) debug \[sink/\d+\] committed offsets:(.*)$")
    for line in open(log):
        m = pat.match(line.strip())
        if m:
            when = datetime.strptime(m.group(1).rstrip("Z"), "%Y-%m-%dT%H:%M:%S.%f").replace(tzinfo=timezone.utc).timestamp() * 1000
            offs = {}
            for item in m.group(2).split():
                tp, nxt = item.rsplit("=", 1)
                t, p = tp[:-1].rsplit("[", 1)
                offs[(t, int(p))] = int(nxt)
            commits.append((when, offs))

    delivered, completed = [], []
    committed = {}
    by_span = {}
    for e in events:
        by_span.setdefault(e["span"], {})[e["type"]] = e
    for span, ev in by_span.items():
        dl, cp = ev.get("span.delivered"), ev.get("span.completed")
        if not dl or not cp or not dl["offsets"]:
            continue
        delivered.append(dl["appended_ms"] - ms(dl["acked_at"]))
        need = {(t, int(p)): r[1] for t, parts in dl["offsets"].items() for p, r in parts.items()}
        committed = {}
        for when, offs in commits:
            committed.update(offs)
            if all(committed.get(tp, -1) > last_off for tp, last_off in need.items()):
                completed.append(ms(cp["at"]) - when)
                break
    return delivered, completed


def overhead(args, bootstrap, work):
    """Spans on against spans off and the references, alternating, same broker."""
    data = f"{work}/lines.txt"
    ft.write_lines(data, args.lines)
    data_long = f"{work}/lines-long.txt"
    # As many bytes per record as a line with its tags, but no headers.
    ft.write_lines(data_long, args.lines, line_bytes=ft.LINE_BYTES + TAG_WIRE_BYTES)
    stamp = int(time.time())
    print(f"span overhead: {args.lines:,} lines of {ft.LINE_BYTES} bytes, broker {bootstrap}, compression {args.compression}")
    ratios = []
    labels = {False: "spans off", True: "spans on", "headers": "off+2 headers",
              "bytes": f"off+{TAG_WIRE_BYTES} B", "kcat": "kcat", "kcat+h": "kcat+2 hdrs"}
    for run in range(args.runs):
        order = [False, "headers", "bytes", True, "kcat", "kcat+h"]
        if run % 2:
            order.reverse()
        secs = {}
        for v in order:
            topic = f"bench.so.{stamp}.{run}.{labels[v].replace(' ', '-').replace('+', '-')}"
            if v in ("kcat", "kcat+h"):
                secs[v], rss = kcat_produce(bootstrap, data, topic, v == "kcat+h", args.compression)
            else:
                secs[v], rss = produce(args.ferry, bootstrap, data_long if v == "bytes" else data,
                                       topic, work, v, args.compression)
            print(ft.row(labels[v], args.lines, secs[v], rss))
        ratios.append((secs[False] / secs[True], secs[False] / secs["headers"],
                       secs["kcat"] / secs["kcat+h"], secs[False] / secs["bytes"]))
    r, h, k, b = (statistics.median(x[i] for x in ratios) for i in range(4))
    print(f"  throughput spans on / off: median {r:.3f} (overhead {100 * (1 - r):.1f} %, target <= 3 %)")
    print(f"  throughput off + two same-size headers / off: median {h:.3f} "
          f"(two such headers without span bookkeeping)")
    print(f"  throughput off with lines {TAG_WIRE_BYTES} bytes longer / off: median {b:.3f} "
          f"(what the tags' bytes alone cost, without headers)")
    print(f"  reference: kcat with the same two headers / kcat: median {k:.3f} "
          f"(overhead {100 * (1 - k):.1f} %)")


def latency(args, bootstrap, work):
    print(f"span latency: {args.files} files of 500 lines, file-source -> Kafka -> file-sink")
    delivered, completed = latencies(args.ferry, bootstrap, work, args.files)
    for name, v, target in (("span.delivered after last record", delivered, 50),
                            ("span.completed after group commit", completed, 1000)):
        print(f"  {name:<36} n={len(v)} p50 {percentile(v, 50):.0f} ms  p99 {percentile(v, 99):.0f} ms"
              f"  max {max(v):.0f} ms  (target p99 <= {target} ms)")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=1_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--files", type=int, default=200)
    ap.add_argument("--line-bytes", type=int, default=ft.LINE_BYTES,
                    help="line length, newline included, for the overhead part")
    ap.add_argument("--bootstrap")
    ap.add_argument("--compression", default="none",
                    help="producer compression for ferry and kcat alike (none, lz4, zstd, ...)")
    ap.add_argument("--overhead-only", action="store_true", help="skip the latency part")
    ap.add_argument("--latency-only", action="store_true", help="skip the overhead part")
    ap.add_argument("--ferry", default=f"{ROOT}/build/release/bin/ferry")
    args = ap.parse_args()
    ft.LINE_BYTES = args.line_bytes
    ft.ensure_ferry(args.ferry)

    work = tempfile.mkdtemp(prefix="ferry-span-bench-")
    broker_dir = None
    try:
        bootstrap, broker_dir = ft.broker(args.bootstrap, work)
        if not args.latency_only:
            overhead(args, bootstrap, work)
        if not args.overhead_only:
            latency(args, bootstrap, work)
    except Exception:
        print(f"failed; work files kept in {work}", file=sys.stderr)
        work_keep = True
        raise
    finally:
        if broker_dir:
            subprocess.call([f"{ROOT}/scripts/kafka.sh", "stop", broker_dir])
        if not locals().get("work_keep") and not os.environ.get("FERRY_BENCH_KEEP"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
