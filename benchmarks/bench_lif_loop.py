"""A `for_loop` simulation of leaky integrate-and-fire neurons, as a ratio to a hand-written
`jax.lax.scan` with the state threaded by hand, measured in the same process.

4,000 neurons for 1,000 steps under `jit`: membrane voltage and refractory counter are states
the body writes (carried), the input current a state it only reads (a loop constant); each
step returns the number of spikes. Median of alternating blocks of calls, warm-up excluded.
Target ratio ≤ 1.02. Run: `python benchmarks/bench_lif_loop.py`.
"""

import jax
import jax.numpy as jnp
import numpy as np

import brainstate as bs

try:
    from ._timing import header, ratio, report
except ImportError:
    from _timing import header, ratio, report

N, STEPS = 4000, 1000
DT, TAU, V_REST, V_RESET, V_TH, R, T_REF = 0.1, 10.0, -65.0, -68.0, -50.0, 1.0, 20


def lif_update(v, ref, current):
    """One step of the LIF dynamics: (v, ref) -> (v', ref', spiked)."""
    refractory = ref > 0
    v = jnp.where(refractory, v, v + DT / TAU * (V_REST - v + R * current))
    spiked = v >= V_TH
    v = jnp.where(spiked, V_RESET, v)
    ref = jnp.where(spiked, T_REF, jnp.maximum(ref - 1, 0))
    return v, ref, spiked


def initial_values():
    rng = np.random.RandomState(0)
    v0 = jnp.asarray(V_REST + 5.0 * rng.rand(N), jnp.float32)
    current = jnp.asarray(10.0 + 15.0 * rng.rand(N), jnp.float32)
    return v0, jnp.zeros(N, jnp.int32), current


def brainstate_case():
    v0, ref0, current = initial_values()
    v = bs.State(v0, name="v")
    ref = bs.State(ref0, name="refractory")
    inp = bs.State(current, name="input")

    def step():
        v.value, ref.value, spiked = lif_update(v.value, ref.value, inp.value)
        return spiked.sum()

    run = bs.transform.jit(lambda: bs.transform.for_loop(step, length=STEPS))
    return run, (v, ref)


def raw_case():
    v0, ref0, current = initial_values()

    @jax.jit
    def run(v, ref, current):
        def body(carry, _):
            v, ref, spiked = lif_update(*carry, current)
            return (v, ref), spiked.sum()

        (v, ref), counts = jax.lax.scan(body, (v, ref), None, length=STEPS)
        return v, ref, counts

    box = [v0, ref0]

    def call():
        box[0], box[1], counts = run(box[0], box[1], current)
        return counts

    return call, box


def check_same_numbers() -> None:
    ours, (v, ref) = brainstate_case()
    raw, box = raw_case()
    np.testing.assert_array_equal(ours(), raw())
    np.testing.assert_allclose(v.value, box[0], rtol=1e-6)
    np.testing.assert_array_equal(ref.value, box[1])


def main():
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; {N} LIF neurons x {STEPS} steps, "
          f"per-call medians")
    check_same_numbers()
    header()
    ours, _ = brainstate_case()
    raw, _ = raw_case()
    report("LIF for_loop vs lax.scan", *ratio(ours, raw, n=10, blocks=21, warmup=2), 1.02)


if __name__ == "__main__":
    main()
