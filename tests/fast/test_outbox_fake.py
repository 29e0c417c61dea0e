"""The outbox: batches by count and by bytes, nothing dropped before IPFS took it, and the
worker's back-off and recovery, on fakes.

The fast tier: ``Outbox`` is the box's own, the pin queue and IPFS are in-memory fakes.
``tests/services`` and ``tests/e2e/test_durability.py`` run it on SQLite and Kubo.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from chatbox.services.outbox import Outbox, OutboxTiming
from tests.conftest import eventually
from tests.fakes.content import FakeContentStore, FakePinQueue


def outbox(**timing: float) -> tuple[Outbox, FakePinQueue, FakeContentStore]:
    pins, content = FakePinQueue(), FakeContentStore()
    settings = {"first_retry": 0.001, "max_retry": 0.004, "gather": 0.0, **timing}
    return Outbox(pins, content, OutboxTiming(**settings)), pins, content  # type: ignore[arg-type]


async def test_everything_pending_goes_in_batches_of_the_configured_count() -> None:
    box, pins, content = outbox(batch=100)
    cids = [pins.add(f"entry {n}".encode()) for n in range(250)]

    assert await box.flush() == 250
    assert content.batches == [100, 100, 50]
    assert set(content.blocks) == set(cids) and pins.waiting == {}


async def test_a_batch_stops_before_its_bytes_would_pass_the_bound() -> None:
    box, pins, content = outbox(batch=1000, batch_bytes=10_000)
    for n in range(10):
        pins.add(bytes([n]) * 3_000)

    await box.flush()
    assert content.batches == [3, 3, 3, 1]


async def test_an_entry_larger_than_the_bound_still_goes_alone() -> None:
    box, pins, content = outbox(batch_bytes=1_000)
    pins.add(b"x" * 5_000)
    pins.add(b"y" * 10)
    await box.flush()
    assert content.batches == [1, 1]


async def test_nothing_leaves_the_queue_while_ipfs_is_down_and_the_worker_recovers() -> None:
    box, pins, content = outbox()
    cids = {pins.add(f"entry {n}".encode()) for n in range(30)}
    content.down = True
    worker = asyncio.create_task(box.run())
    try:
        await eventually(_reported(box), timeout=5, what="the outage reported", poll=0.001)
        assert set(pins.waiting) == cids and content.blocks == {}
        content.down = False
        await asyncio.wait_for(box.drained(), timeout=5)
        assert set(content.blocks) == cids
        assert box.last_error is None
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


async def test_a_wake_pins_what_came_after_the_worker_went_idle() -> None:
    box, pins, content = outbox()
    worker = asyncio.create_task(box.run())
    try:
        await asyncio.wait_for(box.drained(), timeout=5)
        cid = pins.add(b"posted later")
        box.wake()
        await asyncio.wait_for(box.drained(), timeout=5)
        assert cid in content.blocks
    finally:
        worker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await worker


def _reported(box: Outbox) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return box.last_error == "the fake IPFS node is down"

    return check
