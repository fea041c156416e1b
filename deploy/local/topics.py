#!/usr/bin/env python3
"""Creates a Kafka topic for the local stack (deploy/local/stack topic).

Uses confluent_kafka's AdminClient, with replication factor 1, and waits until
every partition has a leader, so that a producer can write to it at once.
Succeeds when the topic already exists with the requested partition count.

Usage: topics.py --bootstrap 127.0.0.1:9092 [--partitions 4] NAME
"""

import argparse
import sys
import time

from confluent_kafka import KafkaError, KafkaException
from confluent_kafka.admin import AdminClient, NewTopic

TIMEOUT_S = 30


def fail(message):
    print(f"topics: error: {message}", file=sys.stderr)
    sys.exit(1)


def describe(admin, name):
    """Returns (partition count, number of partitions with a leader), or None if absent."""
    topic = admin.list_topics(topic=name, timeout=10).topics.get(name)
    if topic is None or topic.error is not None:
        return None
    partitions = topic.partitions.values()
    return len(partitions), sum(1 for p in partitions if p.leader >= 0)


def main():
    parser = argparse.ArgumentParser(description="create a topic on the local stack's broker")
    parser.add_argument("--bootstrap", required=True, help="host:port of the broker")
    parser.add_argument("--partitions", type=int, default=4)
    parser.add_argument("name")
    args = parser.parse_args()
    if args.partitions < 1:
        fail("--partitions must be at least 1")

    admin = AdminClient({"bootstrap.servers": args.bootstrap})
    new = NewTopic(args.name, num_partitions=args.partitions, replication_factor=1)
    future = admin.create_topics([new], request_timeout=TIMEOUT_S)[args.name]
    created = True
    try:
        future.result(timeout=TIMEOUT_S + 5)
    except KafkaException as e:
        if e.args[0].code() != KafkaError.TOPIC_ALREADY_EXISTS:
            fail(f"cannot create topic {args.name} on {args.bootstrap}: {e.args[0].str()}")
        created = False
    except TimeoutError:
        fail(f"no answer from {args.bootstrap} within {TIMEOUT_S + 5}s (is the stack up?)")

    deadline = time.monotonic() + TIMEOUT_S
    while True:
        try:
            state = describe(admin, args.name)
        except KafkaException as e:
            fail(f"cannot read metadata from {args.bootstrap}: {e.args[0].str()}")
        if state is not None and state[0] != args.partitions:
            fail(f"topic {args.name} exists with {state[0]} partitions, not {args.partitions}")
        if state is not None and state[1] == args.partitions:
            break
        if time.monotonic() > deadline:
            fail(f"topic {args.name}: partitions have no leader after {TIMEOUT_S}s")
        time.sleep(0.1)
    verb = "created" if created else "already exists:"
    print(f"topics: {verb} {args.name} ({args.partitions} partitions) on {args.bootstrap}")


if __name__ == "__main__":
    main()
