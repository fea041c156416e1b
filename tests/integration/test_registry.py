"""The schema registry client against a registry that asks for basic auth and fails on cue.

Each test starts its own registry stub (deploy/local/registry_stub.py) with a
user and password, next to the session's Kafka broker, and drives bwm produce
and bwm consume through it: credentials, retries of 5xx answers with their
bound, and the cache that makes a schema id cost one request per process.
"""
import json
import subprocess
import sys
import time
import urllib.request

import pytest

from conftest import REPO, free_ports

USER, PASSWORD = "svc-bwm", "s3cret-pw"


class AuthRegistry:
    def __init__(self, url):
        self.url = url

    def _call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.loads(r.read())

    def fail_next(self, count, status=503):
        self._call("POST", "/_stub/fail", {"count": count, "status": status})

    def requests(self):
        return self._call("GET", "/_stub/requests")


@pytest.fixture
def registry(tmp_path):
    (port,) = free_ports(1)
    proc = subprocess.Popen(
        [sys.executable, str(REPO / "deploy/local/registry_stub.py"), "--port", str(port),
         "--data", str(tmp_path / "schemas.json"), "--user", USER, "--password", PASSWORD],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(url + "/health", timeout=1).read()
            break
        except OSError:
            if proc.poll() is not None or time.monotonic() > deadline:
                proc.kill()
                pytest.fail("the registry stub did not start")
            time.sleep(0.1)
    try:
        yield AuthRegistry(url)
    finally:
        proc.terminate()
        proc.wait(timeout=10)


def client_args(registry, *extra, password=PASSWORD):
    return ["-r", registry.url, "-X", f"registry.basic.auth.user={USER}",
            "-X", f"registry.basic.auth.password={password}",
            "-X", "registry.retry.backoff.ms=10", *extra]


def test_basic_auth_is_sent_and_a_wrong_password_is_refused(stack, registry):
    topic = "reg-auth"
    stack.topic(topic, 1)
    out = stack.bwm("produce", "--generate", "20", "-t", topic, *client_args(registry))
    assert out.returncode == 0, out.stderr
    out = stack.bwm("consume", "-t", topic, "--count", "20", *client_args(registry))
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert len(rows) == 20 and all(r["vin"].startswith("BWM") for r in rows)

    out = stack.bwm("produce", "--generate", "1", "-t", topic,
                    *client_args(registry, password="wrong-password"))
    assert out.returncode == 1
    assert "HTTP 401" in out.stderr, out.stderr
    assert "wrong-password" not in out.stderr + out.stdout
    # 401 is an answer, not a fault: no retries
    posts = [r for r in registry.requests() if r["method"] == "POST"]
    assert len(posts) == 2, posts


def test_server_errors_are_retried_up_to_the_configured_bound(stack, registry):
    topic = "reg-retry"
    stack.topic(topic, 1)
    register = f"/subjects/{topic}-value/versions"

    registry.fail_next(2, 503)
    out = stack.bwm("produce", "--generate", "5", "-t", topic,
                    *client_args(registry, "-X", "registry.retries=2"))
    assert out.returncode == 0, out.stderr
    assert out.stderr.count("retrying in") == 2, out.stderr
    posts = [r for r in registry.requests() if r["path"] == register]
    assert len(posts) == 3

    registry.fail_next(3, 502)
    started = time.monotonic()
    out = stack.bwm("produce", "--generate", "5", "-t", topic,
                    *client_args(registry, "-X", "registry.retries=2",
                                 "-X", "registry.retry.backoff.max.ms=15"))
    assert out.returncode == 1
    assert "HTTP 502 (3 attempts, registry.retries)" in out.stderr, out.stderr
    assert time.monotonic() - started < 30
    posts = [r for r in registry.requests() if r["path"] == register]
    assert len(posts) == 6


def test_a_schema_id_costs_one_request_per_process(stack, registry):
    topic = "reg-cache"
    stack.topic(topic, 2)
    out = stack.bwm("produce", "--generate", "300", "-t", topic, *client_args(registry))
    assert out.returncode == 0, out.stderr
    before = len(registry.requests())
    out = stack.bwm("consume", "-t", topic, "--count", "300", *client_args(registry))
    assert out.returncode == 0, out.stderr
    assert len(out.stdout.splitlines()) == 300
    gets = registry.requests()[before:]
    assert [r["path"] for r in gets] == ["/schemas/ids/1"], gets


@pytest.mark.parametrize("key,value", [("registry.retries", "101"),
                                       ("registry.retry.backoff.max.ms", "0")])
def test_retry_settings_out_of_range_exit_2(stack, registry, key, value):
    out = stack.bwm("consume", "-t", "reg-any", "--count", "1",
                    *client_args(registry, "-X", f"{key}={value}"))
    assert out.returncode == 2
    assert key in out.stderr, out.stderr

