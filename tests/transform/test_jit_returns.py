"""What `jit` returns: a plain Python function for a function, the `JittedFunction` object for a
method in a class body, a module or another callable.

The plain function runs the code and data of the object's installed per-call runner (put in at
every install), so a call costs no dispatch through an object's `__call__`; its attributes are
the compiled function's members.
"""

import inspect
import sys
import threading

import jax.numpy as jnp
import pytest

import brainstate as bs
from brainstate.transform import JittedFunction

HANG = 120  # seconds: only a guard against a hang, never a speed requirement


def _counter():
    n = bs.State(jnp.array(0))

    def inc(by):
        n.value = n.value + by
        return n.value

    return n, inc


def test_a_function_compiles_to_a_plain_function_with_the_compiled_members():
    n, inc = _counter()
    f = bs.transform.jit(inc)
    assert inspect.isfunction(f) and not isinstance(f, JittedFunction)
    assert f.__wrapped__ is inc and f.__name__ == "inc" and f.origin_fun is inc
    assert inspect.signature(f) == inspect.signature(inc)
    assert [int(f(2)) for _ in range(3)] == [2, 4, 6]
    assert list(f.get_write_states(1)) == [n] and f.explain_retraces() == []
    assert "stablehlo" in f.lower(1).as_text() or "func" in f.lower(1).as_text()
    assert callable(f.jitted_fun) and isinstance(f.stateful_fun, bs.transform.StatefulFunction)
    f.clear_cache()
    assert int(f(1)) == 7  # compiled again after clearing, and the function still runs it


def test_the_decorator_forms_give_the_plain_function_too():
    n = bs.State(jnp.array(1.0))

    @bs.transform.jit
    def double():
        n.value = n.value * 2
        return n.value

    @bs.transform.jit(static_argnums=0)
    def scale(k):
        n.value = n.value * k
        return n.value

    assert inspect.isfunction(double) and inspect.isfunction(scale)
    assert float(double()) == 2.0 and float(scale(3)) == 6.0 and float(scale(3)) == 18.0


def test_a_method_in_a_class_body_a_module_and_a_partial_get_the_object():
    class Counter(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.n = bs.State(jnp.array(0))

        @bs.transform.jit
        def inc(self):
            self.n.value = self.n.value + 1
            return self.n.value

        def __call__(self):
            return self.inc()

    assert isinstance(Counter.__dict__["inc"], JittedFunction)
    a, b = Counter(), Counter()
    assert [int(a.inc()) for _ in range(2)] == [1, 2] and int(b.inc()) == 1  # compiled per instance
    assert isinstance(bs.transform.jit(a), JittedFunction)
    assert int(bs.transform.jit(a)()) == 3


def test_the_function_follows_every_install_graph_changes_included():
    class Gate(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.on = True
            self.n = bs.State(jnp.array(0.0))

    g = Gate()

    def step(x):
        g.n.value = g.n.value + (x if g.on else -x)
        return g.n.value

    f = bs.transform.jit(step)
    eager = 0.0
    for i in range(6):
        g.on = i % 2 == 0  # a new structure (or back to a known one): another entry installed
        eager += 1.0 if g.on else -1.0
        assert float(f(1.0)) == eager
    assert len(f.explain_retraces()) == 1  # two structures compiled, alternating never traces again


def test_calls_from_threads_while_another_thread_keeps_installing_lose_nothing():
    class Gate(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = 1
            self.n = bs.State(jnp.array(0))

    g = Gate()

    def step():
        g.n.value = g.n.value + 1  # (`scale` is part of the structure: each change installs)
        return g.n.value * g.scale

    f = bs.transform.jit(step)
    f()
    calls, stop = 300, threading.Event()

    def caller():
        for _ in range(calls):
            f()

    def installer():
        i = 0
        while not stop.is_set():
            i += 1
            g.scale = 1 + i % 2  # moves the graph epoch: the next call selects and installs
            f._compiled._publish()  # and installs into the function again, racing the callers

    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    try:
        threads = [threading.Thread(target=caller) for _ in range(2)]
        other = threading.Thread(target=installer)
        other.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(HANG)
        stop.set()
        other.join(HANG)
    finally:
        sys.setswitchinterval(before)
    assert int(g.n.value) == 1 + 2 * calls  # every call's increment stored, none lost


def test_which_functions_count_as_plain():
    from brainstate.transform._jit import _plain_function

    def local():
        pass

    assert _plain_function(local)
    assert _plain_function(_counter)
    assert not _plain_function(JittedFunction.clear_cache)  # defined in a class body
    assert not _plain_function(bs.nn.Module())  # not a function


def test_a_compiled_method_is_a_bound_method_with_the_compiled_members():
    class Counter(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.n = bs.State(jnp.array(0))

        @bs.transform.jit
        def add(self, k):
            self.n.value = self.n.value + k
            return self.n.value

    a = Counter()
    method = a.add
    assert inspect.ismethod(method) and method.__self__ is a
    assert list(inspect.signature(method).parameters) == ["k"]
    assert [int(a.add(2)) for _ in range(3)] == [2, 4, 6]
    assert a.add.__func__ is method.__func__  # one compiled function per instance
    assert list(a.add.get_write_states(1)) == [a.n] and a.add.explain_retraces() == []
    a.add.clear_cache()
    assert int(a.add(k=1)) == 7
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'k'"):
        a.add()
    assert int(a.n.value) == 7
