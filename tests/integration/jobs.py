"""The telemetry job of the runtime tests, isolated per test, and its exactness check.

A RuntimeJob has its own input topic (4 partitions), result and dead-letter
topics, state namespace and consumer group. check_exact() compares what bwm
left behind with the oracle: the highest-version result of every
(key, window), every state still held in Redis (`bwm state`), every fence
(offset and watermark) and every dead letter.
"""
import datetime
import json
import subprocess
import uuid
from pathlib import Path

from conftest import REPO
from kafkautil import end_offsets, group_assignment, iter_topic
from oracle import KPI_COLUMNS, expect, mismatches, read_results
from procs import wait_until

SCHEMA = REPO / "schemas/telemetry.avsc"
MINUTE = 60 * 1000

JOB_SQL = """
CREATE STREAM telemetry WITH (topic = '{input}', format = 'avro', timestamp = 'ts',
                              schema = '{schema}');
CREATE TABLE {name} WITH (topic = '{output}') AS
SELECT vin,
       COUNT(*)                AS samples,
       SUM(distance_km)        AS distance_km,
       AVG(speed)              AS avg_speed,
       MAX(speed)              AS max_speed,
       STDDEV(speed)           AS speed_stddev,
       COUNT_DISTINCT(trip_id) AS trips,
       PERCENTILE(speed, 0.95) AS p95_speed{extra}
FROM telemetry
WHERE {where}
{window}
GROUP BY vin
EMIT CHANGES;
"""


# WHERE clauses of the job, with the oracle's reading of each.
MOVING = ("ignition = true AND speed >= 0", lambda r: r["ignition"] is True and r["speed"] >= 0)
EVERY = ("speed >= 0", lambda r: r["speed"] >= 0)


def first_line(text):
    return text.strip().splitlines()[0] if text.strip() else "(no message)"


def iso_ms(text):
    """Milliseconds since 1970 of an ISO-8601 UTC time as bwm prints it."""
    dt = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return int(dt.replace(tzinfo=datetime.timezone.utc).timestamp() * 1000)


class RuntimeJob:
    """One job: the KPI query over telemetry, tumbling windows of size_ms (None: no WINDOW)."""

    def __init__(self, stack, tmp_path, name, size_ms=10 * MINUTE, grace_ms=MINUTE,
                 where=MOVING, columns=KPI_COLUMNS, extra_sql="", conf=()):
        self.stack = stack
        self.dir = Path(tmp_path)
        tag = f"{name}-{uuid.uuid4().hex[:6]}"
        self.input = f"tel.{tag}"
        self.output = f"kpi.{tag}"
        self.dlq = f"{self.input}.dlq"
        self.namespace = f"ns-{tag}"
        self.group = f"bwm-{self.namespace}"
        self.size_ms, self.grace_ms = size_ms, grace_ms
        self.columns = columns
        self.where = where[1]
        window = ""
        if size_ms is not None:
            window = (f"WINDOW TUMBLING (SIZE {size_ms // 1000} SECONDS, "
                      f"GRACE {grace_ms // 1000} SECONDS)")
        sql = self.dir / f"{tag}.sql"
        sql.write_text(JOB_SQL.format(input=self.input, output=self.output, schema=SCHEMA,
                                      name=name.replace("-", "_"), extra=extra_sql, window=window,
                                      where=where[0]))
        self.conf = self.dir / f"{tag}.conf"
        # A SIGKILLed or paused member holds its partitions until its session times out;
        # 6 s is the broker's smallest allowed session.
        self.conf.write_text("\n".join([
            f"job = {sql.name}", f"state.namespace = {self.namespace}",
            "commit.interval.ms = 200", "kafka.session.timeout.ms = 6000",
            "kafka.heartbeat.interval.ms = 1000", *conf]) + "\n")
        stack.topic(self.input, 4)

    # ---- input and processes ------------------------------------------------------------

    def produce(self, n, seed, vehicles):
        out = self.stack.bwm("produce", "-t", self.input, "--generate", str(n), "--seed",
                             str(seed), "--vehicles", str(vehicles), check=True)
        assert f"{n} records to {self.input}" in out.stderr, out.stderr

    def producer(self, fleet, n, seed, vehicles, rate):
        """A background `bwm produce --rate`, for input that keeps arriving."""
        return fleet.start(f"produce-{seed}", "produce", "-t", self.input, "--generate", str(n),
                           "--seed", str(seed), "--vehicles", str(vehicles), "--rate", str(rate))

    def start(self, fleet, name, *extra):
        """A `bwm run` instance; its client id is its name, so the group shows who holds what."""
        return fleet.start(name, "run", "-c", str(self.conf), "-X", f"kafka.client.id={name}",
                           *extra)

    # ---- what bwm left behind -----------------------------------------------------------

    def ends(self):
        return end_offsets(self.stack.bootstrap, self.input)

    def fences(self):
        """{partition: (offset, watermark)} from the fence keys in Redis; None where absent."""
        parts = list(self.ends())
        keys = [f"{{bwm:{self.namespace}:{p}}}:fence" for p in parts]
        # One MGET: a missing key prints an empty line.
        out = subprocess.run(["redis-cli", "-p", str(self.stack.redis_port), "MGET", *keys],
                             check=True, capture_output=True, text=True, timeout=10).stdout
        fences = {}
        for p, text in zip(parts, out.split("\n")):
            if text:
                offset, wm = text.split(":")
                fences[p] = (int(offset), int(wm) if wm.isdigit() else None)
            else:
                fences[p] = None
        return fences

    def committed(self):
        """Records whose effect is committed: the sum over partitions of fence offset + 1."""
        return sum(f[0] + 1 for f in self.fences().values() if f)

    def caught_up(self):
        return self.caught_up_on([p for p, end in self.ends().items() if end > 0])

    def wait_caught_up(self, procs, timeout=180):
        """Waits until every partition's fence is at the end of its input, while procs run."""
        def done():
            for proc in procs:
                assert proc.alive(), f"{proc.name} exited ({proc.popen.returncode})\n{proc.tail()}"
            return self.caught_up()
        wait_until(done, timeout, lambda: f"fences {self.fences()} to reach the ends {self.ends()}")

    def wait_progress(self, procs, partitions=(0, 1, 2, 3), records=1, timeout=120):
        """Waits until the fences of partitions have moved by records from where they are now,
        while procs run."""
        def offset(f):
            return f[0] if f else -1
        start = {p: offset(f) for p, f in self.fences().items()}

        def moved():
            for proc in procs:
                assert proc.alive(), f"{proc.name} exited ({proc.popen.returncode})\n{proc.tail()}"
            now = self.fences()
            return all(offset(now[p]) >= start[p] + records for p in partitions)
        wait_until(moved, timeout, lambda: f"fences of partitions {list(partitions)} to move "
                   f"{records} records on from {start} (now {self.fences()})")

    def members(self):
        """{client id: partitions} of the job's consumer group, when it is stable."""
        members, state = group_assignment(self.stack.bootstrap, self.group)
        return members if state == "STABLE" else {}

    def wait_members(self, want, timeout=60):
        """Waits until the stable group's members are the names in want, each with partitions,
        together holding all four."""
        def ready():
            m = self.members()
            held = sorted(p for parts in m.values() for p in parts)
            return m if set(m) == set(want) and all(m.values()) and held == [0, 1, 2, 3] else None
        return wait_until(ready, timeout, lambda: f"group {self.group} to be {sorted(want)} "
                          f"sharing 4 partitions (now {self.members()})", poll=0.25)

    def states(self, partition=None):
        """{(vin, window_start or None): row} printed by `bwm state` (of one partition)."""
        args = [] if partition is None else ["--partition", str(partition)]
        out = self.stack.bwm("state", "-c", str(self.conf), *args)
        assert out.returncode == 0, (
            f"{' '.join(['bwm state', *args])} exited {out.returncode}: {first_line(out.stderr)}")
        rows = {}
        for line in out.stdout.splitlines():
            row = json.loads(line)
            for field in ("window_start", "window_end"):
                if isinstance(row.get(field), str):
                    row[field] = iso_ms(row[field])
            key = (row["vin"], row.get("window_start"))
            assert key not in rows, f"bwm state printed {key} twice"
            rows[key] = row
        return rows

    def state_fences(self):
        """{partition: (offset, watermark)} printed by `bwm state --fences`."""
        out = self.stack.bwm("state", "-c", str(self.conf), "--fences")
        assert out.returncode == 0, (
            f"bwm state --fences exited {out.returncode}: {first_line(out.stderr)}")
        rows = [json.loads(line) for line in out.stdout.splitlines()]
        return {r["partition"]: (r["offset"], r["watermark"]) for r in rows}

    def ends_of(self, topic):
        """How many records topic holds: the sum of its partitions' end offsets."""
        return sum(end_offsets(self.stack.bootstrap, topic).values())

    def caught_up_on(self, partitions):
        ends, fences = self.ends(), self.fences()
        return all(fences[p] and fences[p][0] == ends[p] - 1 for p in partitions)

    def dead_letters(self):
        """{(source partition, source offset): [(reason, message), ...]} of the dead letters."""
        out = {}
        for msg in iter_topic(self.stack.bootstrap, self.dlq):
            h = {k: v.decode() for k, v in msg.headers() or []}
            src = (int(h["bwm.source.partition"]), int(h["bwm.source.offset"]))
            out.setdefault(src, []).append((h["bwm.reason"], msg))
        return out

    # ---- the check ----------------------------------------------------------------------

    def expected(self, **kw):
        st = self.stack
        return expect(st.bootstrap, st.registry, self.input, self.size_ms, self.grace_ms,
                      self.where, **kw)

    def check_exact(self, exp):
        """Compares results, states, fences and dead letters with the oracle's Expected.

        Every part is checked and every difference reported together, so one run shows
        all that is wrong. Returns the Results read."""
        problems = []
        res = self.check_results(exp, problems)
        self.check_fences(exp, problems)
        self.check_states(exp, problems)
        self.check_dead_letters(exp, problems)
        assert not problems, f"{len(problems)} differences from the oracle:\n" + "\n".join(
            problems[:40])
        return res

    def check_results(self, exp, problems):
        st = self.stack
        res = read_results(st.bootstrap, st.registry, self.output,
                           windowed=self.size_ms is not None)
        print(f"{self.output}: {res.count} results, {res.repeated} repeats of a "
              f"(key, window, version), {len(res.latest)} (key, window)s; oracle: "
              f"{len(exp.windows)} (key, window)s, {len(exp.open_windows)} open, "
              f"{exp.applied} applied, {len(exp.dead)} dead of {exp.records} records")
        missing = set(exp.windows) - set(res.latest)
        extra = set(res.latest) - set(exp.windows)
        if missing or extra:
            problems.append(f"results: {len(missing)} (key, window)s missing (e.g. "
                            f"{sorted(missing)[:3]}), {len(extra)} unexpected (e.g. "
                            f"{sorted(extra)[:3]})")
        wrong = 0
        for key in sorted(set(exp.windows) & set(res.latest)):
            w, got = exp.windows[key], res.latest[key]
            bad = mismatches(w, got, self.columns)
            if self.size_ms is not None and got["window_end"] != key[1] + self.size_ms:
                bad.append(f"window_end {got['window_end']}")
            if bad:
                wrong += 1
                if wrong <= 10:
                    problems.append(f"result {key}: " + "; ".join(bad))
        if wrong:
            problems.append(f"results: {wrong} of {len(exp.windows)} (key, window)s differ")
        return res

    def check_fences(self, exp, problems):
        ends, fences = self.ends(), self.fences()
        want = {p: (end - 1, exp.watermarks.get(p)) for p, end in ends.items() if end > 0}
        got = {p: fences[p] for p in want}
        if got != want:
            problems.append(f"fences in Redis {got}, want (offset, watermark) {want}")
        try:
            printed = self.state_fences()
        except AssertionError as e:
            problems.append(str(e))
            return
        if {p: printed.get(p) for p in want} != want:
            problems.append(f"bwm state --fences printed {printed}, want {want}")

    def check_states(self, exp, problems):
        try:
            states = self.states()
        except AssertionError as e:
            problems.append(str(e))
            return
        want = exp.open_windows
        print(f"bwm state: {len(states)} states; oracle: {len(want)} open (key, window)s")
        window = ("window_start", "window_end") if self.size_ms is not None else ()
        fields = {"vin", *window, *self.columns, "version", "partition"}
        odd = [k for k, row in states.items() if set(row) != fields]
        if odd:
            problems.append(f"states: {len(odd)} lines without exactly the fields {sorted(fields)}"
                            f", e.g. {sorted(states[odd[0]])}")
        missing, extra = set(want) - set(states), set(states) - set(want)
        if missing or extra:
            problems.append(f"states: {len(missing)} (key, window)s missing (e.g. "
                            f"{sorted(missing)[:3]}), {len(extra)} not expected (e.g. "
                            f"{sorted(extra)[:3]})")
        wrong = 0
        for key in sorted(set(want) & set(states)):
            w, row = want[key], states[key]
            bad = mismatches(w, row, self.columns)
            if window and row.get("window_end") != key[1] + self.size_ms:
                bad.append(f"window_end {row.get('window_end')}")
            if row.get("partition") != w.partition:
                bad.append(f"partition {row.get('partition')}, want {w.partition}")
            if bad:
                wrong += 1
                if wrong <= 10:
                    problems.append(f"state {key}: " + "; ".join(bad))
        if wrong:
            problems.append(f"states: {wrong} of {len(want)} differ")
        one = {k: row for k, row in states.items() if row.get("partition") == 1}
        try:
            if self.states(partition=1) != one:
                problems.append("bwm state --partition 1 differs from the lines of partition 1")
        except AssertionError as e:
            problems.append(str(e))

    def check_dead_letters(self, exp, problems):
        dead = self.dead_letters()
        got = {src: tuple(sorted({reason for reason, _ in entries}))
               for src, entries in dead.items()}
        want = {src: (reason,) for src, reason in exp.dead.items()}
        if got != want:
            diff = sorted(set(got.items()) ^ set(want.items()))
            problems.append(f"dead letters: {len(got)} sources, want {len(want)}; e.g. {diff[:5]}")
