"""transform.map: sequential and chunked application, checked against jax.lax.map."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.transform import jit
from brainstate.transform import map as bmap

TOL = dict(rtol=1e-5, atol=1e-5)


def test_sequential_map_threads_written_states():
    total = bs.State(jnp.array(0.0))

    def f(x):
        total.value = total.value * 0.5 + x
        return total.value

    out = bmap(f, jnp.arange(5.0))

    def raw(carry, x):
        carry = carry * 0.5 + x
        return carry, carry

    raw_total, raw_out = jax.lax.scan(raw, 0.0, jnp.arange(5.0))
    assert_allclose(out, raw_out, **TOL)
    assert_allclose(total.value, raw_total, **TOL)


@pytest.mark.parametrize("n, batch_size", [(6, 2), (7, 3), (2, 5)])
def test_chunked_map_matches_lax_map(n, batch_size):
    w = bs.ParamState(jnp.array([1.0, -1.0, 0.5]))
    x = jnp.arange(n * 3, dtype=jnp.float32).reshape(n, 3)
    out = bmap(lambda v: jnp.tanh(v * w.value).sum(), x, batch_size=batch_size)
    raw = jax.lax.map(lambda v: jnp.tanh(v * jnp.array([1.0, -1.0, 0.5])).sum(), x, batch_size=batch_size)
    assert_allclose(out, raw, **TOL)


def test_chunked_map_several_inputs_under_jit():
    a, b = jnp.arange(10.0), jnp.arange(10.0) * 2
    out = jit(lambda a, b: bmap(lambda x, y: x * y, a, b, batch_size=4))(a, b)
    assert_allclose(out, a * b, **TOL)


def test_chunked_map_random_draws_differ_per_element():
    pytest.importorskip("brainstate.random")
    rng = bs.random.RandomState(3)
    out = bmap(lambda x: x + rng.normal(), jnp.zeros(8), batch_size=4)
    assert len(set(np.asarray(out).round(6).tolist())) == 8


def test_chunked_map_rejects_state_writes():
    s = bs.State(jnp.array(0.0), name="acc")

    def f(x):
        s.value = s.value + x
        return x

    with pytest.raises(ValueError, match="map with batch_size writes State 'acc'"):
        bmap(f, jnp.arange(4.0), batch_size=2)
    assert_allclose(s.value, 0.0)


def test_bad_batch_size():
    with pytest.raises(ValueError, match="batch_size must be a positive int"):
        bmap(lambda x: x, jnp.arange(4.0), batch_size=0)


def test_inconsistent_lengths():
    with pytest.raises(ValueError, match="inconsistent leading axes"):
        bmap(lambda x, y: x + y, jnp.arange(4.0), jnp.arange(5.0), batch_size=2)
