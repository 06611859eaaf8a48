"""Timing helpers shared by the benchmarks: interleaved blocks, median, ratio.

Time is the process's CPU time (all its threads), not wall time: on a shared machine other
processes steal wall time from either side unevenly, while the CPU work each side does stays
the same. Set `BENCH_CLOCK=wall` to measure wall time instead (on a quiet machine they agree).
"""

import os
import statistics
import time

import jax


_clock = time.perf_counter if os.environ.get("BENCH_CLOCK") == "wall" else time.process_time


def per_call(fn, n: int) -> float:
    """Seconds per call of `fn` over a block of `n` calls, results awaited at the end only."""
    start = _clock()
    out = None
    for _ in range(n):
        out = fn()
    jax.block_until_ready(out)
    return (_clock() - start) / n


def ratio(ours, raw, n: int = 1000, blocks: int = 15, warmup: int = 3):
    """Per-call times of `ours` and `raw` (medians) and their ratio, from alternating blocks.

    The ratio is the median of the per-pair ratios (each block of `ours` against the block of
    `raw` right after it), not the ratio of the two medians: a slow stretch of the machine then
    moves both sides of a pair alike. Measured on identical code (A/A, the MLP step, five runs),
    per-pair ratios ranged 0.98–1.01 where the ratio of medians ranged 0.98–1.05.
    """
    for _ in range(warmup):
        per_call(ours, max(1, n // 10))
        per_call(raw, max(1, n // 10))
    a, b = [], []
    for _ in range(blocks):
        a.append(per_call(ours, n))
        b.append(per_call(raw, n))
    return statistics.median(a), statistics.median(b), statistics.median(x / y for x, y in zip(a, b))


def report(name: str, ta: float, tb: float, r: float, target) -> None:
    """One row; `target` None for a case reported without a target."""
    if target is None:
        print(f"{name:32s} {ta * 1e6:10.1f} µs {tb * 1e6:10.1f} µs {r:7.3f}   —", flush=True)
        return
    flag = "ok" if r <= target else "OVER"
    print(f"{name:32s} {ta * 1e6:10.1f} µs {tb * 1e6:10.1f} µs {r:7.3f}   ≤ {target:<5} {flag}", flush=True)


def header() -> None:
    print(f"{'case':32s} {'brainstate':>13s} {'raw jax.jit':>13s} {'ratio':>7s}   target", flush=True)
