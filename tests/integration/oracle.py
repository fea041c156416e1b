"""The oracle: expected results of tumbling-window jobs, computed from the input topic.

It reads the input with confluent-kafka and decodes it with fastavro (code
that shares nothing with bwm), then applies the rules of the contract one
record at a time, per partition in offset order: WHERE, the window of the
record's event time, lateness against the partition's watermark (the largest
event time seen so far, filtered records included), and the aggregates of
each (vin, window).
"""
import math

from kafkautil import decode_confluent, read_topic


class Window:
    def __init__(self):
        self.rows = []         # decoded records, in offset order
        self.version = -1      # offset of the last record applied
        self.final_version = None  # EMIT FINAL: offset of the record that closed it

    def figures(self):
        speeds = [r["speed"] for r in self.rows]
        n = len(speeds)
        distance = 0.0
        for r in self.rows:
            distance += r["distance_km"]  # the same additions in the same order as bwm
        ordered = sorted(speeds)
        return {
            "samples": n,
            "distance_km": distance,
            "avg_speed": math.fsum(speeds) / n,
            "max_speed": max(speeds),
            "speed_stddev": (math.sqrt(sum((s - sum(speeds) / n) ** 2 for s in speeds) / (n - 1))
                             if n > 1 else None),
            # A writer may send trip_id as bytes: the reader's string promotes it.
            "trips": len({r["trip_id"].decode() if isinstance(r["trip_id"], bytes)
                          else r["trip_id"] for r in self.rows}),
            "p95_speed": ordered[int(math.floor(0.95 * (n - 1)))],
        }


def run(bootstrap, registry, topic, size_ms, grace_ms, where=lambda r: True,
        invalid=lambda r: False):
    """Returns ({(vin, window_start): Window}, [(partition, offset) dead], [late ...]).

    Records that do not decode, or that invalid() rejects (values the job's reader
    schema cannot take), are dead letters.
    """
    windows, bad, late = {}, [], []
    by_partition = {}
    for msg in read_topic(bootstrap, topic):
        by_partition.setdefault(msg.partition(), []).append(msg)
    for partition, msgs in by_partition.items():
        wm = None
        open_windows = {}
        for msg in msgs:
            try:
                rec = decode_confluent(registry, msg.value())
            except Exception:  # noqa: BLE001 - any failure makes it a dead letter
                bad.append((partition, msg.offset()))
                continue
            if invalid(rec):
                bad.append((partition, msg.offset()))
                continue
            ts = rec["ts"]
            if where(rec):
                start = ts - ts % size_ms
                if wm is not None and start + size_ms + grace_ms <= wm:
                    late.append((partition, msg.offset()))
                    continue
                w = windows.setdefault((rec["vin"], start), Window())
                open_windows[(rec["vin"], start)] = w
                w.rows.append(rec)
                w.version = msg.offset()
            if wm is None or ts > wm:
                wm = ts
                for key, w in list(open_windows.items()):
                    if key[1] + size_ms + grace_ms <= wm:
                        w.final_version = msg.offset()
                        del open_windows[key]
    return windows, bad, late


def latest_results(bootstrap, registry, topic):
    """The result with the highest version per (key, window), as a downstream reader keeps them."""
    latest = {}
    count = 0
    for msg in read_topic(bootstrap, topic):
        if msg.value() is None:
            continue
        rec = decode_confluent(registry, msg.value())
        count += 1
        assert msg.key().decode() == f"{rec['vin']}@{rec['window_start']}", "results keyed by (key, window)"
        key = (rec["vin"], rec["window_start"])
        cur = latest.get(key)
        if cur is None or rec["version"] > cur["version"]:
            latest[key] = rec
        elif rec["version"] == cur["version"]:
            assert rec == cur, f"two results with version {rec['version']} differ"
    return latest, count
