#!/usr/bin/env python3
"""ferry's odbc-cdc (logical mode) against reading the same slot with plain SQL, one run.

    bench/cdc_throughput.py [--changes 1000000] [--bootstrap HOST:PORT] [--ferry PATH]

Two workloads on a PostgreSQL 15 of its own (scripts/postgres.sh) and, without
--bootstrap, a Kafka broker of its own (scripts/kafka.sh):

  singles:  --changes single-row INSERT transactions (committed one by one)
  bulk:     one transaction inserting --changes rows

Before each workload two pgoutput slots are created on the table's publication, so
both hold exactly the same changes:

  reference: psql reads its slot with pg_logical_slot_peek_binary_changes(...) and
             copies every change row to the client (COPY ... TO STDOUT > /dev/null).
  ferry:     odbc-cdc over psqlODBC decodes its slot into Debezium-style JSON events,
             produces them to Kafka (acks=all, idempotent) and advances the slot after
             the acknowledgements. The clock stops when the topic's end offset
             (kcat -Q) reaches the number of changes.

Prints changes/s for both, the ratio ferry / reference, and ferry's peak RSS.
"""
import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import file_throughput as ft  # noqa: E402
import mqtt_throughput as mt  # noqa: E402

ROOT = ft.ROOT


class Postgres:
    def __init__(self, work):
        self.dir = f"{work}/pg"
        subprocess.check_call([f"{ROOT}/scripts/postgres.sh", "start", self.dir],
                              stdout=subprocess.DEVNULL)
        self.env = dict(os.environ, ODBCSYSINI=self.dir, ODBCINI=f"{self.dir}/odbc.ini")

    def psql(self, sql, out=None):
        return subprocess.run([f"{ROOT}/scripts/postgres.sh", "psql", self.dir, "-qAt", "-c", sql],
                              check=True, stdout=out or subprocess.PIPE, text=out is None).stdout

    def stop(self):
        subprocess.call([f"{ROOT}/scripts/postgres.sh", "stop", self.dir])


def prepare(pg, name, n, bulk):
    pg.psql(f"CREATE TABLE {name} (id int PRIMARY KEY, payload text)")
    pg.psql(f"CREATE PUBLICATION {name} FOR TABLE {name}")
    for slot in (f"{name}_ref", f"{name}_ferry"):
        pg.psql(f"SELECT pg_create_logical_replication_slot('{slot}', 'pgoutput')")
    payload = "repeat('x', 40) || g"
    t0 = time.monotonic()
    if bulk:
        pg.psql(f"INSERT INTO {name} SELECT g, {payload} FROM generate_series(1, {n}) g")
    else:
        pg.psql(f"DO $$ BEGIN FOR g IN 1..{n} LOOP INSERT INTO {name} VALUES (g, {payload}); "
                "COMMIT; END LOOP; END $$")
    return time.monotonic() - t0


def reference(pg, name):
    t0 = time.monotonic()
    with open(os.devnull, "w") as null:
        pg.psql(f"COPY (SELECT lsn, xid, data FROM pg_logical_slot_peek_binary_changes("
                f"'{name}_ref', NULL, NULL, 'proto_version', '1', 'publication_names', "
                f"'{name}')) TO STDOUT", out=null)
    return time.monotonic() - t0


def ferry_run(ferry, pg, bootstrap, name, n, work):
    d = tempfile.mkdtemp(dir=work, prefix="ferry-")
    topic = f"bench.{name}"
    with open(f"{d}/ferry.toml", "w") as f:
        f.write(f'[host]\nstate_dir = "{d}/state"\n[kafka]\n"bootstrap.servers" = "{bootstrap}"\n')
    conn = open(f"{pg.dir}/connection").read().strip()
    with open(f"{d}/cdc.toml", "w") as f:
        f.write(f'plugin = "odbc-cdc"\ntopic = "bench.{{table}}"\n[config]\nconnection = "{conn}"\n'
                f'slot = "{name}_ferry"\npublication = "{name}"\nsnapshot = "never"\n'
                f'poll_interval = "50ms"\n')
    log = f"{d}/ferry.log"
    t0 = time.monotonic()
    proc = subprocess.Popen([ferry, "run", "-c", f"{d}/ferry.toml", f"{d}/cdc.toml"],
                            stdout=subprocess.DEVNULL, stderr=open(log, "w"), env=pg.env)
    try:
        mt.wait_for("ferry moved every change", lambda: mt.end_offset(bootstrap, topic) >= n,
                    timeout=900, proc=proc)
        secs = time.monotonic() - t0
        rss = mt.peak_rss_mb(proc.pid)
    finally:
        mt.stop(proc)
    return secs, rss


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--changes", type=int, default=1_000_000)
    ap.add_argument("--bootstrap")
    ap.add_argument("--ferry", default=f"{ROOT}/build/release/bin/ferry")
    ap.add_argument("--only", choices=["singles", "bulk"])
    args = ap.parse_args()
    ft.ensure_ferry(args.ferry, targets=("ferry", "ferry_odbc"))

    work = tempfile.mkdtemp(prefix="ferry-bench-cdc-")
    pg = None
    bootstrap, broker_dir = ft.broker(args.bootstrap, work)
    try:
        pg = Postgres(work)
        n = args.changes
        print(f"{n} changes per workload; PostgreSQL 15 and Kafka on this machine\n")
        print(f"{'workload':10} {'writer s':>9} {'ref s':>7} {'ref ch/s':>10} {'ferry s':>8} "
              f"{'ferry ch/s':>11} {'ratio':>6} {'ferry RSS MB':>13}")
        for workload in ("singles", "bulk"):
            if args.only and workload != args.only:
                continue
            name = f"bench_{workload}_{os.getpid()}"
            write_s = prepare(pg, name, n, bulk=workload == "bulk")
            ft.settle()
            ref_s = reference(pg, name)
            ft.settle()
            ferry_s, rss = ferry_run(args.ferry, pg, bootstrap, name, n, work)
            print(f"{workload:10} {write_s:9.1f} {ref_s:7.2f} {n / ref_s:10.0f} {ferry_s:8.2f} "
                  f"{n / ferry_s:11.0f} {ref_s / ferry_s:6.2f} {rss:13.0f}", flush=True)
            pg.psql(f"SELECT pg_drop_replication_slot('{name}_ref')")
    finally:
        if pg:
            pg.stop()
        if broker_dir:
            subprocess.call([f"{ROOT}/scripts/kafka.sh", "stop", broker_dir])
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
