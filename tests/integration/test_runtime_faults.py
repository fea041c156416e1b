"""Exactly-once processing under faults: SIGKILL at random moments, a paused instance that
comes back after its partitions moved on, members joining and dying mid-stream, and Redis
or the Kafka broker restarting mid-run.

After each, every result, state, fence and dead letter must equal the oracle
(oracle.py): nothing lost, nothing counted twice.
"""
import os
import random
import signal
import subprocess
import time

import pytest

from jobs import RuntimeJob
from procs import Fleet, wait_until

# How long bwm may wait for Redis or Kafka to come back, and the pauses between attempts:
# short, so that attempts also fall in the moments Redis answers LOADING after its start.
RETRY = ("retry.backoff.ms = 50", "retry.backoff.max.ms = 200", "retry.max.ms = 120000")


def wait_committed(job, proc, records, timeout=120):
    """Waits until the fences account for at least records input records, while proc runs."""
    def reached():
        assert proc.alive(), f"{proc.name} exited ({proc.popen.returncode})\n{proc.tail()}"
        return job.committed() >= records
    wait_until(reached, timeout, lambda: f"{records} records committed (now {job.committed()})")


def test_sigkill_at_random_moments_loses_nothing_and_counts_nothing_twice(stack, tmp_path):
    seed = int(os.environ.get("BWM_TEST_SEED", random.randrange(1 << 32)))
    print(f"seed {seed} (BWM_TEST_SEED={seed} repeats the kill moments)")
    rng = random.Random(seed)
    # Batches of 10,000 records applied in rounds of 2,000 (commit.round.records).
    job = RuntimeJob(stack, tmp_path, "crash", conf=("commit.round.records = 2000",))
    total = 1_000_000
    # All input is there before the first start, so bwm works in full batches back to
    # back and a kill lands mostly between producing a batch's results and committing it.
    job.produce(total, seed=303, vehicles=1000)
    with Fleet(stack, tmp_path) as fleet:
        for kill in range(1, 6):
            proc = job.start(fleet, "run")
            # Kill once it has committed another 2-6% of the input, after a pause of up to
            # 150 ms: a moment anywhere in a batch. The five kills stay within the first
            # two thirds or so of the input, so each falls while there is work.
            wait_committed(job, proc, job.committed() + int(rng.uniform(0.02, 0.06) * total))
            time.sleep(rng.uniform(0, 0.15))
            assert proc.alive(), f"run {kill} ended before its kill\n{proc.tail()}"
            committed = job.committed()
            assert committed < total, f"run {kill} had nothing left to do when it was killed"
            proc.signal(signal.SIGKILL)
            assert proc.wait(30) == -signal.SIGKILL
            print(f"kill {kill}: {committed} of {total} records committed just before")
        last = job.start(fleet, "run", "--exit-at-end")
        assert last.wait(300) == 0, last.tail()
    print("last run:", last.summary())
    res = job.check_exact(job.expected())
    print(f"{res.repeated} results repeated a (key, window, version), each byte-identical")


@pytest.mark.parametrize("interval_ms", [8000, 60000], ids=["due-at-resume", "held-at-resume"])
def test_paused_instance_writes_nothing_after_its_partitions_moved_on(stack, tmp_path,
                                                                      interval_ms):
    job = RuntimeJob(stack, tmp_path, "zombie")
    with Fleet(stack, tmp_path) as fleet:
        # a keeps what it reads in one batch for interval_ms: when it is paused, some 3 s
        # after its first record, it holds records it has read and not committed, as a
        # process stalled mid-batch does. At 8 s the batch is due as a resumes (the pause
        # lasts the 6 s session and more), so a goes to produce it; at 60 s a first hears
        # that its partitions were lost.
        a = job.start(fleet, "a", "-X", f"commit.interval.ms={interval_ms}",
                      "-X", "commit.max.records=10000000")
        b = job.start(fleet, "b")
        a_parts = job.wait_members({"a", "b"})["a"]
        job.produce(200_000, seed=404, vehicles=500)
        b_parts = [p for p in range(4) if p not in a_parts]
        wait_until(lambda: job.caught_up_on(b_parts), 60, lambda: f"b to commit partitions "
                   f"{b_parts} to their ends {job.ends()} (fences {job.fences()})")
        a.signal(signal.SIGSTOP)
        assert all(job.fences()[p] is None for p in a_parts), "a had committed nothing yet"
        paused = time.monotonic()
        # a misses its heartbeats; after its session times out, b takes a's partitions,
        # processes them from a's fences and commits past them.
        job.wait_members({"b"})
        print(f"b took partitions {a_parts} {time.monotonic() - paused:.1f} s after a paused")
        job.wait_caught_up([b])
        results = job.ends_of(job.output)
        dead = job.ends_of(job.dlq)
        # Nothing is left to do: every record is committed by b and no more input comes.
        # Whatever reaches the result or dead-letter topic from now on was written by a.
        a.signal(signal.SIGCONT)
        print("after a resumed:", job.wait_members({"a", "b"}))
        assert b.stop() == 0, b.tail()
        assert a.stop() == 0, a.tail()
    counts = a.summary()
    print("a:", counts, "\nb:", b.summary())
    assert counts["read"] > 0, "a held records it had read when it was paused"
    assert counts["batches"] == 0, "a committed nothing"
    assert job.ends_of(job.output) == results, (
        f"{job.ends_of(job.output) - results} results written after a resumed\n{a.tail()}")
    assert job.ends_of(job.dlq) == dead, (
        f"{job.ends_of(job.dlq) - dead} dead letters written after a resumed\n{a.tail()}")
    job.check_exact(job.expected())


def test_members_joining_and_dying_mid_stream_change_nothing(stack, tmp_path):
    job = RuntimeJob(stack, tmp_path, "rebalance")
    with Fleet(stack, tmp_path) as fleet:
        # 400,000 records at 15,000 a second: input arrives through every change below.
        producer = job.producer(fleet, 400_000, seed=505, vehicles=1000, rate=15000)
        a = job.start(fleet, "a")
        job.wait_members({"a"})
        job.wait_progress([a], records=2000)
        assert producer.alive(), "input still arriving when b joins"
        b = job.start(fleet, "b")
        held = job.wait_members({"a", "b"})
        print("b joined:", held)
        job.wait_progress([a, b], held["b"], records=1000)
        assert producer.alive(), "input still arriving when a is killed"
        a.signal(signal.SIGKILL)
        assert a.wait(30) == -signal.SIGKILL
        print("a killed; b alone:", job.wait_members({"b"}))
        job.wait_progress([b], held["a"], records=1000)
        assert producer.alive(), "input still arriving when a comes back"
        a = job.start(fleet, "a")
        held = job.wait_members({"a", "b"})
        print("a back:", held)
        job.wait_progress([a, b], held["a"], records=1000)
        assert producer.wait(120) == 0, producer.tail()
        job.wait_caught_up([a, b])
        assert a.stop() == 0, a.tail()
        assert b.stop() == 0, b.tail()
    job.check_exact(job.expected())


def fill_redis(stack, db, keys):
    """Writes keys small strings to another Redis database than bwm's: a Redis holding that
    much answers LOADING for most of a second after a restart, as a production one does."""
    proto = b"".join(b"*3\r\n$3\r\nSET\r\n$%d\r\n%s\r\n$64\r\n%s\r\n" % (len(k), k, b"x" * 64)
                     for k in (b"filler:%d" % i for i in range(keys)))
    subprocess.run(["redis-cli", "-p", str(stack.redis_port), "-n", str(db), "--pipe"],
                   input=proto, check=True, capture_output=True, timeout=120)


def restart_mid_run(stack, tmp_path, service):
    """Runs one instance over input that takes seconds, restarts service when a tenth is
    committed, and checks that bwm waited for it, carried on and stayed exact."""
    job = RuntimeJob(stack, tmp_path, f"restart-{service}", conf=RETRY)
    total = 600_000
    job.produce(total, seed=606, vehicles=1000)
    with Fleet(stack, tmp_path) as fleet:
        a = job.start(fleet, "a")
        wait_committed(job, a, total // 10)
        took = stack.restart(service)
        committed = job.committed()
        print(f"{service} restarted in {took:.1f} s; {committed} of {total} records committed")
        assert a.alive(), f"bwm waits for {service} to come back\n{a.tail()}"
        assert committed < total, "the restart fell in the middle of the run"
        job.wait_caught_up([a])
        assert a.stop() == 0, a.tail()
    print("a:", a.summary())
    job.check_exact(job.expected())


def test_redis_restart_mid_run_changes_nothing(stack, tmp_path):
    fill_redis(stack, 1, 500_000)
    try:
        restart_mid_run(stack, tmp_path, "redis")
    finally:
        stack.redis("-n", "1", "FLUSHDB")


def test_broker_restart_mid_run_changes_nothing(stack, tmp_path):
    restart_mid_run(stack, tmp_path, "kafka")
