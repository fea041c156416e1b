"""Independent Kafka and Avro helpers for the integration tests.

Everything here reads and writes with confluent-kafka and fastavro, and talks
to the schema registry over plain HTTP, so the bytes bwm writes and reads are
checked by code that shares nothing with it.
"""
import io
import json
import struct
import time
import urllib.request

import fastavro
from confluent_kafka import Consumer, Producer, TopicPartition
from confluent_kafka.admin import AdminClient


def _plain(schema):
    """The schema without logical types, so timestamps decode as the longs they are."""
    if isinstance(schema, dict):
        return {k: _plain(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [_plain(v) for v in schema]
    return schema


class Registry:
    """Fetches schemas by id from a Confluent-compatible registry, caching them."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.cache = {}

    def schema(self, schema_id):
        if schema_id not in self.cache:
            with urllib.request.urlopen(f"{self.url}/schemas/ids/{schema_id}", timeout=10) as r:
                text = json.load(r)["schema"]
            self.cache[schema_id] = fastavro.parse_schema(_plain(json.loads(text)))
        return self.cache[schema_id]

    def latest_id(self, subject):
        with urllib.request.urlopen(f"{self.url}/subjects/{subject}/versions/latest", timeout=10) as r:
            return json.load(r)["id"]


def decode_confluent(registry, value):
    """Decodes a Confluent-framed Avro value; raises ValueError when it is not one."""
    if value is None or len(value) < 5 or value[0] != 0:
        raise ValueError("not Confluent-framed")
    (schema_id,) = struct.unpack(">I", value[1:5])
    return fastavro.schemaless_reader(io.BytesIO(value[5:]), registry.schema(schema_id))


def encode_confluent(schema_id, parsed_schema, record):
    out = io.BytesIO()
    out.write(b"\x00" + struct.pack(">I", schema_id))
    fastavro.schemaless_writer(out, parsed_schema, record)
    return out.getvalue()


def read_topic(bootstrap, topic, timeout=60):
    """Every record of topic, partition by partition in offset order, up to the current end."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    md = admin.list_topics(topic, timeout=10).topics[topic]
    if md.error is not None:
        raise RuntimeError(f"topic {topic}: {md.error}")
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "bwm-test-reader",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
    })
    records = []
    try:
        for p in sorted(md.partitions):
            low, high = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if high <= low:
                continue
            consumer.assign([TopicPartition(topic, p, low)])
            got = 0
            deadline = time.monotonic() + timeout
            while got < high - low:
                if time.monotonic() > deadline:
                    raise TimeoutError(f"reading {topic}[{p}]: got {got} of {high - low} records")
                msg = consumer.poll(1.0)
                if msg is None:
                    continue
                if msg.error():
                    raise RuntimeError(str(msg.error()))
                records.append(msg)
                got += 1
            consumer.unassign()
    finally:
        consumer.close()
    return records


def end_offsets(bootstrap, topic):
    """High watermark of every partition."""
    admin = AdminClient({"bootstrap.servers": bootstrap})
    md = admin.list_topics(topic, timeout=10).topics[topic]
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": "bwm-test-offsets"})
    try:
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                for p in sorted(md.partitions)}
    finally:
        consumer.close()


def produce_raw(bootstrap, topic, items):
    """Produces (key, value, headers) items; returns [(partition, offset)] in order."""
    producer = Producer({"bootstrap.servers": bootstrap, "partitioner": "murmur2_random"})
    placed = [None] * len(items)

    def report(i):
        def cb(err, msg):
            if err is not None:
                raise RuntimeError(f"delivery failed: {err}")
            placed[i] = (msg.partition(), msg.offset())
        return cb

    for i, (key, value, headers) in enumerate(items):
        producer.produce(topic, key=key, value=value, headers=headers, on_delivery=report(i))
    if producer.flush(30) != 0:
        raise RuntimeError("records not delivered")
    return placed
