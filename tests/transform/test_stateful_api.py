"""`StatefulFunction`'s cache API and `JittedFunction`'s ahead-of-time members, as the
ecosystem uses them (braintrace reads the jaxpr layout: arguments then states in, output then
states out)."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from tests.conftest import TraceCounter

T = bs.transform


def _model():
    w = bs.ParamState(jnp.full(3, 2.0), name="w")
    h = bs.HiddenState(jnp.zeros(3), name="h")

    def step(x):
        h.value = x * w.value + h.value * 0.5
        return h.value.sum()

    return w, h, step


def test_cache_key_and_getters_by_key():
    w, h, step = _model()
    sf = T.StatefulFunction(step)
    key = sf.get_arg_cache_key(jnp.ones(3), compile_if_miss=True)
    # states in order of first touch: the step reads w before h
    assert sf.get_states_by_cache(key) == (w, h)
    assert sf.get_read_states_by_cache(key) == (w,)
    assert sf.get_write_states_by_cache(key) == (h,)
    out_shapes, state_shapes = sf.get_out_shapes_by_cache(key)
    assert out_shapes.shape == () and state_shapes[0] is None and state_shapes[1].shape == (3,)
    treedef = sf.get_out_treedef_by_cache(key)
    assert treedef.num_leaves == 2


def test_getters_without_compiling_raise_a_clear_error():
    _, _, step = _model()
    sf = T.StatefulFunction(step)
    key = sf.get_arg_cache_key(jnp.ones(3))
    with pytest.raises(KeyError, match="no compiled entry for cache key"):
        sf.get_states_by_cache(key)
    with pytest.raises(KeyError, match="no compiled entry"):
        sf.get_states(jnp.ones(3), compile_if_miss=False)


def test_jaxpr_layout_is_args_then_states():
    w, h, step = _model()
    sf = T.StatefulFunction(step, return_only_write=False)
    jaxpr = sf.get_jaxpr(jnp.ones(3))
    # inputs: x, then w and h; outputs: the sum, then every state (w passes through)
    assert [v.aval.shape for v in jaxpr.jaxpr.invars] == [(3,), (3,), (3,)]
    assert [v.aval.shape for v in jaxpr.jaxpr.outvars] == [(), (3,), (3,)]
    outs = jax.core.eval_jaxpr(jaxpr.jaxpr, jaxpr.consts, jnp.ones(3), w.value, h.value)
    out, new_states = sf.get_out_treedef(jnp.ones(3)).unflatten(outs)
    assert float(out) == 6.0
    assert_allclose(new_states[0], w.value) and assert_allclose(new_states[1], np.full(3, 2.0))


def test_jaxpr_call_returns_the_written_states_and_changes_nothing():
    w, h, step = _model()
    sf = T.StatefulFunction(step)
    new, out = sf.jaxpr_call([w.value, h.value], jnp.ones(3))
    assert float(out) == 6.0
    assert new[0] is None and assert_allclose(new[1], np.full(3, 2.0)) is None  # w only read: None
    every, _ = T.StatefulFunction(step, return_only_write=False).jaxpr_call([w.value, h.value], jnp.ones(3))
    assert_allclose(every[0], w.value) and assert_allclose(every[1], np.full(3, 2.0))
    assert_allclose(h.value, np.zeros(3))
    assert float(sf.jaxpr_call_auto(jnp.ones(3))) == 6.0
    assert_allclose(h.value, np.full(3, 2.0))
    new, out = sf.debug_call([w.value, h.value], jnp.ones(3))
    assert float(out) == 9.0


def test_state_trace_and_cache_stats():
    w, h, step = _model()
    counted = TraceCounter(step)
    sf = T.StatefulFunction(counted)
    trace = sf.get_state_trace(jnp.ones(3))
    assert trace.states == [w, h] and trace.been_writen == [False, True]
    sf.get_states(jnp.zeros(3))
    stats = sf.get_cache_stats()["compilation_cache"]
    assert stats["size"] == 1 and stats["misses"] == 1 and stats["hits"] >= 1
    assert counted.count == 1


def test_validate_states_names_a_reshaped_state():
    w, h, step = _model()
    sf = T.StatefulFunction(step)
    key = sf.get_arg_cache_key(jnp.ones(3), compile_if_miss=True)
    assert sf.validate_states(key) is True
    h.restore_value(jnp.zeros(4))
    with pytest.raises(ValueError, match="HiddenState 'h'.*changed from float32\\[3\\] to float32\\[4\\]"):
        sf.validate_states(key)
    assert sf.validate_all_states() == {key: False}


def test_jitted_function_ahead_of_time_members():
    w, h, step = _model()
    f = T.jit(step)
    assert f.origin_fun is step
    traced = f.trace(jnp.ones(3))
    assert traced.jaxpr is not None
    lowered = f.lower(jnp.ones(3))
    assert "stablehlo" in lowered.as_text() or "func" in lowered.as_text()
    compiled = f.compile(jnp.ones(3))
    assert compiled is not None
    assert float(f(jnp.ones(3))) == 6.0
    assert callable(f.jitted_fun)


def test_ir_optimizations_rewrite_the_program_that_runs():
    w = bs.ParamState(jnp.full(3, 2.0), name="w")

    def step(x):
        dead = jnp.cos(x)  # noqa: F841  removed by 'dce'
        w.value = w.value + jnp.sin(x) * 1.0
        return jnp.sin(x) * (2.0 * 3.0)

    plain = T.StatefulFunction(step).get_jaxpr(jnp.ones(3))
    optimized_fn = T.StatefulFunction(step, ir_optimizations=("algebraic_simplification", "cse", "dce"))
    optimized = optimized_fn.get_jaxpr(jnp.ones(3))
    assert len(optimized.jaxpr.eqns) < len(plain.jaxpr.eqns)
    assert "cos" not in str(optimized)
    new, out = optimized_fn.jaxpr_call([w.value], jnp.ones(3))
    assert_allclose(out, 6.0 * np.sin(np.ones(3)), rtol=1e-6)
    assert_allclose(new[0], 2.0 + np.sin(np.ones(3)), rtol=1e-6)
    assert T.StatefulFunction(step, ir_optimizations="dce").ir_optimizations == ("dce",)


def test_unknown_ir_optimization_is_refused_when_built():
    with pytest.raises(ValueError, match=r"ir_optimizations=\.\.\.\) got unknown optimization\(s\) \['fold'\]"):
        T.StatefulFunction(lambda x: x, ir_optimizations=["fold"])


def test_getters_answer_for_a_discovery_that_closes_over_outer_tracers():
    w, h, _ = _model()
    seen = {}

    @bs.transform.jit
    def outer(y):
        sf = T.StatefulFunction(lambda x: (h.value * y + x * w.value).sum())  # closes over the tracer y
        key = sf.get_arg_cache_key(jnp.ones(3), compile_if_miss=True)
        seen["states"] = sf.get_states_by_cache(key)
        return y

    outer(2.0)
    assert seen["states"] == (h, w)


def test_getters_answer_after_the_model_structure_changed():
    layer = bs.nn.Linear(3, 2)
    sf = T.StatefulFunction(lambda x: layer(x))
    sf.make_jaxpr(jnp.ones(3))
    layer.note = "set after compiling"  # a watched attribute: the structure id moves
    key = sf.get_arg_cache_key(jnp.ones(3))
    assert sf.get_states_by_cache(key) == (layer.weight,)
