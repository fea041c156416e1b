"""The bwm benchmark: runs every scenario, prints a table and writes tests/bench/RESULTS.md.

  S0  the core in-process (build/bench-core): decode, filter, key, window and five aggregates
      over pre-encoded records, beside avro-c's generic decoder on the same bytes;
  S1  stateless: decode, filter and project, encode, produce;
  S2  keyed aggregate: COUNT, SUM, AVG, MAX per key over 10,000 keys, EMIT CHANGES;
  S4  tumbling window: 100,000 keys, 60 s windows, 5 s grace, EMIT FINAL.

S1, S2 and S4 run on a local stack of their own (deploy/local/stack on free ports): the input
is loaded with `bwm produce --generate`, then bwm (tests/bench/jobs) and the same jobs in
Kafka Streams (tests/bench/peers/kstreams) each process it from the earliest offset to the end
offsets, one after the other. For each run: wall time, CPU seconds of the engine's process
(wait4 rusage), its peak RSS, the CPU the broker and Redis spent meanwhile, and for bwm the
Redis commands it caused. On S2's input, build/bench-read measures what reading alone through
librdkafka costs with the same settings: the floor under bwm's CPU. With --profile, bwm runs S2
once more under perf for a profile.

Usage: run_bench.py [--records N] [--core-records N] [--profile] [--only s0,s1,s2,s4]
Run it with the venv's python (make bench does).
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from confluent_kafka import Consumer, TopicPartition

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "tests" / "integration"))
from stackutil import free_ports, read_env  # noqa: E402 (after the path it is found on)

BENCH = REPO / "tests" / "bench"
BWM = REPO / "build" / "bwm"
BENCH_CORE = REPO / "build" / "bench-core"
BENCH_READ = REPO / "build" / "bench-read"
STACK = REPO / "deploy" / "local" / "stack"
PEER = BENCH / "peers" / "kstreams"
CACHE = Path(os.environ.get("BWM_CACHE") or Path.home() / ".cache" / "bwm")
PEER_BUILD = CACHE / "bench" / "kstreams"
SCHEMA = REPO / "schemas" / "telemetry.avsc"
JVM_OPTS = ["-Xms256m", "-Xmx1g", "-Dorg.slf4j.simpleLogger.defaultLogLevel=warn"]
KSTREAMS_COMMIT_MS = 1000
SCENARIOS = {
    "s1": {"title": "S1 stateless", "keys": 10000, "input": "bench.telemetry.10k"},
    "s2": {"title": "S2 keyed aggregate", "keys": 10000, "input": "bench.telemetry.10k"},
    "s4": {"title": "S4 tumbling window", "keys": 100000, "input": "bench.telemetry.100k"},
}
# Where a profile's samples go, by the first pattern that matches "object [.] function".
PROFILE_GROUPS = [
    ("Kafka client: librdkafka, LZ4, its queue locks", r"librdkafka|liblz4|pthread_mutex|pthread_cond"),
    ("memory allocation (jemalloc; malloc, calloc, free)",
     r"libjemalloc|libc\S* \[\.\] \S*(malloc|calloc|realloc|free|_int_)"),
    ("Redis client (hiredis)", r"libhiredis"),
    ("bwm: Avro framing and decoding into slots",
     r"^bwm .*\b(run_prog|run_acts?|read_long\S*|read_len|skip|bwm_decoder_\w+|bwm_frame_\w+)$"),
    ("bwm: the calculation core (WHERE, keys, windows, aggregates, results, states)",
     r"^bwm .*\b(bwm_engine_\w+|bwm_table_\w+|bwm_expr_\w+|bwm_result_\w+|bwm_buf_\w+|"
     r"bwm_window_\w+|bwm_hash_key|bwm_xxh64|"
     r"add_to_windows\S*|probe\S*|apply_row\S*|find_targets|entry_for|emit_window|"
     r"encode_window|window_pos|earliest_close|scalar_\w+|bwm_arena_\w+|\w+_add|\w+_check|"
     r"\w+_encode|\w+_merge|put_\w+)$"),
    ("bwm: the batch loop (processor, producing, committing)", r"^bwm "),
    ("kernel (system calls, page faults, network)", r"\[kernel"),
    ("libc: copies and compares", r"libc"),
]
TARGETS = {
    "s0_rate": 5_000_000,
    "s2_cpu_per_m": 1.0,
    "s2_cpu_ratio": 10.0,
    "rss_ratio": 10.0,
    "s2_redis_per_record": 0.05,
}


def log(msg):
    print(f"bench: {msg}", flush=True)


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def proc_cpu_s(pid):
    """User plus system CPU seconds of a running process, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class Stack:
    """A local stack on free ports in a run folder of its own, stopped and purged at the end."""

    def __init__(self):
        kafka, controller, redis, registry, coreview = free_ports(5)
        self.dir = REPO / ".run" / f"bench-{os.getpid()}"
        self.stack_env = {
            "BWM_STACK_DIR": str(self.dir),
            "BWM_STACK_KAFKA_PORT": str(kafka),
            "BWM_STACK_CONTROLLER_PORT": str(controller),
            "BWM_STACK_REDIS_PORT": str(redis),
            "BWM_STACK_REGISTRY_PORT": str(registry),
            "BWM_STACK_COREVIEW_PORT": str(coreview),
        }
        self.redis_port = redis

    def script(self, *args, timeout=300):
        return run([str(STACK), *args], env={**os.environ, **self.stack_env}, timeout=timeout)

    def up(self):
        self.script("up")
        self.env = read_env(self.dir / "stack.env")
        self.bootstrap = self.env["BWM_KAFKA_BOOTSTRAP_SERVERS"]
        self.registry = self.env["BWM_REGISTRY_URL"]

    def down(self):
        subprocess.run([str(STACK), "down", "--purge"], env={**os.environ, **self.stack_env},
                       capture_output=True, timeout=180)

    def pid(self, service):
        return int((self.dir / f"{service}.pid").read_text().split()[0])

    def bwm_env(self):
        env = {k: v for k, v in os.environ.items() if not k.startswith("BWM_")}
        env.update({k: v for k, v in self.env.items() if not k.startswith("BWM_STACK_")})
        return env

    def topic(self, name, partitions=4):
        self.script("topic", name, str(partitions), timeout=60)

    def redis(self, *args):
        return run(["redis-cli", "-p", str(self.redis_port), *args], timeout=30).stdout

    def redis_info(self, section):
        out = {}
        for line in self.redis("INFO", section).splitlines():
            if ":" in line and not line.startswith("#"):
                k, v = line.strip().split(":", 1)
                out[k] = v
        return out

    def topic_records(self, topic):
        c = Consumer({"bootstrap.servers": self.bootstrap, "group.id": "bench-count"})
        try:
            md = c.list_topics(topic, timeout=30).topics[topic]
            total = 0
            for p in md.partitions:
                lo, hi = c.get_watermark_offsets(TopicPartition(topic, p), timeout=30)
                total += hi - lo
            return total
        finally:
            c.close()


def measure(cmd, env, stack, cwd=None, wrap=None):
    """Runs cmd to its end; returns its output, exit status, wall and CPU seconds, peak RSS,
    and the CPU seconds the broker and Redis spent meanwhile."""
    kafka_pid, redis_pid = stack.pid("kafka"), stack.pid("redis")
    k0, r0 = proc_cpu_s(kafka_pid), proc_cpu_s(redis_pid)
    out_f, err_f = tempfile.TemporaryFile("w+"), tempfile.TemporaryFile("w+")
    t0 = time.monotonic()
    p = subprocess.Popen((wrap or []) + cmd, env=env, cwd=cwd, stdout=out_f, stderr=err_f,
                         text=True)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.monotonic() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    out_f.seek(0)
    err_f.seek(0)
    return {
        "rc": p.returncode,
        "stdout": out_f.read(),
        "stderr": err_f.read(),
        "wall_s": wall,
        "cpu_s": ru.ru_utime + ru.ru_stime,
        "user_s": ru.ru_utime,
        "sys_s": ru.ru_stime,
        "rss_mb": ru.ru_maxrss / 1024.0,
        "broker_cpu_s": proc_cpu_s(kafka_pid) - k0,
        "redis_cpu_s": proc_cpu_s(redis_pid) - r0,
    }


def replay_available():
    r = subprocess.run([str(BWM), "replay", "--help"], capture_output=True, text=True)
    return r.returncode == 0


def bwm_cmd(scenario, run_id, use_replay):
    conf = str(BENCH / "jobs" / f"{scenario}.conf")
    src = SCENARIOS[scenario]["input"]
    out = f"bench.{scenario}.bwm.{run_id}"
    ns = f"bench-{scenario}-{run_id}"
    common = ["-X", f"source.topic={src}", "-X", f"dlq.topic={out}.dlq"]
    if use_replay:
        return [str(BWM), "replay", "-c", conf, "--from", "earliest", "--to", "end", "--yes",
                "--namespace", ns, "--output-topic", out, *common], out
    return [str(BWM), "run", "-c", conf, "--exit-at-end", "-X", f"sink.topic={out}",
            "-X", f"state.namespace={ns}", *common], out


def run_bwm(stack, scenario, run_id, use_replay, records):
    cmd, out = bwm_cmd(scenario, run_id, use_replay)
    stack.redis("CONFIG", "RESETSTAT")
    m = measure(cmd, stack.bwm_env(), stack)
    if m["rc"] != 0:
        raise RuntimeError(f"bwm {scenario} exited {m['rc']}:\n{m['stderr'][-3000:]}")
    stats = stack.redis_info("commandstats")
    calls = {k[len("cmdstat_"):]: int(re.search(r"calls=(\d+)", v).group(1))
             for k, v in stats.items() if k.startswith("cmdstat_")}
    calls = {k: v for k, v in calls.items() if not k.startswith(("info", "config"))}
    m["redis_calls"] = calls
    m["redis_commands"] = sum(calls.values())
    # The commit script's own GET of the fence and its SET/DEL/ZADD/ZREM of states run inside
    # Redis; what bwm sends over its connection is the rest.
    inside = calls.get("evalsha", 0) + sum(calls.get(c, 0) for c in ("set", "del", "zadd", "zrem"))
    m["redis_requests"] = m["redis_commands"] - inside
    summary = re.search(r"read (\d+), applied (\d+), filtered (\d+).*?dead-lettered (\d+), "
                        r"results (\d+), batches (\d+)", m["stderr"])
    if summary:
        m["read"], m["applied"], m["filtered"], m["dead"], m["results_reported"], m["batches"] = (
            int(x) for x in summary.groups())
    m["results"] = stack.topic_records(out)
    m["records"] = records
    m["cmd"] = " ".join(cmd)
    if m.get("read") is not None and m["read"] != records:
        raise RuntimeError(f"bwm {scenario} read {m['read']} records, expected {records}")
    return m


def build_peer():
    """Builds the Kafka Streams app with Maven into the cache (again only when its sources
    changed); returns the classpath."""
    sources = sorted([PEER / "pom.xml", *PEER.rglob("*.java")])
    digest = hashlib.sha256(b"".join(p.read_bytes() for p in sources)).hexdigest()
    marker = PEER_BUILD / "complete"
    jar = PEER_BUILD / "target" / "bwm-bench-kstreams.jar"
    if not (marker.exists() and marker.read_text() == digest and jar.exists()):
        log("building the Kafka Streams peer with Maven (dependencies from Maven Central)")
        shutil.rmtree(PEER_BUILD / "libs", ignore_errors=True)
        r = subprocess.run(["mvn", "-q", "-B", "-f", str(PEER / "pom.xml"),
                            f"-Dbench.build.dir={PEER_BUILD}", "package",
                            "dependency:copy-dependencies", "-DincludeScope=runtime",
                            f"-DoutputDirectory={PEER_BUILD / 'libs'}"],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise RuntimeError(f"maven failed:\n{r.stdout[-4000:]}\n{r.stderr[-2000:]}")
        marker.write_text(digest)
    return f"{jar}:{PEER_BUILD / 'libs'}/*"


def run_kstreams(stack, scenario, run_id, classpath, records):
    src = SCENARIOS[scenario]["input"]
    out = f"bench.{scenario}.kstreams.{run_id}"
    stack.topic(out)
    state = stack.dir / "kstreams-state" / f"{scenario}-{run_id}"
    cmd = ["java", *JVM_OPTS, "-cp", classpath, "bwm.bench.BenchStreams", scenario,
           stack.bootstrap, src, out, f"bench-{scenario}-{run_id}", str(state), str(SCHEMA),
           stack.registry, str(KSTREAMS_COMMIT_MS)]
    m = measure(cmd, {**os.environ}, stack)
    if m["rc"] != 0:
        raise RuntimeError(f"kafka streams {scenario} exited {m['rc']}:\n{m['stderr'][-3000:]}")
    report = json.loads(m["stdout"].strip().splitlines()[-1])
    m["read"] = report["records"]
    if report["records"] != records:
        raise RuntimeError(f"kafka streams {scenario} read {report['records']}, expected {records}")
    m["results"] = stack.topic_records(out)
    m["records"] = records
    m["cmd"] = " ".join(cmd)
    return m


def run_floor(stack, scenario, records):
    """build/bench-read over the scenario's input with the job's kafka.* settings."""
    cmd = [str(BENCH_READ), "-b", stack.bootstrap, "-t", SCENARIOS[scenario]["input"]]
    for key, value in bwm_job_settings("kafka.", scenario):
        cmd += ["-X", f"{key[len('kafka.'):]}={value}"]
    m = measure(cmd, {**os.environ}, stack)
    if m["rc"] != 0:
        raise RuntimeError(f"bench-read exited {m['rc']}:\n{m['stderr'][-3000:]}")
    m["read"] = json.loads(m["stdout"].strip().splitlines()[-1])["records"]
    if m["read"] != records:
        raise RuntimeError(f"bench-read read {m['read']} records, expected {records}")
    m["records"] = records
    m["cmd"] = " ".join(cmd)
    return m


def profile_s2(stack, run_id, use_replay, records):
    """bwm on S2 under perf record; returns a summary of where the CPU time went."""
    if not shutil.which("perf"):
        return {"error": "perf is not installed (Debian package linux-perf)"}
    data = stack.dir / "perf.data"
    cmd, _ = bwm_cmd("s2", f"{run_id}p", use_replay)
    m = measure(cmd, stack.bwm_env(), stack,
                wrap=["perf", "record", "-F", "999", "-g", "-o", str(data), "--"])
    if m["rc"] != 0:
        return {"error": f"perf record exited {m['rc']}: {m['stderr'][-1500:]}"}

    def report(*sort, limit="0.7"):
        r = subprocess.run(["perf", "report", "-i", str(data), "--stdio", "--no-children",
                            "-g", "none", "--percent-limit", limit, "--sort", ",".join(sort)],
                           capture_output=True, text=True)
        rows = []
        for line in r.stdout.splitlines():
            mm = re.match(r"\s*([\d.]+)%\s+(.*)$", line)
            if mm:
                name = re.sub(r"(\s+-)+\s*$", "", mm.group(2))
                rows.append((float(mm.group(1)), re.sub(r"\s+", " ", name).strip()))
        return rows

    groups = {}
    for pct, name in report("dso", "symbol", limit="0"):
        group = next((g for g, pattern in PROFILE_GROUPS if re.search(pattern, name)), "other")
        groups[group] = groups.get(group, 0.0) + pct
    return {"records": records, "wall_s": m["wall_s"], "dso": report("dso"),
            "symbols": report("dso", "symbol")[:30],
            "groups": sorted(groups.items(), key=lambda kv: -kv[1])}


def machine():
    cpu = "unknown"
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            cpu = line.split(":", 1)[1].strip()
            break
    mem = 0
    for line in Path("/proc/meminfo").read_text().splitlines():
        if line.startswith("MemTotal"):
            mem = int(line.split()[1]) / 1024 / 1024
    return {"cpu": cpu, "cores": os.cpu_count(), "mem_gib": mem,
            "kernel": platform.release(), "os": Path("/etc/debian_version").read_text().strip()
            if Path("/etc/debian_version").exists() else platform.platform()}


def versions():
    def cmd_out(cmd, pattern=None):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=30)
            text = (r.stdout + r.stderr).strip()
        except OSError:
            return "not installed"
        if pattern:
            mm = re.search(pattern, text)
            return mm.group(1) if mm else text.splitlines()[0]
        return text.splitlines()[0] if text else "?"

    rev = cmd_out(["git", "-C", str(REPO), "rev-parse", "--short=12", "HEAD"])
    # Changes to what is built or run; RESULTS.md itself, rewritten by each run, does not count.
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no",
                            "--", ".", ":(exclude)tests/bench/RESULTS.md"],
                           capture_output=True, text=True).stdout.strip()
    pom = (REPO / "deploy/local/kafka/pom.xml").read_text()
    peer_pom = (PEER / "pom.xml").read_text()
    return {
        "bwm": rev + (" with uncommitted changes" if dirty else ""),
        "librdkafka": cmd_out(["pkg-config", "--modversion", "rdkafka"]),
        "avro-c": cmd_out(["pkg-config", "--modversion", "avro-c"]),
        "hiredis": cmd_out(["pkg-config", "--modversion", "hiredis"]),
        "jemalloc": cmd_out(["pkg-config", "--modversion", "jemalloc"]),
        "kafka": re.search(r"<kafka.version>(.*?)<", pom).group(1),
        "kafka_streams": re.search(r"<kafka.version>(.*?)<", peer_pom).group(1),
        "avro_java": re.search(r"<avro.version>(.*?)<", peer_pom).group(1),
        "java": cmd_out(["java", "-version"], r'version "([^"]+)"'),
        "redis": cmd_out(["redis-server", "--version"], r"v=(\S+)"),
        "cc": cmd_out([os.environ.get("CC", "cc"), "--version"]),
    }


def bwm_job_settings(prefix, job="s2"):
    """The keys of a bench job's configuration that start with prefix, as (key, value) rows
    (the kafka.* keys are the same in every job)."""
    rows = []
    for line in (BENCH / "jobs" / f"{job}.conf").read_text().splitlines():
        mm = re.match(r"\s*(" + re.escape(prefix) + r"\S+)\s*=\s*(\S+)", line)
        if mm:
            rows.append((mm.group(1), mm.group(2)))
    return rows


def fmt_rate(x):
    return f"{x:,.0f}"


def per_m(m):
    return m["cpu_s"] / (m["records"] / 1e6)


def verdict(ok):
    return "PASS" if ok else "MISS"


def evaluate(res):
    """The targets, each with what was measured; a missing scenario gives no row."""
    rows = []
    s0 = res.get("s0")
    if s0:
        rate = s0["records"] / s0["passes"]["job"]["cpu_s"]
        rows.append(("S0 core records/s/core", f">= {fmt_rate(TARGETS['s0_rate'])}",
                     fmt_rate(rate), verdict(rate >= TARGETS["s0_rate"])))
    s2 = res.get("s2")
    if s2 and "bwm" in s2:
        b = per_m(s2["bwm"])
        rows.append(("S2 bwm CPU s per million records", f"<= {TARGETS['s2_cpu_per_m']}",
                     f"{b:.2f}", verdict(b <= TARGETS["s2_cpu_per_m"])))
        if "kstreams" in s2:
            ratio = per_m(s2["kstreams"]) / b
            rows.append(("S2 CPU per record, Kafka Streams / bwm", f">= {TARGETS['s2_cpu_ratio']:.0f}x",
                         f"{ratio:.1f}x", verdict(ratio >= TARGETS["s2_cpu_ratio"])))
        rpr = s2["bwm"]["redis_commands"] / s2["bwm"]["records"]
        rows.append(("S2 Redis commands per input record", f"<= {TARGETS['s2_redis_per_record']}",
                     f"{rpr:.5f}", verdict(rpr <= TARGETS["s2_redis_per_record"])))
    for sc in ("s2", "s4"):
        r = res.get(sc)
        if r and "bwm" in r and "kstreams" in r:
            ratio = r["kstreams"]["rss_mb"] / r["bwm"]["rss_mb"]
            rows.append((f"{sc.upper()} peak RSS, Kafka Streams / bwm", f">= {TARGETS['rss_ratio']:.0f}x",
                         f"{ratio:.1f}x ({r['bwm']['rss_mb']:.0f} vs {r['kstreams']['rss_mb']:.0f} MB)",
                         verdict(ratio >= TARGETS["rss_ratio"])))
    return rows


def table(headers, rows):
    widths = [max(len(str(h)), *(len(str(r[i])) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(f"{h:<{w}}" for h, w in zip(headers, widths))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(f"{str(c):<{w}}" for c, w in zip(r, widths)) for r in rows]
    return "\n".join(out)


def md_table(headers, rows):
    out = ["| " + " | ".join(headers) + " |", "|" + "|".join("---" for _ in headers) + "|"]
    out += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


ENGINE_HEADERS = ["scenario", "engine", "records", "wall s", "records/s", "CPU s",
                  "CPU s / M records", "peak RSS MB", "results", "broker CPU s", "Redis CPU s",
                  "Redis cmds / record"]


ENGINES = [("bwm", "bwm"), ("kstreams", "Kafka Streams"),
           ("floor", "librdkafka, reading only")]


def floor_lines(res):
    """What the floor means for S2's CPU target, as sentences."""
    s2 = res.get("s2", {})
    if not all(k in s2 for k in ("bwm", "kstreams", "floor")):
        return []
    b, k, f = per_m(s2["bwm"]), per_m(s2["kstreams"]), per_m(s2["floor"])
    return [f"S2, librdkafka reading only: build/bench-read read the same input with the job's "
            f"kafka.* settings, bwm's consumer defaults, fetch wake and allocator, and did nothing "
            f"else: "
            f"{f:.2f} CPU s "
            f"per million records. bwm's whole S2 job took {b:.2f}, {b / f:.2f}x that floor; "
            f"bwm's own work (decoding, the job, producing, committing) is the difference, "
            f"{b - f:.2f} CPU s per million records.",
            f"The 10x target needs bwm at {k / TARGETS['s2_cpu_ratio']:.2f} CPU s per million "
            f"records or less in this run (Kafka Streams took {k:.2f}); reading alone through "
            f"librdkafka {res['versions']['librdkafka']} came to {k / f:.1f}x less than Kafka "
            "Streams."]


def engine_rows(res):
    rows = []
    for sc in ("s1", "s2", "s4"):
        for eng, name in ENGINES:
            m = res.get(sc, {}).get(eng)
            if not m:
                continue
            rows.append([SCENARIOS[sc]["title"], name, f"{m['records']:,}", f"{m['wall_s']:.1f}",
                         fmt_rate(m["records"] / m["wall_s"]), f"{m['cpu_s']:.1f}",
                         f"{per_m(m):.2f}", f"{m['rss_mb']:.0f}",
                         f"{m['results']:,}" if eng != "floor" else "-",
                         f"{m['broker_cpu_s']:.1f}",
                         f"{m['redis_cpu_s']:.1f}" if eng != "floor" else "-",
                         f"{m['redis_commands'] / m['records']:.5f}" if eng == "bwm" else "-"])
    return rows


def ratio_rows(res):
    rows = []
    for sc in ("s1", "s2", "s4"):
        r = res.get(sc, {})
        if "bwm" in r and "kstreams" in r:
            b, k = r["bwm"], r["kstreams"]
            rows.append([SCENARIOS[sc]["title"],
                         f"{(b['records'] / b['wall_s']) / (k['records'] / k['wall_s']):.2f}x",
                         f"{per_m(k) / per_m(b):.2f}x",
                         f"{per_m(k) / (per_m(b) + b['redis_cpu_s'] / (b['records'] / 1e6)):.2f}x",
                         f"{k['rss_mb'] / b['rss_mb']:.1f}x"])
    return rows


RATIO_HEADERS = ["scenario", "throughput bwm / KS", "CPU per record KS / bwm",
                 "same, bwm + its Redis CPU", "peak RSS KS / bwm"]


def s0_rows(s0):
    rows = []
    names = {"avro-c": "avro-c generic decode (baseline)", "decode": "bwm decode (framing + slots)",
             "job": "bwm decode + filter + key + window + 5 aggregates"}
    for k in ("avro-c", "decode", "job"):
        p = s0["passes"][k]
        runs = ", ".join(f"{c * 1e9 / s0['records']:.0f}" for c in p["runs_cpu_s"])
        rows.append([names[k], f"{p['cpu_s']:.2f}", f"{p['cpu_s'] * 1e9 / s0['records']:.0f}",
                     fmt_rate(s0["records"] / p["cpu_s"]), runs])
    return rows


def write_results(res, started, finished):
    mach, ver = res["machine"], res["versions"]
    L = []
    L.append("# Benchmark results")
    L.append("")
    L.append("Written by `make bench` (tests/bench/run_bench.py); every figure below was measured "
             "in the run described here. Run it again to reproduce; see the end for how.")
    L.append("")
    L.append("## Conditions")
    L.append("")
    L.append(f"- Run: {started:%Y-%m-%d %H:%M} to {finished:%H:%M} UTC, "
             f"`{' '.join(['run_bench.py', *sys.argv[1:]])}`.")
    L.append(f"- Machine: {mach['cpu']}, {mach['cores']} cores (vCPUs), {mach['mem_gib']:.1f} GiB "
             f"memory, Linux {mach['kernel']}, Debian {mach['os']}. A shared VM: other work may "
             "have run at the same time, so treat single figures as ±10-20 %.")
    L.append(f"- Versions: bwm {ver['bwm']} (release build, -O2, jemalloc {ver['jemalloc']} with "
             f"cmd/allocator.h's settings), librdkafka {ver['librdkafka']}, "
             f"avro-c {ver['avro-c']}, hiredis {ver['hiredis']}, Kafka broker {ver['kafka']} "
             f"(KRaft, single node, loopback), Kafka Streams {ver['kafka_streams']} with Apache "
             f"Avro {ver['avro_java']} (Java), Java {ver['java']}, Redis {ver['redis']}, "
             f"{ver['cc']}.")
    if "s0" in res:
        s0 = res["s0"]
        L.append(f"- S0 data: {s0['records']:,} telemetry records (schemas/telemetry.avsc), "
                 f"{s0['framing']} framing, {s0['bytes'] / s0['records']:.1f} bytes per record on "
                 f"average ({s0['bytes'] / 1e6:.0f} MB), {s0['keys']:,} keys, batches of "
                 f"{s0['batch']:,} in rounds of {s0['round']:,} (the S2 job's "
                 "commit.max.records and commit.round.records).")
    if res.get("loaded"):
        for topic, info in res["loaded"].items():
            L.append(f"- Input `{topic}`: {info['records']:,} records, {info['keys']:,} keys "
                     f"(vehicles), 4 partitions keyed by vin, Confluent-framed Avro, "
                     f"{info['bytes'] / 1e6:.0f} MB of values, loaded by `bwm produce --generate "
                     f"{info['records']} --vehicles {info['keys']} --in-order` in "
                     f"{info['seconds']:.0f} s.")
    if res.get("mode"):
        L.append(f"- bwm ran as `{res['mode']}`; each run had a fresh state namespace, consumer "
                 "group and result topic, and read from the earliest offset to the end.")
    L.append(f"- Kafka Streams ran with `java {' '.join(JVM_OPTS)}`, one stream thread, "
             f"at-least-once, commit.interval.ms={KSTREAMS_COMMIT_MS} (bwm's "
             "commit.interval.ms), the default 10 MiB record cache, RocksDB stores with "
             "changelogs, producer compression lz4 (bwm's default), other settings default. "
             "It snapshots the input's end offsets at start and closes (flushing and "
             "committing) once it has read that many records.")
    L.append("- Wall time is the engine process's whole life (start, connect, process, flush, "
             "exit), so JVM start and group joins count. CPU is user + system of the engine's "
             "process (wait4 rusage); peak RSS is its ru_maxrss. Broker and Redis CPU are "
             "their /proc counters over the run. Redis commands are INFO commandstats after "
             "CONFIG RESETSTAT, including the commands bwm's Lua commit runs inside Redis.")
    L.append("")
    if "s0" in res:
        L.append("## S0: the core in one process")
        L.append("")
        L.append("build/bench-core over one buffer of pre-encoded records: CPU time of each pass "
                 f"over all records, the median of {res['s0']['repeat']} runs of the three passes "
                 "in turn (each run's ns/record in the last column); records/s/core is records "
                 "over CPU seconds. The job is "
                 "`WHERE ignition = true AND speed >= 0`, `GROUP BY vin`, `TUMBLING 1 h` (grace "
                 "5 min), COUNT, SUM, AVG, MAX, COUNT_DISTINCT, EMIT CHANGES, with results and "
                 "states encoded per batch as a commit needs (no Kafka, no Redis).")
        L.append("")
        L.append(md_table(["pass", "CPU s", "ns/record", "records/s/core", "ns/record, each run"],
                          s0_rows(res["s0"])))
        L.append("")
    rows = engine_rows(res)
    if rows:
        L.append("## S1, S2, S4: bwm and Kafka Streams on the same broker")
        L.append("")
        L.append("Jobs: tests/bench/jobs/s1.sql, s2.sql, s4.sql for bwm; the same in "
                 "tests/bench/peers/kstreams. S1 filters (`ignition = true AND speed >= 0`) and "
                 "projects five fields; S2 is COUNT, SUM(distance_km), AVG(speed), MAX(speed) per "
                 "vin with no window, EMIT CHANGES; S4 is the same per vin and 60 s tumbling "
                 "window with 5 s grace, EMIT FINAL (Kafka Streams: suppress until the window "
                 "closes).")
        L.append("")
        L.append(md_table(ENGINE_HEADERS, rows))
        L.append("")
        rr = ratio_rows(res)
        if rr:
            L.append("Ratios (above 1 favours bwm):")
            L.append("")
            L.append(md_table(RATIO_HEADERS, rr))
            L.append("")
        L.extend(f"- {line}" for line in floor_lines(res))
        for sc in ("s1", "s2", "s4"):
            b = res.get(sc, {}).get("bwm")
            if b:
                calls = ", ".join(f"{k} {v:,}" for k, v in sorted(b["redis_calls"].items(),
                                                                   key=lambda kv: -kv[1]))
                L.append(f"- {SCENARIOS[sc]['title']}, bwm: read {b.get('read', '?'):,}, "
                         f"filtered {b.get('filtered', 0):,}, dead-lettered {b.get('dead', 0):,}, "
                         f"{b.get('batches', 0):,} batches, {b['results']:,} results; Redis "
                         f"commands {b['redis_commands']:,} ({calls}); sent by bwm "
                         f"{b['redis_requests']:,} ({b['redis_requests'] / b['records']:.5f} per "
                         "record), the rest run by its commit script.")
        L.append("")
    tr = evaluate(res)
    if tr:
        L.append("## Targets")
        L.append("")
        L.append(md_table(["target", "wanted", "measured", "verdict"], tr))
        L.append("")
    L.append("## librdkafka settings bwm used")
    L.append("")
    L.append("From the `kafka.*` keys of tests/bench/jobs/*.conf (passed to librdkafka "
             "unchanged, to the consumer and the producer alike; a key meant for the other one is "
             "ignored by it with a notice):")
    L.append("")
    L.append(md_table(["key", "value"], bwm_job_settings("kafka.")))
    L.append("")
    L.append("bwm's own defaults beneath them (connectors/kafka): consumer `enable.auto.commit="
             "false`, `enable.auto.offset.store=false`, `auto.offset.reset=earliest`, "
             "`enable.partition.eof=true`, `partition.assignment.strategy=cooperative-sticky`; "
             "producer `enable.idempotence=true`, `acks=all`, `partitioner=murmur2_random`, "
             "`linger.ms=5` (overridden above), `compression.type=lz4`. Everything else is "
             "librdkafka's default (librdkafka 2.0: `batch.num.messages=10000`, "
             "`batch.size=1000000`, `fetch.min.bytes=1`). bwm wakes the fetchers when the queue "
             "has drained (`source.fetch.wake.ms`, default 2), so the small queue costs no "
             "throughput. Batches of the jobs: "
             + "; ".join(f"{job.upper()} " + ", ".join(f"`{k}={v}`"
                                                       for k, v in bwm_job_settings("commit.", job))
                         for job in ("s1", "s2", "s4")) + ".")
    L.append("")
    prof = res.get("profile")
    if prof:
        L.append("## Profile of bwm on S2")
        L.append("")
        if "error" in prof:
            L.append(f"No profile: {prof['error']}")
        else:
            L.append(f"`perf record -F 999 -g` of bwm on S2 ({prof['records']:,} records, "
                     f"{prof['wall_s']:.1f} s under perf), self time (`perf report "
                     "--no-children`). By shared object:")
            L.append("")
            L.append(md_table(["% of samples", "object"], [(f"{p:.1f}", s) for p, s in prof["dso"]]))
            L.append("")
            L.append("Where the time goes (every sample, grouped by object and function; "
                     "tests/bench/run_bench.py PROFILE_GROUPS):")
            L.append("")
            L.append(md_table(["% of samples", "part"],
                              [(f"{p:.1f}", g) for g, p in prof["groups"]]))
            L.append("")
            L.append("Top functions:")
            L.append("")
            L.append(md_table(["% of samples", "object and function"],
                              [(f"{p:.1f}", s) for p, s in prof["symbols"]]))
            L.append("")
    L.append("## How to run")
    L.append("")
    L.append("`make bench` (BENCH_RECORDS=5000000 records per input by default, "
             "BENCH_CORE_RECORDS=10000000 for S0); `make bench-profile` adds the perf profile; "
             "`make bench-core` runs S0 alone. `make bench BENCH_RECORDS=200000` is a quick run. "
             "It installs what it needs (`make deps`), builds the Kafka Streams peer with Maven "
             "into $BWM_CACHE/bench/kstreams, starts a stack of its own on free ports, and stops "
             "and deletes it at the end.")
    if res.get("notes"):
        L.append("")
        L.append("## Notes")
        L.append("")
        L.extend(f"- {n}" for n in res["notes"])
    (BENCH / "RESULTS.md").write_text("\n".join(L) + "\n")


def load(stack, topic, records, keys):
    stack.topic(topic)
    t0 = time.monotonic()
    r = subprocess.run([str(BWM), "produce", "-t", topic, "--generate", str(records),
                        "--vehicles", str(keys), "--in-order", "-X", "kafka.linger.ms=50"],
                       env=stack.bwm_env(), capture_output=True, text=True)
    if r.returncode != 0:
        raise RuntimeError(f"bwm produce failed:\n{r.stderr[-2000:]}")
    seconds = time.monotonic() - t0
    n = stack.topic_records(topic)
    if n != records:
        raise RuntimeError(f"{topic} holds {n} records, expected {records}")
    size = 0
    for d in (stack.dir / "kafka" / "data").glob(f"{topic}-*"):
        size += sum(f.stat().st_size for f in d.glob("*.log"))
    return {"records": records, "keys": keys, "seconds": seconds, "bytes": size}


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--records", type=int, default=5_000_000)
    ap.add_argument("--core-records", type=int, default=10_000_000)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--only", default="s0,s1,s2,s4")
    args = ap.parse_args()
    only = set(args.only.split(","))
    started = datetime.datetime.now(datetime.timezone.utc)
    res = {"machine": machine(), "versions": versions(), "notes": []}
    run_id = f"{os.getpid()}"

    if "s0" in only:
        log(f"S0: build/bench-core over {args.core_records:,} records")
        with tempfile.NamedTemporaryFile(suffix=".json") as tf:
            commit = dict(bwm_job_settings("commit.", "s2"))
            r = subprocess.run([str(BENCH_CORE), "-n", str(args.core_records),
                                "-b", commit["commit.max.records"],
                                "-r", commit["commit.round.records"], "--json", tf.name],
                               cwd=REPO, capture_output=True, text=True)
            print(r.stdout, end="")
            if r.returncode != 0:
                raise RuntimeError(f"bench-core failed: {r.stderr}")
            res["s0"] = json.loads(Path(tf.name).read_text())

    engines = [s for s in ("s1", "s2", "s4") if s in only]
    if engines:
        classpath = build_peer()
        use_replay = replay_available()
        res["mode"] = ("bwm replay --from earliest --to end" if use_replay
                       else "bwm run --exit-at-end")
        if not use_replay:
            res["notes"].append("`bwm replay` was not available in this build, so bwm ran as "
                                "`bwm run --exit-at-end` with a fresh state namespace and "
                                "consumer group per run.")
        stack = Stack()
        log(f"starting a stack in {stack.dir}")
        try:
            stack.up()
            res["loaded"] = {}
            for sc in engines:
                topic, keys = SCENARIOS[sc]["input"], SCENARIOS[sc]["keys"]
                if topic not in res["loaded"]:
                    log(f"loading {args.records:,} records over {keys:,} keys into {topic}")
                    res["loaded"][topic] = load(stack, topic, args.records, keys)
            for sc in engines:
                res[sc] = {}
                log(f"{SCENARIOS[sc]['title']}: bwm")
                res[sc]["bwm"] = run_bwm(stack, sc, run_id, use_replay, args.records)
                log(f"{SCENARIOS[sc]['title']}: Kafka Streams")
                res[sc]["kstreams"] = run_kstreams(stack, sc, run_id, classpath, args.records)
                if sc == "s2":
                    log(f"{SCENARIOS[sc]['title']}: librdkafka reading only (build/bench-read)")
                    res[sc]["floor"] = run_floor(stack, sc, args.records)
                print(table(ENGINE_HEADERS, [r for r in engine_rows(res)
                                             if r[0] == SCENARIOS[sc]["title"]]), flush=True)
            if args.profile and "s2" in engines:
                log("S2: bwm under perf record")
                res["profile"] = profile_s2(stack, run_id, use_replay, args.records)
        finally:
            log("stopping the stack")
            stack.down()

    finished = datetime.datetime.now(datetime.timezone.utc)
    print()
    if "s0" in res:
        print(table(["S0 pass", "CPU s", "ns/record", "records/s/core", "ns/record, each run"],
                    s0_rows(res["s0"])))
        print()
    if engine_rows(res):
        print(table(ENGINE_HEADERS, engine_rows(res)))
        print()
    if ratio_rows(res):
        print(table(RATIO_HEADERS, ratio_rows(res)))
        print()
    for line in floor_lines(res):
        print(line)
    tr = evaluate(res)
    if tr:
        print(table(["target", "wanted", "measured", "verdict"], tr))
    write_results(res, started, finished)
    (CACHE / "bench").mkdir(parents=True, exist_ok=True)
    (CACHE / "bench" / "last-results.json").write_text(json.dumps(res, indent=1, default=str))
    log(f"wrote {BENCH / 'RESULTS.md'}")


if __name__ == "__main__":
    main()
