"""Poison records: undecodable bodies, unknown schema ids, expressions that overflow and late
records, 1% of the input each, all dead-lettered with their reason and original bytes while
the rest of the input is processed exactly.
"""
import random
import struct

from jobs import MINUTE, RuntimeJob
from kafkautil import decode_confluent, encode_confluent, produce_in_order, read_topic
from oracle import KPI_COLUMNS
from procs import Fleet

HOUR = 60 * MINUTE
BIGINT_MAX = 2**63 - 1
UNKNOWN_IDS = (900001, 900002, 900003)
# The job multiplies odometer by 1000: from here that overflows a BIGINT.
HUGE_ODOMETER = 2**62


def poison(kind, rng, value, rec, schema_id, schema, watermark):
    """The value that replaces a clean record to make it a dead letter of reason kind."""
    if kind == "decode":
        # A body cut short: every field is required, so the reader runs out of bytes.
        return value[:-rng.randint(1, 8)]
    if kind == "schema":
        return b"\x00" + struct.pack(">I", rng.choice(UNKNOWN_IDS)) + value[5:]
    if kind == "eval":
        # It passes WHERE and keeps the event time at the watermark, which it does not move.
        return encode_confluent(schema_id, schema, dict(
            rec, odometer=HUGE_ODOMETER, ignition=True, ts=watermark))
    # late: two hours behind the partition's watermark, its window closed long ago.
    return encode_confluent(schema_id, schema, dict(rec, ignition=True, ts=watermark - 2 * HOUR))


def test_poison_records_are_dead_lettered_with_their_reason_and_the_rest_is_exact(
        stack, tmp_path):
    rng = random.Random(707)
    # Batches applied in rounds of 300 records: dead letters of every round keep their bytes.
    job = RuntimeJob(stack, tmp_path, "poison", size_ms=HOUR, grace_ms=5 * MINUTE,
                     columns=KPI_COLUMNS + ("max_odometer_mm",),
                     extra_sql=",\n       MAX(odometer * 1000)    AS max_odometer_mm",
                     conf=("commit.round.records = 300",))
    clean = f"{job.input}.clean"
    stack.topic(clean, 4)
    stack.bwm("produce", "-t", clean, "--generate", "100000", "--seed", "707", "--vehicles",
              "300", check=True)
    schema_id = stack.registry.latest_id(f"{clean}-value")
    schema = stack.registry.schema(schema_id)

    # The clean records, partition by partition, with 1% replaced by each kind of poison.
    items, kinds, watermark = [], [], {}
    for msg in read_topic(stack.bootstrap, clean):
        p, value = msg.partition(), msg.value()
        rec = decode_confluent(stack.registry, value)
        headers = [("origin", f"{p}:{msg.offset()}".encode()), ("trace", b"\x00\x01bytes")]
        r = rng.random()
        if watermark.get(p) is not None and r < 0.04:
            kind = ("decode", "schema", "eval", "late")[int(r * 100)]
            value = poison(kind, rng, value, rec, schema_id, schema, watermark[p])
            headers.append(("poison", kind.encode()))
        else:
            kind = None
            watermark[p] = max(watermark.get(p) or rec["ts"], rec["ts"])
        items.append((p, msg.key(), value, headers))
        kinds.append(kind)
    placed = produce_in_order(stack.bootstrap, job.input, items)
    poisoned = {where: (kind, item) for where, kind, item in zip(placed, kinds, items) if kind}
    by_kind = {k: sum(1 for kind, _ in poisoned.values() if kind == k)
               for k in ("decode", "schema", "eval", "late")}
    print(f"{len(items)} records, poisoned: {by_kind}")

    with Fleet(stack, tmp_path) as fleet:
        run = job.start(fleet, "a", "--exit-at-end")
        assert run.wait(300) == 0, run.tail()
    counts = run.summary()
    print("summary:", counts)
    assert counts["dead-lettered"] == len(poisoned)

    dead = job.dead_letters()
    assert set(dead) == set(poisoned), "exactly the poisoned records are dead letters"
    for where, entries in dead.items():
        kind, (_, key, value, headers) = poisoned[where]
        assert len(entries) == 1, f"{where} dead-lettered {len(entries)} times"
        reason, msg = entries[0]
        assert reason == kind, f"{where}: reason {reason}, want {kind}"
        assert msg.key() == key and msg.value() == value, f"{where}: original bytes kept"
        got = msg.headers()
        assert [h for h in got if not h[0].startswith("bwm.")] == headers, (
            f"{where}: original headers kept")
        h = dict(got)
        assert h["bwm.source.topic"] == job.input.encode() and h["bwm.error"], where

    exp = job.expected(eval_error=lambda r: abs(r["odometer"] * 1000) > BIGINT_MAX)
    assert exp.dead == {where: kind for where, (kind, _) in poisoned.items()}, (
        "the oracle finds the same dead letters")
    job.check_exact(exp)
