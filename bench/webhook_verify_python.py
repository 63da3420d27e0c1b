#!/usr/bin/env python3
"""Reference point for examples/webhook_verify_bench.rs: the same three schemes verified by
hand-written Python (stdlib hmac + json), one delivery at a time.

    python3 bench/webhook_verify_python.py [ITERATIONS]
"""
import base64, hashlib, hmac, json, sys, time

N = int(sys.argv[1]) if len(sys.argv) > 1 else 20000
SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"


def github(body, headers):
    want = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
    ok = hmac.compare_digest(want, headers["x-hub-signature-256"])
    return ok and (headers["x-github-event"], headers["x-github-delivery"])


def stripe(body, headers):
    parts = dict(p.split("=", 1) for p in headers["stripe-signature"].split(","))
    t = parts["t"]
    if abs(time.time() - int(t)) > 300:
        return False
    want = hmac.new(SECRET.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest()
    if not hmac.compare_digest(want, parts["v1"]):
        return False
    payload = json.loads(body)
    return payload["type"], payload["id"]


def standard(body, headers):
    key = base64.b64decode(SECRET[len("whsec_"):])
    t = headers["webhook-timestamp"]
    if abs(time.time() - int(t)) > 300:
        return False
    signed = headers["webhook-id"].encode() + b"." + t.encode() + b"." + body
    want = base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()
    ok = any(hmac.compare_digest(want, s.split(",", 1)[1]) for s in headers["webhook-signature"].split(" "))
    return ok and (json.loads(body)["type"], headers["webhook-id"])


def signed_headers(name, body):
    t = str(int(time.time()))
    if name == "github":
        return {"x-hub-signature-256": "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest(),
                "x-github-event": "issues", "x-github-delivery": "d-1"}
    if name == "stripe":
        return {"stripe-signature": "t=%s,v1=%s" % (t, hmac.new(SECRET.encode(), t.encode() + b"." + body, hashlib.sha256).hexdigest())}
    key = base64.b64decode(SECRET[len("whsec_"):])
    sig = base64.b64encode(hmac.new(key, b"msg_1." + t.encode() + b"." + body, hashlib.sha256).digest()).decode()
    return {"webhook-id": "msg_1", "webhook-timestamp": t, "webhook-signature": "v1," + sig}


print("connector\tbody_bytes\titerations\tdeliveries_per_s\tMB_per_s")
for name, fn in [("github", github), ("stripe", stripe), ("standard-webhooks", standard)]:
    for size in (1024, 64 * 1024):
        body = ('{"id":"evt_1","type":"t.e","pad":"%s"}' % ("x" * (size - 40))).encode()
        headers = signed_headers(name, body)
        assert fn(body, headers)
        t0 = time.perf_counter()
        for _ in range(N):
            fn(body, headers)
        s = time.perf_counter() - t0
        print("%s\t%d\t%d\t%.0f\t%.0f" % (name, len(body), N, N / s, N * len(body) / s / 1e6))
