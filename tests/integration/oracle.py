"""The oracle: the expected results of the sample job, computed from the input topic.

It reads the input with confluent-kafka, decodes it with fastavro, and keeps
COUNT(*) and SUM(distance_km) per vin, adding in offset order within each
partition (as the contract does), and the offset of the last record per vin
(the result's version). Records that do not decode are the dead letters.
"""
from kafkautil import decode_confluent, read_topic


def expected(bootstrap, registry, topic):
    per_key = {}
    bad = []
    for msg in read_topic(bootstrap, topic):
        try:
            rec = decode_confluent(registry, msg.value())
        except Exception:  # noqa: BLE001 - any failure makes it a dead letter
            bad.append((msg.partition(), msg.offset()))
            continue
        agg = per_key.setdefault(rec["vin"], {"samples": 0, "distance_km": None, "version": -1})
        agg["samples"] += 1
        agg["distance_km"] = (agg["distance_km"] or 0.0) + rec["distance_km"]
        agg["version"] = msg.offset()
    return per_key, bad


def latest_results(bootstrap, registry, topic):
    """The result with the highest version per key, as a downstream reader keeps them."""
    latest = {}
    count = 0
    for msg in read_topic(bootstrap, topic):
        rec = decode_confluent(registry, msg.value())
        count += 1
        assert msg.key().decode() == rec["vin"], "results are keyed by the group key"
        cur = latest.get(rec["vin"])
        if cur is None or rec["version"] > cur["version"]:
            latest[rec["vin"]] = rec
        elif rec["version"] == cur["version"]:
            assert rec == cur, f"two results with version {rec['version']} differ"
    return latest, count
