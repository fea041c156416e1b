"""Independent Kafka and Avro helpers for the integration tests.

Everything here reads and writes with confluent-kafka and fastavro, and talks
to the schema registry over plain HTTP, so the bytes bwm writes and reads are
checked by code that shares nothing with it.
"""
import io
import json
import struct
import time
import urllib.error
import urllib.request

import fastavro
from confluent_kafka import Consumer, KafkaError, KafkaException, Producer, TopicPartition
from confluent_kafka.admin import AdminClient


def _plain(schema):
    """The schema without logical types, so timestamps decode as the longs they are."""
    if isinstance(schema, dict):
        return {k: _plain(v) for k, v in schema.items() if k != "logicalType"}
    if isinstance(schema, list):
        return [_plain(v) for v in schema]
    return schema


class UnknownSchemaId(LookupError):
    """The registry has no schema with this id."""


class Registry:
    """Fetches schemas by id from a Confluent-compatible registry, caching them (and misses)."""

    def __init__(self, url):
        self.url = url.rstrip("/")
        self.cache = {}

    def schema(self, schema_id):
        if schema_id not in self.cache:
            try:
                with urllib.request.urlopen(f"{self.url}/schemas/ids/{schema_id}", timeout=10) as r:
                    text = json.load(r)["schema"]
                self.cache[schema_id] = fastavro.parse_schema(_plain(json.loads(text)))
            except urllib.error.HTTPError as e:
                if e.code != 404:
                    raise
                self.cache[schema_id] = None
        if self.cache[schema_id] is None:
            raise UnknownSchemaId(f"schema id {schema_id}")
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


_clients = {}


def _client(kind, bootstrap):
    """One client of each kind per cluster for the helpers that tests poll, not one per call."""
    if (kind, bootstrap) not in _clients:
        # Quiet: a test that restarts the broker would fill the log with reconnects.
        conf = {"bootstrap.servers": bootstrap, "log_level": 0}
        _clients[(kind, bootstrap)] = (AdminClient(conf) if kind == "admin" else
                                       Consumer({**conf, "group.id": "bwm-test-offsets"}))
    return _clients[(kind, bootstrap)]


def close_clients():
    """Closes the clients _client() made, before the cluster goes away."""
    for (kind, _), client in _clients.items():
        if kind == "consumer":
            client.close()
    _clients.clear()


def iter_topic(bootstrap, topic, timeout=120):
    """Yields every record of topic up to its current end: each partition in offset order,
    the partitions interleaved."""
    md = _client("admin", bootstrap).list_topics(topic, timeout=10).topics[topic]
    if md.error is not None:
        raise RuntimeError(f"topic {topic}: {md.error}")
    consumer = Consumer({
        "bootstrap.servers": bootstrap,
        "group.id": "bwm-test-reader",
        "enable.auto.commit": False,
        "enable.partition.eof": False,
        # Large fetches: reading a million records takes a second rather than ten.
        "fetch.message.max.bytes": 16 << 20,
        "fetch.max.bytes": 64 << 20,
    })
    try:
        high, start = {}, []
        for p in sorted(md.partitions):
            low, end = consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)
            if end > low:
                high[p] = end
                start.append(TopicPartition(topic, p, low))
        if not start:
            return
        consumer.assign(start)
        deadline = time.monotonic() + timeout
        while high:
            if time.monotonic() > deadline:
                raise TimeoutError(f"reading {topic}: partitions not read to {high}")
            for msg in consumer.consume(10000, 1.0):
                if msg.error():
                    raise RuntimeError(str(msg.error()))
                p = msg.partition()
                if p in high and msg.offset() < high[p]:
                    if msg.offset() == high[p] - 1:
                        del high[p]
                    yield msg
    finally:
        consumer.close()


def read_topic(bootstrap, topic, timeout=120):
    """Every record of topic, partition by partition in offset order, up to the current end."""
    return sorted(iter_topic(bootstrap, topic, timeout), key=lambda m: (m.partition(), m.offset()))


# What a client may answer for a while after the broker restarted.
_TRANSIENT = (KafkaError.NOT_LEADER_FOR_PARTITION, KafkaError.LEADER_NOT_AVAILABLE,
              KafkaError._TRANSPORT, KafkaError._TIMED_OUT, KafkaError._ALL_BROKERS_DOWN,
              KafkaError._UNKNOWN_PARTITION)


def end_offsets(bootstrap, topic, timeout=60):
    """High watermark of every partition; transient errors are retried for up to timeout s."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            md = _client("admin", bootstrap).list_topics(topic, timeout=10).topics[topic]
            if md.error is not None:
                raise KafkaException(md.error)
            consumer = _client("consumer", bootstrap)
            return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout=10)[1]
                    for p in sorted(md.partitions)}
        except KafkaException as e:
            if e.args[0].code() not in _TRANSIENT or time.monotonic() > deadline:
                raise RuntimeError(f"end offsets of {topic}: {e.args[0]}") from e
            time.sleep(0.2)


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


def produce_in_order(bootstrap, topic, items):
    """Produces (partition, key, value, headers) items, each partition's in the order given;
    returns [(partition, offset)] in order."""
    producer = Producer({"bootstrap.servers": bootstrap, "enable.idempotence": True,
                         "linger.ms": 20})
    placed = [None] * len(items)

    def report(i):
        def cb(err, msg):
            if err is not None:
                raise RuntimeError(f"delivery failed: {err}")
            placed[i] = (msg.partition(), msg.offset())
        return cb

    for i, (partition, key, value, headers) in enumerate(items):
        while True:
            try:
                producer.produce(topic, partition=partition, key=key, value=value,
                                 headers=headers, on_delivery=report(i))
                break
            except BufferError:
                producer.poll(0.1)
    if producer.flush(60) != 0:
        raise RuntimeError("records not delivered")
    return placed


def group_assignment(bootstrap, group):
    """The members of a consumer group, as {client id: sorted partitions}, and its state.

    While the group's coordinator is not known or loading, the state is the error's name."""
    admin = _client("admin", bootstrap)
    try:
        desc = admin.describe_consumer_groups([group], request_timeout=10)[group].result()
    except KafkaException as e:
        if e.args[0].code() not in (KafkaError.NOT_COORDINATOR,
                                    KafkaError.COORDINATOR_NOT_AVAILABLE,
                                    KafkaError.COORDINATOR_LOAD_IN_PROGRESS):
            raise
        return {}, e.args[0].name()
    members = {m.client_id: sorted(tp.partition for tp in m.assignment.topic_partitions)
               for m in desc.members}
    return members, desc.state.name
