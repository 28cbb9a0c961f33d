#!/usr/bin/env python3
"""ferry's file connectors against kcat on the same real Kafka broker, in one run.

    bench/file_throughput.py [--lines 2000000] [--runs 3] [--bootstrap HOST:PORT]

Produce: file-source (batch mode) sends a file of 100-byte lines; the reference is
`kcat -P < file` with the same acks=all and idempotence, sending the same records:
with file-source's default `key = "path"` every line is keyed by the file's path, so
kcat reads "<path>\t<line>" lines and splits them with -K (`--key none`: no keys).
ferry's time runs from process start until the file is moved to done/, i.e. every line
acknowledged by Kafka and the offset durably committed; kcat's until it exits (it waits
for every delivery report). Each produce topic is created (auto-created by a metadata
request) before its clock starts.

Consume: file-sink writes the topic back to a file (fsync before each offset commit);
the reference is `kcat -C -e > file`. ferry's time runs from process start until the
output file holds every byte; it includes joining a consumer group, which kcat -C
(no group) does not do.

Prints lines/s, MB/s and peak RSS of each run and the median ratio ferry/kcat.
Without --bootstrap it starts its own broker with scripts/kafka.sh (and removes it with
its data afterwards). With --bootstrap the topics stay: ~400 MB per run of 2,000,000
lines, so a long session of runs against one scratch broker can fill its disk.
"""
import argparse
import ctypes
import os
import select
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
LINE_BYTES = 100


class MovedInto:
    """Blocks until a file named `name` is moved or created in `directory` (inotify).
    ferry's produce run ends when its file lands in done/: waiting on a 2 ms poll loop
    instead put a busy Python process next to ferry on this 2-core machine, a cost the
    kcat run (waited for with wait()) never had."""
    IN_MOVED_TO, IN_CREATE = 0x80, 0x100

    def __init__(self, directory, name):
        self.libc = ctypes.CDLL(None, use_errno=True)
        self.fd = self.libc.inotify_init1(os.O_CLOEXEC)
        if self.fd < 0:
            raise OSError(ctypes.get_errno(), "inotify_init1")
        os.makedirs(directory, exist_ok=True)
        if self.libc.inotify_add_watch(self.fd, directory.encode(),
                                       self.IN_MOVED_TO | self.IN_CREATE) < 0:
            raise OSError(ctypes.get_errno(), f"inotify_add_watch {directory}")
        self.path = os.path.join(directory, name)

    def __call__(self, timeout):
        """True once the file is there; waits at most `timeout` seconds for an event."""
        if os.path.exists(self.path):
            return True
        if select.select([self.fd], [], [], timeout)[0]:
            os.read(self.fd, 65536)
        return os.path.exists(self.path)

    def close(self):
        os.close(self.fd)


def run_measured(argv, stdin=None, stdout=None, done=None, log=None):
    """Runs argv; returns (seconds, peak RSS in MB). With `done`, polls it and stops the
    process with SIGTERM once it returns True (the measured time ends at `done`)."""
    # GNU time reports the peak RSS of the measured program alone (a child forked from
    # this Python process would inherit Python's high-water mark in ru_maxrss).
    # For a process we stop ourselves, /proc's VmHWM is read just before stopping it.
    rss_file = tempfile.mktemp(prefix="rss-")
    if done is None:
        argv = ["/usr/bin/time", "-f", "%M", "-o", rss_file] + argv
    start = time.monotonic()
    proc = subprocess.Popen(argv, stdin=stdin, stdout=stdout or subprocess.DEVNULL,
                            stderr=open(log or os.devnull, "w"))
    elapsed = None
    if done is not None:
        deadline = start + 120
        # A MovedInto blocks until its event; anything else is polled every 2 ms (a
        # coarser poll would bill ferry for up to its period).
        wait = done if isinstance(done, MovedInto) else lambda t: done() or time.sleep(0.002)
        while not wait(0.1):
            if proc.poll() is not None:
                raise RuntimeError(f"{argv[0]} exited early with {proc.returncode}")
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(f"{argv[0]} did not finish in 120 s; log: {log}")
        elapsed = time.monotonic() - start
        with open(f"/proc/{proc.pid}/status") as f:
            hwm_kb = next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
        with open(rss_file, "w") as f:
            f.write(str(hwm_kb))
        proc.send_signal(signal.SIGTERM)
    code = proc.wait()
    if elapsed is None:
        elapsed = time.monotonic() - start
    if code != 0:
        raise RuntimeError(f"{argv} exited with {code}")
    with open(rss_file) as f:
        rss_kb = int(f.read().split()[-1])
    os.unlink(rss_file)
    return elapsed, rss_kb / 1024.0


def ensure_ferry(path, targets=("ferry", "ferry_file")):
    """Brings the release build's `targets` up to date (configuring it, and installing
    what is missing, the first time) when `path` is that build's ferry; any other
    `path` is used as it is."""
    if os.path.realpath(path) != os.path.realpath(f"{ROOT}/build/release/bin/ferry"):
        if not os.path.exists(path):
            raise SystemExit(f"{path}: no such ferry")
        return
    if not os.path.exists(f"{ROOT}/build/release/CMakeCache.txt"):
        subprocess.check_call([f"{ROOT}/scripts/install-deps.sh"])
        subprocess.check_call(["cmake", "--preset", "release"], cwd=ROOT, stdout=subprocess.DEVNULL)
    subprocess.check_call(["cmake", "--build", "build/release", "--target", *targets], cwd=ROOT,
                          stdout=subprocess.DEVNULL)


def broker(bootstrap, work):
    """(bootstrap, broker dir to stop or None): the given broker, or a new one in `work`."""
    if bootstrap:
        return bootstrap, None
    broker_dir = f"{work}/kafka"
    subprocess.check_call([f"{ROOT}/scripts/kafka.sh", "start", broker_dir], stdout=subprocess.DEVNULL)
    return open(f"{broker_dir}/bootstrap").read().strip(), broker_dir


def write_lines(path, n, key="", line_bytes=None):
    """n lines of `line_bytes` (default LINE_BYTES, newline included), each prefixed by
    `key` and a tab if set."""
    filler = "x" * ((line_bytes or LINE_BYTES) - 11)
    prefix = f"{key}\t" if key else ""
    with open(path, "w") as f:
        for start in range(0, n, 100_000):
            f.write("".join(f"{prefix}{i:010d}{filler}\n" for i in range(start, min(n, start + 100_000))))


def create_topic(bootstrap, topic):
    """Has the broker auto-create `topic` (a metadata request for it does) and waits until
    it has partitions, so neither tool's clock includes the ~1 s a producer otherwise
    waits for a new topic, and the topic holds only what is measured."""
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        out = subprocess.run(["kcat", "-L", "-b", bootstrap, "-t", topic], capture_output=True,
                             text=True).stdout
        if re.search(r'with [1-9]\d* partitions:', out) and "Unknown topic" not in out:
            return
        time.sleep(0.1)
    raise RuntimeError(f"topic {topic} was not created in 30 s")


def settle():
    """Lets the broker and the page cache finish writing the previous run's data, so
    one tool's background I/O is not billed to the next."""
    os.sync()
    time.sleep(3)


def ferry_produce(ferry, bootstrap, data, topic, work, key):
    d = tempfile.mkdtemp(dir=work)
    os.makedirs(f"{d}/in")
    os.link(data, f"{d}/in/data.txt")  # same inode; batch mode moves the link, not the data
    create_topic(bootstrap, topic)
    settle()
    with open(f"{d}/ferry.toml", "w") as f:
        f.write(f'[host]\nstate_dir = "{d}/state"\noffset_flush_interval = "50ms"\n'
                f'[kafka]\n"bootstrap.servers" = "{bootstrap}"\n')
    with open(f"{d}/src.toml", "w") as f:
        f.write(f'plugin = "file-source"\ntopic = "{topic}"\n[config]\npaths = ["{d}/in/*.txt"]\n'
                f'mode = "batch"\non_done = "move:{d}/done"\nscan_interval = "10ms"\nkey = "{key}"\n')
    moved = MovedInto(f"{d}/done", "data.txt")
    try:
        return run_measured([ferry, "run", "-c", f"{d}/ferry.toml", f"{d}/src.toml"], done=moved,
                            log=f"{d}/ferry.log")
    finally:
        moved.close()


def kcat_produce(bootstrap, data, topic, keyed):
    create_topic(bootstrap, topic)
    settle()
    with open(data, "rb") as stdin:
        return run_measured(["kcat", "-P", "-b", bootstrap, "-t", topic, "-X", "acks=all",
                             "-X", "enable.idempotence=true"] + (["-K", "\t"] if keyed else []),
                            stdin=stdin)


def ferry_consume(ferry, bootstrap, topic, size, work, run):
    settle()
    d = tempfile.mkdtemp(dir=work)
    out = f"{d}/out.txt"
    with open(f"{d}/ferry.toml", "w") as f:
        f.write(f'[host]\nstate_dir = "{d}/state"\n[kafka]\n"bootstrap.servers" = "{bootstrap}"\n')
    with open(f"{d}/sink-{run}.toml", "w") as f:
        f.write(f'plugin = "file-sink"\ntopics = ["{topic}"]\n[config]\npath = "{out}"\n')
    return run_measured([ferry, "run", "-c", f"{d}/ferry.toml", f"{d}/sink-{run}.toml"],
                        done=lambda: os.path.exists(out) and os.path.getsize(out) >= size,
                        log=f"{d}/ferry.log")


def kcat_consume(bootstrap, topic, work):
    settle()
    with open(f"{work}/kcat-out.txt", "wb") as out:
        return run_measured(["kcat", "-C", "-b", bootstrap, "-t", topic, "-o", "beginning", "-e",
                             "-q", "-f", "%s\n"], stdout=out)


def row(name, lines, secs, rss):
    return (f"  {name:<12} {lines / secs:>12,.0f} lines/s {lines * LINE_BYTES / secs / 1e6:>8.1f} MB/s"
            f" {secs:>7.2f} s  peak RSS {rss:>6.1f} MB")


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--lines", type=int, default=2_000_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bootstrap")
    ap.add_argument("--ferry", default=f"{ROOT}/build/release/bin/ferry")
    ap.add_argument("--key", choices=["path", "none"], default="path",
                    help="file-source record key (default path, as file-source's default; kcat -P gets the same keys)")
    args = ap.parse_args()

    ensure_ferry(args.ferry)

    work = tempfile.mkdtemp(prefix="ferry-bench-")
    broker_dir = None
    try:
        bootstrap, broker_dir = broker(args.bootstrap, work)
        data = f"{work}/lines.txt"
        write_lines(data, args.lines)
        kcat_data = data
        if args.key == "path":
            # The key ferry gives each line: its path, in a directory named like ferry's.
            kcat_data = f"{work}/keyed.txt"
            write_lines(kcat_data, args.lines, key=f"{tempfile.mkdtemp(dir=work)}/in/data.txt")
        size = os.path.getsize(data)
        stamp = int(time.time())
        print(f"{args.lines:,} lines of {LINE_BYTES} bytes ({size / 1e6:.0f} MB), broker {bootstrap}, "
              f"{os.cpu_count()} cores, file-source key = {args.key}")

        produce, consume = {"ferry": [], "kcat": []}, {"ferry": [], "kcat": []}
        for run in range(args.runs):
            print(f"run {run + 1}/{args.runs}")
            # The tools take turns going first, so neither always meets a broker that has
            # just been written to (its log flushes and segment work) or a colder cache.
            kp = lambda: kcat_produce(bootstrap, kcat_data, f"bench.kcat.{stamp}.{run}", args.key == "path")
            fp = lambda: ferry_produce(args.ferry, bootstrap, data, f"bench.ferry.{stamp}.{run}", work,
                                       args.key)
            if run % 2 == 0:
                k, f = kp(), fp()
            else:
                f, k = fp(), kp()
            produce["kcat"].append(k)
            produce["ferry"].append(f)
            print(row("produce kcat", args.lines, *k))
            print(row("produce ferry", args.lines, *f))
            kc = lambda: kcat_consume(bootstrap, f"bench.kcat.{stamp}.{run}", work)
            fc = lambda: ferry_consume(args.ferry, bootstrap, f"bench.kcat.{stamp}.{run}", size, work, run)
            if run % 2 == 0:
                k, f = kc(), fc()
            else:
                f, k = fc(), kc()
            consume["kcat"].append(k)
            consume["ferry"].append(f)
            print(row("consume kcat", args.lines, *k))
            print(row("consume ferry", args.lines, *f))

        print("summary (median of runs; ratio = ferry lines/s ÷ kcat lines/s)")
        for name, res in (("file-source → Kafka", produce), ("Kafka → file-sink", consume)):
            ratios = [k[0] / f[0] for f, k in zip(res["ferry"], res["kcat"])]
            f_rate = args.lines / statistics.median(t for t, _ in res["ferry"])
            k_rate = args.lines / statistics.median(t for t, _ in res["kcat"])
            print(f"  {name:<20} ferry {f_rate:>10,.0f} lines/s  kcat {k_rate:>10,.0f} lines/s  "
                  f"ratio {statistics.median(ratios):.2f}  ferry peak RSS "
                  f"{max(r for _, r in res['ferry']):.1f} MB")
    except Exception:
        print(f"failed; work files kept in {work}", file=sys.stderr)
        work_keep = True
        raise
    finally:
        if broker_dir:
            subprocess.call([f"{ROOT}/scripts/kafka.sh", "stop", broker_dir])
        if not locals().get("work_keep"):
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
