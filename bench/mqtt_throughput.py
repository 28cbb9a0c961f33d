#!/usr/bin/env python3
"""ferry's MQTT source against `mosquitto_sub | kcat -P`, same messages, same brokers, one run.

    bench/mqtt_throughput.py [--messages 200000] [--runs 3] [--bootstrap HOST:PORT]

What is timed is the subscriber side alone: each pipeline first registers a persistent
MQTT session (QoS 1, its own client id) and goes away; the messages are then published
with `mosquitto_pub -l` while it is down, so mosquitto queues them for that session.
The clock starts when the pipeline is started again and stops when the Kafka topic
holds every message (its end offset, polled with kcat -Q). So a slow publisher cannot
hide a slow subscriber, and both pipelines drain the same backlog from the same broker.

  ferry:     sensors source, driver = "mqtt", qos = 1, client_id set (persistent
             session); every payload parsed as JSON and turned into a reading record
             with key host/sensor; acks=all, idempotent producer (ferry's defaults).
  reference: mosquitto_sub -q 1 -c -i ID | kcat -P -X acks=all -X enable.idempotence=true
             (payload bytes forwarded unparsed, no key).

Prints messages/s and peak RSS of each run and the median ratio ferry / reference.
Without --bootstrap it starts its own Kafka broker with scripts/kafka.sh; mosquitto is
always its own (scripts/mosquitto.sh), so its queue limits are the project's.
"""
import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import file_throughput as ft  # noqa: E402

ROOT = ft.ROOT


def end_offset(bootstrap, topic):
    r = subprocess.run(["kcat", "-Q", "-b", bootstrap, "-t", f"{topic}:0:-1"],
                       capture_output=True, text=True)
    pos = r.stdout.find("offset ")
    return int(r.stdout[pos + 7:].split()[0]) if r.returncode == 0 and pos >= 0 else 0


def wait_for(what, pred, timeout=120, proc=None):
    deadline = time.monotonic() + timeout
    while not pred():
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"{what}: the process exited with {proc.returncode}")
        if time.monotonic() > deadline:
            raise RuntimeError(f"{what}: not within {timeout} s")
        time.sleep(0.02)


def peak_rss_mb(pids):
    total = 0
    for pid in pids:
        with open(f"/proc/{pid}/status") as f:
            total += next(int(l.split()[1]) for l in f if l.startswith("VmHWM:"))
    return total / 1024.0


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=60)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()


class Pipeline:
    """One subscriber pipeline that can be started, stopped and started again."""

    def __init__(self, name, start, ready):
        self.name, self._start, self._ready = name, start, ready
        self.procs = []

    def start(self):
        self.procs = self._start()

    def wait_ready(self):
        wait_for(f"{self.name} subscribed", self._ready, proc=self.procs[0])

    def stop(self):
        stop(self.procs)


def ferry_pipeline(ferry, bootstrap, mqtt_url, filt, topic, work, tag):
    d = tempfile.mkdtemp(dir=work, prefix="ferry-")
    with open(f"{d}/ferry.toml", "w") as f:
        f.write(f'[host]\nstate_dir = "{d}/state"\n[kafka]\n"bootstrap.servers" = "{bootstrap}"\n')
    with open(f"{d}/mqtt.toml", "w") as f:
        f.write(f'plugin = "sensors"\ntopic = "{topic}"\n[config]\ndriver = "mqtt"\n'
                f'url = "{mqtt_url}"\ntopics = ["{filt}"]\nqos = 1\n'
                f'client_id = "bench-ferry-{tag}"\nhost = "bench"\n')
    log = f"{d}/ferry.log"
    runs = [0]

    def start():
        runs[0] += 1
        return [subprocess.Popen([ferry, "run", "-c", f"{d}/ferry.toml", f"{d}/mqtt.toml"],
                                 stdout=subprocess.DEVNULL, stderr=open(log, "a"))]

    def ready():
        with open(log) as f:
            return f.read().count("subscribed to 1") >= runs[0]

    return Pipeline("ferry", start, ready)


def reference_pipeline(bootstrap, port, filt, topic, work, tag):
    err = open(f"{work}/reference-{tag}.log", "a")
    marker = f"{filt[:-2]}/ready"

    def start():
        # -c -i: persistent session; -q 1: QoS 1 subscription, as ferry's.
        sub = subprocess.Popen(["mosquitto_sub", "-h", "127.0.0.1", "-p", port, "-t", filt,
                                "-q", "1", "-c", "-i", f"bench-ref-{tag}"],
                               stdout=subprocess.PIPE, stderr=err)
        pub = subprocess.Popen(["kcat", "-P", "-b", bootstrap, "-t", topic, "-X", "acks=all",
                                "-X", "enable.idempotence=true"],
                               stdin=sub.stdout, stderr=err)
        sub.stdout.close()
        return [sub, pub]

    last = [0.0]

    def ready():
        # mosquitto_sub says nothing when it has subscribed: a marker message that reaches
        # Kafka shows the whole pipe is up. One a second, so none is still on its way
        # when the first arrives (measure() counts them all before the backlog).
        if time.monotonic() - last[0] >= 1.0:
            subprocess.check_call(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", marker,
                                   "-m", "ready", "-q", "1"])
            last[0] = time.monotonic()
        return end_offset(bootstrap, topic) > 0

    return Pipeline("reference", start, ready)


def publish(port, prefix, data):
    with open(data) as stdin:
        subprocess.check_call(["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t",
                               f"{prefix}/dev1/temperature", "-q", "1", "-l"], stdin=stdin)


def drain(pipeline, bootstrap, topic, target):
    """Starts the pipeline; seconds until the topic holds `target` messages, peak RSS."""
    t0 = time.monotonic()
    pipeline.start()
    wait_for(f"{pipeline.name} drained the backlog",
             lambda: end_offset(bootstrap, topic) >= target, timeout=600, proc=pipeline.procs[-1])
    secs = time.monotonic() - t0
    rss = peak_rss_mb([p.pid for p in pipeline.procs])
    pipeline.stop()
    return secs, rss


def measure(pipeline, bootstrap, port, prefix, topic, data, n):
    pipeline.start()
    pipeline.wait_ready()
    pipeline.stop()
    before = end_offset(bootstrap, topic)  # the reference's ready markers
    publish(port, prefix, data)
    ft.settle()
    result = drain(pipeline, bootstrap, topic, before + n)
    if end_offset(bootstrap, topic) != before + n:
        raise RuntimeError(f"{pipeline.name}: {end_offset(bootstrap, topic) - before} messages "
                           f"in Kafka, {n} published")
    return result


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--bootstrap")
    ap.add_argument("--ferry", default=f"{ROOT}/build/release/bin/ferry")
    args = ap.parse_args()

    ft.ensure_ferry(args.ferry, targets=["ferry", "ferry_sensors"])
    work = tempfile.mkdtemp(prefix="ferry-bench-mqtt-")
    broker_dir, mqtt_dir, keep = None, f"{work}/mosquitto", False
    try:
        bootstrap, broker_dir = ft.broker(args.bootstrap, work)
        subprocess.check_call([f"{ROOT}/scripts/mosquitto.sh", "start", mqtt_dir],
                              stdout=subprocess.DEVNULL)
        port = open(f"{mqtt_dir}/port").read().strip()
        mqtt_url = open(f"{mqtt_dir}/url").read().strip()
        data = f"{work}/payloads.txt"
        with open(data, "w") as f:
            f.write("".join(f'{{"value": {20 + (i % 1000) / 100:.2f}, "unit": "C", "seq": {i}}}\n'
                            for i in range(args.messages)))
        stamp = int(time.time())
        print(f"{args.messages:,} MQTT messages of ~{os.path.getsize(data) // args.messages} bytes, "
              f"QoS 1, persistent sessions; Kafka {bootstrap}; {os.cpu_count()} cores")

        results = {"ferry": [], "reference": []}
        for run in range(args.runs):
            print(f"run {run + 1}/{args.runs}")
            for name in ("reference", "ferry"):
                tag = f"{stamp}-{run}-{name}"
                prefix, topic = f"bench/{tag}", f"bench.mqtt.{tag}"
                filt = f"{prefix}/#"
                if name == "ferry":
                    p = ferry_pipeline(args.ferry, bootstrap, mqtt_url, filt, topic, work, tag)
                else:
                    p = reference_pipeline(bootstrap, port, filt, topic, work, tag)
                secs, rss = measure(p, bootstrap, port, prefix, topic, data, args.messages)
                results[name].append((secs, rss))
                print(f"  {name:<10} {args.messages / secs:>10,.0f} msgs/s {secs:>7.2f} s  "
                      f"peak RSS {rss:>6.1f} MB")

        ratios = [r[0] / f[0] for f, r in zip(results["ferry"], results["reference"])]
        f_rate = args.messages / statistics.median(t for t, _ in results["ferry"])
        r_rate = args.messages / statistics.median(t for t, _ in results["reference"])
        print("summary (median of runs; ratio = ferry msgs/s ÷ mosquitto_sub | kcat -P msgs/s)")
        print(f"  MQTT → Kafka  ferry {f_rate:>10,.0f} msgs/s  reference {r_rate:>10,.0f} msgs/s  "
              f"ratio {statistics.median(ratios):.2f}  ferry peak RSS "
              f"{max(r for _, r in results['ferry']):.1f} MB")
    except Exception:
        print(f"failed; work files kept in {work}", file=sys.stderr)
        keep = True
        raise
    finally:
        subprocess.call([f"{ROOT}/scripts/mosquitto.sh", "stop", mqtt_dir])
        if broker_dir:
            subprocess.call([f"{ROOT}/scripts/kafka.sh", "stop", broker_dir])
        if not keep:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
