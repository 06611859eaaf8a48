import gc
import inspect

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from tests.conftest import TraceCounter


def make_counter():
    n = bs.State(jnp.array(0), name="n")

    def inc():
        n.value += 1
        return n.value

    return n, inc


def test_decorator_forms():
    s = bs.State(jnp.zeros(2))

    @bs.transform.jit
    def a(x):
        s.value += x

    @bs.transform.jit(static_argnums=1)
    def b(x, k):
        s.value += x * k

    a(jnp.ones(2))
    b(jnp.ones(2), 2)
    assert_allclose(s.value, 3 * np.ones(2))


def test_writes_persist():
    n, inc = make_counter()
    f = bs.transform.jit(inc)
    assert [int(f()) for _ in range(4)] == [1, 2, 3, 4]
    assert int(n.value) == 4


def test_traces_once_for_same_signature():
    s = bs.State(jnp.zeros(3))
    body = TraceCounter(lambda x: setattr(s, "value", s.value + x))
    f = bs.transform.jit(body)
    f(jnp.ones(3))
    first = body.count  # discovery run + the compiled trace
    assert first <= 2
    for _ in range(100):
        f(jnp.ones(3))
    assert body.count == first
    assert_allclose(s.value, 101 * np.ones(3))


def test_new_input_shape_traces_once_more():
    w = bs.State(jnp.ones(()))
    body = TraceCounter(lambda x: (w.value * x).sum())
    f = bs.transform.jit(body)
    f(jnp.ones(3))
    before = body.count
    f(jnp.ones(4))
    f(jnp.ones(4))
    assert body.count == before + 1


def test_out_of_band_reshape_retraces_once():
    s = bs.State(jnp.zeros(3), name="buf")
    body = TraceCounter(lambda: setattr(s, "value", s.value + 1))
    f = bs.transform.jit(body)
    f()
    before = body.count
    s.restore_value(jnp.zeros(5))
    f()
    f()
    assert body.count == before + 1
    assert_allclose(s.value, 2 * np.ones(5))


def test_out_of_band_value_change_no_retrace():
    s = bs.State(jnp.zeros(3))
    body = TraceCounter(lambda: s.value * 2)
    f = bs.transform.jit(body)
    f()
    before = body.count
    s.value = jnp.ones(3)
    assert_allclose(f(), 2 * np.ones(3))
    assert body.count == before


def test_environ_dt_is_part_of_cache_key():
    w = bs.State(jnp.ones(2))
    body = TraceCounter(lambda: w.value * bs.environ.get_dt())
    f = bs.transform.jit(body)
    with bs.environ.context(dt=0.1):
        assert_allclose(f(), 0.1 * np.ones(2), rtol=1e-6)
        before = body.count
        f()
        assert body.count == before
    with bs.environ.context(dt=0.5):
        assert_allclose(f(), 0.5 * np.ones(2), rtol=1e-6)
        assert body.count == before + 1
    with bs.environ.context(dt=0.1):
        f()
        assert body.count == before + 1  # the 0.1 entry is still compiled


def test_environ_arrays_and_quantities_are_keyed_by_value():
    import brainunit as u

    body = TraceCounter(lambda x: x * u.get_mantissa(bs.environ.get("t") / u.ms))
    f = bs.transform.jit(body)
    for _ in range(4):  # an equal value made anew at every step: one program
        with bs.environ.context(t=5.0 * u.ms):
            assert_allclose(f(jnp.ones(2)), [5.0, 5.0])
    assert body.count == 1
    for t in [1.0, 2.0, 1.0]:  # new values compile (once each) and never reuse another's program
        with bs.environ.context(t=jnp.array(t) * u.ms):
            assert_allclose(f(jnp.ones(2)), [t, t])
    assert body.count == 3


def test_environ_values_without_contents_are_keyed_by_identity_and_kept_alive():
    class Opaque:  # unhashable, not an array
        __hash__ = None

        def __init__(self, k):
            self.k = k

    f = bs.transform.jit(lambda x: x * bs.environ.get("opaque").k)
    for k in range(1, 6):  # each object freed after its call: a recycled id must not find its program
        with bs.environ.context(opaque=Opaque(k)):
            assert float(f(1.0)) == k
        gc.collect()


def test_environ_global_set_retraces():
    body = TraceCounter(lambda x: x * bs.environ.get("scale"))
    f = bs.transform.jit(body)
    bs.environ.set(scale=2.0)
    assert float(f(1.0)) == 2.0
    bs.environ.set(scale=3.0)
    assert float(f(1.0)) == 3.0


def test_swapped_state_object_is_picked_up():
    class Holder(bs.graph.Node):
        pass

    h = Holder()
    h.s = bs.State(jnp.zeros(2))

    @bs.transform.jit
    def step():
        h.s.value = h.s.value + 1
        return h.s.value

    step()
    old = h.s
    h.s = bs.State(jnp.full(2, 10.0))  # same shape, new object
    assert_allclose(step(), np.full(2, 11.0))
    assert_allclose(h.s.value, np.full(2, 11.0))
    assert_allclose(old.value, np.ones(2))


def test_read_and_write_sets():
    a = bs.ParamState(jnp.ones(2), name="a")
    b = bs.State(jnp.zeros(2), name="b")

    @bs.transform.jit
    def f(x):
        b.value = a.value * x
        return b.value.sum()

    assert f.get_read_states(1.0) == (a,)
    assert f.get_write_states(1.0) == (b,)
    assert f.get_states(1.0) == (a, b)


def test_static_args_by_value():
    s = bs.State(jnp.zeros(()))
    body = TraceCounter(lambda x, k: setattr(s, "value", s.value + x * k))
    f = bs.transform.jit(body, static_argnames="k")
    f(1.0, k=2)
    c = body.count
    f(1.0, k=2)
    assert body.count == c
    f(1.0, k=3)
    assert body.count == c + 1
    assert float(s.value) == 7.0


def test_donate_argnums_passes_through():
    s = bs.State(jnp.zeros(3))

    @bs.transform.jit(donate_argnums=0)
    def f(x):
        s.value = s.value + x
        return x * 2

    assert_allclose(f(jnp.ones(3)), 2 * np.ones(3))
    assert_allclose(s.value, np.ones(3))


def test_shardings_pass_through():
    dev = jax.devices()[0]
    sharding = jax.sharding.SingleDeviceSharding(dev)
    s = bs.State(jnp.zeros(3))

    @bs.transform.jit(in_shardings=sharding, out_shardings=sharding)
    def f(x):
        s.value = s.value + x
        return x

    out = f(jnp.ones(3))
    assert out.sharding == sharding
    assert_allclose(s.value, np.ones(3))


def test_on_module_instance():
    class Counter:
        def __init__(self):
            self.n = bs.State(jnp.array(0))

        def __call__(self):
            self.n.value += 1
            return self.n.value

    c = bs.transform.jit(Counter())
    assert [int(c()) for _ in range(3)] == [1, 2, 3]


def _accumulator_class():
    """A class whose `add` is compiled at class level (a new class each call: a fresh cache)."""

    class Acc:
        def __init__(self):
            self.total = bs.State(jnp.zeros(()))

        @bs.transform.jit
        def add(self, x):
            self.total.value += x
            return self.total.value

    return Acc


def test_method_decorator_binds_instance():
    Acc = _accumulator_class()
    a, b = Acc(), Acc()
    a.add(1.0)
    a.add(2.0)
    b.add(5.0)
    assert float(a.total.value) == 3.0 and float(b.total.value) == 5.0


def test_a_held_method_keeps_its_instance_alive_like_a_bound_method():
    Acc = _accumulator_class()
    assert float(Acc().add(2.0)) == 2.0  # on a temporary instance (braintools: `Task().batch_sample(4)`)
    add = Acc().add
    gc.collect()
    assert float(add(1.0)) == 1.0 and float(add(1.0)) == 2.0
    assert isinstance(add.__self__, Acc) and add.__self__.total.value == 2.0
    assert add.stateful_fun is not None  # the compiled function's attributes
    assert "bound method" in repr(add) and "add" in repr(add)
    assert list(inspect.signature(add).parameters) == ["x"]


def test_the_cached_compiled_method_of_a_collected_instance_is_refused():
    class Acc:
        @bs.transform.jit
        def add(self, x):
            return x + 1

    compiled = Acc().add.__func__  # the per-instance function the class caches: it holds the instance weakly
    gc.collect()
    with pytest.raises(ReferenceError, match="the object add was bound to no longer exists"):
        compiled(None, 1.0)


def test_nested_jit():
    s = bs.State(jnp.zeros(2))
    inner = bs.transform.jit(lambda x: setattr(s, "value", s.value + x))

    @bs.transform.jit
    def outer(x):
        inner(x)
        inner(x)
        return s.value

    assert_allclose(outer(jnp.ones(2)), 2 * np.ones(2))
    assert_allclose(s.value, 2 * np.ones(2))
    inner(jnp.ones(2))  # the inner one still works on its own
    assert_allclose(s.value, 3 * np.ones(2))


def test_nested_jit_propagates_environ_key():
    inner = bs.transform.jit(lambda x: x * bs.environ.get_dt())
    with bs.environ.context(dt=1.0):
        inner(1.0)  # compiled and cached for dt=1.0 before the outer exists
    outer = bs.transform.jit(lambda x: inner(x) + 0)
    with bs.environ.context(dt=1.0):
        assert float(outer(1.0)) == 1.0
    with bs.environ.context(dt=2.0):
        assert float(outer(1.0)) == 2.0


def test_eager_and_jit_parity():
    def build():
        w = bs.ParamState(jnp.linspace(0.0, 1.0, 4))
        h = bs.State(jnp.zeros(4))

        def step(x):
            h.value = jnp.tanh(h.value * 0.5 + w.value * x)
            w.value = w.value - 0.01 * h.value
            return h.value.sum()

        return w, h, step

    w1, h1, eager = build()
    w2, h2, step = build()
    jitted = bs.transform.jit(step)
    for i in range(5):
        eager(float(i))
        jitted(float(i))
    assert_allclose(w1.value, w2.value, rtol=1e-6)
    assert_allclose(h1.value, h2.value, rtol=1e-6)


def test_state_created_inside_is_local():
    outside = bs.State(jnp.zeros(()))

    @bs.transform.jit
    def f(x):
        tmp = bs.State(x)
        tmp.value = tmp.value + 1
        outside.value = tmp.value
        return tmp.value

    assert float(f(1.0)) == 2.0
    assert f.get_states(1.0) == (outside,)


def test_state_as_argument_is_error():
    s = bs.State(jnp.zeros(2), name="w")
    f = bs.transform.jit(lambda x: x)
    with pytest.raises(bs.BrainStateError, match="State 'w'.*was passed as an argument"):
        f(s)


def test_returning_state_is_error():
    s = bs.State(jnp.zeros(2), name="w")
    f = bs.transform.jit(lambda: s)
    with pytest.raises(bs.BrainStateError, match=r"The function transformed by .* returned State 'w' .*\. A "
                                                  r"transformed function returns arrays; return `state\.value` "
                                                  r"instead"):
        f()


def test_write_shape_change_inside_jit_names_state():
    s = bs.State(jnp.zeros(2), name="v")
    f = bs.transform.jit(lambda: setattr(s, "value", jnp.zeros(3)))
    with pytest.raises(ValueError, match="State 'v'.*shape"):
        f()
    assert_allclose(s.value, np.zeros(2))


def test_failed_trace_leaves_states_unchanged():
    s = bs.State(jnp.zeros(2))

    @bs.transform.jit
    def f():
        s.value = s.value + 1
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        f()
    assert_allclose(s.value, np.zeros(2))
    assert not s._tracer


def test_clear_cache_retraces():
    body = TraceCounter(lambda x: x + 1)
    f = bs.transform.jit(body)
    f(1.0)
    c = body.count
    f.clear_cache()
    f(1.0)
    assert body.count == c + 1


def test_lower_gives_compilable():
    s = bs.State(jnp.zeros(3))
    f = bs.transform.jit(lambda x: setattr(s, "value", s.value + x))
    compiled = f.lower(jnp.ones(3)).compile()
    assert compiled is not None


def test_not_callable_is_error():
    with pytest.raises(TypeError, match="jit expects a callable"):
        bs.transform.jit(3)


def test_union_of_states_across_signatures():
    a, b = bs.State(jnp.zeros(())), bs.State(jnp.zeros(()))

    @bs.transform.jit(static_argnums=0)
    def f(which):
        (a if which else b).value += 1

    f(True)
    f(False)
    f(True)
    assert float(a.value) == 2.0 and float(b.value) == 1.0


def test_async_dispatch_returns_jax_arrays():
    n, inc = make_counter()
    out = bs.transform.jit(inc)()
    assert isinstance(out, jax.Array)


def test_weakly_typed_initial_value_compiles_once():
    s = bs.State(jnp.broadcast_to(jnp.asarray(0.0), (3,)))
    assert not s.value.weak_type
    body = TraceCounter(lambda x: setattr(s, "value", s.value + x))
    f = bs.transform.jit(body)
    f(jnp.ones(3, jnp.float32))
    first = body.count
    f(jnp.ones(3, jnp.float32))
    f(jnp.ones(3, jnp.float32))
    assert body.count == first


def test_weak_write_into_strong_state_is_stored_strong():
    s = bs.State(jnp.zeros((), jnp.int32))
    s.value = jnp.array(5)  # weakly typed int32
    assert not s.value.weak_type and s.value.dtype == jnp.int32
