#!/usr/bin/env python3
"""ferry's MQTT source against `mosquitto_sub | kcat -P`, same messages, same brokers, one run.

    bench/mqtt_throughput.py [--messages 200000] [--runs 3] [--bootstrap HOST:PORT]
                             [--acknowledge delivered|received] [--broker-inflight N]

What is timed is the subscriber side alone: each pipeline first registers a persistent
MQTT session (QoS 1, its own client id) and goes away; the messages are then published
with `mosquitto_pub -l` while it is down, so mosquitto queues them for that session.
The clock starts when the pipeline is started again, so a slow publisher cannot hide a
slow subscriber, and both drain the same backlog from the same broker.

  ferry:     sensors source, driver = "mqtt", qos = 1, client_id set (persistent
             session); every payload parsed as JSON and turned into a reading record
             with key host/sensor; acks=all, idempotent producer (ferry's defaults);
             acknowledge = "delivered" (its default: PUBACK once Kafka has the record)
             unless --acknowledge says otherwise.
             Clock stops when the Kafka topic's end offset (kcat -Q) reaches N.
  reference: mosquitto_sub -q 1 -c -i ID -C N | kcat -P -X acks=all -X enable.idempotence=true
             (payload bytes forwarded unparsed, no key). Clock stops when kcat exits,
             which it does once every message is acknowledged. kcat 1.7 -P releases
             lines in bursts while its input is open, so this pipe is only a fair
             reference for a backlog of known size, which is what is measured.

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


def peak_rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmHWM:")) / 1024.0


def stop(proc):
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=60)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def publish(port, topic, data, retain=False):
    argv = ["mosquitto_pub", "-h", "127.0.0.1", "-p", port, "-t", topic, "-q", "1"]
    if data is None:
        argv += ["-m", "ready"] + (["-r"] if retain else [])
        subprocess.check_call(argv)
    else:
        # mosquitto_pub 2.0.11 -l loses most of a 200,000-line input at QoS 1 (measure()
        # would catch it); 10,000 lines per run arrive whole.
        with open(data) as f:
            lines = f.readlines()
        for start in range(0, len(lines), 10_000):
            subprocess.run(argv + ["-l"], input="".join(lines[start:start + 10_000]), text=True,
                           check=True)


class FerryPipeline:
    name = "ferry"

    def __init__(self, ferry, bootstrap, mqtt_url, filt, topic, work, tag, ack):
        self.bootstrap, self.topic = bootstrap, topic
        d = tempfile.mkdtemp(dir=work, prefix="ferry-")
        with open(f"{d}/ferry.toml", "w") as f:
            f.write(f'[host]\nstate_dir = "{d}/state"\n'
                    f'[kafka]\n"bootstrap.servers" = "{bootstrap}"\n')
        with open(f"{d}/mqtt.toml", "w") as f:
            f.write(f'plugin = "sensors"\ntopic = "{topic}"\n[config]\ndriver = "mqtt"\n'
                    f'url = "{mqtt_url}"\ntopics = ["{filt}"]\nqos = 1\n'
                    f'client_id = "bench-ferry-{tag}"\nhost = "bench"\n'
                    f'acknowledge = "{ack}"\n')
        self.argv = [ferry, "run", "-c", f"{d}/ferry.toml", f"{d}/mqtt.toml"]
        self.log = f"{d}/ferry.log"
        self.proc = None

    def _start(self):
        self.proc = subprocess.Popen(self.argv, stdout=subprocess.DEVNULL, stderr=open(self.log, "a"))

    def subscribe(self):
        self._start()
        wait_for("ferry subscribed", lambda: "subscribed to 1" in open(self.log).read(),
                 proc=self.proc)
        stop(self.proc)

    def drain(self, n):
        t0 = time.monotonic()
        self._start()
        wait_for("ferry drained the backlog", lambda: end_offset(self.bootstrap, self.topic) >= n,
                 timeout=600, proc=self.proc)
        secs = time.monotonic() - t0
        rss = peak_rss_mb(self.proc.pid)
        stop(self.proc)
        if self.proc.returncode != 0:
            raise RuntimeError(f"ferry exited with {self.proc.returncode}; log: {self.log}")
        return secs, rss

    def close(self):
        if self.proc is not None:
            stop(self.proc)


class ReferencePipeline:
    name = "reference"

    def __init__(self, bootstrap, port, filt, topic, work, tag):
        self.bootstrap, self.port, self.filt, self.topic = bootstrap, port, filt, topic
        self.client_id, self.work, self.tag = f"bench-ref-{tag}", work, tag
        self.procs = []

    def _sub(self, *extra):
        return ["mosquitto_sub", "-h", "127.0.0.1", "-p", self.port, "-t", self.filt, "-q", "1",
                "-c", "-i", self.client_id, *extra]

    def subscribe(self):
        # A retained marker is sent the moment the subscription exists; -C 1 exits on it,
        # leaving the persistent session behind.
        publish(self.port, f"{self.filt[:-2]}/ready", None, retain=True)
        sub = subprocess.Popen(self._sub("-C", "1"), stdout=subprocess.DEVNULL)
        self.procs = [sub]
        sub.wait(timeout=60)

    def drain(self, n):
        rss = [f"{self.work}/rss-{self.tag}-{i}" for i in range(2)]
        timed = lambda i, argv: ["/usr/bin/time", "-f", "%M", "-o", rss[i]] + argv  # noqa: E731
        err = open(f"{self.work}/reference-{self.tag}.log", "a")
        t0 = time.monotonic()
        # -R: the retained marker comes again with the renewed subscription; skip it.
        sub = subprocess.Popen(timed(0, self._sub("-R", "-C", str(n))), stdout=subprocess.PIPE,
                               stderr=err)
        pub = subprocess.Popen(timed(1, ["kcat", "-P", "-b", self.bootstrap, "-t", self.topic,
                                         "-X", "acks=all", "-X", "enable.idempotence=true"]),
                               stdin=sub.stdout, stderr=err)
        sub.stdout.close()
        self.procs = [sub, pub]
        for p in self.procs:
            if p.wait(timeout=600) != 0:
                raise RuntimeError(f"reference exited with {p.returncode}; see {err.name}")
        secs = time.monotonic() - t0
        return secs, sum(int(open(f).read().split()[-1]) for f in rss) / 1024.0

    def close(self):
        for p in self.procs:
            stop(p)


def measure(pipeline, port, prefix, data, n):
    try:
        pipeline.subscribe()
        publish(port, f"{prefix}/dev1/temperature", data)
        ft.settle()
        secs, rss = pipeline.drain(n)
    finally:
        pipeline.close()
    got = end_offset(pipeline.bootstrap, pipeline.topic)
    if got != n:
        raise RuntimeError(f"{pipeline.name}: {got} messages in Kafka, {n} published")
    return secs, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=200_000)
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--acknowledge", choices=["delivered", "received"], default="delivered")
    ap.add_argument("--broker-inflight", type=int, default=1000,
                    help="mosquitto's max_inflight_messages (its own default is 20)")
    ap.add_argument("--bootstrap")
    ap.add_argument("--ferry", default=f"{ROOT}/build/release/bin/ferry")
    args = ap.parse_args()

    ft.ensure_ferry(args.ferry, targets=["ferry", "ferry_sensors"])
    work = tempfile.mkdtemp(prefix="ferry-bench-mqtt-")
    broker_dir, mqtt_dir, keep = None, f"{work}/mosquitto", False
    try:
        bootstrap, broker_dir = ft.broker(args.bootstrap, work)
        subprocess.check_call([f"{ROOT}/scripts/mosquitto.sh", "start", mqtt_dir],
                              stdout=subprocess.DEVNULL,
                              env={**os.environ, "MQTT_MAX_INFLIGHT": str(args.broker_inflight)})
        port = open(f"{mqtt_dir}/port").read().strip()
        mqtt_url = open(f"{mqtt_dir}/url").read().strip()
        data = f"{work}/payloads.txt"
        with open(data, "w") as f:
            f.write("".join(f'{{"value": {20 + (i % 1000) / 100:.2f}, "unit": "C", "seq": {i}}}\n'
                            for i in range(args.messages)))
        stamp = int(time.time())
        print(f"{args.messages:,} MQTT messages of ~{os.path.getsize(data) // args.messages} bytes, "
              f"QoS 1, persistent sessions; ferry acknowledge = {args.acknowledge}; "
              f"mosquitto max_inflight_messages {args.broker_inflight}; Kafka {bootstrap}; "
              f"{os.cpu_count()} cores")

        results = {"ferry": [], "reference": []}
        for run in range(args.runs):
            print(f"run {run + 1}/{args.runs}")
            for name in ("reference", "ferry"):
                tag = f"{stamp}-{run}-{name}"
                prefix, topic = f"bench/{tag}", f"bench.mqtt.{tag}"
                filt = f"{prefix}/#"
                if name == "ferry":
                    p = FerryPipeline(args.ferry, bootstrap, mqtt_url, filt, topic, work, tag,
                                      args.acknowledge)
                else:
                    p = ReferencePipeline(bootstrap, port, filt, topic, work, tag)
                secs, rss = measure(p, port, prefix, data, args.messages)
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
