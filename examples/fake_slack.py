"""A stand-in for Slack's Web API, for trying workflows without a Slack workspace.

Usage: python3 examples/fake_slack.py PORT

Answers POST /api/chat.postMessage like Slack does ({"ok": true, "ts": ..., "channel": ...})
and prints each message it receives as one JSON line on stdout. Other methods get
{"ok": true}. A request without `Authorization: Bearer ...` gets {"ok": false, "error":
"not_authed"}, as from Slack.
"""

import json
import sys
import time
from http.server import BaseHTTPRequestHandler, HTTPServer


class FakeSlack(BaseHTTPRequestHandler):
    def do_POST(self):
        length = int(self.headers.get("Content-Length", 0))
        body = self.rfile.read(length)
        if not self.headers.get("Authorization", "").startswith("Bearer "):
            return self.answer({"ok": False, "error": "not_authed"})
        try:
            message = json.loads(body or b"{}")
        except ValueError:
            message = {}
        if self.path == "/api/chat.postMessage":
            print(json.dumps({"method": "chat.postMessage", **message}), flush=True)
            return self.answer(
                {"ok": True, "channel": message.get("channel"), "ts": f"{time.time():.6f}"}
            )
        return self.answer({"ok": True})

    def answer(self, payload):
        data = json.dumps(payload).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


if __name__ == "__main__":
    HTTPServer(("127.0.0.1", int(sys.argv[1])), FakeSlack).serve_forever()
