"""bwm's Kafka source while members of its group come and go.

Every rebalance pauses all the partitions a member holds. librdkafka before
2.1 could then lose messages of a partition the member kept: taken by
rd_kafka_consume_batch_queue() but dropped before they were returned, while
fetching went on after them (confluentinc/librdkafka#4208). The runtime
would apply none of them and move its fence past them. build/test-source-reader
reads through bwm's source as the runtime does and checks every offset.
"""
import json
import subprocess
import time
import uuid
from pathlib import Path

from conftest import BWM

READER = str(Path(BWM).parent / "test-source-reader")
RECORDS = 500_000
JOINS = 5


def reader(stack, topic, group, seconds, *extra):
    return subprocess.Popen([READER, "-b", stack.bootstrap, "-t", topic, "-g", group,
                             "-s", str(seconds), "-X", "kafka.session.timeout.ms=6000",
                             "-X", "kafka.heartbeat.interval.ms=500", *extra],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc, timeout):
    out, err = proc.communicate(timeout=timeout)
    assert proc.returncode == 0, err[-3000:]
    return json.loads(out.splitlines()[-1]), err


def test_kept_partitions_are_read_on_without_a_gap_while_members_come_and_go(stack):
    topic, group = f"source.{uuid.uuid4().hex[:6]}", f"source-{uuid.uuid4().hex[:6]}"
    stack.topic(topic, 8)
    stack.bwm("produce", "-t", topic, "--generate", str(RECORDS), "--vehicles", "1000",
              "--key", "vin", check=True)
    # The reader reads the topic round and round, taking 256 messages per poll like the
    # runtime, from a deep prefetch queue: the case where librdkafka 2.0 dropped messages.
    main = reader(stack, topic, group, 3 + JOINS * 7 + 5, "-m", "256",
                  "-X", "kafka.queued.min.messages=1000000")
    time.sleep(3)
    for i in range(JOINS):
        # Joins, takes some partitions, reads, and leaves: two rebalances or more for main.
        other, _ = finish(reader(stack, topic, group, 5), timeout=60)
        print(f"member {i + 1}:", other)
        assert other["assigned"] > 0, "the second member was given partitions"
        assert other["skipped"] == 0 and other["repeated"] == 0
        time.sleep(1)
    got, err = finish(main, timeout=120)
    print("kept member:", got)
    assert got["revoked"] >= 8 + JOINS, "the kept member gave partitions up at each join"
    assert got["records"] > RECORDS, "the kept member read the topic more than once"
    gaps = [line for line in err.splitlines() if "skipped" in line or "read again" in line]
    assert got["skipped"] == 0 and got["repeated"] == 0, "\n".join(gaps[:20])
