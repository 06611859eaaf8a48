"""The state-access protocol the ecosystem's State subclasses use, the public recorder, and the
write-check relaxations for placeholders and (re)initialisation."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate._state import (record_state_init, record_state_value_read, record_state_value_restore,
                               record_state_value_write)

T = bs.transform


class Recorded(bs.State):
    """A subclass overriding `value` through the protocol, as brainpy's Variable does."""

    @property
    def value(self):
        record_state_value_read(self)
        return self._read_value()

    @value.setter
    def value(self, v):
        record_state_value_write(self)
        self._write_value(v)


def test_protocol_subclass_is_threaded_by_jit_and_grad():
    s = Recorded(jnp.ones(3))

    @T.jit
    def step(x):
        s.value = s.value * x
        return s.value.sum()

    assert float(step(2.0)) == 6.0 and float(step(2.0)) == 12.0
    assert_allclose(s.value, np.full(3, 4.0))
    g = T.grad(lambda: (s.value ** 2).sum(), grad_states=s)()
    assert_allclose(g, 2 * np.full(3, 4.0))


def test_record_read_and_write_mark_the_active_trace():
    a, b = bs.State(jnp.ones(2)), bs.State(jnp.zeros(2))
    with bs.StateTraceStack() as trace:
        record_state_value_read(a)
        record_state_value_write(b)
    assert trace.get_read_states() == (a,) and trace.get_write_states() == (b,)
    assert float(b.value.sum()) == 0.0  # recording changes no value


def test_record_restore_marks_a_signature_change_under_jit():
    s = bs.State(jnp.zeros(2))

    @T.jit
    def grow():
        record_state_value_restore(s)
        s.restore_value(jnp.zeros(5))

    grow()
    assert s.value.shape == (5,)


def test_record_state_init_lists_the_state_as_created():
    with bs.StateTraceStack() as trace:
        s = bs.State(jnp.zeros(1))
        record_state_init(s)
    assert trace.created.count(s) == 1


def test_read_value_outside_a_trace_is_the_committed_value():
    s = bs.State(jnp.arange(3.0))
    assert_allclose(s._read_value(), [0.0, 1.0, 2.0])


def test_check_value_tree_names_the_state():
    s = bs.State(jnp.zeros(3), name="v")
    s._check_value_tree(jnp.ones(3))
    with pytest.raises(ValueError, match="State 'v'.*changes its shape"):
        s._check_value_tree(jnp.ones(4))


def test_been_writen_flag():
    s = bs.State(jnp.zeros(1))
    assert s._been_writen is False
    s.value = jnp.ones(1)
    assert s._been_writen is True


# -- StateTraceStack inside a transform passes its reads and writes on ---------------------------
def test_recorder_inside_grad_passes_writes_to_the_transform():
    w = bs.ParamState(jnp.array(3.0))
    h = bs.State(jnp.array(0.0))

    def loss():
        with bs.StateTraceStack() as trace:
            h.value = w.value * 2.0
        assert trace.get_write_states() == (h,)
        return h.value ** 2

    g = T.grad(loss, grad_states=w)()
    assert float(g) == 8.0 * 3.0  # d/dw (2w)^2
    assert float(h.value) == 6.0  # the write inside the block was threaded out


def test_recorder_inside_jit_sees_the_traced_values():
    s = bs.State(jnp.array(1.0))

    @T.jit
    def step():
        with bs.StateTraceStack() as trace:
            s.value = s.value + 1
        return trace.get_write_state_values()[0]

    assert float(step()) == 2.0 and float(step()) == 3.0


def test_recorder_members_of_the_reference():
    a, b = bs.State(jnp.ones(2)), bs.ParamState(jnp.zeros(2))
    with bs.StateTraceStack(name="block") as trace:
        b.value = a.value * 3
    assert trace.been_writen == [False, True]
    assert trace.state_subset(bs.ParamState) == [b]
    assert_allclose(trace.original_state_values[1], np.zeros(2))
    writes, reads = trace.get_state_values(separate=True, replace=True)
    assert writes[0] is None and reads[1] is None
    assert trace.get_read_states(replace_writen=True) == (a, None)
    trace.recovery_original_values()
    assert_allclose(b.value, np.zeros(2))
    trace.assign_state_vals([jnp.full(2, 5.0), jnp.full(2, 7.0)])
    assert_allclose(a.value, np.full(2, 5.0)) and assert_allclose(b.value, np.full(2, 7.0))
    merged = trace + bs.StateTraceStack()
    assert merged.states == [a, b] and merged.been_writen == [False, True]
    trace.release_original_values()
    with pytest.raises(RuntimeError, match="after release_original_values"):
        trace.recovery_original_values()


def test_assign_state_vals_checks_the_length():
    with bs.StateTraceStack() as trace:
        bs.State(jnp.zeros(1))
    s = bs.State(jnp.zeros(1))
    with bs.StateTraceStack() as trace:
        s.value
    with pytest.raises(ValueError, match="got 2 values for 1 recorded states"):
        trace.assign_state_vals([1, 2])
    with pytest.raises(ValueError, match="read_state_vals has 2 entries for 1"):
        trace.assign_state_vals_v2([1, 2], [1])


def test_recorder_with_new_arg_keeps_its_writes():
    s = bs.State(jnp.array(1.0))
    with bs.StateTraceStack(new_arg=lambda st: st._value * 10) as trace:
        s.value = s.value + 1
    assert float(trace.get_state_values()[0]) == 11.0
    assert float(s.value) == 1.0


# -- States created inside a raw JAX trace ---------------------------------------------------------
def test_state_created_inside_raw_jax_grad_may_hold_its_tracers():
    def loss(w):
        model = bs.State(w * 2)  # a model built inside the loss function
        model.value = model.value + 1
        return (model.value ** 2).sum()

    assert_allclose(jax.grad(loss)(jnp.ones(2)), 4 * 3 * np.ones(2))


def test_state_created_outside_still_refuses_raw_jax_writes():
    s = bs.State(jnp.zeros(2), name="outside")
    with pytest.raises(bs.TraceContextError, match="State 'outside'.*outside a state-aware transform"):
        jax.jit(lambda x: setattr(s, "value", x))(jnp.ones(2))
    assert_allclose(s.value, np.zeros(2))


# -- write checks: placeholders and (re)initialisation -----------------------------------------------
@pytest.mark.parametrize("placeholder", [None, 0.0, 0])
def test_placeholder_takes_the_first_real_signature(placeholder):
    s = bs.State(placeholder)
    s.value = jnp.ones((2, 3))
    assert s.value.shape == (2, 3)
    with pytest.raises(ValueError, match="changes its shape"):
        s.value = jnp.ones(3)  # now strict


def test_placeholder_written_inside_jit():
    s = bs.State(None)

    @T.jit
    def fill():
        s.value = jnp.arange(3.0)

    fill()
    assert_allclose(s.value, [0.0, 1.0, 2.0])


def test_reset_state_may_change_the_batch_size():
    class Cell(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.h = bs.HiddenState(jnp.zeros(4))

        def reset_state(self, batch_size=None):
            shape = (4,) if batch_size is None else (batch_size, 4)
            self.h.value = jnp.zeros(shape)

    cell = Cell()
    cell.reset_state(8)
    assert cell.h.value.shape == (8, 4)
    bs.nn.reset_all_states(cell, 3)
    assert cell.h.value.shape == (3, 4)
    with pytest.raises(ValueError, match="changes its shape"):
        cell.h.value = jnp.zeros(4)  # outside (re)initialisation the check is strict


def test_reset_state_inside_a_transform_stays_strict():
    class Cell(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.h = bs.HiddenState(jnp.zeros(4), name="h")

        def reset_state(self):
            self.h.value = jnp.zeros(5)

    cell = Cell()
    with pytest.raises(ValueError, match="HiddenState 'h'.*changes its shape"):
        T.jit(cell.reset_state)()


# -- members of the reference -----------------------------------------------------------------------
def test_state_init_and_hidden_members():
    h = bs.HiddenState.init(jnp.zeros, (3,), batch_size=2, tag="rnn")
    assert h.value.shape == (2, 3) and h.tag == {"rnn"}
    assert h.varshape == (2, 3) and h.num_state == 1
    g = bs.HiddenGroupState(jnp.zeros((4, 2)))
    assert g.name2index == {"0": 0, "1": 1}
    t = bs.HiddenTreeState({"v": jnp.zeros(3), "w": jnp.ones(3)})
    assert t.name2index == {"v": 0, "w": 1}


def test_hidden_shapes_are_one_lanes_inside_vmap():
    h, g = bs.HiddenState(jnp.zeros((3, 4))), bs.HiddenGroupState(jnp.zeros((3, 4, 2)))
    seen = []

    def lane():
        seen.append((h.varshape, g.varshape, g.num_state))
        return h.value.sum() + g.value.sum()

    bs.transform.vmap(lane, in_states=[h, g])()
    # As the function sees them: one lane (libraries shape per-lane gradients with them).
    assert seen == [((4,), (4,), 2)]
    assert (h.varshape, g.varshape, g.num_state) == ((3, 4), (3, 4), 2)


def test_source_info_is_file_and_line_with_the_reference_members():
    s = bs.State(jnp.zeros(2))
    info = s.source_info
    assert info == s._source and info.endswith(f":{s._source.rsplit(':', 1)[1]}")
    assert "test_protocol.py" in info.traceback and info.name_stack == ""


def test_copy_from_and_check_if_deleted():
    a, b = bs.State(jnp.ones(2), name="a"), bs.State(jnp.zeros(2), name="b")
    a.copy_from(b)
    assert a.name == "b" and float(a.value.sum()) == 0.0
    with pytest.raises(ValueError, match="cannot copy a ParamState into State"):
        a.copy_from(bs.ParamState(jnp.zeros(2)))
    s = bs.State(jnp.ones(2), name="donated")
    s.value.delete()
    with pytest.raises(bs.BrainStateError, match="State 'donated'.*holds a deleted buffer"):
        s.check_if_deleted()
