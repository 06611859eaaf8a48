"""Spiking networks (COBA and CUBA) built from `nn` layers vs the same network hand-written in
event-driven JAX, run in the same process on the same connectivity.

The networks are the two benchmarks of Brette et al. (2007): 80 % excitatory and 20 %
inhibitory LIF neurons with exponential synapses, conductance-based (COBA, the showcase
`examples/coba_network.py`) or current-based (CUBA). Every neuron projects to a fixed number
of neurons of each population, 80 inputs per neuron on average at every size; 1 s of
biological time at dt = 0.1 ms (10,000 steps) under `jit`.

- brainstate: `nn.LIF`, `nn.EventFixedProb` (default event capacity), `nn.Expon`,
  `nn.Projection` in a `for_loop` under `transform.jit`.
- hand-written: one `jax.lax.scan` with the state threaded by hand. Each step it compacts
  each population's spikes once (to the capacity of the brainstate layer's first tier),
  gathers the targets of the active neurons and scatter-adds their weight; when more neurons
  spike than the capacity holds it delivers through every synapse (`lax.cond`), so neither
  version drops a spike. It reads the brainstate network's connectivity, weights and initial
  values, which it receives as arguments. Two compactions: `lax.top_k` of the 0/1 spikes
  (the fastest one-liner: `jnp.nonzero(size=...)` is 2-5 times slower on CPU), and the
  library's own kernel (`_event_compaction.active_indices`), which isolates what the layers
  and the state machinery cost.

Reported: simulation CPU time (`time.process_time`, compilation excluded; median of
alternating repeats), compile time (first call minus a later one: tracing and compilation),
mean firing rates (E / I, after a 100 ms transient), the compiled program's memory
(arguments, outputs and temporaries, from `memory_analysis`), and each as brainstate /
hand-written. Run: `python benchmarks/bench_coba.py [--large] [--repeats N]`; `--large` adds
400,000 neurons (about 3 GiB, several minutes).
"""

import argparse
import functools
import resource
import statistics
import time

import jax
import jax.numpy as jnp
import numpy as np
from jax import lax

import brainstate as bs
from brainstate import nn
from brainstate.nn._event_compaction import active_indices
from brainstate.nn._event_delivery import default_capacities

DT = 0.1  # ms
STEPS = 10_000  # 1 s of biological time
INPUTS = 80  # synapses onto each neuron, on average, at every size
TRANSIENT = 1000  # steps (100 ms) left out of the rates

# (Brette et al. 2007) LIF and synapse parameters, in mV, ms and units of the leak conductance.
PARAMS = {
    "coba": dict(V_rest=-60.0, V_th=-50.0, V_reset=-60.0, V_init=(-55.0, 2.0), w_e=0.6, w_i=6.7,
                 E_e=0.0, E_i=-80.0, drive=20.0),
    "cuba": dict(V_rest=-49.0, V_th=-50.0, V_reset=-60.0, V_init=(-55.0, 5.0), w_e=1.62, w_i=-9.0,
                 E_e=None, E_i=None, drive=0.0),
}
TAU, TAU_REF, TAU_E, TAU_I = 20.0, 5.0, 5.0, 10.0


class Network(nn.Module):
    """E and I populations and the four projections between them, from `nn` layers."""

    def __init__(self, n: int, kind: str):
        super().__init__()
        p = PARAMS[kind]
        self.n_exc, self.n_inh = int(n * 0.8), n - int(n * 0.8)
        k_e, k_i = round(INPUTS * 0.8), round(INPUTS * 0.2)  # out-degree into each population

        def population(size):
            return nn.LIF(size, R=1.0, tau=TAU, tau_ref=TAU_REF, V_th=p["V_th"], V_reset=p["V_reset"],
                          V_rest=p["V_rest"], V_initializer=nn.init.Normal(*p["V_init"]), spk_reset="hard")

        def connect(pre, post, k, w, tau, reversal):
            comm = nn.EventFixedProb(pre.in_size, post.in_size, conn_num=k, conn_weight=w)
            return nn.Projection(comm, post, syn=nn.Expon(post.in_size, tau=tau), reversal=reversal)

        self.E, self.I = population(self.n_exc), population(self.n_inh)
        self.E2E = connect(self.E, self.E, k_e, p["w_e"], TAU_E, p["E_e"])
        self.E2I = connect(self.E, self.I, k_i, p["w_e"], TAU_E, p["E_e"])
        self.I2E = connect(self.I, self.E, k_e, p["w_i"], TAU_I, p["E_i"])
        self.I2I = connect(self.I, self.I, k_i, p["w_i"], TAU_I, p["E_i"])

    def init_state(self, batch_size=None):
        self.spk_e = bs.ShortTermState(jnp.zeros(self.n_exc))
        self.spk_i = bs.ShortTermState(jnp.zeros(self.n_inh))

    def update(self, drive):
        self.E2E(self.spk_e.value)
        self.E2I(self.spk_e.value)
        self.I2E(self.spk_i.value)
        self.I2I(self.spk_i.value)
        self.spk_e.value = self.E(drive)
        self.spk_i.value = self.I(drive)
        return self.spk_e.value.sum(), self.spk_i.value.sum()


def brainstate_case(n: int, kind: str):
    """The jitted simulation, the network, and a function restoring its initial state."""
    bs.random.seed(0)
    net = nn.init_all_states(Network(n, kind))
    states = net.states()
    initial = {path: state.value for path, state in states.items()}

    @bs.transform.jit
    def run(drives):
        with bs.environ.context(dt=DT):
            return bs.transform.for_loop(net, drives)

    def restart():
        for path, state in states.items():
            state.value = initial[path]

    return run, net, restart


# -- the hand-written version ----------------------------------------------------------------------
def top_k_compaction(spikes, capacity):
    """The first `capacity` spiking indices (ascending, padded with n) and the spike count."""
    top, idx = lax.top_k(spikes, capacity)  # ties (all the 1s) come out in index order
    return jnp.where(top > 0, idx, spikes.shape[0]), jnp.sum(spikes > 0)


def kernel_compaction(spikes, capacity):
    return active_indices(spikes > 0, capacity)


COMPACTIONS = {"top_k": top_k_compaction, "kernel": kernel_compaction}


def delivered(spikes, active, count, targets, w, n_post):
    """Weighted spikes per target: event by event if the compaction holds every spike, else all synapses."""
    def events():
        t = targets.at[active].get(mode="fill", fill_value=n_post)
        return jnp.zeros(n_post).at[t.reshape(-1)].add(w, mode="drop")

    def every_synapse():
        return jnp.zeros(n_post).at[targets.reshape(-1)].add(jnp.repeat(spikes * w, targets.shape[1]))

    return lax.cond(count <= active.shape[0], events, every_synapse)


def hand_written_case(net: Network, kind: str, compaction: str):
    """The same network as one `lax.scan`, its arrays taken from `net` and passed as arguments."""
    p, compact = PARAMS[kind], COMPACTIONS[compaction]
    n_e, n_i = net.n_exc, net.n_inh
    cap_e = default_capacities(n_e)[0]
    cap_i = default_capacities(n_i)[0]
    de, di = np.float32(np.exp(-DT / TAU_E)), np.float32(np.exp(-DT / TAU_I))
    z = -DT / TAU
    gain = np.float32(DT * np.expm1(z) / z / TAU)  # exponential Euler of the linear membrane
    ref_steps = int(round(TAU_REF / DT))
    w_e, w_i = np.float32(p["w_e"]), np.float32(p["w_i"])

    def lif(v, ref, current):
        v_new = v + gain * (p["V_rest"] - v + current)
        free = ref <= 0
        v_new = jnp.where(free, v_new, v)
        spike = (v_new >= p["V_th"]) & free
        return (jnp.where(spike, p["V_reset"], v_new), jnp.where(spike, ref_steps, jnp.maximum(ref - 1, 0)),
                spike.astype(v.dtype))

    def current(drive, ge, gi, v):
        if p["E_e"] is None:
            return drive + ge + gi
        return drive + ge * (p["E_e"] - v) + gi * (p["E_i"] - v)

    def step(conn, carry, drive):
        ve, vi, re, ri, gee, gei, gie, gii, se, si = carry
        ae, ce = compact(se, cap_e)
        ai, ci = compact(si, cap_i)
        gee = gee * de + delivered(se, ae, ce, conn["EE"], w_e, n_e)
        gei = gei * de + delivered(se, ae, ce, conn["EI"], w_e, n_i)
        gie = gie * di + delivered(si, ai, ci, conn["IE"], w_i, n_e)
        gii = gii * di + delivered(si, ai, ci, conn["II"], w_i, n_i)
        ve, re, se = lif(ve, re, current(drive, gee, gie, ve))
        vi, ri, si = lif(vi, ri, current(drive, gei, gii, vi))
        return (ve, vi, re, ri, gee, gei, gie, gii, se, si), (se.sum(), si.sum())

    @jax.jit
    def run(conn, carry, drives):
        return lax.scan(lambda c, d: step(conn, c, d), carry, drives)[1]

    conn = {"EE": net.E2E.comm.indices, "EI": net.E2I.comm.indices, "IE": net.I2E.comm.indices,
            "II": net.I2I.comm.indices}
    carry = (net.E.V.value, net.I.V.value, net.E.refractory.value, net.I.refractory.value,
             jnp.zeros(n_e), jnp.zeros(n_i), jnp.zeros(n_e), jnp.zeros(n_i), jnp.zeros(n_e), jnp.zeros(n_i))
    return run, conn, carry


# -- measurement -------------------------------------------------------------------------------------
def cpu_time(fn):
    start = time.process_time()
    out = jax.block_until_ready(fn())
    return time.process_time() - start, out


def rates(counts, n_e, n_i):
    e, i = (np.asarray(c)[TRANSIENT:] for c in counts)
    seconds = len(e) * DT * 1e-3
    return e.sum() / n_e / seconds, i.sum() / n_i / seconds


def compiled_bytes(lowered) -> int:
    m = lowered.compile().memory_analysis()
    return m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes - m.alias_size_in_bytes


def measure(n: int, kind: str, repeats: int) -> dict:
    """Every quantity as `(brainstate, hand-written with top_k, hand-written with the kernel)`."""
    drives = jnp.full(STEPS, PARAMS[kind]["drive"])
    ours, net, restart = brainstate_case(n, kind)
    cases = {"brainstate": lambda: ours(drives)}
    lowered = {"brainstate": lambda: ours.lower(drives)}
    for compaction in COMPACTIONS:
        raw, conn, carry = hand_written_case(net, kind, compaction)
        cases[compaction] = functools.partial(raw, conn, carry, drives)
        lowered[compaction] = functools.partial(raw.lower, conn, carry, drives)
    first, counts = {}, {}
    for name, call in cases.items():
        first[name], counts[name] = cpu_time(call)
    times = {name: [] for name in cases}
    for _ in range(repeats):
        restart()
        for name, call in cases.items():
            times[name].append(cpu_time(call)[0])
    restart()
    sim = {name: statistics.median(t) for name, t in times.items()}
    return {"kind": kind, "n": n, "sim": sim, "compile": {name: first[name] - sim[name] for name in cases},
            "rates": {name: rates(c, net.n_exc, net.n_inh) for name, c in counts.items()},
            "memory": {name: compiled_bytes(lower()) for name, lower in lowered.items()}}


def report(r: dict) -> None:
    sim, comp, rate, mem = r["sim"], r["compile"], r["rates"], r["memory"]
    ours, top, ker = "brainstate", "top_k", "kernel"
    print(f"{r['kind'].upper():5s} {r['n']:>8,d} | {sim[ours]:6.2f} s | {sim[top]:6.2f} s {sim[ours] / sim[top]:5.2f} | "
          f"{sim[ker]:6.2f} s {sim[ours] / sim[ker]:5.2f} | {comp[ours]:5.2f} s {comp[ours] / comp[top]:5.2f} | "
          f"E {rate[ours][0]:5.1f} / {rate[top][0]:5.1f}, I {rate[ours][1]:5.1f} / {rate[top][1]:5.1f} | "
          f"{mem[ours] / 2**20:6.1f} MiB {mem[ours] / mem[top]:5.2f}", flush=True)


def main(sizes=(4_000, 40_000), repeats: int = 5, kinds=("coba", "cuba")) -> None:
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}; 1 s at dt = {DT} ms, {INPUTS} inputs per neuron; "
          f"CPU seconds; ratios brainstate / hand-written event-driven lax.scan (compaction: top_k / the kernel)")
    print(f"{'net':5s} {'neurons':>8s} | {'brainstate':>8s} | {'hand, top_k (ratio)':^19s} | "
          f"{'hand, kernel (ratio)':^19s} | {'compile (ratio)':^14s} | {'rates (Hz), brainstate / hand':^31s} | "
          f"{'memory (ratio)':^16s}")
    for n in sizes:
        for kind in kinds:
            report(measure(n, kind, repeats if n < 100_000 else max(1, repeats // 3)))
    print(f"peak resident memory of this process: {resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20:.2f} GiB")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--large", action="store_true", help="add the 400,000-neuron networks")
    parser.add_argument("--repeats", type=int, default=5, help="timed runs of each version (median)")
    parser.add_argument("--sizes", type=int, nargs="*", default=None, help="network sizes (overrides --large)")
    args = parser.parse_args()
    sizes = args.sizes or ((4_000, 40_000, 400_000) if args.large else (4_000, 40_000))
    main(sizes, args.repeats)
