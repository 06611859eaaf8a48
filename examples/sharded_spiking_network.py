"""A recurrent spiking network whose neurons are split across 8 devices.

Run:
  XLA_FLAGS=--xla_force_host_platform_device_count=8 python examples/sharded_spiking_network.py [--short]

N leaky integrate-and-fire neurons (`brainstate.nn.LIF`) are connected all-to-all by a random
weight matrix W (pre x post). Each device owns N/8 neurons: their membrane potentials,
refractory counters and last spikes, and the columns of W that feed them. The states declare
this layout with the logical axis 'neuron', which the rules map to the mesh axis 'neurons'; the
LIF's own hidden states get it through `specs`. One time step:

1. every device gathers the spikes of all neurons from the others;
2. it computes the recurrent input of its own neurons, `all_spikes @ W[:, own]`, plus their
   external input;
3. it advances its own neurons.

Two equivalent ways to run it are shown:
- `jit` with the states' shardings, the whole simulation one `for_loop` over time: the step is
  written as for one device, and XLA inserts the gathering of the spikes itself;
- `shard_map` of the same loop: the step is written for one device's neurons, and the spikes
  are gathered explicitly by the collective `jax.lax.all_gather(spikes, 'neurons')`.
The program checks that both give exactly the spike trains of the same network simulated on one
device, and that every state is still split over the devices afterwards.
"""

import argparse
import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import AxisType, NamedSharding, PartitionSpec as P  # noqa: E402

import brainstate as bs  # noqa: E402

RULES = {"neuron": "neurons"}


class RecurrentLIF(bs.nn.Module):
    """N LIF neurons with recurrent weights `W[pre, post]`."""

    def __init__(self, weights: np.ndarray):
        super().__init__()
        n = weights.shape[0]
        self.lif = bs.nn.LIF(n, tau=10.0, tau_ref=2.0, V_th=1.0, V_reset=0.0)
        self.lif.init_state()
        self.w = bs.ParamState(jnp.asarray(weights), logical_axes=(None, "neuron"))  # split by post neuron
        self.spikes = bs.ShortTermState(jnp.zeros(n), logical_axes=("neuron",))

    def step(self, external, all_spikes):
        """Advance the neurons by one step, given every neuron's last spikes."""
        self.spikes.value = self.lif(all_spikes @ self.w.value + external)
        return self.spikes.value


def random_network(n: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    # Weights in multiples of 1/64 and 0/1 spikes: every sum is exact in float32, so the split
    # and the single-device simulations must agree spike for spike.
    w = rng.integers(-3, 4, size=(n, n)) * (rng.random((n, n)) < 0.02) / 64
    return w.astype(np.float32)


def simulate(net: RecurrentLIF, inputs):
    """The whole simulation as one compiled loop over time. With sharded states (and inputs),
    the same code runs split over the devices: XLA adds the collectives."""
    @bs.transform.jit
    def run(inputs):
        return bs.transform.for_loop(lambda x: net.step(x, net.spikes.value), inputs)

    return run(inputs)


def simulate_per_device(net: RecurrentLIF, inputs: jax.Array, mesh):
    """The simulation as one `shard_map` of a loop over time; each device runs its own neurons."""
    def run(inputs):  # what one device runs: its own neurons, the spikes of all
        def step(x):
            return net.step(x, jax.lax.all_gather(net.spikes.value, "neurons", tiled=True))

        return bs.transform.for_loop(step, inputs)

    state_specs = {state: state.sharding.spec for state in bs.graph.states(net).values()}
    run = bs.transform.shard_map(run, mesh, in_specs=P(None, "neurons"), out_specs=P(None, "neurons"),
                                 state_in_specs=state_specs)
    return bs.transform.jit(run)(inputs)


def main(short: bool = False) -> None:
    n, steps = (1024, 100) if short else (4096, 1000)
    mesh = jax.make_mesh((8,), ("neurons",), axis_types=(AxisType.Auto,))
    weights = random_network(n)
    inputs = np.random.default_rng(1).uniform(0.5, 2.5, size=(steps, n)).astype(np.float32)

    with bs.environ.context(dt=0.1):
        single = RecurrentLIF(weights)
        spikes = {"single device": np.asarray(jax.block_until_ready(simulate(single, inputs)))}

        by_sharding, by_shard_map = RecurrentLIF(weights), RecurrentLIF(weights)
        for net in (by_sharding, by_shard_map):
            placed = bs.sharding.shard_states(net, mesh, RULES, specs={bs.HiddenState: ("neuron",)})
        print("layout:", {".".join(map(str, path)): str(s.spec) for path, s in placed.items()})
        sharded_inputs = jax.device_put(inputs, NamedSharding(mesh, P(None, "neurons")))
        # Wait for each run: on simulated CPU devices, several programs with collectives in flight
        # at once can starve XLA's thread pool.
        spikes["jit + shardings"] = np.asarray(jax.block_until_ready(simulate(by_sharding, sharded_inputs)))
        spikes["shard_map + all_gather"] = np.asarray(simulate_per_device(by_shard_map, sharded_inputs, mesh))

    for name, net in (("jit + shardings", by_sharding), ("shard_map + all_gather", by_shard_map)):
        for path, state in bs.graph.states(net).items():
            if not bs.sharding.has_declared_sharding(state):
                raise SystemExit(f"{name}: {path} lost its sharding {state.sharding}")
        if not np.array_equal(spikes["single device"], spikes[name]):
            raise SystemExit(f"{name}: the spike trains differ in "
                             f"{int((spikes['single device'] != spikes[name]).sum())} places")
        np.testing.assert_allclose(np.asarray(net.lif.V.value), np.asarray(single.lif.V.value), rtol=1e-5, atol=1e-5)
    spikes_single = spikes["single device"]
    rate = spikes_single.mean() / 0.1e-3  # spikes per neuron per second, with dt = 0.1 ms
    if not spikes_single.any():
        raise SystemExit("the network is silent; nothing was compared")
    per_device = by_sharding.lif.V.value.addressable_shards[0].data.shape[0]
    print(f"OK: {n} neurons ({per_device} per device), {steps} steps, {int(spikes_single.sum())} spikes "
          f"({rate:.1f} Hz), identical to the single-device simulation both ways")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a smaller network and fewer steps (used by the tests)")
    main(parser.parse_args().short)
