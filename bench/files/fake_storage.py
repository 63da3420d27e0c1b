#!/usr/bin/env python3
"""A fake storage provider for the file transfer benchmark (bench/files/run.sh).

Serves one generated file of SIZE bytes at GET /files/big.bin (streamed, never held
whole), and takes chunked uploads: POST /sessions -> {"uploadUrl"}; PUT <uploadUrl> with
Content-Range, hashing as bytes arrive; the last chunk answers 201 with the size and
SHA-256 it received. GET /received shows the last finished upload.

Usage: fake_storage.py PORT SIZE
"""
import hashlib
import json
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

PORT = int(sys.argv[1])
SIZE = int(sys.argv[2])
BLOCK = hashlib.sha256(b"switchyard").digest() * (1 << 15)  # 1 MiB of fixed bytes
LOCK = threading.Lock()
SESSIONS = {}
RECEIVED = {}


def expected_sha256():
    h = hashlib.sha256()
    left = SIZE
    while left:
        n = min(left, len(BLOCK))
        h.update(BLOCK[:n])
        left -= n
    return h.hexdigest()


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args):
        pass

    def reply(self, status, body):
        data = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self):
        if self.path == "/received":
            with LOCK:
                return self.reply(200, RECEIVED)
        if self.path == "/expected":
            return self.reply(200, {"size": SIZE, "sha256": expected_sha256()})
        if not self.path.startswith("/files/"):
            return self.reply(404, {"error": "not found"})
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Disposition", 'attachment; filename="big.bin"')
        self.send_header("Content-Length", str(SIZE))
        self.end_headers()
        left = SIZE
        while left:
            n = min(left, len(BLOCK))
            self.wfile.write(BLOCK[:n])
            left -= n

    def do_POST(self):
        length = int(self.headers.get("Content-Length", "0"))
        self.rfile.read(length)
        with LOCK:
            sid = str(len(SESSIONS) + 1)
            SESSIONS[sid] = {"hash": hashlib.sha256(), "size": 0}
        host = self.headers.get("Host")
        self.reply(200, {"uploadUrl": f"http://{host}/upload/{sid}"})

    def do_PUT(self):
        sid = self.path.rsplit("/", 1)[-1]
        session = SESSIONS.get(sid)
        if session is None:
            return self.reply(404, {"error": "no such session"})
        rng = self.headers.get("Content-Range", "")
        start_end, total = rng.removeprefix("bytes ").split("/")
        start, end = (int(x) for x in start_end.split("-"))
        if start != session["size"]:
            return self.reply(416, {"error": f"expected offset {session['size']}, got {start}"})
        left = int(self.headers.get("Content-Length", "0"))
        while left:
            chunk = self.rfile.read(min(left, 1 << 20))
            if not chunk:
                break
            session["hash"].update(chunk)
            session["size"] += len(chunk)
            left -= len(chunk)
        if end + 1 == int(total):
            with LOCK:
                RECEIVED.update({"size": session["size"], "sha256": session["hash"].hexdigest()})
            return self.reply(201, {"id": "stored-" + sid, "size": session["size"]})
        self.reply(202, {"nextExpectedRanges": [f"{end + 1}-"]})


ThreadingHTTPServer(("127.0.0.1", PORT), Handler).serve_forever()
