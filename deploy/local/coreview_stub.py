#!/usr/bin/env python3
"""Core View stub for the local stack.

Core View is the external HTTP system that receives bwm's results. This stub
implements the contract written in deploy/local/README.md ("Core View
contract"): POST /v1/results takes a JSON array of result objects, with a
bearer token and an Idempotency-Key; a batch whose key was already accepted is
answered 200 again and not counted twice. Tests can inject faults at run time
(5xx, 429 with Retry-After, slow replies, connection resets) and inspect what
arrived. Python standard library only.

Usage: coreview_stub.py --port 8082 [--token T] [--max-body BYTES] [--data-dir DIR]
"""

import argparse
import hashlib
import hmac
import json
import os
import threading
import time
import urllib.parse

from stub_http import BadBody, BodyTooLarge, StubHandler, StubServer, serve

MODES = ("none", "status", "retry_after", "slow", "reset")
FAULT_KEYS = {"mode", "status", "retry_after", "delay_ms", "count", "every"}
MAX_KEY_LENGTH = 255


class InvalidFaults(Exception):
    pass


def _int_field(spec, name, default, low, high):
    value = spec.get(name, default)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise InvalidFaults(f"'{name}' must be an integer in [{low}, {high}]")
    return value


class Faults:
    """The fault to inject into the next POST /v1/results requests."""

    def __init__(self):
        self.lock = threading.Lock()
        self.set({"mode": "none"})

    def set(self, spec):
        if not isinstance(spec, dict):
            raise InvalidFaults("expected a JSON object")
        unknown = set(spec) - FAULT_KEYS
        if unknown:
            raise InvalidFaults(f"unknown keys {sorted(unknown)}; allowed: {sorted(FAULT_KEYS)}")
        mode = spec.get("mode")
        if mode not in MODES:
            raise InvalidFaults(f"'mode' must be one of {list(MODES)}")
        retry_after = spec.get("retry_after", "1")
        if isinstance(retry_after, bool) or not isinstance(retry_after, (str, int)):
            raise InvalidFaults("'retry_after' must be seconds or an HTTP-date string")
        config = {
            "mode": mode,
            "status": _int_field(spec, "status", 429 if mode == "retry_after" else 503, 100, 599),
            "retry_after": str(retry_after),
            "delay_ms": _int_field(spec, "delay_ms", 1000, 0, 600_000),
            "count": _int_field(spec, "count", None, 1, 2**31),
            "every": _int_field(spec, "every", None, 1, 2**31),
        }
        with self.lock:
            self.config = config
            self.remaining = config["count"]
            self.seen = 0
        return self.current()

    def current(self):
        with self.lock:
            return dict(self.config, remaining=self.remaining)

    def next(self):
        """Returns the fault for the request arriving now, or None."""
        with self.lock:
            if self.config["mode"] == "none":
                return None
            self.seen += 1
            if self.config["every"] and self.seen % self.config["every"]:
                return None
            fault = dict(self.config)
            if self.remaining is not None:
                self.remaining -= 1
                if self.remaining == 0:
                    self.config = dict(self.config, mode="none")
            return fault


class Results:
    """Accepted batches, the idempotency keys seen, and counters."""

    def __init__(self, data_dir):
        self.lock = threading.Lock()
        self.path = os.path.join(data_dir, "batches.jsonl") if data_dir else None
        self.file = None
        self._reset()
        if self.path:
            os.makedirs(data_dir, exist_ok=True)
            if os.path.exists(self.path):
                with open(self.path, encoding="utf-8") as f:
                    for line in f:
                        batch = json.loads(line)
                        self._remember(batch["idempotency_key"], batch["records"])
            self.file = open(self.path, "a", encoding="utf-8")

    def _reset(self):
        self.batches = []
        self.keys = {}  # idempotency key -> (digest of the records, record count)
        self.stats = dict.fromkeys(("requests", "accepted_batches", "accepted_records",
                                    "duplicates", "rejected", "faults_injected"), 0)

    def _remember(self, key, records):
        self.keys[key] = (_digest(records), len(records))
        self.batches.append({"idempotency_key": key, "records": records})
        self.stats["accepted_batches"] += 1
        self.stats["accepted_records"] += len(records)

    def count(self, name):
        with self.lock:
            self.stats[name] += 1

    def accept(self, key, records):
        """Returns (status, reply) for a valid batch."""
        with self.lock:
            known = self.keys.get(key)
            if known is None:
                self._remember(key, records)
                if self.file:
                    self.file.write(json.dumps({"idempotency_key": key, "records": records}) + "\n")
                    self.file.flush()
                return 200, {"accepted": len(records)}
            if known[0] != _digest(records):
                self.stats["rejected"] += 1
                return 409, {"error": "Idempotency-Key already used for a different batch"}
            self.stats["duplicates"] += 1
            return 200, {"accepted": known[1], "duplicate": True}

    def snapshot(self, what):
        with self.lock:
            return dict(self.stats) if what == "stats" else list(self.batches)

    def clear(self):
        with self.lock:
            self._reset()
            if self.file:
                self.file.truncate(0)


def _digest(records):
    canonical = json.dumps(records, sort_keys=True, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class Handler(StubHandler):
    log_name = "coreview"

    def do_GET(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/health":
            self.send_json(200, {"status": "ok"})
        elif path == "/_stub/stats":
            self.send_json(200, self.server.results.snapshot("stats"))
        elif path == "/_stub/batches":
            self.send_json(200, self.server.results.snapshot("batches"))
        elif path == "/_stub/faults":
            self.send_json(200, self.server.faults.current())
        elif path == "/v1/results":
            self.send_json(405, {"error": "use POST"}, headers=[("Allow", "POST")])
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/v1/results":
            return self._post_results()
        try:
            body = self.read_body()
        except (BadBody, BodyTooLarge):
            self.close_connection = True
            return self.send_json(400, {"error": "malformed or too large request body"})
        if path == "/_stub/faults":
            try:
                spec = json.loads(body)
                self.send_json(200, self.server.faults.set(spec))
            except (ValueError, InvalidFaults) as e:
                self.send_json(400, {"error": f"bad fault: {e}"})
        elif path == "/_stub/clear":
            self.server.results.clear()
            self.server.faults.set({"mode": "none"})
            self.send_json(200, {"cleared": True})
        else:
            self.send_json(404, {"error": "not found"})

    def _post_results(self):
        results = self.server.results
        results.count("requests")
        try:
            body = self.read_body()
        except BodyTooLarge:
            return self._reject(413, f"body larger than {self.max_body} bytes")
        except BadBody as e:
            self.close_connection = True
            return self._reject(400, str(e))

        fault = self.server.faults.next()
        if fault:
            results.count("faults_injected")
            if fault["mode"] == "reset":
                return self.reset_connection()
            if fault["mode"] == "status":
                return self.send_json(fault["status"], {"error": "injected fault"})
            if fault["mode"] == "retry_after":
                return self.send_json(fault["status"], {"error": "injected fault: retry later"},
                                      headers=[("Retry-After", fault["retry_after"])])
            time.sleep(fault["delay_ms"] / 1000)  # "slow": then answer as usual

        token = self.server.token
        if token is not None:
            if not hmac.compare_digest(self.headers.get("Authorization", ""), f"Bearer {token}"):
                return self._reject(401, "missing or wrong bearer token",
                                    headers=[("WWW-Authenticate", "Bearer")])
        media_type = self.headers.get("Content-Type", "").split(";")[0].strip().lower()
        if media_type != "application/json":
            return self._reject(415, "Content-Type must be application/json")
        key = self.headers.get("Idempotency-Key", "")
        if not key:
            return self._reject(400, "missing Idempotency-Key header")
        if len(key) > MAX_KEY_LENGTH:
            return self._reject(400, f"Idempotency-Key longer than {MAX_KEY_LENGTH} characters")
        try:
            records = json.loads(body)
        except ValueError as e:
            return self._reject(400, f"invalid JSON: {e}")
        if not isinstance(records, list) or not records:
            return self._reject(400, "body must be a non-empty JSON array of result objects")
        if not all(isinstance(r, dict) for r in records):
            return self._reject(400, "every element of the array must be a JSON object")
        status, reply = results.accept(key, records)
        self.send_json(status, reply)

    def _reject(self, status, message, headers=()):
        self.server.results.count("rejected")
        self.send_json(status, {"error": message}, headers=headers)


def main():
    parser = argparse.ArgumentParser(description="Core View stub")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", help="bearer token to require (default: accept any)")
    parser.add_argument("--max-body", type=int, default=10 * 1024 * 1024,
                        help="largest accepted request body in bytes (default 10 MiB)")
    parser.add_argument("--data-dir", help="keep accepted batches in DIR/batches.jsonl")
    args = parser.parse_args()

    server = StubServer((args.host, args.port), Handler)
    server.token = args.token
    server.results = Results(args.data_dir)
    server.faults = Faults()
    Handler.max_body = args.max_body
    serve(server, "coreview")


if __name__ == "__main__":
    main()
