"""A compiled call equals the eager call after the model changes: the graph-change detection of jit.

Each test runs the same change eagerly (the oracle) and through a jitted function compiled
before the change.
"""

import gc
import weakref

import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from tests.conftest import TraceCounter


class Scaled(bs.nn.Module):
    def __init__(self, scale=2.0):
        super().__init__()
        self.w = bs.ParamState(jnp.ones(3))
        self.scale = scale
        self.training = True

    def update(self, x):
        y = self.w.value * x * self.scale
        return y if self.training else y - 100.0


def _both(model, change, x=1.0):
    """(eager result, jitted result) after `change(model)`, the jitted function compiled before."""
    f = bs.transform.jit(model)
    f(x)
    change(model)
    return model(x), f(x)


@pytest.mark.parametrize("change", [
    lambda m: setattr(m, "training", False),
    lambda m: setattr(m, "scale", 3.0),
    lambda m: setattr(m, "w", bs.ParamState(jnp.full(3, 7.0))),
])
def test_attribute_changes_are_seen(change):
    eager, jitted = _both(Scaled(), change)
    assert_allclose(jitted, eager)


def test_swapping_two_states_is_seen():
    class Two(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = bs.State(jnp.array(1.0))
            self.b = bs.State(jnp.array(10.0))

        def update(self):
            return self.a.value - self.b.value

    m = Two()
    f = bs.transform.jit(m)
    assert float(f()) == -9.0
    m.a, m.b = m.b, m.a
    assert float(f()) == float(m()) == 9.0


def test_replacing_a_submodule_is_seen():
    class Outer(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.inner = Scaled(2.0)

        def update(self, x):
            return self.inner(x)

    m = Outer()
    f = bs.transform.jit(m)
    f(1.0)
    m.inner = Scaled(5.0)
    assert_allclose(f(1.0), m(1.0))
    assert_allclose(f(1.0), np.full(3, 5.0))


def test_weight_tying_is_seen():
    class AutoEncoder(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.enc = Scaled(1.0)
            self.dec = Scaled(1.0)
            self.dec.w = bs.ParamState(jnp.full(3, 2.0))

        def update(self, x):
            return self.dec(self.enc(x))

    m = AutoEncoder()
    f = bs.transform.jit(m)
    assert_allclose(f(1.0), np.full(3, 2.0))
    m.dec.w = m.enc.w  # tie the weights
    m.enc.w.value = jnp.full(3, 3.0)
    assert_allclose(f(1.0), m(1.0))
    assert_allclose(f(1.0), np.full(3, 9.0))


def test_deleting_an_attribute_is_seen():
    class Optional_(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.bias = bs.State(jnp.array(5.0))

        def update(self, x):
            return x + (self.bias.value if hasattr(self, "bias") else 0.0)

    m = Optional_()
    f = bs.transform.jit(m)
    assert float(f(1.0)) == 6.0
    del m.bias
    assert float(f(1.0)) == float(m(1.0)) == 1.0


def test_pop_states_and_putting_them_back_are_seen():
    # graph.pop_states / update_states change nodes through the graph's own setters, not
    # `setattr`: compiled code must see those changes too
    class Two(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.h = bs.ShortTermState(jnp.full(2, 10.0))
            self.w = bs.ParamState(jnp.ones(2))

    m = Two()

    @bs.transform.jit
    def total():
        return sum(s.value.sum() for s in m.states().values())

    assert float(total()) == 22.0
    popped = bs.graph.pop_states(m, bs.ShortTermState)
    assert float(total()) == 2.0 == float(sum(s.value.sum() for s in m.states().values()))
    bs.graph.update_states(m, popped)
    assert m.h is popped["h"] and float(total()) == 22.0


def test_jit_decorated_method_sees_attribute_changes():
    class Net(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = 2.0

        @bs.transform.jit
        def forward(self, x):
            return x * self.scale

    net = Net()
    assert float(net.forward(1.0)) == 2.0
    net.scale = 4.0
    assert float(net.forward(1.0)) == 4.0


def test_a_global_model_rebound_is_seen():
    global _MODEL
    _MODEL = Scaled(2.0)

    @bs.transform.jit
    def step(x):
        return _MODEL(x)

    assert_allclose(step(1.0), np.full(3, 2.0))
    _MODEL = Scaled(6.0)
    assert_allclose(step(1.0), np.full(3, 6.0))


def test_a_closure_model_attribute_change_is_seen():
    model = Scaled(2.0)

    @bs.transform.jit
    def step(x):
        return model(x)

    step(1.0)
    model.training = False
    assert_allclose(step(1.0), model(1.0))


def test_train_eval_switch_compiles_two_entries_and_never_traces_again():
    model = Scaled()
    counted = TraceCounter(lambda x: model(x))
    f = bs.transform.jit(counted)
    for _ in range(5):
        model.training = True
        assert_allclose(f(1.0), np.full(3, 2.0))
        model.training = False
        assert_allclose(f(1.0), np.full(3, -98.0))
    assert counted.count == 2
    assert any("`scaled.training` changed True → False" in r for r in f.explain_retraces())


def test_creating_unrelated_states_and_modules_costs_no_trace():
    model = Scaled()
    counted = TraceCounter(lambda x: model(x))
    f = bs.transform.jit(counted)
    f(1.0)
    for i in range(5):
        bs.State(jnp.zeros(i + 1))
        Scaled(float(i))
        f(1.0)
    assert counted.count == 1
    assert f.explain_retraces() == []


def test_setattr_at_trace_time_retraces_once_then_settles():
    class Recorder(bs.nn.Module):
        def update(self, x):
            self.last_shape = x.shape  # a Python side effect while tracing
            return x * 2

    m = Recorder()
    counted = TraceCounter(lambda x: m(x))
    f = bs.transform.jit(counted)
    for _ in range(10):
        f(jnp.ones(2))
    # The second call sees a model that now has `last_shape` (the eager call would too), so it
    # traces once more; from then on the structure is stable.
    assert counted.count == 2


@pytest.mark.parametrize("change", ["counter", "tracer", "new_state", "list"])
def test_a_function_that_changes_the_graph_while_traced_runs_once_per_trace(change):
    # Each trace changes the model (as `init_all_states` inside the step does): every call
    # sees a new graph and traces again, as the eager call would run again, but one call never
    # loops (it used to recurse without end: RecursionError) and runs the function once.
    class Net(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = bs.ParamState(jnp.ones(3))
            self.n = 0

        def update(self, x):
            y = self.w.value * x
            if change == "counter":
                self.n += 1
            elif change == "tracer":
                self.last = y
            elif change == "new_state":
                self.s = bs.ShortTermState(jnp.zeros(3))
            else:
                self.hist = getattr(self, "hist", []) + [1]
            return y.sum()

    m = Net()
    counted = TraceCounter(lambda x: m(x))
    f = bs.transform.jit(counted)
    assert [float(f(jnp.full(3, float(i)))) for i in range(3)] == [0.0, 3.0, 6.0]
    assert counted.count <= 3
    if change == "counter":
        assert m.n == counted.count


def test_init_all_states_inside_the_compiled_step_equals_the_eager_step():
    bs.random.seed(1)
    cell = bs.nn.GRUCell(3, 5)

    def run(x):
        bs.nn.init_all_states(cell, 4)
        return cell(x).sum()

    compiled = bs.transform.jit(run)
    for i in range(3):
        x = jnp.full((4, 3), 0.5 * i)
        assert_allclose(compiled(x), run(x), rtol=1e-5, atol=1e-6)


def test_init_all_states_inside_the_compiled_step_traces_twice_in_all():
    # Each call replaces the cell's states with new ones created inside the trace (they hold
    # tracers of a finished transform afterwards). No program can touch such a state, so the
    # program compiled with one there serves every later call: the first call traces with the
    # states made outside, the second with finished ones, and then never again.
    bs.environ.set(dt=0.1)
    bs.random.seed(3)
    net = bs.nn.LIF(4)
    bs.nn.init_all_states(net)

    def run(x):
        bs.nn.init_all_states(net)
        return net(x)

    counted = TraceCounter(run)
    compiled = bs.transform.jit(counted)
    eager_net = bs.nn.LIF(4)
    for i in range(6):
        x = jnp.full(4, 3.0 * i)
        bs.nn.init_all_states(eager_net)
        assert_allclose(compiled(x), eager_net(x))
    assert counted.count == 2
    assert compiled.explain_retraces() == [
        "`lif.V` changed a HiddenState → a HiddenState created in a finished transform"]
    with pytest.raises(bs.TraceContextError, match="holds a JAX tracer from a transform that has finished"):
        net.V.value  # local to the compiled step, as on its first call


def test_a_finished_state_given_a_value_eagerly_is_a_state_again_for_compiled_code():
    # A program compiled while a finished state sat at `net.V` must not be reused once a live
    # state is there: giving the finished state a value moves the graph epoch, so the next call
    # identifies it (and a later finished one at that path is refused again, as eagerly).
    bs.environ.set(dt=0.1)
    net = bs.nn.LIF(3)
    bs.nn.init_all_states(net)

    @bs.transform.jit
    def init_and_step(x):
        bs.nn.init_all_states(net)
        return net(x)

    @bs.transform.jit
    def read():
        return net.V.value

    message = "holds a JAX tracer from a transform that has finished"
    init_and_step(jnp.ones(3))
    with pytest.raises(bs.TraceContextError, match=message):
        read()
    net.V.value = jnp.full(3, 0.5)  # the finished state is given a value: a state again
    assert_allclose(read(), jnp.full(3, 0.5))
    init_and_step(jnp.ones(3))  # a new finished state at net.V
    with pytest.raises(bs.TraceContextError, match=message):
        net.V.value  # the eager oracle
    with pytest.raises(bs.TraceContextError, match=message):
        read()  # not the revived state's 0.5


def test_states_replaced_before_every_call_are_not_all_kept_alive():
    # Each replacement is a new structure (a new entry, traced: the program must thread the new
    # state). The function remembers the 16 most recent structures, so the replaced states and
    # their programs do not pile up over a long run of trials.
    from brainstate.transform._stateful import _MAX_STRUCTURES

    m = Scaled()
    f = bs.transform.jit(m)
    old = []
    for i in range(3 * _MAX_STRUCTURES):
        old.append(weakref.ref(m.w))
        m.w = bs.ParamState(jnp.full(3, float(i)))
        assert_allclose(f(2.0), m(2.0))
    gc.collect()
    alive = sum(r() is not None for r in old)
    assert alive <= _MAX_STRUCTURES
    m.w = old[-1]()  # a remembered structure again: no trace, the right values
    assert_allclose(f(2.0), m(2.0))


def test_init_all_states_between_calls_reuses_the_compiled_program_on_the_new_states():
    # The trial loop of a simulation: new state objects before every trial. The program's state
    # inputs are places in the graph, so it runs on the new states untraced (it used to trace
    # and compile again for every trial), writes them, and leaves the replaced ones alone.
    bs.environ.set(dt=0.1)
    net, eager_net = bs.nn.LIF(4), bs.nn.LIF(4)
    counted = TraceCounter(lambda x: net(x))
    step = bs.transform.jit(counted)
    for trial in range(4):
        bs.nn.init_all_states(net)
        bs.nn.init_all_states(eager_net)
        before = net.V
        for t in range(3):
            x = jnp.full(4, 2.0 + trial + t)
            assert_allclose(step(x), eager_net(x), rtol=1e-6)  # (compiled and eager round alike, to an ulp)
        assert net.V is before
        assert_allclose(net.V.value, eager_net.V.value, rtol=1e-6)
    assert counted.count == 1
    assert step.explain_retraces() == []


@pytest.mark.parametrize("replacement, traces", [
    (lambda: bs.ParamState(jnp.full(3, 5.0)), 1),  # interchangeable: the program is reused
    (lambda: bs.ParamState(jnp.full(4, 5.0)), 2),  # another shape
    (lambda: bs.ParamState(jnp.full(3, 5, dtype=jnp.int32)), 2),  # another dtype
    (lambda: bs.ParamState(jnp.full(3, 5.0), name="renamed"), 2),  # other metadata
    (lambda: bs.ParamState(jnp.full(3, 5.0), tag="frozen"), 2),
    (lambda: bs.ShortTermState(jnp.full(3, 5.0)), 2),  # another type
])
def test_a_replacement_state_reuses_the_program_only_when_interchangeable(replacement, traces):
    m = Scaled()
    counted = TraceCounter(lambda x: m(x))
    f = bs.transform.jit(counted)
    assert_allclose(f(1.0), m(1.0))
    m.w = replacement()
    assert_allclose(f(1.0), m(1.0))
    assert counted.count == traces


def test_a_replacement_state_with_hooks_is_traced_with_them():
    seen = []
    m = Scaled()
    counted = TraceCounter(lambda x: m(x))
    f = bs.transform.jit(counted)
    f(1.0)
    hooked = bs.ParamState(jnp.full(3, 5.0))
    hooked.register_hook("read", lambda ctx: seen.append("read"))
    m.w = hooked
    assert_allclose(f(1.0), m(1.0))
    assert counted.count == 2 and seen  # the read hook ran in the new trace (and eagerly)


def test_a_reused_program_traced_again_for_new_arguments_threads_the_states_of_the_moment():
    class Acc(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.total = bs.State(jnp.zeros(()))

        def update(self, x):
            self.total.value = self.total.value + x.sum()
            return self.total.value

    m = Acc()
    f = bs.transform.jit(lambda x: m(x))
    first = m.total
    f(jnp.ones(3))  # traced with `first`
    second = bs.State(jnp.full((), 10.0))
    m.total = second  # interchangeable: the program is reused...
    assert float(f(jnp.ones(5))) == 15.0  # ...and jax.jit traces it for the new shape, on `second`
    assert float(first.value) == 3.0
    m.total = first
    assert float(f(jnp.ones(5))) == 8.0  # the program for 5 elements, on `first`
    assert float(f(jnp.ones(3))) == 11.0
    assert float(second.value) == 15.0


def test_a_state_behind_a_plain_object_then_also_put_in_the_graph_is_traced_again():
    class Holder:  # not a graph node: the graph walk does not look inside
        def __init__(self, state):
            self.state = state

    def run(m, holder, x):
        holder.state.value = holder.state.value + m.w.value.sum()
        return m(x)  # reads `m.w` after the write: the new value if it is the same state

    m, eager_m = Scaled(), Scaled()
    hidden, eager_hidden = bs.ParamState(jnp.full(3, 2.0)), bs.ParamState(jnp.full(3, 2.0))
    holder, eager_holder = Holder(hidden), Holder(eager_hidden)
    f = bs.transform.jit(lambda x: run(m, holder, x))
    assert_allclose(f(1.0), run(eager_m, eager_holder, 1.0))
    m.w, eager_m.w = hidden, eager_hidden  # the same layout, but `hidden` is threaded already
    for _ in range(2):
        assert_allclose(f(1.0), run(eager_m, eager_holder, 1.0))
    assert_allclose(hidden.value, eager_hidden.value)


def test_swapping_two_interchangeable_states_back_and_forth_never_traces_again():
    class Two(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.a = bs.State(jnp.array(1.0))
            self.b = bs.State(jnp.array(100.0))

        def update(self):
            self.a.value = self.a.value + 1
            return self.a.value * 2 + self.b.value

    m, eager = Two(), Two()
    counted = TraceCounter(lambda: m())
    f = bs.transform.jit(counted)
    for _ in range(4):
        assert float(f()) == float(eager())
        m.a, m.b = m.b, m.a
        eager.a, eager.b = eager.b, eager.a
    assert counted.count == 1
    assert [float(m.a.value), float(m.b.value)] == [float(eager.a.value), float(eager.b.value)]


def test_lazy_attribute_set_at_trace_time_takes_the_eager_branch_next():
    class Lazy(bs.nn.Module):
        def update(self, x):
            if not hasattr(self, "ready"):
                self.ready = True
                return x * 0
            return x * 3

    m, eager = Lazy(), Lazy()
    f = bs.transform.jit(m)
    assert [float(f(1.0)) for _ in range(3)] == [float(eager(1.0)) for _ in range(3)] == [0.0, 3.0, 3.0]


def test_jit_method_does_not_keep_instances_alive():
    class Net(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = bs.State(jnp.ones(2))

        @bs.transform.jit
        def forward(self, x):
            return self.w.value * x

    refs = []
    for _ in range(3):
        net = Net()
        net.forward(1.0)
        refs.append(weakref.ref(net))
    del net
    gc.collect()
    assert all(r() is None for r in refs)


def test_a_collected_instances_compiled_method_is_dropped_and_never_reused():
    class Net(bs.nn.Module):
        def __init__(self, scale):
            super().__init__()
            self.w = bs.State(jnp.ones(2) * scale)

        @bs.transform.jit
        def forward(self, x):
            return self.w.value * x

    compiled = []
    for i in range(20):  # CPython reuses the ids of collected instances
        net = Net(float(i))
        assert float(net.forward(1.0)[0]) == float(i)  # never another instance's program
        compiled.append(weakref.ref(net.forward.__func__))
        del net
        gc.collect()
    assert all(r() is None for r in compiled)  # the class-level cache let every one go
