"""Avro interoperability: what other clients write, bwm reads; what bwm writes, they read.

Python's confluent-kafka (AvroSerializer, AvroDeserializer, against the
registry stub) and fastavro stand for the Java, Python and Go clients of
upstream and downstream teams. Every Avro type and logical type goes through.
"""
import datetime
import decimal
import io
import json
import math
import struct
import uuid
import zlib
from pathlib import Path

import fastavro
from confluent_kafka import Producer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroDeserializer, AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from conftest import REPO
from kafkautil import decode_confluent, produce_raw, read_topic

EVERYTHING = {
    "type": "record", "name": "Everything", "namespace": "test.interop",
    "fields": [
        {"name": "n", "type": "null"},
        {"name": "b", "type": "boolean"},
        {"name": "i", "type": "int"},
        {"name": "l", "type": "long"},
        {"name": "f", "type": "float"},
        {"name": "d", "type": "double"},
        {"name": "by", "type": "bytes"},
        {"name": "s", "type": "string"},
        {"name": "e", "type": {"type": "enum", "name": "Color", "symbols": ["RED", "GREEN"]}},
        {"name": "a", "type": {"type": "array", "items": "long"}},
        {"name": "m", "type": {"type": "map", "values": "string"}},
        {"name": "u", "type": ["null", "string", "long"]},
        {"name": "fx", "type": {"type": "fixed", "name": "Four", "size": 4}},
        {"name": "rec", "type": {"type": "record", "name": "Inner", "fields": [
            {"name": "x", "type": "double"}, {"name": "tags", "type": {"type": "array",
                                                                      "items": "string"}}]}},
        {"name": "dec_b", "type": {"type": "bytes", "logicalType": "decimal", "precision": 9,
                                   "scale": 2}},
        {"name": "dec_f", "type": {"type": "fixed", "name": "Dec8", "size": 8,
                                   "logicalType": "decimal", "precision": 18, "scale": 4}},
        {"name": "id", "type": {"type": "string", "logicalType": "uuid"}},
        {"name": "day", "type": {"type": "int", "logicalType": "date"}},
        {"name": "t_ms", "type": {"type": "int", "logicalType": "time-millis"}},
        {"name": "t_us", "type": {"type": "long", "logicalType": "time-micros"}},
        {"name": "ts_ms", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "ts_us", "type": {"type": "long", "logicalType": "timestamp-micros"}},
        {"name": "lts_ms", "type": {"type": "long", "logicalType": "local-timestamp-millis"}},
        {"name": "lts_us", "type": {"type": "long", "logicalType": "local-timestamp-micros"}},
    ],
}

UTC = datetime.timezone.utc


def sample(k):
    """A record with awkward values; k varies it."""
    return {
        "n": None,
        "b": k % 2 == 0,
        "i": [-2**31, 2**31 - 1, 0, -1][k % 4],
        "l": [-2**63, 2**63 - 1, 0, 1234567890123][k % 4],
        "f": [1.5, -0.0, float("inf"), 3.25][k % 4],
        "d": [0.1, float("nan"), -1e-300, float("-inf")][k % 4],
        "by": bytes([0, 255, 10, k % 256]),
        "s": ["", "héllo", "😀 beyond the BMP", 'quote " and \\ backslash'][k % 4],
        "e": ["RED", "GREEN"][k % 2],
        "a": [[], [1, -2, 2**40], [0], [-(2**63)]][k % 4],
        "m": [{}, {"k": "v", "ü": "😀"}, {"": ""}, {"a": "b"}][k % 4],
        "u": [None, "text", 42, -7][k % 4],
        "fx": b"\x00\x01\xfe\xff",
        "rec": {"x": k / 3, "tags": ["x"] * (k % 3)},
        "dec_b": [decimal.Decimal("12.30"), decimal.Decimal("-0.05"), decimal.Decimal("0.00"),
                  decimal.Decimal("9999999.99")][k % 4],
        "dec_f": [decimal.Decimal("-12345678901234.5678"), decimal.Decimal("0.0001"),
                  decimal.Decimal("1.0000"), decimal.Decimal("-0.0001")][k % 4],
        "id": uuid.UUID(int=k * 7919),
        "day": [datetime.date(2026, 1, 1), datetime.date(1969, 12, 31),
                datetime.date(1970, 1, 1), datetime.date(2000, 2, 29)][k % 4],
        "t_ms": datetime.time(12, 30, 0, 250000),
        "t_us": datetime.time(23, 59, 59, 999999),
        "ts_ms": datetime.datetime(2026, 1, 1, 0, 0, 0, 123000, tzinfo=UTC),
        "ts_us": [datetime.datetime(1969, 12, 31, 23, 59, 59, 500000, tzinfo=UTC),
                  datetime.datetime(2026, 6, 30, 8, 0, 0, 1, tzinfo=UTC)][k % 2],
        "lts_ms": datetime.datetime(2026, 3, 1, 10, 0, 0, 5000),
        "lts_us": datetime.datetime(2026, 3, 1, 10, 0, 0, 5),
    }


def readable(value):
    """What `bwm consume` prints for a sample field value (its documented forms)."""
    if isinstance(value, dict):
        return {k: readable(v) for k, v in value.items()}
    if isinstance(value, list):
        return [readable(v) for v in value]
    if isinstance(value, bytes):
        return "".join(chr(c) for c in value)
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, datetime.datetime):
        if value.tzinfo is None:
            return value.isoformat(timespec="microseconds")
        return value.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"
    if isinstance(value, datetime.date):
        return value.isoformat()
    if isinstance(value, datetime.time):
        return value.isoformat(timespec="microseconds")
    if isinstance(value, float):
        if math.isnan(value):
            return "NaN"
        if math.isinf(value):
            return "Infinity" if value > 0 else "-Infinity"
    return value


def same(expected, got, path="$"):
    """Compares a readable sample with consume's JSON, allowing milli/micro precision forms."""
    if isinstance(expected, dict):
        assert isinstance(got, dict) and set(got) == set(expected), path
        for k in expected:
            same(expected[k], got[k], f"{path}.{k}")
    elif isinstance(expected, list):
        assert isinstance(got, list) and len(got) == len(expected), path
        for i, (e, g) in enumerate(zip(expected, got)):
            same(e, g, f"{path}[{i}]")
    elif isinstance(expected, str) and isinstance(got, str) and (":" in expected):
        # times: bwm prints 3 digits for millis and 6 for micros; compare as instants
        e, g = expected.rstrip("Z"), got.rstrip("Z")
        assert expected.endswith("Z") == got.endswith("Z"), (path, expected, got)
        assert e.ljust(26, "0")[:26] == g.ljust(26, "0")[:26], (path, expected, got)
    elif isinstance(expected, float):
        assert isinstance(got, (int, float)) and got == expected, (path, expected, got)
        assert math.copysign(1, got) == math.copysign(1, expected), (path, "sign of zero")
    else:
        assert got == expected, (path, expected, got)


def consume(stack, topic, *extra):
    out = stack.bwm("consume", "-t", topic, "--verbose", *extra)
    assert out.returncode == 0, out.stderr
    return [json.loads(line) for line in out.stdout.splitlines()]


def test_every_type_written_by_the_confluent_serializer_is_read_by_bwm(stack):
    topic = f"interop.{uuid.uuid4().hex[:6]}"
    stack.topic(topic, 1)
    client = SchemaRegistryClient({"url": stack.registry_url})
    ser = AvroSerializer(client, json.dumps(EVERYTHING))
    producer = Producer({"bootstrap.servers": stack.bootstrap})
    records = [sample(k) for k in range(8)]
    for rec in records:
        producer.produce(topic, value=ser(rec, SerializationContext(topic, MessageField.VALUE)))
    assert producer.flush(30) == 0
    rows = consume(stack, topic)
    assert [r["framing"] for r in rows] == ["confluent"] * len(records)
    for rec, row in zip(records, rows):
        same(readable(rec), row["value"])


def test_raw_and_glue_framed_records_are_read(stack):
    topic = f"glue.{uuid.uuid4().hex[:6]}"
    stack.topic(topic, 1)
    parsed = fastavro.parse_schema(json.loads(json.dumps(EVERYTHING)))
    body = io.BytesIO()
    fastavro.schemaless_writer(body, parsed, sample(3))
    body = body.getvalue()
    # Register a Glue schema version with the stub, as the AWS SDK would.
    import urllib.request
    req = urllib.request.Request(
        stack.registry_url, method="POST", data=json.dumps({
            "SchemaId": {"SchemaName": "Everything"},
            "SchemaDefinition": json.dumps(EVERYTHING)}).encode(),
        headers={"X-Amz-Target": "AWSGlue.RegisterSchemaVersion",
                 "Content-Type": "application/x-amz-json-1.1"})
    with urllib.request.urlopen(req, timeout=10) as r:
        version_id = uuid.UUID(json.load(r)["SchemaVersionId"])
    plain = b"\x03\x00" + version_id.bytes + body
    packed = b"\x03\x05" + version_id.bytes + zlib.compress(body)
    produce_raw(stack.bootstrap, topic, [(b"g0", plain, None), (b"g1", packed, None)])
    rows = consume(stack, topic, "-X", f"registry.glue.endpoint={stack.registry_url}",
                   "-X", "aws.region=eu-west-1", "-X", "aws.access.key.id=AKIDEXAMPLE",
                   "-X", "aws.secret.access.key=wJalrXUtnFEMIK7MDENGbPxRfiCYEXAMPLEKEY")
    assert [r["framing"] for r in rows] == ["glue", "glue"]
    assert rows[0]["schema_id"] == str(version_id) and rows[1]["compression"] == "zlib"
    for row in rows:
        same(readable(sample(3)), row["value"])
    with urllib.request.urlopen(f"{stack.registry_url}/_stub/glue-requests", timeout=10) as r:
        calls = json.load(r)
    gets = [c for c in calls if c["target"] == "AWSGlue.GetSchemaVersion"]
    assert len(gets) == 1, "one request per schema version per process"
    assert gets[0]["authorization"].startswith(
        "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/"), "signed with SigV4"
    assert "/eu-west-1/glue/aws4_request" in gets[0]["authorization"]

    raw_topic = f"raw.{uuid.uuid4().hex[:6]}"
    stack.topic(raw_topic, 1)
    schema_file = Path(stack.env["BWM_STACK_DIR"]) / "everything.avsc"
    schema_file.write_text(json.dumps(EVERYTHING))
    produce_raw(stack.bootstrap, raw_topic, [(None, body, None)])
    rows = consume(stack, raw_topic, "--schema", str(schema_file))
    assert rows[0]["framing"] == "raw"
    same(readable(sample(3)), rows[0]["value"])


def test_produce_encodes_json_lines_and_names_the_bad_line(stack, tmp_path):
    topic = f"jsonl.{uuid.uuid4().hex[:6]}"
    stack.topic(topic, 2)
    schema = str(REPO / "schemas/telemetry.avsc")
    lines = [
        {"vin": "V1", "ts": 1767225600000, "trip_id": "t1", "speed": 50.5, "distance_km": 0.25,
         "odometer": 100, "ignition": True, "fuel_level": None, "status": "DRIVING"},
        {"vin": "V2", "ts": "2026-01-01T00:00:01.500Z", "trip_id": "t2", "speed": 0,
         "distance_km": 0, "odometer": 7, "ignition": False, "fuel_level": {"double": 55.5},
         "status": "PARKED"},
        {"vin": "V3", "ts": 1767225602000, "trip_id": "t3", "speed": 1, "distance_km": 0,
         "odometer": 7, "ignition": False, "fuel_level": 12.5, "status": "FLYING"},
        {"vin": "V4", "ts": 1767225603000, "trip_id": "t4", "speed": 1, "distance_km": 0,
         "odometer": 7, "ignition": False, "status": "IDLE"},
    ]
    text = "\n".join(json.dumps(line) for line in lines) + "\n"
    import subprocess
    from conftest import BWM
    out = subprocess.run([BWM, "produce", "-t", topic, "--schema", schema, "--key", "vin"],
                         input=text, env=stack.run_env(), capture_output=True, text=True,
                         timeout=60)
    assert out.returncode == 1
    assert "line 3: $.status: 'FLYING' is not a symbol of" in out.stderr, out.stderr
    assert "2 records to" in out.stderr
    msgs = read_topic(stack.bootstrap, topic)
    assert sorted(m.key() for m in msgs) == [b"V1", b"V2"], "keyed by --key; nothing after line 3"
    got = {decode_confluent(stack.registry, m.value())["vin"]: decode_confluent(
        stack.registry, m.value()) for m in msgs}
    assert got["V1"]["speed"] == 50.5 and got["V1"]["fuel_level"] is None
    assert got["V2"]["ts"] == 1767225601500 and got["V2"]["fuel_level"] == 55.5


def test_results_written_by_bwm_are_read_by_the_confluent_deserializer(stack, tmp_path):
    from test_slice import Job
    job = Job(stack, tmp_path, "deser")
    job.produce(800, seed=5, vehicles=20)
    job.run_to_end()
    client = SchemaRegistryClient({"url": stack.registry_url})
    deser = AvroDeserializer(client)
    msgs = read_topic(stack.bootstrap, job.output)
    assert msgs
    for m in msgs:
        via_confluent = deser(m.value(), SerializationContext(job.output, MessageField.VALUE))
        via_fastavro = decode_confluent(stack.registry, m.value())
        # The deserializer turns timestamp-millis into datetimes; fastavro here gives longs.
        ws = via_confluent.pop("window_start")
        assert int(ws.timestamp() * 1000) == via_fastavro.pop("window_start")
        we = via_confluent.pop("window_end")
        assert int(we.timestamp() * 1000) == via_fastavro.pop("window_end")
        assert via_confluent == via_fastavro
    schema_id = struct.unpack(">I", msgs[0].value()[1:5])[0]
    subject = f"{job.output}-value"
    assert client.get_latest_version(subject).schema_id == schema_id, "registered under the topic"


TELEMETRY_V2 = {
    "type": "record", "name": "Telemetry", "namespace": "bwm.samples",
    "fields": [
        {"name": "ts", "type": {"type": "long", "logicalType": "timestamp-millis"}},
        {"name": "vin", "type": "string"},
        {"name": "driver", "type": "string", "default": "unknown"},
        {"name": "speed", "type": "float"},
        {"name": "trip_id", "type": "bytes"},
        {"name": "distance_km", "type": "double"},
        {"name": "ignition", "type": ["null", "boolean"]},
        {"name": "status", "type": {"type": "enum", "name": "VehicleStatus",
                                    "symbols": ["PARKED", "IDLE", "DRIVING", "CHARGING"]}},
    ],
}
TELEMETRY_V3 = dict(TELEMETRY_V2, fields=[dict(f, type="string") if f["name"] == "speed" else f
                                          for f in TELEMETRY_V2["fields"]])


def test_records_of_evolved_writer_schemas_are_resolved_to_the_job_schema(stack, tmp_path):
    """Writers that promote, reorder, add and drop fields are read; incompatible ones dead-letter."""
    from test_slice import Job, kpi_where, summary_counts
    job = Job(stack, tmp_path, "evolve")
    job.produce(3000, seed=9, vehicles=40)
    client = SchemaRegistryClient({"url": stack.registry_url})
    v2 = AvroSerializer(client, json.dumps(TELEMETRY_V2))
    v3 = AvroSerializer(client, json.dumps(TELEMETRY_V3))
    ctx = SerializationContext(job.input, MessageField.VALUE)
    producer = Producer({"bootstrap.servers": stack.bootstrap, "partitioner": "murmur2_random"})
    expected_dead = 0
    for k in range(1500):
        vin = f"BWM{k % 40 + 1:014d}"
        rec = {"ts": 1767225600000 + k * 700, "vin": vin, "speed": 10.0 + (k % 97) / 4,
               "trip_id": f"{vin}-{k % 3}".encode(), "distance_km": (k % 11) / 10,
               "ignition": None if k % 50 == 0 else k % 3 != 0, "status": "DRIVING"}
        if k % 75 == 0:
            value = v3(dict(rec, speed="fast", ignition=True), ctx)
        else:
            value = v2(rec, ctx)
        expected_dead += k % 75 == 0 or k % 50 == 0
        producer.produce(job.input, key=vin.encode(), value=value)
    assert producer.flush(30) == 0
    counts = summary_counts(job.run_to_end())
    assert counts["read"] == 4500
    assert counts["dead-lettered"] == expected_dead
    reasons = {dict(m.headers())["bwm.reason"] for m in read_topic(stack.bootstrap, job.dlq)}
    assert reasons == {b"schema"}, reasons

    def invalid(rec):
        return rec["ignition"] is None or not isinstance(rec["speed"], float)

    _, bad, _ = job.check_against_oracle(where=lambda r: kpi_where(r), invalid=invalid)
    assert len(bad) == expected_dead
