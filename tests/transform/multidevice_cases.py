"""Cases for shard_map and pmap2 on 8 simulated CPU devices.

JAX fixes the device count when its backend starts, so these run in a subprocess started by
`test_vmap_multidevice.py` with `XLA_FLAGS=--xla_force_host_platform_device_count=8`. Run this
file directly to see every case's result as JSON.
"""

import json
import sys
import traceback

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.transform import jit, pmap2, pmap2_new_states, shard_map

TOL = dict(rtol=1e-5, atol=1e-5)
CASES = {}


def case(fn):
    CASES[fn.__name__] = fn
    return fn


def mesh():
    return jax.make_mesh((8,), ("x",))


@case
def shard_map_read_only_state_is_replicated():
    w = bs.State(jnp.array(3.0))
    f = shard_map(lambda x: x * w.value, mesh(), in_specs=(P("x"),), out_specs=P("x"))
    assert_allclose(f(jnp.arange(16.0)), jnp.arange(16.0) * 3, **TOL)


@case
def shard_map_sharded_state_threaded_and_written_back():
    buf = bs.State(jnp.zeros(16))

    def f(x):
        buf.value = buf.value + x * 2
        return x

    g = shard_map(f, mesh(), in_specs=(P("x"),), out_specs=P("x"), state_in_specs={buf: P("x")})
    g(jnp.arange(16.0))
    g(jnp.arange(16.0))
    assert buf.value.shape == (16,)
    assert_allclose(buf.value, jnp.arange(16.0) * 4, **TOL)


@case
def shard_map_replicated_state_written_after_psum_under_jit():
    total = bs.State(jnp.array(0.0))

    def f(x):
        total.value = total.value + jax.lax.psum(x.sum(), "x")
        return x

    g = jit(shard_map(f, mesh(), in_specs=P("x"), out_specs=P("x")))
    for _ in range(2):
        g(jnp.arange(16.0))
    assert_allclose(total.value, 2 * jnp.arange(16.0).sum(), **TOL)


@case
def shard_map_varying_write_to_replicated_state_raises():
    total = bs.State(jnp.array(0.0), name="total")

    def f(x):
        total.value = total.value + x.sum()
        return x

    with pytest.raises(bs.BatchAxisError, match="State 'total' .* differs between shards"):
        shard_map(f, mesh(), in_specs=P("x"), out_specs=P("x"))(jnp.arange(16.0))
    assert_allclose(total.value, 0.0)


@case
def shard_map_wrong_in_specs_length():
    with pytest.raises(ValueError, match="in_specs has 2 entries"):
        shard_map(lambda x: x, mesh(), in_specs=(P("x"), P()), out_specs=P("x"))(jnp.arange(16.0))


@case
def shard_map_uneven_split():
    with pytest.raises(ValueError, match=r"args\[0\] has size 12 .* does not split evenly"):
        shard_map(lambda x: x, mesh(), in_specs=P("x"), out_specs=P("x"))(jnp.arange(12.0))


@case
def shard_map_spec_shards_a_missing_dimension():
    with pytest.raises(ValueError, match=r"shard_map: args\[0\] has shape \(16,\) but its spec P\(None, 'x'\) "
                                         r"shards dimension 1\. Give a spec with at most one entry per dimension"):
        shard_map(lambda x: x, mesh(), in_specs=P(None, "x"), out_specs=P("x"))(jnp.arange(16.0))


@case
def shard_map_needs_a_callable():
    with pytest.raises(TypeError, match="shard_map expects a callable, got int: 3"):
        shard_map(3, mesh(), in_specs=P("x"), out_specs=P("x"))


@case
def shard_map_function_touching_other_states_when_traced_again_raises():
    # shard_map traces the function twice (to find its states, then per shard); a function
    # whose states depend on Python-side history breaks the promise that both traces agree.
    a, b = bs.State(jnp.ones(()), name="a"), bs.State(jnp.ones(()), name="b")
    traces = []

    def f(x):
        traces.append(x)
        return x * (a if len(traces) == 1 else b).value

    with pytest.raises(bs.BrainStateError, match=r"State 'b' .* was not touched when the function was first traced "
                                                  r"for these argument shapes, but is now"):
        shard_map(f, mesh(), in_specs=P("x"), out_specs=P("x"))(jnp.arange(16.0))


@case
def shard_map_bad_state_specs():
    with pytest.raises(TypeError, match="state_in_specs must be a PartitionSpec"):
        shard_map(lambda x: x, mesh(), in_specs=P("x"), out_specs=P("x"), state_in_specs=["x"])


@case
def pmap2_threads_replicated_state_written_after_psum():
    c = bs.State(jnp.zeros(2))

    def f(x):
        c.value = c.value + jax.lax.psum(x, "i")
        return x * 2

    g = pmap2(f, "i")
    out = g(jnp.ones((8, 2)))
    g(jnp.ones((8, 2)))
    assert_allclose(out, jnp.full((8, 2), 2.0), **TOL)
    assert_allclose(c.value, jnp.full(2, 16.0), **TOL)


@case
def pmap2_per_device_state():
    h = bs.ShortTermState(jnp.arange(16.0).reshape(8, 2))

    def f(x):
        h.value = h.value + x
        return h.value.sum()

    out = pmap2(f, state_in_axes=bs.ShortTermState)(jnp.ones((8, 2)))
    assert_allclose(h.value, jnp.arange(16.0).reshape(8, 2) + 1, **TOL)
    assert_allclose(out, (jnp.arange(16.0).reshape(8, 2) + 1).sum(1), **TOL)


@case
def pmap2_undeclared_batched_write_raises():
    c = bs.State(jnp.zeros(2), name="c")

    def f(x):
        c.value = c.value + x
        return x

    with pytest.raises(bs.BatchAxisError, match="State 'c'"):
        pmap2(f, unexpected_out_state_mapping="raise")(jnp.ones((8, 2)))
    assert_allclose(c.value, jnp.zeros(2))


@case
def pmap2_random_draws_differ_per_device():
    rng = bs.random.RandomState(0)
    out = pmap2(lambda x: x + rng.normal())(jnp.zeros(8))
    assert len(set(np.asarray(out).round(6).tolist())) == 8


@case
def pmap2_donation_not_supported():
    with pytest.raises(NotImplementedError, match="does not support donate_argnums"):
        pmap2(lambda x: x, donate_argnums=0)


@case
def pmap2_new_states_one_copy_per_device():
    class Cell(bs.nn.Module):
        def init_state(self):
            self.h = bs.HiddenState(jnp.zeros(3))

    cell = Cell()
    groups = pmap2_new_states(cell, {})
    assert groups[0] == [cell.h] and cell.h.value.shape == (8, 3)


def main(names):
    results = {}
    for name in names:
        try:
            CASES[name]()
            results[name] = None
        except BaseException:  # noqa: BLE001 - report every failure to the parent test
            results[name] = traceback.format_exc()
    print(json.dumps(results))


if __name__ == "__main__":
    main(sys.argv[1:] or list(CASES))
