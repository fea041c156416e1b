"""The oracle: expected results of the telemetry jobs, computed from the input topic.

It reads the input with confluent-kafka and decodes it with fastavro (code
that shares nothing with bwm), then applies the rules of the contract one
record at a time, per partition in offset order: WHERE, the window of the
record's event time (tumbling, or none), lateness against the partition's
watermark (the largest event time seen so far, filtered records included),
and the aggregates of each (vin, window). Records it cannot decode, or that
the job cannot take, are dead letters with the reason bwm must give them.
"""
import heapq
import math

from kafkautil import UnknownSchemaId, decode_confluent, iter_topic

# The columns the telemetry jobs of the tests select, besides vin, window and version.
KPI_COLUMNS = ("samples", "distance_km", "avg_speed", "max_speed", "speed_stddev", "trips",
               "p95_speed")


class Window:
    """The aggregates of one (vin, window), added to record by record in offset order."""

    def __init__(self, partition):
        self.partition = partition
        self.speeds = []
        self.distance = 0.0
        self.trips = set()
        self.max_odometer = None
        self.version = -1          # offset of the last record applied
        self.final_version = None  # offset of the record whose event time closed it

    def add(self, rec, offset):
        self.speeds.append(rec["speed"])
        self.distance += rec["distance_km"]  # the same additions in the same order as bwm
        # A writer may send trip_id as bytes: the reader's string promotes it.
        trip = rec["trip_id"]
        self.trips.add(trip.decode() if isinstance(trip, bytes) else trip)
        if "odometer" in rec:
            odometer = rec["odometer"]
            self.max_odometer = odometer if self.max_odometer is None else max(
                self.max_odometer, odometer)
        self.version = offset

    @property
    def closed(self):
        return self.final_version is not None

    def figures(self):
        speeds = self.speeds
        n = len(speeds)
        mean = sum(speeds) / n
        ordered = sorted(speeds)
        return {
            "samples": n,
            "distance_km": self.distance,
            "avg_speed": math.fsum(speeds) / n,
            "max_speed": max(speeds),
            "speed_stddev": (math.sqrt(sum((s - mean) ** 2 for s in speeds) / (n - 1))
                             if n > 1 else None),
            "trips": len(self.trips),
            "p95_speed": ordered[int(math.floor(0.95 * (n - 1)))],
            "max_odometer_mm": None if self.max_odometer is None else self.max_odometer * 1000,
        }


def mismatches(window, got, columns=KPI_COLUMNS):
    """How a result or state record differs from the oracle's window: [] when it agrees."""
    exp = window.figures()
    bad = []

    def check(name, ok):
        if not ok:
            bad.append(f"{name}: got {got.get(name)!r}, want {exp[name]!r}")

    for name in columns:
        g, e = got.get(name), exp[name]
        if name == "avg_speed":
            check(name, g is not None and math.isclose(g, e, rel_tol=1e-12))
        elif name == "speed_stddev":
            check(name, (g is None) == (e is None) and (
                e is None or math.isclose(g, e, rel_tol=1e-9, abs_tol=1e-9)))
        elif name == "p95_speed":
            # PERCENTILE is a DDSketch: within 1% of the exact value.
            check(name, g is not None and abs(g - e) <= 0.01 * abs(e))
        else:
            # Counts and extremes are exact; the sums are the same additions in the same
            # order, so they are bit-for-bit equal; trips are exact while the sketch is sparse.
            check(name, g == e and type(g) is type(e))
    if got.get("version") != window.version:
        bad.append(f"version: got {got.get('version')!r}, want {window.version}")
    return bad


class Expected:
    """What a job must leave behind, by the oracle."""

    def __init__(self):
        self.windows = {}     # (vin, window_start or None) -> Window
        self.dead = {}        # (partition, offset) -> reason
        self.watermarks = {}  # partition -> largest event time, or None
        self.records = 0

    @property
    def open_windows(self):
        return {k: w for k, w in self.windows.items() if not w.closed}

    @property
    def applied(self):
        return sum(len(w.speeds) for w in self.windows.values())


class _Partition:
    def __init__(self):
        self.wm = None
        self.closing = []  # heap of (close time, key) of its open windows


def expect(bootstrap, registry, topic, size_ms=None, grace_ms=0, where=lambda r: True,
           invalid=lambda r: False, eval_error=lambda r: False):
    """Computes the Expected of a job over every record of topic.

    size_ms None is a job without WINDOW. invalid() rejects values the job's reader schema
    cannot take (reason schema); eval_error() names records whose expressions fail (reason
    eval; the tests keep such records' event time at or below the watermark).
    """
    exp = Expected()
    parts = {}
    for msg in iter_topic(bootstrap, topic):
        p, offset = msg.partition(), msg.offset()
        st = parts.setdefault(p, _Partition())
        exp.watermarks.setdefault(p, None)
        exp.records += 1
        try:
            rec = decode_confluent(registry, msg.value())
        except UnknownSchemaId:
            exp.dead[(p, offset)] = "schema"
            continue
        except Exception:  # noqa: BLE001 - any other failure is an undecodable body
            exp.dead[(p, offset)] = "decode"
            continue
        if invalid(rec):
            exp.dead[(p, offset)] = "schema"
            continue
        ts = rec["ts"]
        if where(rec):
            if eval_error(rec):
                exp.dead[(p, offset)] = "eval"
                continue
            start = None
            if size_ms is not None:
                start = ts - ts % size_ms
                if st.wm is not None and start + size_ms + grace_ms <= st.wm:
                    exp.dead[(p, offset)] = "late"
                    continue
            key = (rec["vin"], start)
            w = exp.windows.get(key)
            if w is None:
                w = exp.windows[key] = Window(p)
                if start is not None:
                    heapq.heappush(st.closing, (start + size_ms + grace_ms, key))
            w.add(rec, offset)
        if st.wm is None or ts > st.wm:
            st.wm = ts
            exp.watermarks[p] = ts
            while st.closing and st.closing[0][0] <= ts:
                _, key = heapq.heappop(st.closing)
                exp.windows[key].final_version = offset
    return exp


def run(bootstrap, registry, topic, size_ms, grace_ms, where=lambda r: True,
        invalid=lambda r: False):
    """Returns ({(vin, window_start): Window}, [(partition, offset) dead], [late ...])."""
    exp = expect(bootstrap, registry, topic, size_ms, grace_ms, where, invalid)
    bad = [k for k, reason in exp.dead.items() if reason != "late"]
    late = [k for k, reason in exp.dead.items() if reason == "late"]
    return exp.windows, bad, late


class Results:
    """A result topic as a downstream reader sees it."""

    def __init__(self):
        self.latest = {}   # (vin, window_start or None) -> decoded record of the highest version
        self.count = 0     # results read
        self.repeated = 0  # results whose (key, window, version) came before


def read_results(bootstrap, registry, topic, windowed=True):
    """Reads every result, checking on the way that each is keyed by its (key, window) and
    that results with the same (key, window, version) are byte-identical."""
    res, seen = Results(), {}
    for msg in iter_topic(bootstrap, topic):
        if msg.value() is None:
            continue
        rec = decode_confluent(registry, msg.value())
        res.count += 1
        start = rec["window_start"] if windowed else None
        want_key = f"{rec['vin']}@{start}" if windowed else rec["vin"]
        assert msg.key().decode() == want_key, "results keyed by (key, window)"
        key = (rec["vin"], start)
        first = seen.setdefault((key, rec["version"]), msg.value())
        assert first == msg.value(), (
            f"two results for {key} with version {rec['version']} differ: {first!r} and "
            f"{msg.value()!r}")
        cur = res.latest.get(key)
        if cur is None or rec["version"] > cur["version"]:
            res.latest[key] = rec
    res.repeated = res.count - len(seen)
    return res


def latest_results(bootstrap, registry, topic):
    """The result with the highest version per (key, window), and how many results there are."""
    res = read_results(bootstrap, registry, topic)
    return res.latest, res.count
