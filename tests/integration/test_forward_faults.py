"""bwm forward while Core View fails, each fault its own test: 30 seconds of 503, 429 with
Retry-After in seconds and as an HTTP date, replies slower than the request timeout,
connection resets, a 400 for batches holding particular records, kill -9 of the forwarder
mid-run, the request rate during a 429 period, and a retry budget that runs out.

After each, every result offset is exactly once in the stub's accepted set or in the
dead-letter topic (test_forward.check_exactly_once); each test prints what it measured.
"""
import collections
import email.utils
import math
import signal
import time

import pytest

from test_forward import (ResultTopic, TOKEN, check_exactly_once, committed,  # noqa: F401
                          coreview, forward_conf, forwarders, wait_until)

FAST_RETRY = ("coreview.retry.backoff.ms = 50", "coreview.retry.backoff.max.ms = 2000")


def delivered(stub, n):
    return lambda: stub.stats()["accepted_records"] >= n


def overlapping(requests):
    """The most requests under way at once, from their arrival and answer times."""
    edges = sorted([(r["t"], 1) for r in requests] + [(r["t_end"], -1) for r in requests])
    most = now = 0
    for _, step in edges:
        now += step
        most = max(most, now)
    return most


def test_thirty_seconds_of_503(stack, tmp_path, coreview, forwarders):
    """Core View answers 503 for 30 s: requests are retried with a shared backoff, one
    probe at a time, and nothing is lost or dead-lettered."""
    results = ResultTopic(stack, tmp_path, "503")
    results.produce(40_000)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="status", status=503)
    fwd = forwarders("f503", forward_conf(results.topic, stub, "coreview.retry.backoff.ms = 100",
                                          "coreview.retry.backoff.max.ms = 4000"))
    start = time.monotonic()
    wait_until(lambda: time.monotonic() - start >= 30 or not fwd.alive(), 40, "30 s of 503")
    assert fwd.alive(), fwd.tail()
    outage = stub.requests()
    stub.fault(mode="none")
    healed = time.monotonic()
    wait_until(delivered(stub, 40_000), 60, lambda: f"all delivered ({stub.stats()})")
    recovered = time.monotonic() - healed
    assert fwd.stop() == 0, fwd.tail()
    check_exactly_once(results, stub)
    after_first_wave = [r for r in outage if r["t"] > outage[0]["t_end"] + 0.001]
    print(f"{len(outage)} requests in 30 s of 503 ({len(outage) / 30:.2f}/s), at most "
          f"{overlapping(after_first_wave)} at once after the first wave; all 40,000 results "
          f"delivered {recovered:.1f} s after the outage ended; forwarder: {fwd.summary()}")
    assert all(r["status"] == 503 for r in outage)
    assert overlapping(after_first_wave) <= 1, "one probe at a time while the endpoint fails"
    assert len(outage) < 60, "the backoff grew"


@pytest.mark.parametrize("form", ["seconds", "http-date"])
def test_429_retry_after_is_honoured(stack, tmp_path, coreview, forwarders, form):
    """Three answers 429 with Retry-After (2 seconds, or an HTTP date 3 s ahead): no request
    reaches the stub before the time it asked for."""
    # One partition: one request at a time, so each request after a 429 was sent after it.
    results = ResultTopic(stack, tmp_path, f"ra-{form}", partitions=1)
    results.produce(4000)
    stub = coreview("--token", TOKEN)
    if form == "seconds":
        value = "2"
    else:
        until = math.ceil(time.time()) + 3
        value = email.utils.formatdate(until, usegmt=True)
    stub.fault(mode="retry_after", retry_after=value, count=3)
    fwd = forwarders("ra", forward_conf(results.topic, stub, *FAST_RETRY), "--exit-at-end")
    assert fwd.wait(120) == 0, fwd.tail()
    reqs = stub.requests()
    waits = []
    for i, r in enumerate(reqs):
        if r["status"] != 429:
            continue
        later = min(q["t"] for q in reqs if q["t"] > r["t_end"])
        asked = 2.0 if form == "seconds" else until - r["t_end"]
        waits.append((later - r["t_end"], asked))
    print(f"Retry-After {value!r}: measured waits after each 429 (s, asked): "
          f"{[(round(w, 3), round(a, 3)) for w, a in waits]}; {fwd.summary()}")
    assert len(waits) == 3
    assert all(w >= a for w, a in waits), waits
    check_exactly_once(results, stub)


def test_replies_slower_than_the_timeout_are_retried(stack, tmp_path, coreview, forwarders):
    """Four replies take 2.5 s against a request timeout of 1 s: the requests are given up
    and sent again with the same key; the stub, which still finishes the slow ones, sees
    duplicates, and every result is accepted once."""
    results = ResultTopic(stack, tmp_path, "slow")
    results.produce(10_000)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="slow", delay_ms=2500, count=4)
    fwd = forwarders("slow", forward_conf(results.topic, stub, "coreview.request.timeout.ms = 1000",
                                          *FAST_RETRY), "--exit-at-end")
    assert fwd.wait(120) == 0, fwd.tail()
    s, stats = fwd.summary(), stub.stats()
    print(f"forwarder: {s}\nstub: {stats}")
    assert s["retries"] >= 4 and "Timeout was reached" in fwd.stderr()
    assert stats["duplicates"] >= 1
    check_exactly_once(results, stub)


def test_connection_resets_are_retried(stack, tmp_path, coreview, forwarders):
    results = ResultTopic(stack, tmp_path, "reset")
    results.produce(20_000)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="reset", every=3)
    fwd = forwarders("reset", forward_conf(results.topic, stub, *FAST_RETRY), "--exit-at-end")
    assert fwd.wait(120) == 0, fwd.tail()
    s, stats = fwd.summary(), stub.stats()
    print(f"{stats['faults_injected']} resets, {stats['requests']} requests at the stub; "
          f"forwarder: {s}")
    # libcurl itself sends a request again at once when a reused connection turns out
    # dead before any answer; the others are the forwarder's retries. Either way, each
    # reset costs one more request.
    assert stats["faults_injected"] > 10
    assert stats["requests"] == s["batches"] + stats["faults_injected"]
    check_exactly_once(results, stub)


def test_a_400_for_some_records_dead_letters_those_and_only_those(stack, tmp_path, coreview,
                                                                  forwarders):
    """Core View answers 400 to any batch holding one of five records: the forwarder splits
    each such batch in halves, each with its own key, down to single records, and only
    those five go to the dead-letter topic, with the status and the answer in headers."""
    bad = {7, 4_321, 9_998, 9_999, 15_000}
    results = ResultTopic(stack, tmp_path, "reject")
    results.produce(20_000)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="reject", field="seq", values=sorted(bad))
    fwd = forwarders("reject", forward_conf(results.topic, stub), "--exit-at-end")
    assert fwd.wait(120) == 0, fwd.tail()
    s = fwd.summary()
    accepted, letters = check_exactly_once(results, stub, expect_dead=bad)
    print(f"{accepted} accepted, {len(letters)} dead-lettered in {s['requests']} requests "
          f"({s['splits']} splits); forwarder: {s}")
    records = results.records()
    for h in letters:
        assert h["bwm.reason"] == "rejected" and h["bwm.http.status"] == "400", h
        assert "rejected" in h["bwm.http.body"] and len(h["bwm.http.body"]) <= 512, h
        p, o = h["bwm.source.partition"], h["bwm.source.offset"]
        assert h["bwm.idempotency.key"].startswith(f"bwm-{p}-{o}-{o}-"), h
        assert records[(int(p), int(o))] in bad
    assert s["dead-lettered"] == 5 and s["splits"] >= 5


def test_kill_9_resends_at_most_the_batches_in_flight_with_their_keys(stack, tmp_path, coreview,
                                                                      forwarders):
    """kill -9 while batches are under way (every request takes 300 ms): the ranges of the
    batches in flight are in the group's offset metadata, so the restart forms exactly
    those batches again and sends them with the same idempotency keys; nothing else is
    sent twice and nothing is lost."""
    results = ResultTopic(stack, tmp_path, "kill")
    results.produce(40_000)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="slow", delay_ms=300)
    conf = forward_conf(results.topic, stub)
    first = forwarders("kill", conf)
    wait_until(delivered(stub, 8000), 60, lambda: f"8000 delivered\n{first.tail()}")
    wait_until(lambda: stub.stats()["requests"] > stub.stats()["accepted_batches"], 10,
               "a request under way")
    first.signal(signal.SIGKILL)
    assert first.wait(30) == -signal.SIGKILL
    # The slow requests the stub is still answering are logged when answered.
    wait_until(lambda: stub.stats()["requests"] == len(stub.requests()), 10,
               "the stub to answer what it had")
    before = stub.requests()
    sent_before = {r["key"] for r in before}
    metadata = committed(stack, f"fwd-{results.topic}", results.topic)
    stub.fault(mode="none")
    second = forwarders("kill", conf, "--exit-at-end")
    assert second.wait(120) == 0, second.tail()
    after = stub.requests()[len(before):]
    again = sorted({r["key"] for r in after} & sent_before)
    in_flight = [m for _, m in metadata.values() if m]
    print(f"killed after {len(before)} requests; committed metadata {metadata}; the restart "
          f"sent {len(again)} batches again: {again}; stub {stub.stats()}")
    assert len(again) <= 4, "at most one batch per partition was in flight"
    assert len(again) <= len(in_flight), "only batches recorded as in flight are sent again"
    assert "sent again as it was" in second.stderr()
    check_exactly_once(results, stub)


def test_a_429_period_slows_the_request_rate_to_what_retry_after_allows(stack, tmp_path,
                                                                        coreview, forwarders):
    """Eight partitions with batches ready, then 429 with Retry-After: 1 for 8 s: the stub
    counts requests per second, and after the requests already under way it sees at most
    one per second: every batch waits for the one shared endpoint, which one probe tests."""
    results = ResultTopic(stack, tmp_path, "flood", partitions=8)
    results.produce(80_000)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="slow", delay_ms=20)
    fwd = forwarders("flood", forward_conf(results.topic, stub, *FAST_RETRY))
    wait_until(delivered(stub, 5000), 60, "5000 delivered")
    stub.fault(mode="retry_after", retry_after="1")
    start = time.time()
    wait_until(lambda: time.time() - start >= 8 or not fwd.alive(), 20, "8 s of 429")
    stub.fault(mode="none")
    reqs = [r for r in stub.requests() if start <= r["t"] < start + 8]
    per_second = collections.Counter(int(r["t"] - start) for r in reqs)
    rate = [per_second.get(i, 0) for i in range(8)]
    wait_until(delivered(stub, 80_000), 60, lambda: f"all delivered ({stub.stats()})")
    assert fwd.stop() == 0, fwd.tail()
    s = fwd.summary()
    print(f"requests in each second of the 429 period: {rate}; forwarder: {s}")
    assert all(n <= 2 for n in rate[1:]), rate
    assert sum(rate[1:]) <= 8, rate
    check_exactly_once(results, stub)


def test_a_spent_retry_budget_dead_letters_the_batch(stack, tmp_path, coreview, forwarders):
    """503 for ever and a retry budget of 2 s: each batch goes to the dead-letter topic
    (reason retries, with the last status) and its offsets are committed."""
    results = ResultTopic(stack, tmp_path, "budget", partitions=1)
    results.produce(1000)
    stub = coreview("--token", TOKEN)
    stub.fault(mode="status", status=503)
    fwd = forwarders("budget", forward_conf(results.topic, stub, "coreview.retry.budget.ms = 2000",
                                            *FAST_RETRY), "--exit-at-end")
    assert fwd.wait(120) == 0, fwd.tail()
    s = fwd.summary()
    records = results.records()
    accepted, letters = check_exactly_once(results, stub, expect_dead=set(records.values()))
    print(f"{len(letters)} dead-lettered after {s['requests']} requests; forwarder: {s}")
    assert accepted == 0
    assert all(h["bwm.reason"] == "retries" and h["bwm.http.status"] == "503" for h in letters)
    offsets = committed(stack, f"fwd-{results.topic}", results.topic)
    assert sum(o for o, _ in offsets.values()) == 1000, offsets
