"""Data- and tensor-parallel training steps give the single-device parameters and keep their layout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.sharding import has_declared_sharding, shard_states
from sharding_helpers import auto_mesh

TOL = dict(rtol=1e-5, atol=1e-5)
MEGATRON = {bs.util.PathContains(0): {"weight": P(None, "model"), "bias": P("model")},  # column-parallel
            bs.util.PathContains(2): {"weight": P("model", None), "bias": P()}}  # row-parallel


def make_mlp():
    return bs.nn.Sequential(bs.nn.Linear(8, 32), jax.nn.tanh, bs.nn.Linear(32, 2))


def sgd(model, loss_of=lambda pred, y: jnp.mean((pred - y) ** 2), lr=0.1):
    params = bs.graph.states(model, bs.ParamState)

    def step(x, y):
        grads, loss = bs.transform.grad(lambda: loss_of(model(x), y), grad_states=params, return_value=True)()
        for path, state in params.items():
            state.value = jax.tree_util.tree_map(lambda w, g: w - lr * g, state.value, grads[path])
        return loss

    return step


def batches(n=3, size=16):
    rng = np.random.default_rng(0)
    return [(rng.normal(size=(size, 8)).astype(np.float32), rng.normal(size=(size, 2)).astype(np.float32))
            for _ in range(n)]


def assert_same_params(model, reference):
    ref = bs.graph.states(reference, bs.ParamState)
    for path, state in bs.graph.states(model, bs.ParamState).items():
        jax.tree_util.tree_map(lambda a, b: assert_allclose(np.asarray(a), np.asarray(b), **TOL), state.value,
                               ref[path].value)


def train(model, mesh=None, data_axis=None, step_fn=None):
    step = bs.transform.jit(step_fn or sgd(model))
    losses = []
    for x, y in batches():
        if mesh is not None:
            x, y = (jax.device_put(a, NamedSharding(mesh, P(data_axis))) for a in (x, y))
        losses.append(float(jax.block_until_ready(step(x, y))))
        if mesh is not None:
            for path, state in bs.graph.states(model).items():
                assert has_declared_sharding(state), f"{path} lost its sharding"
    return losses


@pytest.fixture
def models():
    bs.random.seed(0)
    single = make_mlp()
    return single, bs.graph.clone(single)


def test_data_parallel_step_equals_single_device(models):
    single, parallel = models
    mesh = auto_mesh((8,), ("data",))
    shard_states(parallel, mesh)
    assert_allclose(train(parallel, mesh, "data"), train(single), **TOL)
    assert_same_params(parallel, single)


def test_tensor_parallel_step_equals_single_device(models):
    single, parallel = models
    mesh = auto_mesh((2, 4), ("data", "model"))
    placed = shard_states(parallel, mesh, specs=MEGATRON)
    assert placed[("layers", 0, "weight")]["weight"].spec == P(None, "model")
    assert parallel.layers[0].weight.value["weight"].addressable_shards[0].data.shape == (8, 8)
    assert_allclose(train(parallel, mesh, "data"), train(single), **TOL)
    assert_same_params(parallel, single)


def test_data_parallel_with_shard_map_and_a_collective(models):
    single, parallel = models
    mesh = auto_mesh((8,), ("data",))
    shard_states(parallel, mesh)
    per_device = sgd(parallel, loss_of=lambda pred, y: jax.lax.pmean(jnp.mean((pred - y) ** 2), "data"))
    step = bs.transform.shard_map(per_device, mesh, in_specs=(P("data"), P("data")), out_specs=P())
    assert_allclose(train(parallel, mesh, "data", step), train(single), **TOL)
    assert_same_params(parallel, single)


@pytest.mark.parametrize("compiled", [False, True])
def test_collectives_by_axis_name_on_sharded_states(compiled):
    mesh = auto_mesh((8,), ("x",))
    v = bs.State(jnp.arange(16.0), sharding=P("x"))
    total = bs.State(jnp.zeros(()))
    shard_states([v, total], mesh)

    def body():
        total.value = jax.lax.psum(v.value.sum(), "x")
        v.value = jax.lax.ppermute(v.value, "x", [(i, (i + 1) % 8) for i in range(8)])
        return jax.lax.all_gather(v.value, "x", tiled=True)

    f = bs.transform.shard_map(body, mesh, in_specs=(), out_specs=P("x"), state_in_specs={v: P("x")})
    out = jax.block_until_ready((bs.transform.jit(f) if compiled else f)())
    rolled = np.roll(np.arange(16.0), 2)
    assert_allclose(total.value, 120.0)
    assert_allclose(v.value, rolled)
    assert_allclose(np.asarray(out).reshape(8, 16), np.tile(rolled, (8, 1)))  # every device gathered all
    assert v.value.sharding.spec == P("x")
