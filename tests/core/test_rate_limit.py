"""The process-wide rate limiter (Ark: 300 requests a minute) and the download slots."""

from __future__ import annotations

import threading
import time

import pytest

from ark3d_addon.core import client as client_module
from ark3d_addon.core.client import ArkClient, RateLimiter
from ark3d_addon.core.errors import Cancelled
from ark3d_addon.core.settings import Settings
from ark3d_addon.core.slots import DownloadSlots


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class ClockEvent(threading.Event):
    """A cancel event whose waits move the fake clock instead of sleeping."""

    def __init__(self, clock: FakeClock, cancel_after: float | None = None) -> None:
        super().__init__()
        self.clock = clock
        self.cancel_after = cancel_after
        self.waits: list[float] = []

    def wait(self, timeout: float | None = None) -> bool:
        self.waits.append(timeout or 0.0)
        if self.cancel_after is not None and (timeout or 0.0) > self.cancel_after:
            self.clock.now += self.cancel_after
            return True
        self.clock.now += timeout or 0.0
        return False


def test_a_burst_then_evenly_spaced() -> None:
    clock = FakeClock()
    limiter = RateLimiter(300, burst=10, clock=clock)
    assert [limiter.reserve() for _ in range(10)] == [0.0] * 10
    assert limiter.rate == pytest.approx(290 / 60)
    assert limiter.reserve() == pytest.approx(1 / limiter.rate)
    assert limiter.reserve() == pytest.approx(2 / limiter.rate)
    clock.now += 60  # a quiet minute refills the bucket, no more than its capacity
    assert [limiter.reserve() for _ in range(10)] == [0.0] * 10
    assert limiter.reserve() > 0


def busiest_minute(sent: list[float]) -> int:
    return max(sum(1 for t in sent if start <= t < start + 60) for start in sent)


@pytest.mark.parametrize("idle_every", [0, 97, 13])
def test_no_60_second_window_holds_more_than_300_requests(idle_every: int) -> None:
    clock = FakeClock()
    limiter = RateLimiter(300, burst=10, clock=clock)
    cancel = ClockEvent(clock)
    sent: list[float] = []
    for i in range(900):
        if idle_every and i % idle_every == 0:
            clock.now += 2.9  # idle now and then: the bucket refills, and bursts again
        limiter.acquire(cancel)
        sent.append(clock.now)
    assert busiest_minute(sent) <= 300
    if not idle_every:
        assert busiest_minute(sent) >= 295, "the limiter should not be much stricter than Ark's limit"


def test_a_cancelled_wait_raises_and_gives_its_slot_back() -> None:
    clock = FakeClock()
    limiter = RateLimiter(300, burst=1, clock=clock)
    limiter.reserve()
    cancel = ClockEvent(clock, cancel_after=0.0)
    with pytest.raises(Cancelled):
        limiter.acquire(cancel)
    assert limiter.reserve() == pytest.approx(1 / limiter.rate), "the cancelled caller's slot was not returned"
    already = threading.Event()
    already.set()
    with pytest.raises(Cancelled):
        limiter.acquire(already)


def test_threads_never_get_the_same_slot() -> None:
    """Frozen clock, 8 threads x 50 reservations: every wait is a distinct multiple of the spacing."""
    clock = FakeClock()
    limiter = RateLimiter(300, burst=10, clock=clock)
    delays: list[float] = []
    lock = threading.Lock()
    start = threading.Barrier(8)

    def work() -> None:
        start.wait()
        mine = [limiter.reserve() for _ in range(50)]
        with lock:
            delays.extend(mine)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    steps = sorted(round(d * limiter.rate) for d in delays)
    assert steps == [0] * 10 + list(range(1, 391))


def test_every_client_of_the_process_shares_one_limiter(ark_server, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    shared = RateLimiter(per_minute=600, burst=2)  # then ~10 a second
    monkeypatch.setattr(client_module, "RATE_LIMITER", shared)
    tid = ark_server.add_task()
    settings = Settings(api_key="test-key", base_url=ark_server.api_base)
    clients = [ArkClient(settings), ArkClient(settings)]
    assert all(c.limiter is shared for c in clients)
    started = time.monotonic()
    for i in range(6):
        clients[i % 2].get_task(tid)
    elapsed = time.monotonic() - started
    assert elapsed >= 4 / shared.rate * 0.9, elapsed
    times = sorted(r.time for r in ark_server.requests_log if r.server == "api")
    assert len(times) == 6 and times[-1] - times[2] >= 3 / shared.rate * 0.9


def test_a_client_waiting_for_the_limiter_is_cancelled_promptly(ark_server) -> None:  # type: ignore[no-untyped-def]
    slow = RateLimiter(per_minute=61, burst=1)  # one a second after the first
    cancel = threading.Event()
    client = ArkClient(Settings(api_key="test-key", base_url=ark_server.api_base), cancel=cancel, limiter=slow)
    tid = ark_server.add_task()
    client.get_task(tid)
    threading.Timer(0.1, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled):
        client.get_task(tid)
    assert time.monotonic() - started < 0.5
    assert ark_server.count("api") == 1


def test_burst_must_be_below_the_limit() -> None:
    with pytest.raises(ValueError):
        RateLimiter(10, burst=10)


# -- download slots --------------------------------------------------------------------------


def test_download_slots_bound_the_overlap() -> None:
    slots = DownloadSlots(2)
    waited: list[str] = []

    def work(n: int) -> None:
        with slots.hold(on_wait=lambda: waited.append(f"job{n}")):
            time.sleep(0.15)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert slots.peak == 2 and slots.active == 0
    assert len(waited) == 3, "three of the five jobs queued, each told once"


def test_a_queued_download_is_cancellable_and_the_limit_can_grow() -> None:
    slots = DownloadSlots(1)
    release = threading.Event()
    def hold_until_released() -> None:
        with slots.hold():
            release.wait(5)

    holder = threading.Thread(target=hold_until_released)
    holder.start()
    time.sleep(0.05)
    cancel = threading.Event()
    threading.Timer(0.1, cancel.set).start()
    started = time.monotonic()
    with pytest.raises(Cancelled), slots.hold(cancel):
        pass
    assert time.monotonic() - started < 0.5
    slots.limit = 2  # a second slot opens while the first is held
    with slots.hold():
        assert slots.active == 2
    release.set()
    holder.join()
    assert slots.active == 0
