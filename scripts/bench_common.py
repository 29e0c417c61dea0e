"""What the benchmarks share: where their data lives, and the CPU their processes spend.

CPU time survives a noisy machine better than wall time and tells what a Pi's slower
cores will feel, so each benchmark prints it per 1,000 messages for the node and Kubo.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import AsyncIterator
from pathlib import Path

import psutil

# Beside the checkout, on a real disk (not a tmpfs): fsync and Kubo's block store cost
# what they cost on the box's SD card, give or take the card.
SCRATCH_ROOT = Path(__file__).resolve().parents[1] / ".chatbox-bench"


def scratch(prefix: str) -> tempfile.TemporaryDirectory[str]:
    """A directory for one run's data, removed afterwards."""
    SCRATCH_ROOT.mkdir(exist_ok=True)
    return tempfile.TemporaryDirectory(prefix=prefix, dir=SCRATCH_ROOT)


def percentile_ms(latencies: list[float], expected: int, pct: float) -> str:
    """The ``pct`` percentile over ``expected`` samples; missing ones count as never."""
    ordered = sorted(latencies) + [float("inf")] * (expected - len(latencies))
    value = ordered[min(len(ordered) - 1, max(0, int(len(ordered) * pct / 100 + 0.5) - 1))]
    return "never (messages missing)" if value == float("inf") else f"{value * 1000:.1f} ms"


class CpuMeter:
    """User plus system CPU seconds of named processes since ``start()``."""

    def __init__(self, processes: dict[str, int]) -> None:
        self._processes = {name: psutil.Process(pid) for name, pid in processes.items()}
        self._started: dict[str, float] = {}

    def start(self) -> CpuMeter:
        self._started = {name: _cpu(process) for name, process in self._processes.items()}
        return self

    def spent(self) -> dict[str, float]:
        return {
            name: _cpu(process) - self._started[name] for name, process in self._processes.items()
        }

    def per_thousand(self, messages: int) -> str:
        """'node 0.62 s, Kubo 0.31 s per 1,000 messages' for what was spent since start."""
        parts = [f"{name} {spent * 1000 / messages:.2f} s" for name, spent in self.spent().items()]
        return ", ".join(parts) + " CPU per 1,000 messages"


def _cpu(process: psutil.Process) -> float:
    times = process.cpu_times()
    return float(times.user + times.system)


async def random_chunks(size: int, chunk: int = 256 * 1024) -> AsyncIterator[bytes]:
    """``size`` bytes of a file to upload, each chunk different so IPFS cannot deduplicate."""
    block = os.urandom(chunk)
    for offset in range(0, size, chunk):
        yield offset.to_bytes(8, "big") + block[8 : min(chunk, size - offset)]
