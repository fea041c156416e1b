"""End to end: Avro telemetry on Kafka -> bwm run (a SQL job) -> Redis state -> Avro results.

Every aggregate is compared with the oracle (oracle.py), which recomputes the
job from the input topic with code that shares nothing with bwm.
"""
import datetime
import json
import math
import signal
import time
import uuid
from pathlib import Path

import pytest

from conftest import REPO
from kafkautil import decode_confluent, encode_confluent, end_offsets, produce_raw, read_topic
from oracle import latest_results, run

SCHEMA = str(REPO / "schemas/telemetry.avsc")
DESIGN_JOB = (REPO / "schemas/examples/vehicle_kpi_hourly.sql").read_text()
HOUR = 3600 * 1000


def iso_ms(text):
    """Milliseconds since 1970 of an ISO-8601 UTC time."""
    dt = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


def kpi_where(rec):
    return rec["ignition"] is True and rec["speed"] >= 0


class Job:
    """One isolated instance of a job: its own topics, job file and state namespace."""

    def __init__(self, stack, tmp_path, name, sql=DESIGN_JOB):
        self.stack = stack
        tag = f"{name}-{uuid.uuid4().hex[:6]}"
        self.input = f"tel.{tag}"
        self.output = f"kpi.{tag}"
        self.dlq = f"{self.input}.dlq"
        self.namespace = f"ns-{tag}"
        sql = sql.replace("'vehicle.telemetry'", f"'{self.input}'")
        sql = sql.replace("'vehicle.kpi.hourly'", f"'{self.output}'")
        sql = sql.replace("'../telemetry.avsc'", f"'{SCHEMA}'")
        self.sql_path = Path(tmp_path) / f"{tag}.sql"
        self.sql_path.write_text(sql)
        self.conf = Path(tmp_path) / f"{tag}.conf"
        self.conf.write_text(f"job = {self.sql_path.name}\nstate.namespace = {self.namespace}\n"
                             "commit.interval.ms = 200\n")
        stack.topic(self.input, 4)

    def args(self):
        return ["-c", str(self.conf)]

    def produce(self, n, seed, vehicles=300):
        out = self.stack.bwm("produce", "-t", self.input, "--generate", str(n), "--seed", str(seed),
                             "--vehicles", str(vehicles), check=True)
        assert f"{n} records to {self.input}" in out.stderr

    def run_to_end(self):
        out = self.stack.bwm("run", *self.args(), "--exit-at-end")
        assert out.returncode == 0, out.stderr
        return out.stderr

    def check_against_oracle(self, size_ms=HOUR, grace_ms=5 * 60 * 1000, where=kpi_where,
                             invalid=lambda r: False):
        st = self.stack
        want, bad, late = run(st.bootstrap, st.registry, self.input, size_ms, grace_ms, where,
                              invalid)
        got, _ = latest_results(st.bootstrap, st.registry, self.output)
        assert set(got) == set(want), "one result per (key, window) with records"
        for key, w in want.items():
            exp, res = w.figures(), got[key]
            assert res["window_end"] == key[1] + size_ms
            assert res["samples"] == exp["samples"], key
            # The same additions in the same order: the sums are bit-for-bit equal.
            assert res["distance_km"] == exp["distance_km"], key
            assert res["max_speed"] == exp["max_speed"], key
            assert math.isclose(res["avg_speed"], exp["avg_speed"], rel_tol=1e-12), key
            if exp["speed_stddev"] is None:
                assert res["speed_stddev"] is None, key
            else:
                assert math.isclose(res["speed_stddev"], exp["speed_stddev"], rel_tol=1e-9,
                                    abs_tol=1e-9), key
            assert res["trips"] == exp["trips"], key  # exact while the sketch is sparse
            assert abs(res["p95_speed"] - exp["p95_speed"]) <= 0.01 * abs(exp["p95_speed"]), key
            assert res["version"] == w.version, key
        return want, bad, late

    def fences(self):
        ends = end_offsets(self.stack.bootstrap, self.input)
        return ends, {p: self.stack.redis("GET", f"{{bwm:{self.namespace}:{p}}}:fence")
                      for p in ends}


def summary_counts(stderr):
    line = [ln for ln in stderr.splitlines() if ln.startswith("bwm run: read")][-1]
    parts = dict(p.strip().rsplit(" ", 1) for p in line[len("bwm run: "):].split(",")[:8])
    return {k: int(v) for k, v in parts.items()}


def test_design_job_matches_oracle_and_dead_letters_bad_records(stack, tmp_path):
    job = Job(stack, tmp_path, "slice")
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

    counts = summary_counts(job.run_to_end())
    assert counts["read"] == 20000 + len(bad) + 1
    assert counts["dead-lettered"] == len(bad)
    assert counts["applied"] + counts["filtered"] == 20000 + 1

    want, oracle_bad, late = job.check_against_oracle()
    assert sorted(oracle_bad) == sorted(placed), "the oracle cannot decode exactly the bad ones"
    assert not late
    assert sum(w.figures()["samples"] for w in want.values()) == counts["applied"]

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


FINAL_JOB = """
CREATE STREAM telemetry WITH (topic = 'vehicle.telemetry', timestamp = 'ts',
                              schema = '../telemetry.avsc');
CREATE TABLE per_minute WITH (topic = 'vehicle.kpi.hourly') AS
SELECT vin, COUNT(*) AS samples, SUM(distance_km) AS distance_km, AVG(speed) AS avg_speed,
       MAX(speed) AS max_speed, STDDEV(speed) AS speed_stddev, COUNT_DISTINCT(trip_id) AS trips,
       PERCENTILE(speed, 0.95) AS p95_speed
FROM telemetry
WINDOW TUMBLING (SIZE 1 MINUTE, GRACE 0 SECONDS)
GROUP BY vin
EMIT FINAL;
"""


def test_emit_final_closes_windows_once_and_dead_letters_late_records(stack, tmp_path):
    job = Job(stack, tmp_path, "final", FINAL_JOB)
    # 60 vehicles whose clocks start up to a minute apart: records arrive out of order.
    job.produce(12000, seed=3, vehicles=60)
    counts = summary_counts(job.run_to_end())
    want, _, late = run(stack.bootstrap, stack.registry, job.input, 60000, 0)
    assert late, "the data has late records"
    assert counts["dead-lettered"] == len(late)
    dead = read_topic(stack.bootstrap, job.dlq)
    assert sorted((int(dict(m.headers())["bwm.source.partition"]),
                   int(dict(m.headers())["bwm.source.offset"])) for m in dead) == sorted(late)
    assert {dict(m.headers())["bwm.reason"] for m in dead} == {b"late"}
    closed = {k: w for k, w in want.items() if w.final_version is not None}
    results = [m for m in read_topic(stack.bootstrap, job.output)]
    got = {}
    for m in results:
        rec = decode_confluent(stack.registry, m.value())
        key = (rec["vin"], rec["window_start"])
        assert key not in got, f"window {key} emitted twice"
        got[key] = rec
    assert set(got) == set(closed), "exactly the closed windows are emitted"
    for key, w in closed.items():
        exp = w.figures()
        assert got[key]["samples"] == exp["samples"], key
        assert got[key]["distance_km"] == exp["distance_km"], key
        assert got[key]["version"] == w.final_version, "version: the record that closed it"


def test_restart_applies_nothing_twice_and_continues_from_state(stack, tmp_path):
    job = Job(stack, tmp_path, "restart")
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
    assert counts["read"] == 3000
    want, _, _ = job.check_against_oracle()
    assert sum(w.figures()["samples"] for w in want.values()) > counts["applied"]


def test_fence_in_redis_drives_the_start_offset(stack, tmp_path):
    """Whatever Kafka's committed offset says, a partition restarts at its fence + 1."""
    job = Job(stack, tmp_path, "fence")
    job.produce(2000, seed=21, vehicles=50)
    job.run_to_end()
    # Deleting the namespace (fences, states, close index) is a state reset: bwm must read
    # from the beginning again although the group's Kafka offsets are at the end.
    keys = stack.redis("--scan", "--pattern", f"{{bwm:{job.namespace}:*").split()
    assert any(k.endswith(":fence") for k in keys)
    stack.redis("DEL", *keys)
    counts = summary_counts(job.run_to_end())
    assert counts["read"] == 2000
    job.check_against_oracle()


def test_continuous_run_stops_cleanly_on_sigterm(stack, tmp_path):
    job = Job(stack, tmp_path, "sigterm")
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
    assert summary_counts(err)["read"] == 3000
    job.check_against_oracle()


def test_consume_prints_results_as_json_lines(stack, tmp_path):
    job = Job(stack, tmp_path, "consume")
    job.produce(1500, seed=41, vehicles=30)
    job.run_to_end()
    out = stack.bwm("consume", "-t", job.output)
    assert out.returncode == 0, out.stderr
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert rows and set(rows[0]) == {"vin", "window_start", "window_end", "samples", "distance_km",
                                     "avg_speed", "max_speed", "speed_stddev", "trips",
                                     "p95_speed", "version"}
    latest = {}
    for r in rows:
        # Timestamps are printed as ISO-8601 UTC with milliseconds.
        assert r["window_start"].endswith(".000Z") and r["window_end"].endswith(".000Z")
        r["window_start"] = iso_ms(r["window_start"])
        r["window_end"] = iso_ms(r["window_end"])
        key = (r["vin"], r["window_start"])
        if r["version"] > latest.get(key, {"version": -1})["version"]:
            latest[key] = r
    got, count = latest_results(stack.bootstrap, stack.registry, job.output)
    assert len(rows) == count
    assert latest == got
    assert f"{count} records from {job.output}" in out.stderr


@pytest.mark.parametrize("extra, message", [
    (["-X", "comit.interval.ms=5"], "unknown key 'comit.interval.ms' (did you mean "
                                    "'commit.interval.ms'?)"),
    (["-X", "commit.max.records=0"], "commit.max.records = 0 is out of range (allowed: 1 .. "),
    (["-X", "kafka.no.such.property=1"], "kafka.no.such.property"),
    (["-X", "redis.url=http://x"], "redis.url must look like redis://"),
    (["-X", "job=missing.sql"], "job: cannot open"),
])
def test_bad_configuration_exits_2_naming_the_key(stack, extra, message):
    out = stack.bwm("run", "-c", str(REPO / "schemas/examples/vehicle_kpi.conf"), *extra)
    assert out.returncode == 2, out.stderr
    assert message in out.stderr


def test_bad_configuration_file_names_the_line(stack, tmp_path):
    conf = Path(tmp_path) / "bad.conf"
    text = (REPO / "schemas/examples/vehicle_kpi.conf").read_text()
    text = text.replace("commit.max.records = 10000", "commit.max.recods = 10")
    text = text.replace("job = vehicle_kpi_hourly.sql",
                        f"job = {REPO / 'schemas/examples/vehicle_kpi_hourly.sql'}")
    conf.write_text(text)
    line = text.splitlines().index("commit.max.recods = 10") + 1
    out = stack.bwm("check", "-c", str(conf))
    assert out.returncode == 2
    assert f"bad.conf:{line}: unknown key 'commit.max.recods'" in out.stderr


def test_bad_job_file_shows_the_line_with_a_caret(stack, tmp_path):
    sql = Path(tmp_path) / "bad.sql"
    sql.write_text(DESIGN_JOB.replace("SUM(distance_km)", "SUM(distance)")
                   .replace("'../telemetry.avsc'", f"'{SCHEMA}'"))
    conf = Path(tmp_path) / "bad-job.conf"
    conf.write_text("job = bad.sql\n")
    out = stack.bwm("check", "-c", str(conf))
    assert out.returncode == 2
    line = [i for i, ln in enumerate(sql.read_text().splitlines(), 1) if "SUM(distance)" in ln][0]
    col = sql.read_text().splitlines()[line - 1].index("distance)") + 1
    assert f"bad.sql:{line}:{col}: error: unknown field 'distance'" in out.stderr
    assert "(did you mean 'distance_km'?)" in out.stderr
    lines = out.stderr.splitlines()
    shown = lines.index("  " + sql.read_text().splitlines()[line - 1])
    assert lines[shown + 1] == " " * (2 + col - 1) + "^", "the caret is under the column"

