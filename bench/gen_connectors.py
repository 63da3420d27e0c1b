#!/usr/bin/env python3
"""Writes N distinct connector specs (and one workflow per 10 connectors) for the
`validate` benchmark. Each connector is the shipped GitHub connector with its own id,
so every file exercises auth, pagination, error rules, webhooks, triggers and templates.

usage: gen_connectors.py N OUT_DIR
"""
import pathlib
import sys

n, out = int(sys.argv[1]), pathlib.Path(sys.argv[2])
root = pathlib.Path(__file__).resolve().parent.parent
base = (root / "connectors" / "github.yaml").read_text()
slack = (root / "connectors" / "slack.yaml").read_text()
out.mkdir(parents=True, exist_ok=True)
(out / "slack.yaml").write_text(slack)
for i in range(n):
    text = base.replace("connector: github", f"connector: gen-{i:05d}", 1)
    text = text.replace("name: GitHub", f"name: Generated {i}", 1)
    (out / f"gen-{i:05d}.yaml").write_text(text)
    if i % 10 == 0:
        (out / f"flow-{i:05d}.yaml").write_text(
            f"""workflow: flow-{i:05d}
trigger:
  webhook: {{ connector: gen-{i:05d}, event: issue_opened, connection: c{i} }}
steps:
  - id: notify
    action:
      use: slack.post_message
      connection: s{i}
      input:
        channel: "#eng"
        text: "#{{{{ trigger.payload.issue.number }}}}: {{{{ trigger.payload.issue.title }}}}"
"""
        )
