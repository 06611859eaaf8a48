"""First call (trace + compile) of a 100-layer model: brainstate.jit vs raw jax.jit.

Each measurement runs in a fresh process so no compilation cache is shared; the processes
alternate between the two variants and the median of each is reported.
Run: `python benchmarks/bench_first_call.py [--layers 100] [--repeats 5]`.
"""

import argparse
import statistics
import subprocess
import sys

CHILD = r"""
import sys, time
import jax, jax.numpy as jnp
import brainstate as bs
layers, width, variant = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
bs.random.seed(0)
model = [bs.nn.Linear(width, width) for _ in range(layers)]
x = jnp.ones((8, width))
jax.block_until_ready(x)
if variant == "brainstate":
    def fwd(x):
        for layer in model:
            x = jnp.tanh(layer(x))
        return x.sum()
    f = bs.transform.jit(fwd)
    start = time.perf_counter()
    jax.block_until_ready(f(x))
else:
    params = [layer.weight.value for layer in model]
    def fwd(ps, x):
        for p in ps:
            x = jnp.tanh(x @ p["weight"] + p["bias"])
        return x.sum()
    f = jax.jit(fwd)
    start = time.perf_counter()
    jax.block_until_ready(f(params, x))
print(time.perf_counter() - start)
"""


def measure(layers: int, width: int, repeats: int):
    times = {"brainstate": [], "raw": []}
    for _ in range(repeats):
        for variant in times:
            out = subprocess.run([sys.executable, "-c", CHILD, str(layers), str(width), variant],
                                 capture_output=True, text=True, check=True)
            times[variant].append(float(out.stdout.strip().splitlines()[-1]))
    ours, raw = statistics.median(times["brainstate"]), statistics.median(times["raw"])
    return ours, raw, ours / raw


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--layers", type=int, default=100)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--repeats", type=int, default=5)
    a = parser.parse_args()
    ours, raw, r = measure(a.layers, a.width, a.repeats)
    print(f"first call, {a.layers}-layer model: brainstate {ours * 1e3:.0f} ms, raw {raw * 1e3:.0f} ms, ratio {r:.3f}")


if __name__ == "__main__":
    main()
