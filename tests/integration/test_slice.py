"""End to end: Avro telemetry on Kafka -> bwm run -> Redis state -> Avro results.

Every aggregate is compared with the oracle (oracle.py), which recomputes the
job from the input topic with code that shares nothing with bwm.
"""
import json
import signal
import time
import uuid
from pathlib import Path

import fastavro
import pytest

from conftest import REPO
from kafkautil import encode_confluent, end_offsets, produce_raw, read_topic
from oracle import expected, latest_results

CONF = str(REPO / "schemas/examples/vehicle_kpi.conf")


class Job:
    """One isolated instance of the sample job: its own topics and state namespace."""

    def __init__(self, stack, name):
        self.stack = stack
        tag = f"{name}-{uuid.uuid4().hex[:6]}"
        self.input = f"tel.{tag}"
        self.output = f"kpi.{tag}"
        self.dlq = f"{self.input}.dlq"
        self.namespace = f"ns-{tag}"
        stack.topic(self.input, 4)

    def args(self):
        return ["-c", CONF, "-X", f"source.topic={self.input}", "-X", f"sink.topic={self.output}",
                "-X", f"state.namespace={self.namespace}", "-X", "commit.interval.ms=200"]

    def produce(self, n, seed, vehicles=300):
        out = self.stack.bwm("produce", "-t", self.input, "--generate", str(n), "--seed", str(seed),
                             "--vehicles", str(vehicles), check=True)
        assert f"{n} records to {self.input}" in out.stderr

    def run_to_end(self):
        out = self.stack.bwm("run", *self.args(), "--exit-at-end")
        assert out.returncode == 0, out.stderr
        return out.stderr

    def check_against_oracle(self):
        st = self.stack
        want, bad = expected(st.bootstrap, st.registry, self.input)
        got, _ = latest_results(st.bootstrap, st.registry, self.output)
        assert set(got) == set(want), "one result key per input key"
        for vin, exp in want.items():
            res = got[vin]
            assert res["samples"] == exp["samples"], vin
            # Same additions in the same order: the sums are bit-for-bit equal.
            assert res["distance_km"] == exp["distance_km"], vin
            assert res["version"] == exp["version"], vin
        return want, bad

    def fences(self):
        ends = end_offsets(self.stack.bootstrap, self.input)
        return ends, {p: self.stack.redis("GET", f"{{bwm:{self.namespace}:{p}}}:fence")
                      for p in ends}


def summary_counts(stderr):
    line = [ln for ln in stderr.splitlines() if ln.startswith("bwm run: read")][-1]
    parts = dict(p.strip().rsplit(" ", 1) for p in line[len("bwm run: "):].split(",")[:7])
    return {k: int(v) for k, v in parts.items()}


def test_slice_matches_oracle_and_dead_letters_bad_records(stack):
    job = Job(stack, "slice")
    job.produce(20000, seed=7)
    schema_id = stack.registry.latest_id(f"{job.input}-value")
    schema = stack.registry.schema(schema_id)
    good_tail = encode_confluent(schema_id, schema, {
        "vin": "BWM00000000000001", "ts": 1767225600000, "trip_id": "t", "speed": 1.0,
        "distance_km": 0.25, "odometer": 1, "ignition": True, "fuel_level": None,
        "status": "DRIVING"})
    bad = [
        (b"BAD-JSON", b'{"vin": "not avro"}', [("origin", b"test")], "framing"),
        (b"BAD-EMPTY", b"", None, "framing"),
        (b"BAD-ID", b"\x00\x00\x00\x27\x0f" + good_tail[5:], None, "schema"),
        (b"BAD-BODY", good_tail[:5] + b"\x40abc", None, "decode"),
        (b"BAD-TRUNC", good_tail[:-3], None, "decode"),
    ]
    placed = produce_raw(stack.bootstrap, job.input, [(k, v, h) for k, v, h, _ in bad])
    # One well-formed record produced by another client, to be counted like the rest.
    produce_raw(stack.bootstrap, job.input, [(b"BWM00000000000001", good_tail, None)])

    stderr = job.run_to_end()
    counts = summary_counts(stderr)
    assert counts["read"] == 20000 + len(bad) + 1
    assert counts["applied"] == 20000 + 1
    assert counts["dead-lettered"] == len(bad)

    want, oracle_bad = job.check_against_oracle()
    assert sorted(oracle_bad) == sorted(placed), "the oracle cannot decode exactly the bad ones"
    assert sum(w["samples"] for w in want.values()) == 20001

    dead = read_topic(stack.bootstrap, job.dlq)
    assert len(dead) == len(bad)
    by_source = {}
    for msg in dead:
        headers = {k: v.decode() for k, v in msg.headers()}
        by_source[(int(headers["bwm.source.partition"]), int(headers["bwm.source.offset"]))] = (
            msg, headers)
    for (key, value, hdrs, reason), where in zip(bad, placed):
        msg, headers = by_source[where]
        assert headers["bwm.reason"] == reason, (key, headers)
        assert headers["bwm.source.topic"] == job.input
        assert headers["bwm.error"], "the error is described"
        assert msg.key() == key and (msg.value() or b"") == value, "original bytes kept"
        if hdrs:
            assert headers["origin"] == "test", "original headers kept"

    ends, fences = job.fences()
    for p, end in ends.items():
        assert fences[p].split(":")[0] == str(end - 1), f"fence of partition {p}"


def test_restart_applies_nothing_twice_and_continues_from_state(stack):
    job = Job(stack, "restart")
    job.produce(6000, seed=11, vehicles=100)
    job.run_to_end()
    job.check_against_oracle()
    results_before = sum(end_offsets(stack.bootstrap, job.output).values())

    # A second run starts after the fence: it reads and emits nothing.
    counts = summary_counts(job.run_to_end())
    assert counts["read"] == 0 and counts["applied"] == 0 and counts["results"] == 0
    assert sum(end_offsets(stack.bootstrap, job.output).values()) == results_before

    # New input continues from the states in Redis, not from zero.
    job.produce(3000, seed=12, vehicles=150)
    counts = summary_counts(job.run_to_end())
    assert counts["read"] == 3000 and counts["applied"] == 3000
    want, _ = job.check_against_oracle()
    assert sum(w["samples"] for w in want.values()) == 9000


def test_fence_in_redis_drives_the_start_offset(stack):
    """Whatever Kafka's committed offset says, a partition restarts at its fence + 1."""
    job = Job(stack, "fence")
    job.produce(2000, seed=21, vehicles=50)
    job.run_to_end()
    # Rewind the fences by hand to before the data: bwm must re-read from there, and the
    # states (which already include those records) would double-count; so wipe them too,
    # which is exactly a state reset.
    keys = stack.redis("--scan", "--pattern", f"{{bwm:{job.namespace}:*").split()
    assert any(k.endswith(":fence") for k in keys)
    stack.redis("DEL", *keys)
    counts = summary_counts(job.run_to_end())
    assert counts["read"] == 2000 and counts["applied"] == 2000
    job.check_against_oracle()


def test_continuous_run_stops_cleanly_on_sigterm(stack):
    job = Job(stack, "sigterm")
    job.produce(3000, seed=31, vehicles=80)
    proc = stack.bwm_background("run", *job.args())
    try:
        deadline = time.monotonic() + 120
        while True:
            ends, fences = job.fences()
            if all(fences[p] and int(fences[p].split(":")[0]) == e - 1
                   for p, e in ends.items() if e > 0):
                break
            assert proc.poll() is None, proc.stderr.read()
            assert time.monotonic() < deadline, f"waiting for fences {fences} to reach {ends}"
            time.sleep(0.2)
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert summary_counts(err)["applied"] == 3000
    job.check_against_oracle()


def test_consume_prints_results_as_json_lines(stack):
    job = Job(stack, "consume")
    job.produce(1500, seed=41, vehicles=30)
    job.run_to_end()
    out = stack.bwm("consume", "-t", job.output)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows and set(rows[0]) == {"vin", "samples", "distance_km", "version"}
    latest = {}
    for r in rows:
        if r["version"] > latest.get(r["vin"], {"version": -1})["version"]:
            latest[r["vin"]] = r
    got, count = latest_results(stack.bootstrap, stack.registry, job.output)
    assert len(rows) == count
    assert latest == got
    assert f"{count} records from {job.output}" in out.stderr


@pytest.mark.parametrize("extra, message", [
    (["-X", "comit.interval.ms=5"], "unknown key 'comit.interval.ms' (did you mean "
                                    "'commit.interval.ms'?)"),
    (["-X", "commit.max.records=0"], "commit.max.records = 0 is out of range (allowed: 1 .. "),
    (["-X", "job.aggregates=SUM(vin)"], "SUM needs a numeric field, 'vin' is STRING"),
    (["-X", "kafka.no.such.property=1"], "kafka.no.such.property"),
    (["-X", "redis.url=http://x"], "redis.url must look like redis://"),
])
def test_bad_configuration_exits_2_naming_the_key(stack, extra, message):
    out = stack.bwm("run", "-c", CONF, *extra)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr


def test_bad_configuration_file_names_the_line(stack, tmp_path):
    conf = Path(tmp_path) / "bad.conf"
    text = Path(CONF).read_text().replace("commit.max.records = 10000", "commit.max.recods = 10")
    conf.write_text(text.replace("../telemetry.avsc", str(REPO / "schemas/telemetry.avsc")))
    line = text.splitlines().index("commit.max.recods = 10") + 1
    out = stack.bwm("check", "-c", str(conf))
    assert out.returncode == 2
    assert f"bad.conf:{line}: unknown key 'commit.max.recods'" in out.stderr
