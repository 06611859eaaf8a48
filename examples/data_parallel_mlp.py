"""Data-parallel training of an MLP over an 8-device mesh.

Run:
  XLA_FLAGS=--xla_force_host_platform_device_count=8 python examples/data_parallel_mlp.py [--short]

Every device holds a whole copy of the parameters (replicated) and an eighth of every batch
(sharded along the mesh axis 'data'). The gradients must be averaged over the devices; two
equivalent ways are shown:

1. `jit` with shardings: the step is written as for one device. The parameters carry a
   replicated sharding (`shard_states`) and the batch is split over 'data', so XLA itself
   inserts the all-reduce of the gradients.
2. `shard_map`: the step is written for one device's piece of the batch, and the loss is
   averaged explicitly over the devices with the collective `jax.lax.pmean(loss, 'data')`, which
   makes the gradients the averaged ones.

The program checks that both give the parameters of the same training on a single device, and
that the parameters are still replicated after every step.
"""

import argparse
import os

os.environ.setdefault("XLA_FLAGS", "--xla_force_host_platform_device_count=8")

import jax  # noqa: E402
import jax.numpy as jnp  # noqa: E402
import numpy as np  # noqa: E402
from jax.sharding import AxisType, NamedSharding, PartitionSpec as P  # noqa: E402

import brainstate as bs  # noqa: E402


def make_model() -> bs.nn.Sequential:
    return bs.nn.Sequential(bs.nn.Linear(16, 64), jax.nn.relu, bs.nn.Linear(64, 1))


def batches(steps: int, batch: int):
    rng = np.random.default_rng(0)
    for _ in range(steps):
        x = rng.normal(size=(batch, 16)).astype(np.float32)
        yield x, (np.sin(x[:, :1]) + 0.5 * x[:, 1:2]).astype(np.float32)


def sgd_step(model, lr: float = 0.05):
    """`step(x, y) -> loss`: one step of SGD on the mean squared error, as on one device."""
    params = bs.graph.states(model, bs.ParamState)

    def loss_fn(x, y):
        return jnp.mean((model(x) - y) ** 2)

    def step(x, y):
        grads, loss = bs.transform.grad(loss_fn, grad_states=params, return_value=True)(x, y)
        for path, state in params.items():
            state.value = jax.tree_util.tree_map(lambda w, g: w - lr * g, state.value, grads[path])
        return loss

    return step


def sgd_step_per_device(model, mesh, lr: float = 0.05):
    """The same step with `shard_map`: each device sees its piece of the batch and averages the
    gradients with the other devices over the mesh axis 'data'."""
    params = bs.graph.states(model, bs.ParamState)

    def loss_fn(x, y):
        # The loss of the whole batch: this device's mean, averaged over the mesh axis 'data' by
        # a collective. Its gradient with respect to the replicated parameters is then the
        # averaged gradient, the same on every device (JAX sums the per-device contributions).
        return jax.lax.pmean(jnp.mean((model(x) - y) ** 2), "data")

    def step(x, y):
        grads, loss = bs.transform.grad(loss_fn, grad_states=params, return_value=True)(x, y)
        for path, state in params.items():
            state.value = jax.tree_util.tree_map(lambda w, g: w - lr * g, state.value, grads[path])
        return loss

    # Parameters are replicated (the default state spec P()); the batch is split over 'data'.
    return bs.transform.shard_map(step, mesh, in_specs=(P("data"), P("data")), out_specs=P())


def params_of(model):
    return {path: jax.tree_util.tree_map(np.asarray, s.value) for path, s in bs.graph.states(model, bs.ParamState).items()}


def main(short: bool = False) -> None:
    steps, batch = (5, 64) if short else (200, 256)
    mesh = jax.make_mesh((8,), ("data",), axis_types=(AxisType.Auto,))
    data_sharding = NamedSharding(mesh, P("data"))

    bs.random.seed(42)
    single = make_model()
    by_sharding, by_shard_map = bs.graph.clone(single), bs.graph.clone(single)
    bs.sharding.shard_states(by_sharding, mesh)  # no declaration: every state replicated
    bs.sharding.shard_states(by_shard_map, mesh)

    steps_of = {"single device": bs.transform.jit(sgd_step(single)),
                "jit + shardings": bs.transform.jit(sgd_step(by_sharding)),
                "shard_map + pmean": bs.transform.jit(sgd_step_per_device(by_shard_map, mesh))}
    first = last = None
    for i, (x, y) in enumerate(batches(steps, batch)):
        losses = {}
        for name, step in steps_of.items():
            args = (x, y) if name == "single device" else (jax.device_put(x, data_sharding),
                                                           jax.device_put(y, data_sharding))
            # Wait for each step: on simulated CPU devices, several programs with collectives in
            # flight at once can starve XLA's thread pool.
            losses[name] = float(jax.block_until_ready(step(*args)))
        for model in (by_sharding, by_shard_map):
            for path, state in bs.graph.states(model, bs.ParamState).items():
                if not bs.sharding.has_declared_sharding(state):
                    raise SystemExit(f"step {i}: {path} lost its replicated sharding")
        first = first or losses
        last = losses

    reference = params_of(single)
    for name, model in (("jit + shardings", by_sharding), ("shard_map + pmean", by_shard_map)):
        for path, value in params_of(model).items():
            jax.tree_util.tree_map(lambda a, b: np.testing.assert_allclose(a, b, rtol=1e-5, atol=1e-5),
                                   value, reference[path])
        print(f"{name:>18}: loss {first[name]:.4f} -> {last[name]:.4f}; parameters match the single device")
    if not short and not last["single device"] < 0.5 * first["single device"]:
        raise SystemExit(f"training did not converge: {first['single device']} -> {last['single device']}")
    print(f"OK: {steps} steps on {mesh.size} devices, parameters replicated after every step")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a few steps only (used by the tests)")
    main(parser.parse_args().short)
