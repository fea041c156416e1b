#!/usr/bin/env python3
"""Core View stub for the local stack.

Core View is the external HTTP system that receives bwm's results. This stub
implements the contract written in deploy/local/README.md ("Core View
contract"): POST /v1/results takes a JSON array of result objects, with a
bearer token (or an API key, or an OAuth2 token it issued itself at
POST /oauth/token) and an Idempotency-Key; a batch whose key was already
accepted is answered 200 again and not counted twice. Tests can inject faults
at run time (5xx, 429 with Retry-After, slow replies, connection resets, 400
for batches holding particular records) and inspect what arrived and when.
It serves HTTPS, with client certificates if asked. Python standard library
only.

Usage: coreview_stub.py --port 8082 [--token T | --api-key K [--api-key-header H] |
                        --oauth-client-id ID --oauth-client-secret S [--oauth-token-ttl SECONDS]]
                        [--max-body BYTES] [--data-dir DIR]
                        [--tls-cert PEM --tls-key PEM [--tls-client-ca PEM]]
"""

import argparse
import base64
import hashlib
import hmac
import json
import os
import secrets
import ssl
import threading
import time
import urllib.parse

from stub_http import BadBody, BodyTooLarge, StubHandler, StubServer, serve

MODES = ("none", "status", "retry_after", "slow", "reset", "reject")
FAULT_KEYS = {"mode", "status", "retry_after", "delay_ms", "count", "every", "field", "values"}
MAX_KEY_LENGTH = 255
MAX_LOG = 1_000_000  # requests remembered for GET /_stub/requests


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
        field, values = spec.get("field"), spec.get("values")
        if mode == "reject":
            if not isinstance(field, str) or not isinstance(values, list) or not values:
                raise InvalidFaults("'reject' needs 'field' (a name) and 'values' (a list)")
            if "count" in spec or "every" in spec:
                raise InvalidFaults("'reject' holds until changed: no 'count' or 'every'")
        elif field is not None or values is not None:
            raise InvalidFaults("'field' and 'values' go with mode 'reject' only")
        config = {
            "mode": mode,
            "status": _int_field(spec, "status", {"retry_after": 429, "reject": 400}.get(mode, 503),
                                 100, 599),
            "retry_after": str(retry_after),
            "delay_ms": _int_field(spec, "delay_ms", 1000, 0, 600_000),
            "count": _int_field(spec, "count", None, 1, 2**31),
            "every": _int_field(spec, "every", None, 1, 2**31),
            "field": field,
            "values": values,
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
        """Returns the fault for the request arriving now, or None. A 'reject' fault is
        returned for every request; whether it hits depends on the records (rejects())."""
        with self.lock:
            if self.config["mode"] == "none":
                return None
            if self.config["mode"] == "reject":
                return dict(self.config)
            self.seen += 1
            if self.config["every"] and self.seen % self.config["every"]:
                return None
            fault = dict(self.config)
            if self.remaining is not None:
                self.remaining -= 1
                if self.remaining == 0:
                    self.config = dict(self.config, mode="none")
            return fault


def rejects(fault, records):
    """Indexes of the records a 'reject' fault refuses (their field holds one of its values)."""
    values = fault["values"]
    return [i for i, r in enumerate(records) if r.get(fault["field"]) in values]


class Results:
    """Accepted batches, the idempotency keys seen, counters and a log of requests."""

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
                        self._remember(batch["idempotency_key"], batch["records"], None)
            self.file = open(self.path, "a", encoding="utf-8")

    def _reset(self):
        self.batches = []
        # idempotency key -> (digest of the body as sent, or None, record count, index in batches)
        self.keys = {}
        self.log = []
        self.stats = dict.fromkeys(("requests", "accepted_batches", "accepted_records",
                                    "duplicates", "rejected", "faults_injected",
                                    "token_requests"), 0)

    def _remember(self, key, records, body_digest):
        self.keys[key] = (body_digest, len(records), len(self.batches))
        self.batches.append({"idempotency_key": key, "records": records})
        self.stats["accepted_batches"] += 1
        self.stats["accepted_records"] += len(records)

    def count(self, name):
        with self.lock:
            self.stats[name] += 1

    def record(self, entry):
        """Logs one POST /v1/results: arrival and answer times, status, key, records."""
        with self.lock:
            if len(self.log) < MAX_LOG:
                self.log.append(entry)

    def accept(self, key, records, body):
        """Returns (status, reply) for a valid batch. The same records under the same key
        are a duplicate; they are compared as sent first, then as JSON values."""
        digest = hashlib.sha256(body).hexdigest()
        with self.lock:
            known = self.keys.get(key)
            if known is None:
                self._remember(key, records, digest)
                if self.file:
                    text = body.decode()
                    if "\n" in text or "\r" in text:
                        text = json.dumps(records)
                    self.file.write(f'{{"idempotency_key": {json.dumps(key)}, "records": {text}}}\n')
                    self.file.flush()
                return 200, {"accepted": len(records)}
            if known[0] != digest and _canonical(self.batches[known[2]]["records"]) != _canonical(records):
                self.stats["rejected"] += 1
                return 409, {"error": "Idempotency-Key already used for a different batch"}
            self.stats["duplicates"] += 1
            return 200, {"accepted": known[1], "duplicate": True}

    def snapshot(self, what):
        with self.lock:
            if what == "stats":
                return dict(self.stats)
            return list(self.batches if what == "batches" else self.log)

    def clear(self):
        with self.lock:
            self._reset()
            if self.file:
                self.file.truncate(0)


def _canonical(records):
    return json.dumps(records, sort_keys=True, separators=(",", ":"))


class Tokens:
    """OAuth2 client credentials and the bearer tokens issued for them."""

    def __init__(self, client_id, client_secret, ttl):
        self.lock = threading.Lock()
        self.client_id, self.client_secret, self.ttl = client_id, client_secret, ttl
        self.issued = {}  # token -> expiry (time.monotonic())

    def issue(self):
        token = secrets.token_urlsafe(24)
        with self.lock:
            self.issued[token] = time.monotonic() + self.ttl
        return token

    def valid(self, token):
        with self.lock:
            return self.issued.get(token, 0) > time.monotonic()

    def revoke(self):
        with self.lock:
            n = len(self.issued)
            self.issued.clear()
        return n


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
        elif path == "/_stub/requests":
            self.send_json(200, self.server.results.snapshot("requests"))
        elif path == "/_stub/values":
            field = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query).get("field")
            if not field:
                return self.send_json(400, {"error": "give ?field=NAME"})
            batches = self.server.results.snapshot("batches")
            self.send_json(200, [r.get(field[0]) for b in batches for r in b["records"]])
        elif path == "/_stub/faults":
            self.send_json(200, self.server.faults.current())
        elif path == "/v1/results":
            self.send_json(405, {"error": "use POST"}, headers=[("Allow", "POST")])
        else:
            self.send_json(404, {"error": "not found"})

    def do_POST(self):
        path = urllib.parse.urlsplit(self.path).path
        if path == "/v1/results":
            started = time.time()
            self.status_sent = self.records_seen = self.answered = None
            try:
                self._post_results()
            finally:  # also when the client has gone before the answer
                self.server.results.record({
                    "t": started, "t_end": self.answered or time.time(),
                    "status": self.status_sent, "key": self.headers.get("Idempotency-Key"),
                    "records": self.records_seen})
            return None
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
        elif path == "/_stub/revoke-tokens" and self.server.tokens:
            self.send_json(200, {"revoked": self.server.tokens.revoke()})
        elif path == "/oauth/token" and self.server.tokens:
            self._token(body)
        else:
            self.send_json(404, {"error": "not found"})

    def _token(self, body):
        """The client-credentials grant (RFC 6749 4.4): credentials in basic auth or the body."""
        tokens = self.server.tokens
        self.server.results.count("token_requests")
        form = urllib.parse.parse_qs(body.decode(errors="replace"))
        client_id = form.get("client_id", [None])[0]
        client_secret = form.get("client_secret", [None])[0]
        auth = self.headers.get("Authorization", "")
        if auth.startswith("Basic "):
            try:
                client_id, _, client_secret = base64.b64decode(auth[6:]).decode().partition(":")
            except ValueError:
                client_id = None
        if form.get("grant_type", [None])[0] != "client_credentials":
            return self.send_json(400, {"error": "unsupported_grant_type"})
        if not (client_id == tokens.client_id and client_secret is not None and
                hmac.compare_digest(client_secret, tokens.client_secret)):
            return self.send_json(401, {"error": "invalid_client",
                                        "error_description": "unknown client or wrong secret"})
        self.send_json(200, {"access_token": tokens.issue(), "token_type": "Bearer",
                             "expires_in": tokens.ttl})

    def _authorized(self):
        server = self.server
        if server.tokens:
            auth = self.headers.get("Authorization", "")
            return auth.startswith("Bearer ") and server.tokens.valid(auth[7:])
        if server.api_key is not None:
            return hmac.compare_digest(self.headers.get(server.api_key_header, ""), server.api_key)
        if server.token is not None:
            return hmac.compare_digest(self.headers.get("Authorization", ""),
                                       f"Bearer {server.token}")
        return True

    def answer(self, status, obj, headers=()):
        """send_json() that notes the status for the request log."""
        self.status_sent = status
        self.answered = time.time()  # before the client can have it
        self.send_json(status, obj, headers=headers)
        return status

    def _post_results(self):
        """Answers one POST /v1/results; returns the status (0 for a reset)."""
        results = self.server.results
        results.count("requests")
        self.records_seen = None
        try:
            body = self.read_body()
        except BodyTooLarge:
            return self._reject(413, f"body larger than {self.max_body} bytes")
        except BadBody as e:
            self.close_connection = True
            return self._reject(400, str(e))

        fault = self.server.faults.next()
        if fault and fault["mode"] != "reject":
            results.count("faults_injected")
            if fault["mode"] == "reset":
                self.status_sent, self.answered = 0, time.time()
                self.reset_connection()
                return 0
            if fault["mode"] == "status":
                return self.answer(fault["status"], {"error": "injected fault"})
            if fault["mode"] == "retry_after":
                return self.answer(fault["status"], {"error": "injected fault: retry later"},
                                      headers=[("Retry-After", fault["retry_after"])])
            time.sleep(fault["delay_ms"] / 1000)  # "slow": then answer as usual

        if not self._authorized():
            return self._reject(401, "missing or wrong credentials",
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
        self.records_seen = len(records)
        if fault and fault["mode"] == "reject":
            bad = rejects(fault, records)
            if bad:
                results.count("faults_injected")
                results.count("rejected")
                return self.answer(fault["status"], {
                    "error": f"{len(bad)} record(s) rejected: {fault['field']} in "
                             f"{fault['values']}", "rejected": bad})
        status, reply = results.accept(key, records, body)
        return self.answer(status, reply)

    def _reject(self, status, message, headers=()):
        self.server.results.count("rejected")
        return self.answer(status, {"error": message}, headers=headers)


def main():
    parser = argparse.ArgumentParser(description="Core View stub")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8082)
    parser.add_argument("--token", help="bearer token to require (default: accept any)")
    parser.add_argument("--api-key", help="API key to require instead of a bearer token")
    parser.add_argument("--api-key-header", default="X-API-Key", help="header of the API key")
    parser.add_argument("--oauth-client-id", help="issue OAuth2 tokens at POST /oauth/token to "
                        "this client and require them")
    parser.add_argument("--oauth-client-secret", help="the OAuth2 client's secret")
    parser.add_argument("--oauth-token-ttl", type=int, default=3600,
                        help="lifetime of issued tokens in seconds (default 3600)")
    parser.add_argument("--tls-cert", help="serve HTTPS with this certificate (PEM)")
    parser.add_argument("--tls-key", help="the certificate's private key (PEM)")
    parser.add_argument("--tls-client-ca", help="require client certificates signed by this CA")
    parser.add_argument("--max-body", type=int, default=10 * 1024 * 1024,
                        help="largest accepted request body in bytes (default 10 MiB)")
    parser.add_argument("--data-dir", help="keep accepted batches in DIR/batches.jsonl")
    args = parser.parse_args()

    if bool(args.oauth_client_id) != bool(args.oauth_client_secret):
        parser.error("--oauth-client-id and --oauth-client-secret go together")
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    server = StubServer((args.host, args.port), Handler)
    if args.tls_cert:
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(args.tls_cert, args.tls_key)
        if args.tls_client_ca:
            context.load_verify_locations(args.tls_client_ca)
            context.verify_mode = ssl.CERT_REQUIRED
        server.socket = context.wrap_socket(server.socket, server_side=True)
    server.token = args.token
    server.api_key, server.api_key_header = args.api_key, args.api_key_header
    server.tokens = (Tokens(args.oauth_client_id, args.oauth_client_secret, args.oauth_token_ttl)
                     if args.oauth_client_id else None)
    server.results = Results(args.data_dir)
    server.faults = Faults()
    Handler.max_body = args.max_body
    serve(server, "coreview")


if __name__ == "__main__":
    main()
