"""jit keeps sharded states sharded (8 simulated CPU devices, see tests/conftest.py)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P
from numpy.testing import assert_allclose

import brainstate as bs

pytestmark = pytest.mark.skipif(jax.device_count() < 8, reason="needs 8 devices")


@pytest.fixture
def mesh():
    return Mesh(np.array(jax.devices()[:8]).reshape(4, 2), ("data", "model"))


def test_state_sharding_metadata_kept_across_calls(mesh):
    sharding = NamedSharding(mesh, P("data", "model"))
    w = bs.ParamState(jnp.ones((8, 4)), sharding=sharding)

    @bs.transform.jit
    def step(x):
        w.value = w.value * 0.5 + x.sum()
        return w.value.mean()

    for _ in range(3):
        step(jnp.ones(3))
    assert w.value.sharding == sharding
    assert_allclose(w.value, np.full((8, 4), 0.125 + 3 * 1.75), rtol=1e-6)


def test_state_shardings_by_filter(mesh):
    sharding = NamedSharding(mesh, P(None, "model"))
    w = bs.ParamState(jnp.ones((4, 4)))
    h = bs.State(jnp.zeros((4, 4)))

    @bs.transform.jit(state_shardings={bs.ParamState: sharding})
    def step():
        w.value = w.value + 1
        h.value = h.value + w.value

    step()
    assert w.value.sharding == sharding
    assert_allclose(h.value, 2 * np.ones((4, 4)))


def test_state_shardings_per_state(mesh):
    sharding = NamedSharding(mesh, P("data"))
    a, b = bs.State(jnp.ones(8)), bs.State(jnp.ones(8))

    @bs.transform.jit(state_shardings={a: sharding})
    def step():
        a.value = a.value * 2
        b.value = b.value * 2

    step()
    assert a.value.sharding == sharding
    assert_allclose(a.value, 2 * np.ones(8))


def test_axis_missing_from_mesh_names_state(mesh):
    w = bs.ParamState(jnp.ones((8, 4)), name="w", sharding=NamedSharding(mesh, P("data", "model")))
    bad = P("batch")
    w.sharding = bad
    f = bs.transform.jit(lambda: w.value.sum())
    with pytest.raises(ValueError, match="ParamState 'w'.*no mesh is in context"):
        f()
    with jax.set_mesh(mesh):
        with pytest.raises(ValueError, match="ParamState 'w'.*mesh axis 'batch'.*only has axes \\('data', 'model'\\)"):
            bs.transform.jit(lambda: w.value.sum())()


def test_indivisible_dimension_names_state(mesh):
    w = bs.ParamState(jnp.ones((10, 4)), name="w", sharding=NamedSharding(mesh, P("data")))
    f = bs.transform.jit(lambda: w.value.sum())
    with pytest.raises(ValueError, match="ParamState 'w'.*dimension 0 of shape \\(10, 4\\) is 10.*size 4"):
        f()
    assert w.value.shape == (10, 4)


def test_too_many_spec_entries(mesh):
    w = bs.ParamState(jnp.ones(8), name="w", sharding=NamedSharding(mesh, P("data", "model")))
    with pytest.raises(ValueError, match="has 2 entries but the value has 1 dimensions"):
        bs.transform.jit(lambda: w.value.sum())()
