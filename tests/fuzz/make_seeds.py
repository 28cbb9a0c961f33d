#!/usr/bin/env python3
"""Writes the seed corpus of every fuzz target (tests/fuzz/corpus/<target>/): a few
valid inputs of each shape, from which libFuzzer mutates. Re-run after changing a
format; scripts/fuzz.sh adds what the fuzzer finds to a separate, untracked corpus."""
import json
import zlib
import os
import struct

HERE = os.path.dirname(os.path.abspath(__file__))


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


# Connector files.
write("connector_toml", "valid", 'plugin = "fuzz-source"\ntopic = "t.{x}"\n[config]\n'
      'path = "/tmp/x"\npaths = ["a", "b"]\nflag = true\nmode = "batch"\ncount = 7\n'
      'every = "250ms"\nmax = "1MiB"\nratio = 0.25\npassword = "${file:/etc/hostname}"\n')
write("connector_toml", "sections", 'plugin = "fuzz-source"\ntopic = "t"\ntasks = 2\n'
      '[config]\npath = "${HOME:-/x}"\n[errors]\ntolerance = "all"\n'
      'dead_letter_topic = "dlq"\nretry_timeout = "5m"\n[span]\nenabled = true\nttl = "15m"\n'
      '[kafka]\n"compression.type" = "zstd"\nssl.key.password = "$${literal}"\n'
      '[[transforms]]\ntype = "insert_header"\nheader = "env"\nvalue = "prod"\n'
      '[[transforms]]\ntype = "filter"\n')
write("connector_toml", "errors", 'plugin = "fuzz-sorce"\ntopik = 1\n[config]\ncount = -5\n'
      'mode = "tial"\nmax = "1 parsec"\n')
write("connector_toml", "broken", 'plugin = "fuzz-source\n[config\npath = """\n')

# Worker files.
write("worker_toml", "full", '[host]\nid = "ferry-1"\nplugin_path = ["/usr/lib/ferry/plugins"]\n'
      'connectors_dir = "/etc/ferry/connectors.d"\nstate_dir = "/var/lib/ferry"\n'
      'log_levels = ["app=debug", "rest=warn"]\n[kafka]\n"bootstrap.servers" = "localhost:9092"\n'
      'sasl.password = "${FERRY_PW:-x}"\n[rest]\nlisten = "127.0.0.1:8083"\n'
      'allowed_hosts = ["ferry.local"]\nmax_body_bytes = "64KiB"\n[spans]\ntopic = "ferry.spans"\n'
      'watch_groups = ["g"]\n[spans.collector]\nenabled = true\n[cluster]\nid = "c"\n')
write("worker_toml", "wrong", '[hots]\nid = 5\n[rest]\nmax_connections = 0\n'
      'request_timeout = "forever"\n[host]\nlog_levels = ["=debug", "x"]\n')

# ${...} substitution.
for i, s in enumerate(["plain", "${HOME}", "${NOPE:-fallback}", "$${HOME}", "${file:/etc/hostname}",
                       "${file:/dev/zero}", "${", "${}", "a${HOME}b${PATH:-}c"]):
    write("substitution", f"s{i}", s)

# REST bodies for validate.
write("rest_body", "config", json.dumps({"path": "/x", "paths": "a,b", "count": "12",
                                         "flag": "true", "ratio": "0.5", "mode": "batch",
                                         "connector.class": "fuzz-source", "tasks.max": "1"}))
write("rest_body", "unknown", json.dumps({"path": "x", "bogus": "1",
                                          "value.converter.schemas.enable": "false",
                                          "paths": ["a", 1, None], "count": 3}))
write("rest_body", "nested", '{"path": [[[{"a": [1, {"b": "\\u0000"}]}]]], "x": null}')

# Headers the REST guard judges.
write("request_guard", "ok", "127.0.0.1:8083\nlocalhost:8083\nhttp://localhost:8083\n"
      "Bearer s3cret\ns3cret")
write("request_guard", "v6", "[::1]:8083\n[::1]:8083\nhttps://[::1]\nBearer \n")
write("request_guard", "evil", "0.0.0.0:8083\nevil.example:80\nnull\nBasic abc\nx")


# pgoutput: a session of messages, each with a 2-byte length.
def be(v, n):
    return v.to_bytes(n, "big")


def cstr(s):
    return s.encode() + b"\0"


def text(v):
    return b"t" + be(len(v), 4) + v.encode()


relation = (b"R" + be(16384, 4) + cstr("public") + cstr("items") + b"d" + be(3, 2)
            + be(1, 1) + cstr("id") + be(23, 4) + be(0xFFFFFFFF, 4)
            + be(0, 1) + cstr("name") + be(25, 4) + be(0xFFFFFFFF, 4)
            + be(0, 1) + cstr("doc") + be(3802, 4) + be(0xFFFFFFFF, 4))
begin = b"B" + be(0x16B374D848, 8) + be(1_000_000, 8) + be(742, 4)
insert = b"I" + be(16384, 4) + b"N" + be(3, 2) + text("-7") + text('it\'s "x"') + text('{"a": [1]}')
update = (b"U" + be(16384, 4) + b"O" + be(3, 2) + text("7") + b"n" + b"u"
          + b"N" + be(3, 2) + text("8") + text("x") + b"u")
delete = b"D" + be(16384, 4) + b"K" + be(3, 2) + text("8") + b"n" + b"n"
trunc = b"T" + be(1, 4) + be(2, 1) + be(16384, 4)
commit = b"C" + be(0, 1) + be(0x16B374D848, 8) + be(0x16B374D878, 8) + be(1_000_000, 8)
session = b"".join(be(len(m), 2) + m for m in [begin, relation, insert, update, delete, trunc, commit])
write("pgoutput", "transaction", session)
write("pgoutput", "lsn", "16/B374D848")

# MQTT packets from a broker.
def varint(n):
    out = b""
    while True:
        byte = n % 128
        n //= 128
        out += bytes([byte | (0x80 if n else 0)])
        if not n:
            return out


connack = bytes([0x20, 0x02, 0x01, 0x00])
suback = bytes([0x90, 0x04, 0x00, 0x01, 0x01, 0x80])
def publish(topic, payload, qos, pid=7):
    body = be(len(topic), 2) + topic.encode() + (be(pid, 2) if qos else b"") + payload
    return bytes([0x30 | (qos << 1)]) + varint(len(body)) + body
write("mqtt_codec", "session", connack + suback + publish("a/b", b'{"value": 1}', 1)
      + publish("a/c", b"42", 0) + bytes([0x62, 0x02, 0x00, 0x07]) + bytes([0xD0, 0x00]))
# The head of a 200 MB PUBLISH: the client acknowledges it without buffering the rest.
write("mqtt_codec", "huge_head", bytes([0x32]) + varint(200 << 20) + be(9, 2) + b"big/topic"
      + be(1, 2) + b"first bytes of the payload")

# MQTT payloads: topic line, then the payload.
write("mqtt_payload", "json", 'h1/dev/temp\n{"value": 21.5, "unit": "C", "ts": "2026-11-22T12:00:00.5+01:00"}')
write("mqtt_payload", "number", "site/a/b/c\n-4.25e3")
write("mqtt_payload", "odd", 'x\n{"value": "NaN", "unit": 5, "ts": 1e400}')

# Sink records: key NUL value.
write("sink_change", "flat", '{"id": 1}\0{"id": 1, "name": "a", "n": 1.5}')
write("sink_change", "envelope", '{"id": 2}\0' + json.dumps(
    {"before": None, "after": {"id": 2, "v": [1, 2]}, "op": "c", "source": {"table": "t"}}))
write("sink_change", "connect", '{"schema": {}, "payload": {"id": 3}}\0' + json.dumps(
    {"schema": {"type": "struct"}, "payload": {"before": {"id": 3}, "after": None, "op": "d"}}))
write("sink_change", "truncate", '\0{"op": "t", "before": null, "after": null}')
write("sink_change", "tombstone", '{"id": 4}')

# Path templates: 8 bytes of timestamp, template, topic, span, key.
write("path_template", "plain", struct.pack("<q", 1_700_000_000_000)
      + b"/out/{topic}/{date}/{span}-{partition}.log\napp.logs\nspan-1\n/var/log/a.log")
write("path_template", "hostile", struct.pack("<q", -9_000_000_000_000_000_000)
      + b"{filename}{unknown}{\n../../etc\na/b\0c\n..")

# State files.
# First byte even: the input is the snapshot; odd: the journal beside it.
write("state_file", "offsets", '0{"entries": {\n  "p": "1",\n  "b64:AP8=": "b64:AQI="\n}, "format": 1}\n')
write("state_file", "torn", '0{"entries": {\n  "p": "1",\n  "q": ')


def journal_line(changes):
    text = json.dumps(changes, separators=(",", ":"))
    return "%08x %s\n" % (zlib.crc32(text.encode()), text)


write("state_file", "journal", "1" + journal_line({"p": "1", "q": None}) + journal_line({"p": "2"}))
write("state_file", "journal_torn", "1" + journal_line({"p": "1"}) + journal_line({"p": "2"})[:-3])
write("state_file", "journal_bad_crc", "1" + journal_line({"p": "1"}).replace("1", "2", 1))
