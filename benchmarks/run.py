"""Run every benchmark and print one table of ratios to hand-threaded raw JAX.

Run: `python benchmarks/run.py` (about 5 minutes on 2 CPU cores). Each section is its own
script and can be run alone.
"""

import importlib
import pathlib
import platform
import sys
import time

import jax

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))

SECTIONS = [
    ("per-call dispatch", "bench_dispatch"),
    ("compute-bound", "bench_compute"),
    ("vmap ensemble", "bench_vmap_ensemble"),
    ("for_loop LIF network", "bench_lif_loop"),
    ("first call (trace + compile)", "bench_first_call"),
    ("compiled memory", "bench_memory"),
]


def main():
    print(f"brainstate benchmarks — jax {jax.__version__}, {platform.processor() or platform.machine()}, "
          f"{jax.device_count()} {jax.devices()[0].platform} device(s), Python {platform.python_version()}")
    start = time.perf_counter()
    for title, module in SECTIONS:
        print(f"\n## {title}", flush=True)
        mod = importlib.import_module(module)
        if module == "bench_first_call":
            ours, raw, r = mod.measure(layers=100, width=64, repeats=3)
            print(f"{'first call, 100-layer model':32s} {ours * 1e3:10.1f} ms {raw * 1e3:10.1f} ms {r:7.3f}   ≤ 1.1",
                  flush=True)
        else:
            mod.main()
    print(f"\ntotal {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
