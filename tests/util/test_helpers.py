"""Small helpers: get_unique_name, is_instance_eval/not_instance_eval, split_total,
clear_buffer_memory, StateJaxTracer, and the lazily re-exported breakpoint_if."""

import jax
import jax.numpy as jnp
import pytest

import brainstate
from brainstate import util


def test_unique_names_count_per_type():
    a, b = util.get_unique_name("HelperTestA"), util.get_unique_name("HelperTestA", prefix="p_")
    c = util.get_unique_name("HelperTestB")
    assert (a, b, c) == ("HelperTestA0", "p_HelperTestA1", "HelperTestB0")


def test_instance_eval_predicates():
    is_num, not_num = util.is_instance_eval(int, float), util.not_instance_eval(int, float)
    assert (is_num(1), is_num("1"), not_num(1.0), not_num("1")) == (True, False, False, True)


@pytest.mark.parametrize("total, fraction, expected", [(10, 0.5, 5), (10, 0.33, 3), (10, 1.0, 10), (10, 0.0, 0),
                                                       (10, 3, 3), (10, 0, 0), (10, 10, 10)])
def test_split_total(total, fraction, expected):
    assert util.split_total(total, fraction) == expected


@pytest.mark.parametrize("total, fraction, error, match", [
    (10.0, 1, TypeError, "'total' must be an int, got float"),
    (0, 1, ValueError, "'total' must be a positive integer, got 0"),
    (10, "x", TypeError, "'fraction' must be a float share in \\[0, 1\\] or an int count, got str"),
    (10, -1, ValueError, "'fraction' cannot be negative, got -1"),
    (10, 1.5, ValueError, "a float 'fraction' is a share and cannot exceed 1, got 1.5"),
    (10, 11, ValueError, "the count 'fraction' \\(11\\) cannot exceed 'total' \\(10\\)"),
])
def test_split_total_rejects_bad_arguments(total, fraction, error, match):
    with pytest.raises(error, match=match):
        util.split_total(total, fraction)


def test_clear_buffer_memory_deletes_live_arrays(monkeypatch):
    # Deleting *all* live arrays would break the rest of the test session; hand it our own.
    mine = jnp.arange(3.0) + 1
    monkeypatch.setattr(jax, "live_arrays", lambda platform=None: [mine])
    util.clear_buffer_memory()
    assert mine.is_deleted()


def test_clear_buffer_memory_can_clear_compilation_caches(monkeypatch):
    calls = []
    monkeypatch.setattr(jax, "clear_caches", lambda: calls.append(True))
    util.clear_buffer_memory(array=False, compilation=True)
    assert calls == [True]


def test_state_jax_tracer_is_valid_in_its_own_trace_only():
    outside = util.StateJaxTracer()
    seen = []

    def f(x):
        seen.append((outside.is_valid(), util.StateJaxTracer().is_valid()))
        return x

    jax.jit(f)(1.0)
    assert outside.is_valid() and seen == [(False, True)]


def test_state_jax_tracers_compare_by_trace():
    assert util.StateJaxTracer() == util.StateJaxTracer()
    assert "StateJaxTracer(\n  jax_trace=" in repr(util.StateJaxTracer())


def test_breakpoint_if_is_the_transform_function():
    assert util.breakpoint_if is brainstate.transform.breakpoint_if and "breakpoint_if" in dir(util)


def test_unknown_util_attribute_raises():
    with pytest.raises(AttributeError, match="module 'brainstate.util' has no attribute 'nope'"):
        util.nope
