"""A durable Atoms webhook receiver written the way a Python user would write it.

Usage:
    python receiver.py --db PATH --secret SECRET [--host 127.0.0.1] [--port 0]

The baseline of `ingest_vs_python` in `cargo xtask compare`: the standard library's
ThreadingHTTPServer (one thread per connection), the signature checked as the Atoms Webhooks
guide shows (hmac + compare_digest on the raw body), the body parsed with the official SDK's
pydantic models (smallestai) when they import, else json.loads, and stored with sqlite3 in WAL
mode with synchronous=FULL, one transaction per request (one writer at a time), before
answering 200. A delivery id
seen before is answered 200 and not stored again (INSERT OR IGNORE), as the inbox does.

Prints `listening on http://HOST:PORT` on stdout once it accepts connections; stops on SIGTERM
or when standard input closes.
"""

import argparse
import hashlib
import hmac
import json
import signal
import sqlite3
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

try:
    from smallestai.atoms.types import (
        WebhookEventAnalyticsCompleted,
        WebhookEventPostConversation,
        WebhookEventPreConversation,
    )

    MODELS = {
        "pre-conversation": WebhookEventPreConversation,
        "post-conversation": WebhookEventPostConversation,
        "analytics-completed": WebhookEventAnalyticsCompleted,
    }
except ImportError:  # the SDK is optional: plain JSON then
    MODELS = None

MAX_BODY = 4 * 1024 * 1024

SCHEMA = """
CREATE TABLE IF NOT EXISTS deliveries (
    id TEXT PRIMARY KEY,
    received_at REAL NOT NULL,
    event_type TEXT,
    call_id TEXT,
    signature TEXT NOT NULL,
    body BLOB NOT NULL
)
"""


def parse(body):
    """The delivery as the SDK's model (or a dict), and its id, type and call id."""
    data = json.loads(body)
    kind = data.get("metadata", {}).get("eventType")
    if MODELS is not None and kind in MODELS:
        MODELS[kind].model_validate(data)
    return data.get("id"), kind, data.get("metadata", {}).get("callId")


def make_handler(db_path, secrets):
    local = threading.local()
    # One writer at a time, as SQLite allows anyway: without it the threads would meet in
    # SQLite's busy handler, which sleeps (the Rust naive receiver holds a mutex the same way).
    write_lock = threading.Lock()

    def connection():
        conn = getattr(local, "conn", None)
        if conn is None:
            conn = sqlite3.connect(db_path, timeout=30, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=FULL")
            local.conn = conn
        return conn

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args):  # no access log: bodies and numbers stay out of logs
            pass

        def answer(self, status, text):
            payload = json.dumps({"received": status == 200, "message": text}).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def do_POST(self):
            length = int(self.headers.get("Content-Length") or 0)
            if length > MAX_BODY:
                self.close_connection = True
                return self.answer(413, "too large")
            body = self.rfile.read(length)
            signature = self.headers.get("X-Signature", "")
            ok = any(
                hmac.compare_digest(hmac.new(s, body, hashlib.sha256).hexdigest(), signature)
                for s in secrets
            )
            if not ok:
                return self.answer(401, "bad signature")
            try:
                delivery_id, kind, call_id = parse(body)
            except Exception:  # noqa: BLE001 - any parse failure is a 400 here
                return self.answer(400, "unparseable")
            conn = connection()
            with write_lock:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute(
                        "INSERT OR IGNORE INTO deliveries VALUES (?, ?, ?, ?, ?, ?)",
                        (delivery_id, time.time(), kind, call_id, signature, body),
                    )
                    conn.execute("COMMIT")
                except Exception:  # noqa: BLE001 - any store failure is a 500
                    conn.execute("ROLLBACK")
                    return self.answer(500, "store failed")
            return self.answer(200, "stored")

    return Handler


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--db", required=True)
    ap.add_argument("--secret", action="append", required=True)
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=0)
    args = ap.parse_args()

    setup = sqlite3.connect(args.db)
    setup.execute("PRAGMA journal_mode=WAL")
    setup.execute(SCHEMA)
    setup.commit()
    setup.close()

    secrets = [s.encode() for s in args.secret]
    server = ThreadingHTTPServer((args.host, args.port), make_handler(args.db, secrets))
    server.daemon_threads = True
    host, port = server.server_address[:2]
    print(f"listening on http://{host}:{port}", flush=True)

    def stop(*_):
        threading.Thread(target=server.shutdown, daemon=True).start()

    signal.signal(signal.SIGTERM, stop)

    def watch_stdin():
        sys.stdin.read()
        stop()

    threading.Thread(target=watch_stdin, daemon=True).start()
    server.serve_forever()


if __name__ == "__main__":
    main()
