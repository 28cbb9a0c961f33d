#!/usr/bin/python3
"""Parses Prometheus text from stdin with the reference Python client's parser and
prints every sample as one JSON object per line: {"name", "labels", "value"}.
Exits 1 (with the parser's complaint) when the text is not valid exposition format,
or when a family is declared twice or a sample repeats a name and label set."""
import json
import sys

from prometheus_client.parser import text_string_to_metric_families


def main() -> int:
    text = sys.stdin.read()
    seen_families = set()
    seen_samples = set()
    try:
        for family in text_string_to_metric_families(text):
            if family.name in seen_families:
                print(f"family {family.name} declared twice", file=sys.stderr)
                return 1
            seen_families.add(family.name)
            for s in family.samples:
                key = (s.name, tuple(sorted(s.labels.items())))
                if key in seen_samples:
                    print(f"sample {key} repeated", file=sys.stderr)
                    return 1
                seen_samples.add(key)
                print(json.dumps({"name": s.name, "labels": s.labels, "value": s.value}))
    except ValueError as e:
        print(f"invalid exposition text: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
