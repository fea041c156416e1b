"""`bwm replay`, `bwm state diff` and `bwm state drop` against the real stack.

A replay reprocesses a range of the input into its own namespace and result
topic. Its states (`bwm state`) and the highest-version results of its topic
must equal the oracle (oracle.py) computed over exactly the records of the
range; running it again into the same namespace applies nothing, because of
the fence; it never disturbs `bwm run` on the same input.
"""
import copy
import datetime
import json
import os
import pty
import re
import statistics
import subprocess
import threading
import time

import oracle
from conftest import BWM
from jobs import RuntimeJob
from confluent_kafka.admin import AdminClient

from kafkautil import end_offsets, iter_topic
from procs import Fleet, wait_until

PLAN_LINE = re.compile(r"^  partition (\d+): offsets \[(\d+), (\d+)\): (\d+) records$", re.M)
STAMPED = re.compile(r"\.replay\.\d{8}T\d{6}Z$")


def now_ms():
    return time.time_ns() // 1_000_000


def iso(ms, offset_hours=0):
    """ms as ISO-8601 with milliseconds, in UTC ("Z") or at a fixed offset ("+01:00")."""
    tz = datetime.timezone(datetime.timedelta(hours=offset_hours))
    text = datetime.datetime.fromtimestamp(ms / 1000, tz).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")


def bwm(stack, *args, timeout=300):
    """bwm with stdin not a terminal, as in CI and cron."""
    return subprocess.run([BWM, *args], env=stack.run_env(), capture_output=True, text=True,
                          timeout=timeout, stdin=subprocess.DEVNULL)


def replay(job, *args, timeout=300):
    out = bwm(job.stack, "replay", "-c", str(job.conf), *args, timeout=timeout)
    return out


def plan_of(stdout):
    """{partition: (start, end)} of the plan a replay printed."""
    return {int(m[1]): (int(m[2]), int(m[3])) for m in PLAN_LINE.finditer(stdout)}


def names_of(stdout):
    """(namespace, result topic, dead-letter topic) a replay printed."""
    ns = re.search(r"^  state namespace: (\S+)", stdout, re.M)[1]
    out = re.search(r"^  result topic: (\S+)", stdout, re.M)[1]
    dlq = re.search(r"^  dead-letter topic: (\S+)", stdout, re.M)[1]
    return ns, out, dlq


def counts(stderr):
    """The counters of the final `bwm replay: read N, applied N, ...` line."""
    lines = [ln for ln in stderr.splitlines() if ln.startswith("bwm replay: read ")]
    assert lines, f"no summary in:\n{stderr[-2000:]}"
    return {m.group(1): int(m.group(2))
            for m in re.finditer(r"([a-z][a-z -]*?) (\d+)(?=,)", lines[-1][len("bwm replay: "):])}


def ok(out):
    assert out.returncode == 0, f"exit {out.returncode}\n{out.stdout[-2000:]}\n{out.stderr[-3000:]}"
    return out


def view(job, namespace, output):
    """The job as seen through a replay's namespace and result topic, for the checks of jobs.py."""
    v = copy.copy(job)
    v.namespace, v.output = namespace, output
    v.conf = job.dir / f"{namespace}.conf"
    text = job.conf.read_text().replace(f"state.namespace = {job.namespace}\n",
                                        f"state.namespace = {namespace}\n")
    v.conf.write_text(text + f"sink.topic = {output}\n")
    return v


def expected_in(job, ranges, monkeypatch):
    """The oracle over exactly the records of ranges, {partition: (start, end)}."""
    real = oracle.iter_topic

    def only(bootstrap, topic, timeout=120):
        for msg in real(bootstrap, topic, timeout):
            lo, hi = ranges.get(msg.partition(), (0, 0))
            if topic != job.input or lo <= msg.offset() < hi:
                yield msg
    with monkeypatch.context() as m:
        m.setattr(oracle, "iter_topic", only)
        return job.expected()


def check_replay(v, exp, ranges):
    """The replay's results, states and fences against the oracle of its range."""
    problems = []
    res = v.check_results(exp, problems)
    v.check_states(exp, problems)
    fences = v.fences()
    for p, (lo, hi) in ranges.items():
        want = (hi - 1, exp.watermarks.get(p)) if hi > lo else None
        if fences.get(p) != want:
            problems.append(f"fence of partition {p}: {fences.get(p)}, want {want}")
    assert not problems, f"{len(problems)} differences from the oracle:\n" + "\n".join(
        problems[:40])
    return res


def redis_keys(stack, namespace):
    out = stack.redis("--scan", "--pattern", f"{{bwm:{namespace}:*")
    return sorted(out.split()) if out else []


def test_a_time_range_replay_equals_the_oracle_of_the_range_and_again_applies_nothing(
        stack, tmp_path, monkeypatch):
    job = RuntimeJob(stack, tmp_path, "rtime")
    # Three batches apart in Kafka time: the replay takes the middle one.
    job.produce(6000, seed=11, vehicles=40)
    t1 = now_ms() + 1
    wait_until(lambda: now_ms() > t1, 5, "the clock to pass t1")
    job.produce(9000, seed=12, vehicles=40)
    t2 = now_ms() + 1
    wait_until(lambda: now_ms() > t2, 5, "the clock to pass t2")
    job.produce(5000, seed=13, vehicles=40)

    # The range as Kafka's timestamps give it, read independently.
    want = {}
    for msg in iter_topic(stack.bootstrap, job.input):
        if t1 <= msg.timestamp()[1] < t2:
            lo, hi = want.get(msg.partition(), (msg.offset(), msg.offset() + 1))
            want[msg.partition()] = (min(lo, msg.offset()), max(hi, msg.offset() + 1))
    assert sum(hi - lo for lo, hi in want.values()) == 9000

    ns, topic = f"{job.namespace}.r1", f"{job.output}.r1"
    first = ok(replay(job, "--from", iso(t1), "--to", iso(t2, 1), "--namespace", ns,
                      "--output-topic", topic))
    print(first.stdout)
    assert plan_of(first.stdout) == want
    c1 = counts(first.stderr)
    print("first:", c1)
    exp = expected_in(job, want, monkeypatch)
    assert exp.records == 9000
    assert c1["read"] == 9000 and c1["skipped by fence"] == 0
    assert c1["applied"] == exp.applied and c1["dead-lettered"] == len(exp.dead)
    v = view(job, ns, topic)
    res = check_replay(v, exp, want)
    states = v.states()

    again = ok(replay(job, "--from", iso(t1), "--to", iso(t2, 1), "--namespace", ns,
                      "--output-topic", topic))
    c2 = counts(again.stderr)
    print("again:", c2)
    assert c2["read"] == 0 and c2["applied"] == 0 and c2["results"] == 0
    assert c2["skipped by fence"] == 9000
    assert v.states() == states, "the states did not change"
    assert oracle.read_results(stack.bootstrap, stack.registry, topic).count == res.count, (
        "nothing more was produced")


def test_a_replay_beside_bwm_run_disturbs_neither(stack, tmp_path, monkeypatch):
    job = RuntimeJob(stack, tmp_path, "rlive")
    job.produce(20000, seed=21, vehicles=60)
    with Fleet(stack, tmp_path) as fleet:
        live = job.start(fleet, "a")
        job.wait_members({"a"})
        # Producers keep writing while the replay runs: it still ends, at the ends it saw.
        producer = job.producer(fleet, 30000, seed=22, vehicles=60, rate=4000)
        job.wait_progress([live], records=100)
        out = ok(replay(job, "--from", "earliest"))
        print(out.stdout)
        assert job.members().keys() <= {"a"}, "the replay joined no group"
        groups = AdminClient({"bootstrap.servers": stack.bootstrap}).list_consumer_groups(
            request_timeout=10).result()
        assert not [g.group_id for g in groups.valid if "replay" in g.group_id], (
            "the replay committed no offsets under a group of its own")
        assert producer.wait(120) == 0, producer.tail()
        job.wait_caught_up([live])
        assert live.stop() == 0, live.tail()
    print("bwm run:", live.summary())
    job.check_exact(job.expected())

    ns, topic, dlq = names_of(out.stdout)
    for name, live_name in ((ns, job.namespace), (topic, job.output), (dlq, job.dlq)):
        assert name.startswith(live_name + ".replay.") and STAMPED.search(name), name
    ranges = plan_of(out.stdout)
    assert sorted(ranges) == [0, 1, 2, 3] and all(lo == 0 for lo, _ in ranges.values())
    total = sum(hi for _, hi in ranges.values())
    assert 20000 <= total < 50000 == sum(job.ends().values()), (
        "the ends were snapshotted while records arrived")
    exp = expected_in(job, ranges, monkeypatch)
    assert counts(out.stderr)["read"] == exp.records == total
    check_replay(view(job, ns, topic), exp, ranges)


def test_state_diff_reports_equality_and_finds_differences(stack, tmp_path):
    job = RuntimeJob(stack, tmp_path, "rdiff")
    job.produce(8000, seed=31, vehicles=40)
    a, b, c = (f"{job.namespace}.{x}" for x in "abc")
    ok(replay(job, "--from", "earliest", "--namespace", a, "--output-topic", f"{job.output}.a"))
    ok(replay(job, "--from", "earliest", "--namespace", b, "--output-topic", f"{job.output}.b"))
    ok(replay(job, "--from", "earliest", "--to", "1000", "--namespace", c,
              "--output-topic", f"{job.output}.c"))

    def diff(*args):
        return bwm(stack, "state", "diff", "-c", str(job.conf), *args)

    same = diff(a, b)
    assert same.returncode == 0, same.stderr
    assert same.stdout == ""
    held = len(view(job, a, job.output).states())
    assert f"0 of {held} (key, window)s differ" in same.stderr, same.stderr

    other = diff(a, c)
    assert other.returncode == 1, other.stderr
    rows = [json.loads(line) for line in other.stdout.splitlines()]
    assert rows and re.search(rf"\b{len(rows)} of \d+ \(key, window\)s differ", other.stderr)
    assert all({"key", "window_start", "a", "b"} == set(r) for r in rows)

    # One state of b replaced by another key's: that key's windows differ, nothing else.
    keys = sorted(k for k in redis_keys(stack, b) if k.startswith(f"{{bwm:{b}:0}}:s:"))
    assert len(keys) >= 2
    stack.redis("COPY", keys[0], keys[1], "REPLACE")
    changed = diff(a, b)
    assert changed.returncode == 1, changed.stderr
    rows = [json.loads(line) for line in changed.stdout.splitlines()]
    victim = keys[1][len(f"{{bwm:{b}:0}}:s:"):]
    assert rows and {r["key"] for r in rows} == {victim}, (victim, rows[:3])
    for r in rows:
        if r["a"] and r["b"]:
            assert r["a"]["vin"] == r["b"]["vin"] == victim and r["a"] != r["b"]
    print(f"injected difference: {len(rows)} (key, window)s of {victim}")

    # A window range that holds none of them: equal again.
    windows = sorted({r["window_start"] for r in rows})
    narrow = diff(a, b, "--window-from", iso(windows[-1] + 1), "--window-to", iso(windows[-1] + 2))
    assert narrow.returncode == 0 and narrow.stdout == "", narrow.stderr
    only = diff(a, b, "--window-from", iso(windows[0]), "--window-to", iso(windows[0] + 1))
    assert only.returncode == 1 and len(only.stdout.splitlines()) == 1

    for bad, word in (((a,), "two namespaces"), ((a, b, "--window-from", "soon"), "--window-from"),
                      ((a, "no:colons"), "not valid")):
        out = diff(*bad)
        assert out.returncode == 2 and word in out.stderr, (bad, out.stderr)


def test_state_drop_removes_one_namespace_and_reset_state_asks(stack, tmp_path):
    job = RuntimeJob(stack, tmp_path, "rdrop", size_ms=60_000, grace_ms=0,
                     conf=("state.retention.ms = 600000",))
    job.produce(6000, seed=41, vehicles=30)
    ok(job.stack.bwm("run", "-c", str(job.conf), "--exit-at-end"))
    d, e = f"{job.namespace}.d", f"{job.namespace}.d.2"
    for ns in (d, e):
        ok(replay(job, "--from", "earliest", "--namespace", ns, "--output-topic",
                  f"{job.output}.x"))
    kept = {ns: redis_keys(stack, ns) for ns in (job.namespace, e)}
    before = redis_keys(stack, d)
    kinds = {k.split("}", 1)[1].split(":")[1] for k in before}
    assert kinds == {"fence", "s", "close", "c"}, f"states, fences, index, retained: {kinds}"

    refused = bwm(stack, "state", "drop", "-c", str(job.conf), d)
    assert refused.returncode == 2 and "--yes" in refused.stderr, refused.stderr
    assert redis_keys(stack, d) == before
    dropped = ok(bwm(stack, "state", "drop", "-c", str(job.conf), d, "--yes"))
    assert f"deleted {len(before)} keys of namespace {d}" in dropped.stderr, dropped.stderr
    assert redis_keys(stack, d) == []
    assert {ns: redis_keys(stack, ns) for ns in kept} == kept, "nothing of another namespace"

    out = replay(job, "--from", "earliest", "--namespace", e, "--output-topic",
                 f"{job.output}.x", "--reset-state")
    assert out.returncode == 2 and "--yes" in out.stderr, out.stderr
    assert redis_keys(stack, e) == kept[e]
    out = ok(replay(job, "--from", "earliest", "--namespace", e, "--output-topic",
                    f"{job.output}.x", "--reset-state", "--yes"))
    c = counts(out.stderr)
    assert c["read"] == 6000 and c["skipped by fence"] == 0, "replayed from an empty namespace"

    bad = bwm(stack, "state", "drop", "-c", str(job.conf), "a*")
    assert bad.returncode == 2 and "not valid" in bad.stderr


def test_dry_run_offsets_partitions_into_live_and_bad_arguments(stack, tmp_path, monkeypatch):
    job = RuntimeJob(stack, tmp_path, "roff")
    job.produce(8000, seed=51, vehicles=40)
    ends = end_offsets(stack.bootstrap, job.input)

    dry = ok(replay(job, "--from", "0:10,2:20,3:5", "--to", "0:110,2:70,3:5", "--dry-run"))
    print(dry.stdout)
    assert plan_of(dry.stdout) == {0: (10, 110), 2: (20, 70), 3: (5, 5)}
    assert "total: 3 partitions, 150 records" in dry.stdout
    ns, topic, dlq = names_of(dry.stdout)
    assert redis_keys(stack, ns) == [], "a dry run writes no state"
    md = AdminClient({"bootstrap.servers": stack.bootstrap}).list_topics(timeout=10)
    assert topic not in md.topics and dlq not in md.topics, "a dry run creates no topic"

    ranges = {0: (10, 110), 2: (20, 70)}
    ns, topic = f"{job.namespace}.off", f"{job.output}.off"
    out = ok(replay(job, "--from", "0:10,1:5,2:20", "--to", "0:110,1:50,2:70", "--partitions",
                    "0,2", "--namespace", ns, "--output-topic", topic))
    assert plan_of(out.stdout) == ranges
    exp = expected_in(job, ranges, monkeypatch)
    assert counts(out.stderr)["read"] == exp.records == 150
    check_replay(view(job, ns, topic), exp, ranges)

    # A single offset for every partition, narrowed to one partition, up to the end.
    one = ok(replay(job, "--from", "100", "--partitions", "3", "--dry-run"))
    assert plan_of(one.stdout) == {3: (100, ends[3])}

    # Into the live namespace: only with --into-live, and the fence skips what run applied.
    ok(job.stack.bwm("run", "-c", str(job.conf), "--exit-at-end"))
    states = job.states()
    refused = replay(job, "--from", "earliest", "--namespace", job.namespace)
    assert refused.returncode == 2 and "--into-live" in refused.stderr, refused.stderr
    live = ok(replay(job, "--from", "earliest", "--into-live"))
    assert names_of(live.stdout)[:2] == (job.namespace, job.output)
    c = counts(live.stderr)
    assert c["applied"] == 0 and c["skipped by fence"] == 8000, c
    assert job.states() == states

    for args, word in ((("--from", "yesterday"), "--from"),
                       (("--from", "earliest", "--to", "-3w"), "--to"),
                       (("--from", "earliest", "--partitions", "9"), "--partitions"),
                       (("--from", "earliest", "--partitions", "x"), "--partitions"),
                       (("--from", "0:50", "--to", "0:10"), "--from is after --to"),
                       (("--from", "earliest", "--namespace", "bad name"), "--namespace"),
                       (("--to", "end",), "--from is required"),
                       (("--from", "earliest", "-X", "commit.max.records=0"),
                        "commit.max.records")):
        bad = replay(job, *args)
        assert bad.returncode == 2 and word in bad.stderr, (args, bad.stderr[-500:])


def test_a_small_fetch_queue_is_refilled_at_once_by_the_wake(stack, tmp_path):
    """librdkafka 2.0 looks at a full fetch queue again only after a second; the wake
    (source.fetch.wake.ms) makes it fetch as soon as the queue has drained."""
    n = 60_000
    job = RuntimeJob(stack, tmp_path, "rwake")
    job.produce(n, seed=71, vehicles=200)
    small = []
    for setting in ("kafka.queued.min.messages=2000", "kafka.max.partition.fetch.bytes=32768",
                    "kafka.fetch.max.bytes=131072", "kafka.message.max.bytes=131072",
                    "log.level=debug", "log.debug=kafka"):
        small += ["-X", setting]
    # Three replays each way, alternating, into namespaces of their own: the medians are
    # compared, so that a moment of load on the machine does not decide.
    walls, wakes = {"wake": [], "no wake": []}, {"wake": 0, "no wake": 0}
    for run in range(3):
        for name, period in (("wake", 2), ("no wake", 0)):
            t0 = time.monotonic()
            out = ok(replay(job, "--from", "earliest",
                            "--namespace", f"{job.namespace}.{period}.{run}",
                            "--output-topic", f"{job.output}.{period}.{run}", *small,
                            "-X", f"source.fetch.wake.ms={period}"))
            walls[name].append(time.monotonic() - t0)
            wakes[name] += out.stderr.count("woke the fetchers")
            c = counts(out.stderr)
            assert c["read"] == n and c["applied"] + c["filtered"] + c["dead-lettered"] == n, c
    median = {name: statistics.median(w) for name, w in walls.items()}
    print(f"{n} records, queue of 2000 messages: walls {walls} s, medians {median} s, "
          f"wakes {wakes}")
    assert wakes["wake"] > 0 and wakes["no wake"] == 0, wakes
    assert median["wake"] * 3 < median["no wake"], median


def test_replay_throughput_and_progress_on_a_terminal(stack, tmp_path):
    n = 500_000
    job = RuntimeJob(stack, tmp_path, "rspeed")
    started = time.monotonic()
    job.produce(n, seed=61, vehicles=1000)
    print(f"{n} records produced in {time.monotonic() - started:.1f} s")

    # stderr on a pseudo-terminal: the progress line is drawn in place.
    master, slave = pty.openpty()
    seen = []
    reader = threading.Thread(target=lambda: _drain(master, seen), daemon=True)
    reader.start()
    t0 = time.monotonic()
    proc = subprocess.Popen([BWM, "replay", "-c", str(job.conf), "--from", "earliest"],
                            env=job.stack.run_env(), stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=slave)
    os.close(slave)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.monotonic() - t0
    proc.returncode = os.waitstatus_to_exitcode(status)
    stdout = proc.stdout.read().decode()
    proc.stdout.close()
    reader.join(10)
    text = b"".join(seen).decode(errors="replace")
    assert proc.returncode == 0, text[-3000:]
    c = counts(text.replace("\r", "\n"))
    assert c["read"] == n and c["applied"] + c["filtered"] + c["dead-lettered"] == n, c
    assert "\r\x1b[Kbwm replay: " in text and "records/s" in text, "a progress line in place"
    cpu = usage.ru_utime + usage.ru_stime
    print(stdout)
    lines = text.replace("\r", "\n").splitlines()
    print([ln for ln in lines if ln.startswith("bwm replay: read")][-1])
    print(f"replay of {n} records: {wall:.1f} s wall, {n / wall:,.0f} records/s; CPU "
          f"{usage.ru_utime:.1f} s user + {usage.ru_stime:.1f} s system = "
          f"{cpu / (n / 1e6):.2f} CPU s per million records; summary {c}")


def _drain(fd, out):
    while True:
        try:
            chunk = os.read(fd, 65536)
        except OSError:
            break
        if not chunk:
            break
        out.append(chunk)
    os.close(fd)
