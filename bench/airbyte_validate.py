#!/usr/bin/env python3
"""Peer side of the `validate` benchmark: Airbyte's declarative CDK loading, schema-checking
and building N manifests in one process (yaml.safe_load, ConcurrentDeclarativeSource, which
validates the manifest against its JSON Schema, then streams() to build every component:
the work `switchyard validate` does for a connector).

usage: AIRBYTE_VENV/bin/python bench/airbyte_validate.py N MANIFEST
"""
import copy
import sys
import time

import yaml
from airbyte_cdk.sources.declarative.concurrent_declarative_source import ConcurrentDeclarativeSource

n, manifest_path = int(sys.argv[1]), sys.argv[2]
text = open(manifest_path).read()
config = {"api_token": "bench-token", "base_url": "http://127.0.0.1:1", "page_size": 100, "token": "t"}
start = time.perf_counter()
for i in range(n):
    # A distinct document per iteration, parsed from text like a file read would be.
    manifest = yaml.safe_load(text.replace("name: issues", f"name: issues_{i}", 1))
    source = ConcurrentDeclarativeSource(source_config=manifest, config=config)
    streams = source.streams(config)
    assert streams, "manifest produced no streams"
elapsed = time.perf_counter() - start
print(f"{n}\t{elapsed:.3f}\t{n / elapsed:.1f}")
