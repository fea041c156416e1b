"""bwm forward against the session's Kafka broker and a Core View stub of its own.

Each test starts its own Core View stub (deploy/local/coreview_stub.py) on a
free port, so its counters and faults are the test's alone, writes result
records into a topic of its own (result-like Avro with a unique `seq` field,
through `bwm produce`, or a real job's results through `bwm run`), runs `bwm
forward` processes and kills whatever still runs when it ends. The oracle
reads the result and dead-letter topics with confluent-kafka and fastavro:
every result offset must end up exactly once in the stub's accepted set
(which is deduplicated by idempotency key) or in the dead-letter topic.

This file holds the helpers (test_forward_faults.py imports them) and the
tests of normal operation: readable JSON, no loss with two forwarders,
throughput, tombstones and undecodable records, SIGTERM, authentication,
TLS and configuration errors.
"""
import collections
import json
import os
import re
import signal
import ssl
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid

import pytest

from conftest import BWM, REPO, free_ports
from kafkautil import decode_confluent, iter_topic, produce_raw
from procs import Proc, wait_until

STUB = REPO / "deploy/local/coreview_stub.py"
TOKEN = "t0k3n-for-tests-9f8e7d"

RESULT_SCHEMA = {
    "type": "record", "name": "KpiResult", "namespace": "bwm.results.test", "fields": [
        {"name": "vin", "type": "string"},
        {"name": "window_start", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "window_end", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "seq", "type": "long"},
        {"name": "samples", "type": ["null", "long"], "default": None},
        {"name": "avg_speed", "type": ["null", "double"], "default": None},
        {"name": "amount", "type": ["null", {"type": "bytes", "logicalType": "decimal",
                                             "precision": 12, "scale": 2}], "default": None},
        {"name": "version", "type": "long"},
    ]}


# ---- the Core View stub -----------------------------------------------------------------


class CoreView:
    """One Core View stub process on a free port."""

    def __init__(self, tmp_path, *args, tls=None):
        (port,) = free_ports(1)
        scheme = "https" if tls else "http"
        self.base = f"{scheme}://127.0.0.1:{port}"
        self.url = f"{self.base}/v1/results"
        self.context = None
        cmd = [sys.executable, str(STUB), "--port", str(port), *args]
        if tls:
            cmd += ["--tls-cert", str(tls["server.pem"]), "--tls-key", str(tls["server.key"])]
            if "client-ca" in tls:
                cmd += ["--tls-client-ca", str(tls["ca.pem"])]
            self.context = ssl.create_default_context(cafile=str(tls["ca.pem"]))
            if "client-ca" in tls:
                self.context.load_cert_chain(str(tls["client.pem"]), str(tls["client.key"]))
        self.log = tmp_path / f"coreview-{port}.log"
        with open(self.log, "w") as err:
            self.proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=err)
        wait_until(self._up, 30, lambda: f"the Core View stub on port {port}\n{self.tail()}")

    def _up(self):
        assert self.proc.poll() is None, f"the stub exited\n{self.tail()}"
        try:
            self.call("GET", "/health")
            return True
        except OSError:
            return False

    def call(self, method, path, body=None):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30, context=self.context) as r:
            return json.loads(r.read())

    def fault(self, **spec):
        return self.call("POST", "/_stub/faults", spec)

    def stats(self):
        return self.call("GET", "/_stub/stats")

    def requests(self):
        return self.call("GET", "/_stub/requests")

    def values(self, field="seq"):
        return self.call("GET", f"/_stub/values?field={field}")

    def batches(self):
        return self.call("GET", "/_stub/batches")

    def tail(self, lines=10):
        text = self.log.read_text(errors="replace").splitlines()[-lines:]
        return "--- stub log:\n" + "\n".join(text)

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)


@pytest.fixture
def coreview(tmp_path):
    """Starts Core View stubs for a test: coreview(*stub args, tls=None)."""
    stubs = []

    def start(*args, tls=None):
        stubs.append(CoreView(tmp_path, *args, tls=tls))
        return stubs[-1]

    try:
        yield start
    finally:
        for stub in stubs:
            stub.stop()


# ---- result topics ----------------------------------------------------------------------


class ResultTopic:
    """A topic of result-like records (RESULT_SCHEMA) with a unique seq per record."""

    def __init__(self, stack, tmp_path, name, partitions=4):
        self.stack = stack
        self.dir = tmp_path
        self.topic = f"res.{name}-{uuid.uuid4().hex[:6]}"
        self.dlq = f"{self.topic}.coreview.dlq"
        self.schema = tmp_path / "result.avsc"
        self.schema.write_text(json.dumps(RESULT_SCHEMA))
        self.next_seq = 0
        stack.topic(self.topic, partitions)

    def produce(self, n, vehicles=997):
        """Appends n records, seq continuing from the last call."""
        lines = self.dir / f"results-{self.next_seq}.jsonl"
        with open(lines, "w") as f:
            for seq in range(self.next_seq, self.next_seq + n):
                f.write(json.dumps({
                    "vin": f"VIN{seq % vehicles:05d}",
                    "window_start": "2026-01-01T10:00:00.000Z",
                    "window_end": "2026-01-01T11:00:00.000Z",
                    "seq": seq,
                    "samples": seq * 3 if seq % 5 else None,
                    "avg_speed": seq / 8 if seq % 3 else None,
                    "amount": f"{seq // 100}.{seq % 100:02d}",
                    "version": 1000 + seq}) + "\n")
        with open(lines) as f:
            out = subprocess.run([BWM, "produce", "-t", self.topic, "--schema", str(self.schema),
                                  "--key", "vin"], stdin=f, env=self.stack.run_env(),
                                 capture_output=True, text=True, timeout=300)
        assert out.returncode == 0 and f"{n} records to {self.topic}" in out.stderr, out.stderr
        self.next_seq += n

    def records(self):
        """{(partition, offset): seq, or None for a tombstone or a record that is not ours}."""
        out = {}
        for m in iter_topic(self.stack.bootstrap, self.topic):
            try:
                out[(m.partition(), m.offset())] = decode_confluent(self.stack.registry,
                                                                    m.value())["seq"]
            except (ValueError, TypeError, LookupError):
                out[(m.partition(), m.offset())] = None
        return out

    def dead_letters(self):
        """Every dead letter as a dict of its headers (str values)."""
        out = []
        for m in iter_topic(self.stack.bootstrap, self.dlq):
            out.append({k: (v.decode() if v is not None else None) for k, v in m.headers() or []})
        return out


def check_exactly_once(results, stub, expect_dead=()):
    """Every result offset is once in the stub's accepted set or once in the dead-letter
    topic; the dead-lettered seqs are those of expect_dead. Returns (accepted, dead)."""
    records = results.records()
    seqs = {seq for seq in records.values() if seq is not None}
    accepted = collections.Counter(stub.values("seq"))
    dead = collections.Counter()
    letters = results.dead_letters()
    for h in letters:
        dead[records[(int(h["bwm.source.partition"]), int(h["bwm.source.offset"]))]] += 1
    missing = sorted(s for s in seqs if accepted[s] + dead[s] == 0)
    twice = sorted(s for s in seqs if accepted[s] + dead[s] > 1)
    stranger = sorted(set(accepted) - seqs)
    assert not missing, f"{len(missing)} results neither delivered nor dead-lettered: {missing[:10]}"
    assert not twice, f"{len(twice)} results delivered or dead-lettered twice: {twice[:10]}"
    assert not stranger, f"results that are not in the topic: {stranger[:10]}"
    assert set(dead) == set(expect_dead), f"dead-lettered {sorted(dead)}, expected {expect_dead}"
    return sum(accepted.values()), letters


# ---- bwm forward processes --------------------------------------------------------------


def forward_env(stack, env):
    """The stack's environment without BWM_COREVIEW_*/BWM_FORWARD_* (they would win over the
    file: each test has its own stub), plus env."""
    base = {k: v for k, v in stack.run_env().items()
            if not k.startswith(("BWM_COREVIEW_", "BWM_FORWARD_"))}
    return {**base, **env}


@pytest.fixture
def forwarders(stack, tmp_path):
    """Starts `bwm forward` processes for a test: forwarders(name, conf lines, *args, env={});
    kills those still running when the test ends."""
    procs = []

    def start(name, conf, *args, env=None):
        path = tmp_path / f"{name}.conf"
        path.write_text("\n".join(conf) + "\n")
        runs = sum(p.name.startswith(name) for p in procs)
        name = name if runs == 0 else f"{name}-{runs + 1}"
        procs.append(Proc(stack, name, ["forward", "-c", str(path), *args],
                          tmp_path / f"{name}.log", env=forward_env(stack, env or {})))
        return procs[-1]

    try:
        yield start
    finally:
        for p in procs:
            if p.alive():
                os.kill(p.pid, signal.SIGKILL)
                p.wait(30)


def forward_conf(topic, stub, *extra, group=None):
    """The configuration of a forwarder of topic to stub; extra lines win."""
    lines = [f"forward.topics = {topic}",
             f"forward.group.id = {group or 'fwd-' + topic}",
             f"coreview.url = {stub.url}",
             f"coreview.token = {TOKEN}",
             # A killed member's partitions move on after 6 s, the broker's smallest session.
             "kafka.session.timeout.ms = 6000", "kafka.heartbeat.interval.ms = 1000",
             "forward.progress.interval.ms = 2000", *extra]
    keys = {line.split("=")[0].strip(): line for line in lines}
    return list(keys.values())


def committed(stack, group, topic):
    """The group's committed offsets and metadata: {partition: (offset, metadata)}."""
    from confluent_kafka import Consumer, TopicPartition
    from kafkautil import end_offsets
    c = Consumer({"bootstrap.servers": stack.bootstrap, "group.id": group,
                  "enable.auto.commit": False})
    try:
        parts = [TopicPartition(topic, p) for p in end_offsets(stack.bootstrap, topic)]
        return {tp.partition: (tp.offset, tp.metadata) for tp in c.committed(parts, timeout=10)}
    finally:
        c.close()


# ---- tests ------------------------------------------------------------------------------


def test_a_jobs_results_arrive_as_bwm_consume_prints_them(stack, tmp_path, coreview,
                                                          forwarders):
    """The real thing: bwm run writes results, bwm forward sends them, and what Core View
    gets is, record for record, what `bwm consume` prints (timestamps ISO-8601, unions
    unwrapped), with the contract's headers."""
    tag = uuid.uuid4().hex[:6]
    src, out = f"tel.fwd-{tag}", f"kpi.fwd-{tag}"
    stack.topic(src, 4)
    sql = tmp_path / "job.sql"
    sql.write_text(f"""
CREATE STREAM telemetry WITH (topic = '{src}', format = 'avro', timestamp = 'ts',
                              schema = '{REPO / "schemas/telemetry.avsc"}');
CREATE TABLE kpi_fwd WITH (topic = '{out}') AS
SELECT vin, COUNT(*) AS samples, AVG(speed) AS avg_speed, MAX(speed) AS max_speed,
       PERCENTILE(speed, 0.95) AS p95_speed
FROM telemetry WHERE speed >= 0
WINDOW TUMBLING (SIZE 1 MINUTE, GRACE 10 SECONDS)
GROUP BY vin EMIT CHANGES;
""")
    job = tmp_path / "job.conf"
    job.write_text(f"job = {sql}\nstate.namespace = fwd-{tag}\ncommit.max.records = 500\n")
    stack.bwm("produce", "-t", src, "--generate", "20000", "--vehicles", "50", check=True)
    run = stack.bwm("run", "-c", str(job), "--exit-at-end", timeout=300)
    assert run.returncode == 0, run.stderr
    stub = coreview("--token", TOKEN)
    fwd = forwarders("fwd", forward_conf(out, stub), "--exit-at-end")
    assert fwd.wait(120) == 0, fwd.tail()
    summary = fwd.summary()
    printed = stack.bwm("consume", "-t", out, check=True).stdout.splitlines()
    want = collections.Counter(line for line in printed if line != "null")
    got = collections.Counter(json.dumps(r, separators=(",", ":"))
                              for b in stub.batches() for r in b["records"])
    print(f"{sum(want.values())} results, {summary['requests']} requests: {summary}")
    assert sum(want.values()) > 0
    assert got == want, f"{sum((got - want).values())} unexpected, {sum((want - got).values())} missing"
    one = stub.batches()[0]["records"][0]
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", one["window_start"]), one
    assert summary["delivered"] == sum(want.values()) and summary["dead-lettered"] == 0
    keys = [r["key"] for r in stub.requests()]
    assert all(re.fullmatch(r"bwm-\d+-\d+-\d+-[0-9a-f]{16}", k) for k in keys), keys[:3]


def test_two_forwarders_lose_nothing_and_send_nothing_twice(stack, tmp_path, coreview,
                                                            forwarders):
    """200,000 results through two forwarders sharing the partitions (one joins mid-run, so
    partitions move with batches under way), with connection resets and then rejected
    records (the last of each partition still far from sent): each result offset ends up
    exactly once in the stub's accepted set or in the dead-letter topic."""
    results = ResultTopic(stack, tmp_path, "noloss", partitions=6)
    results.produce(200_000)
    by_partition = collections.defaultdict(list)
    for (partition, _), seq in sorted(results.records().items()):
        by_partition[partition].append(seq)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="reset", every=40)
    conf = forward_conf(results.topic, stub, "coreview.retry.backoff.ms = 20",
                        "coreview.retry.backoff.max.ms = 200")
    started = time.monotonic()
    a = forwarders("a", conf)
    wait_until(lambda: stub.stats()["accepted_records"] >= 40_000, 120,
               lambda: f"a to deliver 40,000 results ({stub.stats()})")
    b = forwarders("b", conf)
    wait_until(lambda: stub.stats()["accepted_records"] >= 120_000, 120,
               lambda: f"120,000 delivered ({stub.stats()})")
    # The last record of up to three partitions with at least 10,000 records unsent: the
    # forwarders cannot get there before the stub rejects it.
    sent = set(stub.values("seq"))
    rejected = [seqs[-1] for seqs in by_partition.values()
                if sum(seq not in sent for seq in seqs) >= 10_000][:3]
    assert rejected, f"every partition is nearly sent at {len(sent)} accepted"
    stub.fault(mode="reject", field="seq", values=rejected)
    wait_until(lambda: stub.stats()["accepted_records"] >= 200_000 - len(rejected), 120,
               lambda: f"all delivered ({stub.stats()})\n{a.tail()}\n{b.tail()}")
    elapsed = time.monotonic() - started
    assert a.stop() == 0, a.tail()
    assert b.stop() == 0, b.tail()
    accepted, letters = check_exactly_once(results, stub, expect_dead=set(rejected))
    stats = stub.stats()
    sa, sb = a.summary(), b.summary()
    print(f"200,000 results in {elapsed:.1f} s: {accepted} accepted, {len(letters)} dead-lettered;"
          f" the stub counted {stats['requests']} requests (raw), {stats['accepted_batches']} "
          f"batches accepted, {stats['duplicates']} duplicates, {stats['faults_injected']} faults")
    print("a:", sa, "\nb:", sb)
    assert all(h["bwm.reason"] == "rejected" and h["bwm.http.status"] == "400" for h in letters)
    assert sa["delivered"] + sb["delivered"] >= 200_000 - len(rejected)
    assert sb["read"] > 0, "b took partitions over"


def test_throughput_with_500_result_batches(stack, tmp_path, coreview, forwarders):
    """Loopback throughput with batches of 500: results per second of wall time, and per
    second of the forwarder's CPU time (the goal: 200,000 per core)."""
    results = ResultTopic(stack, tmp_path, "speed", partitions=8)
    results.produce(300_000)
    stub = coreview("--token", TOKEN)
    fwd = forwarders("speed", forward_conf(results.topic, stub, "forward.batch.max.records = 500",
                                           "forward.batch.max.bytes = 4194304",
                                           "forward.concurrency = 8"), "--exit-at-end")
    assert fwd.wait(300) == 0, fwd.tail()
    summary = fwd.summary()
    reqs = stub.requests()
    span = reqs[-1]["t_end"] - reqs[0]["t"]
    per_cpu = summary["delivered"] / fwd.cpu_s
    print(f"{summary['delivered']} results in {summary['requests']} requests "
          f"({summary['delivered'] / summary['requests']:.0f} per request): "
          f"{summary['delivered'] / span:,.0f} results/s from the first request to the last "
          f"answer ({span:.2f} s), {per_cpu:,.0f} results per CPU-second of bwm forward "
          f"({fwd.cpu_s:.2f} s of CPU, consumer group join and Kafka reads included)")
    assert summary["delivered"] == 300_000
    check_exactly_once(results, stub)


def test_tombstones_are_skipped_and_bad_records_dead_lettered(stack, tmp_path, coreview,
                                                              forwarders):
    """Tombstones (null values) are counted and skipped, Core View keeping the highest
    version per key and window; records that are not Confluent-framed Avro, or name an
    unknown schema, go to the dead-letter topic with their reason; the offsets of all of
    them are committed."""
    results = ResultTopic(stack, tmp_path, "poison", partitions=2)
    results.produce(1000)
    produce_raw(stack.bootstrap, results.topic, [
        (b"VIN00001@1", None, None), (b"VIN00002@1", None, None),
        (b"x", b"not avro at all", [("origin", b"test")]),
        (b"y", b"\x00\x00\x00\x7f\xff\x02\x04", None)])
    results.produce(1000)
    stub = coreview("--token", TOKEN)
    fwd = forwarders("poison", forward_conf(results.topic, stub), "--exit-at-end")
    assert fwd.wait(120) == 0, fwd.tail()
    s = fwd.summary()
    print(s)
    assert s["tombstones"] == 2 and s["dead-lettered"] == 2 and s["delivered"] == 2000
    accepted, letters = check_exactly_once(results, stub, expect_dead={None})
    reasons = sorted(h["bwm.reason"] for h in letters)
    assert reasons == ["framing", "schema"], letters
    assert any(h.get("origin") == "test" for h in letters), "original headers are kept"
    ends = {p: o for p, o in collections.Counter(p for p, _ in results.records()).items()}
    offsets = committed(stack, f"fwd-{results.topic}", results.topic)
    assert {p: o for p, (o, _) in offsets.items()} == ends, (offsets, ends)


def test_sigterm_finishes_batches_under_way_and_a_restart_goes_on(stack, tmp_path, coreview,
                                                                  forwarders):
    """SIGTERM while every request takes 400 ms: the batches under way finish, their
    offsets are committed, the process exits 0 within the shutdown timeout, and a restart
    sends the rest without sending anything twice."""
    results = ResultTopic(stack, tmp_path, "term")
    results.produce(20_000)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="slow", delay_ms=400)
    conf = forward_conf(results.topic, stub, "forward.shutdown.timeout.ms = 5000")
    fwd = forwarders("term", conf)
    wait_until(lambda: stub.stats()["accepted_records"] >= 2000, 60, "2000 delivered")
    wait_until(lambda: stub.stats()["requests"] > stub.stats()["accepted_batches"], 10,
               "a request under way")
    asked = time.monotonic()
    assert fwd.stop() == 0, fwd.tail()
    took = time.monotonic() - asked
    s = fwd.summary()
    before = stub.stats()
    print(f"stopped in {took:.2f} s:", s, before)
    assert took < 5 + 3
    assert s["abandoned"] == 0 and s["delivered"] == before["accepted_records"]
    offsets = committed(stack, f"fwd-{results.topic}", results.topic)
    assert sum(max(o, 0) for o, _ in offsets.values()) == s["delivered"], offsets
    assert all(not meta for _, meta in offsets.values()), "no batch left under way"
    stub.fault(mode="none")
    again = forwarders("term", conf, "--exit-at-end")
    assert again.wait(120) == 0, again.tail()
    check_exactly_once(results, stub)
    assert stub.stats()["duplicates"] == 0


def test_oauth2_tokens_are_fetched_before_expiry_and_again_on_401(stack, tmp_path, coreview,
                                                                  forwarders):
    """OAuth2 client credentials: the token is fetched, replaced shortly before it expires
    (tokens live 4 s, the margin is 2 s), and fetched again at once when Core View answers
    401 (here after the stub revoked every token); no record is dead-lettered and neither
    secret nor token shows in the log, even with every debug facility on."""
    secret = "cl13nt-s3cr3t-for-tests"
    results = ResultTopic(stack, tmp_path, "oauth")
    results.produce(2000)
    stub = coreview("--oauth-client-id", "bwm-forward", "--oauth-client-secret", secret,
                    "--oauth-token-ttl", "4")
    conf = forward_conf(results.topic, stub, "coreview.auth = oauth2",
                        f"coreview.oauth2.token.url = {stub.base}/oauth/token",
                        "coreview.oauth2.client.id = bwm-forward",
                        "coreview.oauth2.client.secret = env:BWM_TEST_CV_SECRET",
                        "coreview.oauth2.refresh.margin.ms = 2000", "log.debug = all")
    fwd = forwarders("oauth", conf, env={"BWM_TEST_CV_SECRET": secret})
    wait_until(lambda: stub.stats()["accepted_records"] == 2000, 60, "2000 delivered")
    wait_until(lambda: stub.stats()["token_requests"] >= 3, 20,
               lambda: f"tokens renewed before expiry ({stub.stats()})")
    assert not [r for r in stub.requests() if r["status"] == 401], "no request with an old token"
    revoked = stub.call("POST", "/_stub/revoke-tokens")
    results.produce(2000)
    wait_until(lambda: stub.stats()["accepted_records"] == 4000, 60,
               lambda: f"4000 delivered ({stub.stats()})\n{fwd.tail()}")
    assert fwd.stop() == 0, fwd.tail()
    s, stats = fwd.summary(), stub.stats()
    unauthorized = [r for r in stub.requests() if r["status"] == 401]
    print(f"revoked {revoked}; {stats['token_requests']} token requests, "
          f"{len(unauthorized)} answers 401; forwarder: {s}")
    assert unauthorized, "the revoked token was refused"
    assert s["dead-lettered"] == 0 and s["tokens"] == stats["token_requests"]
    log = fwd.stderr()
    assert secret not in log
    check_exactly_once(results, stub)


def test_a_refused_oauth2_client_stops_the_forwarder(stack, tmp_path, coreview, forwarders):
    results = ResultTopic(stack, tmp_path, "oauthbad", partitions=1)
    results.produce(10)
    stub = coreview("--oauth-client-id", "bwm-forward", "--oauth-client-secret", "right")
    fwd = forwarders("oauthbad", forward_conf(
        results.topic, stub, "coreview.auth = oauth2", "coreview.oauth2.client.auth = body",
        f"coreview.oauth2.token.url = {stub.base}/oauth/token",
        "coreview.oauth2.client.id = bwm-forward",
        "coreview.oauth2.client.secret = wr0ng-s3cr3t-value"))
    assert fwd.wait(60) == 1, fwd.tail()
    assert "invalid_client" in fwd.stderr() and "wr0ng-s3cr3t-value" not in fwd.stderr()
    assert stub.stats()["requests"] == 0
    assert results.dead_letters() == []


def test_static_credentials_from_env_and_file_and_a_wrong_one_stops(stack, tmp_path, coreview,
                                                                    forwarders):
    """A bearer token from file:, an API key from env:, each sent as configured and never
    logged; a wrong token is a 401, which stops the forwarder (coreview.stop.statuses)
    rather than dead-lettering records that are not at fault."""
    results = ResultTopic(stack, tmp_path, "creds", partitions=2)
    results.produce(1000)
    token_file = tmp_path / "token"
    token_file.write_text(TOKEN + "\n")
    bearer = coreview("--token", TOKEN)
    fwd = forwarders("bearer", forward_conf(results.topic, bearer, f"coreview.token = file:{token_file}",
                                            "log.debug = all"), "--exit-at-end")
    assert fwd.wait(60) == 0, fwd.tail()
    assert bearer.stats()["accepted_records"] == 1000 and TOKEN not in fwd.stderr()

    key = "k3y-for-tests-abcdef"
    api = coreview("--api-key", key, "--api-key-header", "X-Core-View-Key")
    fwd = forwarders("apikey", forward_conf(results.topic, api, "coreview.auth = api-key",
                                            "coreview.api.key = env:BWM_TEST_KEY",
                                            "coreview.api.key.header = X-Core-View-Key",
                                            "log.debug = all", group="fwd-apikey"),
                     "--exit-at-end", env={"BWM_TEST_KEY": key})
    assert fwd.wait(60) == 0, fwd.tail()
    assert api.stats()["accepted_records"] == 1000 and key not in fwd.stderr()

    wrong = forwarders("wrong", forward_conf(results.topic, bearer, "coreview.token = not-the-token",
                                             group="fwd-wrong"))
    assert wrong.wait(60) == 1, wrong.tail()
    assert "HTTP 401" in wrong.stderr() and "coreview.stop.statuses" in wrong.stderr()
    assert "not-the-token" not in wrong.stderr()
    assert results.dead_letters() == []
    offsets = committed(stack, "fwd-wrong", results.topic)
    # At most the range of the batch that was refused, at the start: nothing delivered.
    assert all(o in (-1001, 0) for o, _ in offsets.values()), f"nothing delivered: {offsets}"


def make_certs(tmp_path):
    """A CA, a server certificate for 127.0.0.1 and a client certificate, with openssl."""
    d = tmp_path / "tls"
    d.mkdir()

    def ossl(*args):
        subprocess.run(["openssl", *args], cwd=d, check=True, capture_output=True, timeout=60)

    key = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    ossl("req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
         "-subj", "/CN=bwm test CA")
    (d / "san.cnf").write_text("subjectAltName=IP:127.0.0.1\n")
    for name in ("server", "client"):
        ossl("req", *key, "-keyout", f"{name}.key", "-out", f"{name}.csr",
             "-subj", f"/CN=bwm test {name}")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.pem", "-days", "2",
             *(["-extfile", "san.cnf"] if name == "server" else []))
    return {n: d / n for n in ("ca.pem", "server.pem", "server.key", "client.pem", "client.key")}


def test_tls_is_verified_and_client_certificates_work(stack, tmp_path, coreview, forwarders):
    """HTTPS with mutual TLS: verification against the configured CA bundle, a client
    certificate and key; without the CA the forwarder stops (exit 1) with the TLS error
    instead of dead-lettering anything."""
    results = ResultTopic(stack, tmp_path, "tls", partitions=2)
    results.produce(1000)
    certs = make_certs(tmp_path)
    stub = coreview("--token", TOKEN, tls={**certs, "client-ca": True})
    fwd = forwarders("tls", forward_conf(
        results.topic, stub, f"coreview.ssl.ca.location = {certs['ca.pem']}",
        f"coreview.ssl.certificate.location = {certs['client.pem']}",
        f"coreview.ssl.key.location = {certs['client.key']}"), "--exit-at-end")
    assert fwd.wait(60) == 0, fwd.tail()
    print(fwd.summary())
    assert stub.stats()["accepted_records"] == 1000

    unverified = forwarders("noca", forward_conf(results.topic, stub, group="fwd-noca"))
    assert unverified.wait(60) == 1, unverified.tail()
    assert "SSL" in unverified.stderr() or "certificate" in unverified.stderr(), unverified.tail()
    assert results.dead_letters() == []


BAD_CONFIGS = [
    ([], "forward.topics"),
    (["forward.topics = a,b c"], "forward.topics"),
    (["forward.topics = t", "forward.batch.max.records = 0"], "forward.batch.max.records"),
    (["forward.topics = t", "forward.batch.max.bytes = 10"], "forward.batch.max.bytes"),
    (["forward.topics = t", "forward.concurrency = many"], "forward.concurrency"),
    (["forward.topics = t", "forward.buffer.max.records = 10"], "forward.buffer.max.records"),
    (["forward.topics = t", "coreview.url = ftp://x/y"], "coreview.url"),
    (["forward.topics = t", "coreview.auth = kerberos"], "coreview.auth"),
    (["forward.topics = t", "coreview.token = env:BWM_TEST_UNSET_VARIABLE"], "coreview.token"),
    (["forward.topics = t", "coreview.auth = oauth2"], "coreview.oauth2.token.url"),
    (["forward.topics = t", "coreview.auth = oauth2", "coreview.oauth2.token.url = http://a/t",
      "coreview.oauth2.client.id = c"], "coreview.oauth2.client.secret"),
    (["forward.topics = t", "coreview.auth = api-key"], "coreview.api.key"),
    (["forward.topics = t", "coreview.stop.statuses = 401,503"], "coreview.stop.statuses"),
    (["forward.topics = t", "coreview.retry.backoff.max.ms = 10"],
     "coreview.retry.backoff.max.ms"),
    (["forward.topics = t", "coreview.request.timeout.ms = 0"], "coreview.request.timeout.ms"),
    (["forward.topics = t", "coreview.ssl.key.location = k.pem"], "coreview.ssl.key.location"),
    (["forward.topics = t", "coreview.tokn = x"], "did you mean 'coreview.token'"),
]


def check_config(stack, conf):
    """`bwm forward --check` without the stack's BWM_COREVIEW_URL, which would win."""
    env = {k: v for k, v in stack.run_env().items() if not k.startswith("BWM_COREVIEW_")}
    return subprocess.run([BWM, "forward", "-c", str(conf), "--check"], env=env,
                          capture_output=True, text=True, timeout=30)


def test_bad_configuration_exits_2_naming_the_key(stack, tmp_path):
    for i, (lines, key) in enumerate(BAD_CONFIGS):
        conf = tmp_path / f"bad{i}.conf"
        conf.write_text("\n".join(["coreview.token = x", *lines]) + "\n")
        out = check_config(stack, conf)
        assert out.returncode == 2, f"{lines}: exit {out.returncode}\n{out.stderr}"
        assert key in out.stderr, f"{lines}: the message does not name {key}:\n{out.stderr}"
        if lines and "=" in lines[-1] and key.startswith(lines[-1].split("=")[0].strip()):
            assert f"{conf}:" in out.stderr, f"{lines}: no file:line in\n{out.stderr}"
    conf = tmp_path / "good.conf"
    conf.write_text("forward.topics = a, b\ncoreview.token = s3cr3t-literal\n")
    out = check_config(stack, conf)
    assert out.returncode == 0, out.stderr
    assert "bwm-forward-a+b" in out.stdout and "s3cr3t-literal" not in out.stdout, out.stdout
    print(out.stdout)
