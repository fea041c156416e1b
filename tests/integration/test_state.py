"""`bwm state`: what a job holds in Redis, read back as result records.

The states of the open windows must be the results a downstream reader keeps
(the highest version per key and window), the retained closed windows the
final results, with an expiry in Redis, and the fences the last offsets.
"""
import json

from oracle import latest_results, run
from test_slice import Job, iso_ms, summary_counts

FINAL_JOB = """
CREATE STREAM telemetry WITH (topic = 'vehicle.telemetry', timestamp = 'ts',
                              schema = '../telemetry.avsc');
CREATE TABLE per_minute WITH (topic = 'vehicle.kpi.hourly') AS
SELECT vin, COUNT(*) AS samples, SUM(distance_km) AS distance_km, MAX(speed) AS max_speed
FROM telemetry
WINDOW TUMBLING (SIZE 1 MINUTE, GRACE 0 SECONDS)
GROUP BY vin
EMIT CHANGES;
"""

RETENTION_MS = 600000


def state_lines(job, *extra):
    out = job.stack.bwm("state", *job.args(), *extra)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()], out.stderr


def by_window(rows):
    got = {}
    for r in rows:
        key = (r["vin"], iso_ms(r["window_start"]))
        assert key not in got, f"{key} listed twice"
        got[key] = r
    return got


def test_state_shows_open_windows_retained_windows_and_fences(stack, tmp_path):
    job = Job(stack, tmp_path, "state", FINAL_JOB)
    with open(job.conf, "a") as f:
        f.write(f"state.retention.ms = {RETENTION_MS}\n")
    job.produce(8000, seed=41, vehicles=40)
    counts = summary_counts(job.run_to_end())
    want, _, late = run(stack.bootstrap, stack.registry, job.input, 60000, 0)
    assert counts["dead-lettered"] == len(late)
    latest, _ = latest_results(stack.bootstrap, stack.registry, job.output)

    rows, summary = state_lines(job)
    open_windows = {k: w for k, w in want.items() if w.final_version is None}
    closed = {k: w for k, w in want.items() if w.final_version is not None}
    assert open_windows and closed, "the data leaves windows open and closes others"
    got = by_window(rows)
    assert set(got) == set(open_windows), "the states are exactly the open windows"
    assert f"{len(rows)} states" in summary
    kept, _ = state_lines(job, "--retained")
    kept = by_window(kept)
    assert set(kept) == set(closed), "every closed window is retained"
    for table in (got, kept):
        for key, r in table.items():
            exp = want[key].figures()
            res = latest[key]
            assert r["samples"] == exp["samples"] == res["samples"], key
            assert r["distance_km"] == exp["distance_km"] == res["distance_km"], key
            assert r["version"] == want[key].version == res["version"], key
            assert 0 <= r["partition"] < 4

    ttl_keys = stack.redis("--scan", "--pattern", f"{{bwm:{job.namespace}:*}}:c:*").split()
    assert len(ttl_keys) == len(closed)
    ttl = int(stack.redis("PTTL", ttl_keys[0]))
    assert 0 < ttl <= RETENTION_MS, "retained windows expire"

    fences, _ = state_lines(job, "--fences")
    ends, _ = job.fences()
    assert {f["partition"]: f["offset"] for f in fences} == {p: e - 1 for p, e in ends.items()}
    assert all(f["watermark"] is not None for f in fences)
    one, _ = state_lines(job, "--partition", "2")
    assert one == [r for r in rows if r["partition"] == 2]


def test_state_without_retention_keeps_no_closed_windows(stack, tmp_path):
    job = Job(stack, tmp_path, "noretain", FINAL_JOB)
    job.produce(3000, seed=42, vehicles=20)
    job.run_to_end()
    kept, summary = state_lines(job, "--retained")
    assert kept == [] and "0 retained windows" in summary
    assert not stack.redis("--scan", "--pattern", f"{{bwm:{job.namespace}:*}}:c:*").split()
