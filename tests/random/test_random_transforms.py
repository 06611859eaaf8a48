"""Random draws under the state-aware transforms: the key is threaded like any other state.

Tests for a transform that does not exist yet are skipped and start running once it lands.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import brainstate
import brainstate.random as br


def needs(name):
    return pytest.mark.skipif(not hasattr(brainstate.transform, name),
                              reason=f"brainstate.transform.{name} is not implemented yet")


def _distinct(x):
    return len(set(np.asarray(x).ravel().tolist())) == np.size(x)


# -- jit --------------------------------------------------------------------------------------
@needs("jit")
def test_jitted_draws_reproduce_eager_draws():
    def draws():
        return br.normal(size=3), br.randint(0, 100, size=2), br.uniform(size=2)

    br.seed(42)
    eager = [draws() for _ in range(3)]
    eager_key = np.asarray(br.get_key_data())
    f = brainstate.transform.jit(draws)
    br.seed(42)
    jitted = [f() for _ in range(3)]
    for e, j in zip(eager, jitted):
        for a, b in zip(e, j):
            assert_array_equal(a, b)
    assert_array_equal(br.get_key_data(), eager_key)


@needs("jit")
def test_two_jitted_calls_give_different_numbers():
    f = brainstate.transform.jit(lambda: br.normal(size=4))
    a, b = f(), f()
    assert not np.allclose(a, b)


@needs("jit")
def test_jitted_draw_from_own_stream_advances_that_stream_only():
    rng = br.RandomState(1)
    before_default = np.asarray(br.get_key_data())
    f = brainstate.transform.jit(lambda: rng.normal(size=2))
    a, b = f(), f()
    assert not np.allclose(a, b)
    assert_array_equal(br.get_key_data(), before_default)
    assert_array_equal(a, br.RandomState(1).normal(size=2))


@needs("jit")
def test_seed_inside_jit_with_a_traced_seed():
    f = brainstate.transform.jit(lambda s: (br.seed(s), br.rand(2))[1])
    x = f(3)
    br.seed(3)
    assert_array_equal(x, br.rand(2))


@needs("jit")
def test_explicit_key_under_jit_leaves_the_stream_alone():
    before = np.asarray(br.get_key_data())
    f = brainstate.transform.jit(lambda k: br.normal(size=2, key=k))
    k = jax.random.PRNGKey(4)
    assert_array_equal(f(k), jax.random.normal(k, (2,)))
    assert_array_equal(br.get_key_data(), before)


def test_raw_jax_jit_cannot_write_the_key():
    before = np.asarray(br.get_key_data())
    with pytest.raises(brainstate.TraceContextError, match="brainstate.random.DEFAULT"):
        jax.jit(lambda: br.normal(size=2))()
    assert_array_equal(br.get_key_data(), before)


def test_raw_jax_transforms_work_with_an_explicit_key():
    k = jax.random.PRNGKey(0)
    x = jax.jit(lambda k: br.normal(size=3, key=k))(k)
    assert_array_equal(x, jax.random.normal(k, (3,)))
    keys = jax.random.split(k, 4)
    lanes = jax.vmap(lambda k: br.uniform(key=k))(keys)
    assert _distinct(lanes)


def test_loops_inside_rejection_samplers_batch_under_raw_vmap():
    keys = jax.random.split(jax.random.PRNGKey(0), 3)
    draw = jax.vmap(lambda k, a: (br.zipf(a, size=4, key=k), br.vonmises(0.0, a, size=4, key=k),
                                  br.hypergeometric(5, 5, 3, size=4, key=k)))
    out = jax.eval_shape(draw, keys, jnp.full(3, 2.0))  # batching rules traced, nothing compiled
    assert [x.shape for x in out] == [(3, 4)] * 3


# -- grad -------------------------------------------------------------------------------------
@needs("grad")
def test_grad_through_a_noisy_function_sees_the_drawn_noise():
    def loss(w):
        return (w * br.normal(size=3)).sum()

    br.seed(5)
    g = brainstate.transform.grad(loss, argnums=0)(jnp.ones(3))
    br.seed(5)
    assert_allclose(g, br.normal(size=3), rtol=1e-6)


# -- vmap -------------------------------------------------------------------------------------
@needs("vmap")
def test_each_vmap_lane_gets_different_numbers():
    f = brainstate.transform.vmap(lambda x: x + br.normal())
    out = f(jnp.zeros(8))
    assert out.shape == (8,)
    assert _distinct(out)


@needs("vmap")
def test_vmap_advances_the_default_key_once_per_call():
    f = brainstate.transform.vmap(lambda x: x + br.uniform())
    br.seed(0)
    first = f(jnp.zeros(4))
    key_after_one = np.asarray(br.get_key_data())
    second = f(jnp.zeros(4))
    key_after_two = np.asarray(br.get_key_data())
    assert key_after_one.shape == (2,) and key_after_one.dtype == np.uint32
    assert not np.array_equal(key_after_one, jax.random.PRNGKey(0))
    assert not np.array_equal(key_after_one, key_after_two)
    assert _distinct(np.concatenate([first, second]))
    br.seed(0)  # and the whole thing is reproducible
    assert_array_equal(f(jnp.zeros(4)), first)
    assert_array_equal(br.get_key_data(), key_after_one)


@needs("vmap")
def test_vmap_over_several_draws_per_lane():
    f = brainstate.transform.vmap(lambda x: jnp.stack([br.normal(), br.normal()]) + x)
    out = np.asarray(f(jnp.zeros(5)))
    assert out.shape == (5, 2) and _distinct(out)


# -- loops ------------------------------------------------------------------------------------
@needs("for_loop")
def test_each_for_loop_step_gets_different_numbers():
    br.seed(0)
    out = brainstate.transform.for_loop(lambda i: br.normal(), jnp.arange(6))
    assert out.shape == (6,) and _distinct(out)


@needs("for_loop")
def test_for_loop_draws_match_an_eager_python_loop():
    br.seed(9)
    eager = [br.uniform(size=2) for _ in range(4)]
    eager_key = np.asarray(br.get_key_data())
    br.seed(9)
    looped = brainstate.transform.for_loop(lambda i: br.uniform(size=2), jnp.arange(4))
    assert_array_equal(looped, np.stack(eager))
    assert_array_equal(br.get_key_data(), eager_key)


@needs("cond")
def test_cond_advances_the_key_only_in_the_taken_branch():
    before = np.asarray(br.get_key_data())
    brainstate.transform.cond(False, lambda: br.normal(), lambda: jnp.float32(0.0))
    assert_array_equal(br.get_key_data(), before)
    brainstate.transform.cond(True, lambda: br.normal(), lambda: jnp.float32(0.0))
    assert not np.array_equal(br.get_key_data(), before)
