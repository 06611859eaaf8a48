"""A compiled call equals the eager call after a list or dict of the model changes in place.

Python gives no hook on `layers[1] = ...`, `layers.append(...)` or `cfg["k"] = ...`, so these
cannot move the graph epoch; compiled functions compare the containers they reach with a copy
(see `graph/_watch.py: Containers`). Each test runs the change eagerly (the oracle) and through
a function compiled before the change.
"""

import gc
import weakref

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.graph._watch import Containers
from tests.conftest import TraceCounter


class Stack(bs.nn.Module):
    def __init__(self, n=2, seed=0):
        super().__init__()
        self.layers = [_layer(seed + i) for i in range(n)]
        self.cfg = {"scale": 1.0}

    def update(self, x):
        for layer in self.layers:
            x = layer(x)
        return x * self.cfg["scale"]


class Affine(bs.nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = bs.ParamState(jnp.asarray(w))

    def update(self, x):
        return x * self.w.value + 1.0


def _layer(seed):
    return Affine(np.arange(3.0) + seed)


def _both(model, change, x=None):
    """(eager result, jitted result) after `change(model)`, the jitted function compiled before."""
    x = jnp.ones(3) if x is None else x
    f = bs.transform.jit(lambda v: model(v))
    f(x)
    change(model)
    return model(x), f(x)


@pytest.mark.parametrize("change", [
    pytest.param(lambda m: m.layers.__setitem__(1, _layer(10)), id="replace"),
    pytest.param(lambda m: m.layers.append(_layer(20)), id="append"),
    pytest.param(lambda m: m.layers.pop(), id="pop"),
    pytest.param(lambda m: m.layers.insert(0, _layer(30)), id="insert"),
    pytest.param(lambda m: m.layers.reverse(), id="reverse"),
    pytest.param(lambda m: m.layers.__setitem__(slice(None), [m.layers[0]] * 2), id="tie"),
    pytest.param(lambda m: setattr(m, "cfg", {"scale": 3.0}), id="a new config dict"),
])
def test_in_place_changes_of_a_modules_list_of_layers_are_seen(change):
    eager, jitted = _both(Stack(), change)
    assert_allclose(jitted, eager)


def test_a_list_of_lists_is_seen_at_every_depth():
    class Grid(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.rows = [[_layer(0), _layer(1)], [_layer(2)]]

        def update(self, x):
            return sum(layer(x) for row in self.rows for layer in row)

    eager, jitted = _both(Grid(), lambda m: m.rows[0].__setitem__(1, _layer(9)))
    assert_allclose(jitted, eager)


def test_a_dict_of_modules_is_seen():
    class Heads(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.heads = {"a": _layer(0), "b": _layer(1)}

        def update(self, x):
            return sum(h(x) for h in self.heads.values())

    for change in (lambda m: m.heads.__setitem__("b", _layer(5)), lambda m: m.heads.pop("a"),
                   lambda m: m.heads.__setitem__("c", _layer(7))):
        eager, jitted = _both(Heads(), change)
        assert_allclose(jitted, eager)


def test_a_dict_of_values_a_module_logs_into_is_data_and_never_retraces():
    class Trained(bs.nn.Module):  # as a trainer's module: metrics logged while traced, reset eagerly
        def __init__(self):
            super().__init__()
            self.w = bs.ParamState(jnp.ones(3))
            self.metrics = {}

        def update(self, x):
            loss = jnp.sum(self.w.value * x)
            self.metrics["loss"] = {"value": loss, "prog_bar": True}
            return loss

    m = Trained()
    counted = TraceCounter(lambda x: m(x))
    f = bs.transform.jit(counted)
    for i in range(5):
        m.metrics.clear()
        m.metrics["lr"] = {"value": jnp.asarray(0.1 * i), "prog_bar": False}  # a callback, eagerly
        assert float(f(jnp.ones(3))) == 3.0
    assert counted.count == 1


def test_a_closure_list_of_states_is_seen():
    states = [bs.State(jnp.array(1.0)), bs.State(jnp.array(2.0))]
    f = bs.transform.jit(lambda: sum(s.value for s in states))
    assert float(f()) == 3.0
    states[0] = bs.State(jnp.array(10.0))
    assert float(f()) == 12.0
    states.append(bs.State(jnp.array(100.0)))
    assert float(f()) == 112.0


def test_interchangeable_layers_share_one_program_and_other_changes_explain_the_retrace():
    m = Stack()
    first, other = m.layers[1], _layer(10)
    counted = TraceCounter(lambda x: m(x))
    f = bs.transform.jit(counted)
    x = jnp.ones(3)
    for _ in range(3):
        m.layers[1] = first
        assert_allclose(f(x), m(x))
        m.layers[1] = other  # the same layout, other states: the program runs on them, untraced
        assert_allclose(f(x), m(x))
    assert counted.count == 1
    m.layers[1] = Affine(np.arange(3.0, dtype=np.float16))  # another dtype: traced again
    assert_allclose(f(x), m(x), rtol=1e-3)
    assert counted.count == 2
    m.layers.append(_layer(3))
    f(x)
    reasons = f.explain_retraces()
    assert "`stack.layers.1.w` changed a ParamState → another ParamState" in reasons[0]
    assert "`stack.layers` changed 2 items → 3" in reasons[-1]


def test_a_data_list_in_a_closure_is_baked_like_jax_jit_and_never_retraces():
    log = []  # appended to after every call: data, not the model
    w = bs.State(jnp.ones(2))
    counted = TraceCounter(lambda x: w.value * x * len(log))
    f = bs.transform.jit(counted)
    f(1.0)
    for _ in range(5):
        log.append(f(1.0))
    assert counted.count == 2  # once more: `log` was empty (it could have become a layer list)
    assert_allclose(f(1.0), np.full(2, 1.0))  # baked at len(log) == 1, as jax.jit bakes closures


def test_what_the_function_does_to_a_container_while_traced_is_not_a_change():
    seen = []  # a trace counter reached by the function: appended to while tracing only
    pending = [1.0, 2.0]
    total = bs.State(jnp.array(0.0))

    def step():
        seen.append(1)
        total.value = total.value + pending[0]
        pending.pop(0)  # a one-shot side effect, as in eager code, once per trace
        return total.value

    f = bs.transform.jit(step)
    assert [float(f()) for _ in range(3)] == [1.0, 2.0, 3.0]
    assert len(seen) == 1 and pending == [2.0]


def test_after_a_trace_that_changed_a_list_of_states_calls_take_the_per_call_path_again():
    total = bs.State(jnp.array(0.0))
    bank = [total]  # a list holding the model, which the function marks while traced

    def step(x):
        bank.append(None)
        total.value = total.value + x.sum()
        return total.value

    f = bs.transform.jit(step)
    compiled = f._compiled  # the `JittedFunction` behind the plain function `jit` returned
    general = []
    call = compiled._call
    compiled._call = lambda args, kwargs: (general.append(1), call(args, kwargs))[1]  # the runner's fallback
    compiled._install(compiled._entry)  # (installed at construction with the original)
    assert [float(f(jnp.ones(2))) for _ in range(3)] == [2.0, 4.0, 6.0]
    first = len(general)
    # A new shape: `jax.jit` traces again inside the per-call path, and the function marks the
    # list again; the calls after it compare against the list as that trace left it.
    assert [float(f(jnp.ones(3))) for _ in range(4)] == [9.0, 12.0, 15.0, 18.0]
    assert len(general) == first and bank == [total, None, None]


def test_grad_sees_a_replaced_layer():
    m = Stack()

    def loss(x):
        return jnp.sum(m(x))

    f = bs.transform.grad(loss)
    x = jnp.ones(3)
    f(x)
    m.layers[0] = _layer(5)
    assert_allclose(f(x), jax.grad(loss)(x))


def test_vmap_sees_a_replaced_layer():
    m = Stack()
    f = bs.transform.vmap(lambda x: m(x))
    xs = jnp.arange(6.0).reshape(2, 3)
    f(xs)
    m.layers[0] = _layer(5)
    assert_allclose(f(xs), jnp.stack([m(x) for x in xs]))


def test_for_loop_sees_a_replaced_layer():
    m = Stack()
    acc = bs.State(jnp.zeros(3))

    def body(x):
        acc.value = acc.value + m(x)

    xs = jnp.ones((4, 3))
    bs.transform.for_loop(body, xs)
    m.layers[1] = _layer(7)
    acc.value = jnp.zeros(3)
    bs.transform.for_loop(body, xs)
    expected = sum(m(x) for x in xs)
    assert_allclose(acc.value, expected, rtol=1e-6)


def test_jit_method_sees_its_instances_list_and_lets_the_instance_go():
    class Net(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.layers = [_layer(0)]

        @bs.transform.jit
        def forward(self, x):
            return self.layers[0](x)

    net = Net()
    x = jnp.ones(3)
    net.forward(x)
    net.layers[0] = _layer(4)
    assert_allclose(net.forward(x), net.layers[0](x))
    ref = weakref.ref(net)
    del net
    gc.collect()
    assert ref() is None


# -- the comparison itself ------------------------------------------------------------------------
def test_containers_compare_items_by_identity_not_equality():
    values = [1, 2.0]
    model_list = [Affine(1.0)]
    values.append(Affine(2.0))  # a mixed list: compared, item by item
    c = Containers([values, model_list])
    assert not c.moved()
    values[0] = 1.0  # equal, but traces as a float
    assert c.moved()
    c.refresh()
    assert not c.moved()
    model_list[0] = jnp.ones(3)  # an array whose `==` would raise on a truth test
    assert c.moved()


def test_containers_skip_plain_data_but_keep_empty_ones():
    data, empty, layers = [1.0, 2.0], [], [Affine(1.0)]
    c = Containers([data, empty, layers])
    data.append(3.0)
    assert not c.moved()
    empty.append(Affine(2.0))
    assert c.moved()
