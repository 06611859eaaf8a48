"""A jitted function is called like the function it compiles: by position or by keyword, one
trace either way, and a wrong call refused with Python's own message naming the function.

Where every parameter is positional, jit's per-call path has the function's own signature
(`_commit.fast_runner(params=...)`) and passes the arguments by position; its other paths pass
keywords by position too, so `jax.jit` sees one call signature.
"""

import jax.numpy as jnp
import pytest

import brainstate as bs


def test_calls_by_keyword_and_by_position_trace_once_and_match_eager():
    acc = bs.State(jnp.zeros(3))

    def step(x, y):
        acc.value = acc.value * 2 + x - y
        return acc.value.sum()

    traces = []

    @bs.transform.jit
    def jitted(x, y):
        traces.append(1)
        return step(x, y)

    x, y = jnp.arange(3.0), jnp.ones(3)
    expected = []
    eager_acc = jnp.zeros(3)
    for call in [lambda f: f(x, y), lambda f: f(x=x, y=y), lambda f: f(y=y, x=x), lambda f: f(x, y=y)] * 2:
        out = call(jitted)
        eager_acc = eager_acc * 2 + x - y
        expected.append(float(eager_acc.sum()))
        assert float(out) == expected[-1]
    assert len(traces) == 1
    assert jnp.array_equal(acc.value, eager_acc)


def test_a_first_call_by_keyword_then_by_position_traces_once():
    n = bs.State(jnp.array(0.0))
    traces = []

    @bs.transform.jit
    def add(amount):
        traces.append(1)
        n.value += amount
        return n.value

    assert float(add(amount=1.0)) == 1.0
    assert float(add(2.0)) == 3.0
    assert float(add(amount=3.0)) == 6.0
    assert len(traces) == 1
    assert add.explain_retraces() == []


@pytest.mark.parametrize("call, message", [
    (lambda f: f(1.0), r"step\(\) missing 1 required positional argument: 'y'"),
    (lambda f: f(1.0, 2.0, 3.0), r"step\(\) takes 2 positional arguments but 3 were given"),
    (lambda f: f(1.0, z=2.0), r"step\(\) got an unexpected keyword argument 'z'"),
])
def test_a_wrong_call_gets_python_s_message_naming_the_function_before_and_after_compiling(call, message):
    s = bs.State(jnp.zeros(()))

    def step(x, y):
        s.value += x * y
        return s.value

    jitted = bs.transform.jit(step)
    with pytest.raises(TypeError, match=message):
        call(step)  # the eager message is the oracle
    with pytest.raises(TypeError, match=message):
        call(jitted)  # first call: the general path
    assert float(jitted(1.0, 2.0)) == 2.0
    with pytest.raises(TypeError, match=message):
        call(jitted)  # compiled: the generated runner's own signature
    assert float(s.value) == 2.0  # nothing written by the refused calls


def test_positional_only_parameters_stay_positional_only():
    s = bs.State(jnp.zeros(()))

    @bs.transform.jit
    def step(x, /, y):
        s.value += x - y
        return s.value

    assert float(step(3.0, y=1.0)) == 2.0
    assert float(step(3.0, 1.0)) == 4.0
    with pytest.raises(TypeError, match="positional-only arguments passed as keyword arguments: 'x'"):
        step(x=3.0, y=1.0)
    assert float(s.value) == 4.0


@pytest.mark.parametrize("name", ["values", "seq", "out", "k0", "v0", "program", "obj", "entry", "args"])
def test_parameters_named_like_the_runner_s_internals_are_passed_faithfully(name):
    s = bs.State(jnp.zeros(2))
    namespace = {"s": s}
    exec(f"def step({name}, other):\n    s.value = s.value * 3 + {name} - other\n    return s.value", namespace)
    step = namespace["step"]
    jitted = bs.transform.jit(step)
    eager = jnp.zeros(2)
    for i in range(3):
        a, b = jnp.array([1.0, 2.0]) * i, jnp.array([0.5, 0.25])
        out = jitted(a, other=b) if i % 2 else jitted(**{name: a, "other": b})
        eager = eager * 3 + a - b
        assert jnp.array_equal(out, eager)
    assert jnp.array_equal(s.value, eager)


def test_a_method_compiled_at_class_level_takes_keywords_and_traces_once():
    traces = []

    class Acc(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.total = bs.State(jnp.zeros(()))

        @bs.transform.jit
        def add(self, x, scale):
            traces.append(1)
            self.total.value += x * scale
            return self.total.value

    acc = Acc()
    assert float(acc.add(1.0, 2.0)) == 2.0
    assert float(acc.add(x=1.0, scale=3.0)) == 5.0
    assert float(acc.add(2.0, scale=1.0)) == 7.0
    assert len(traces) == 1
    with pytest.raises(TypeError, match=r"add\(\) missing 1 required positional argument: 'scale'"):
        acc.add(1.0)


def test_functions_with_defaults_keywords_or_varargs_keep_their_call_forms():
    s = bs.State(jnp.zeros(()))

    @bs.transform.jit
    def with_default(x, y=2.0):
        s.value += x * y
        return s.value

    @bs.transform.jit
    def varargs(*xs, **named):
        s.value += sum(xs) + sum(named.values())
        return s.value

    assert float(with_default(1.0)) == 2.0
    assert float(with_default(1.0, y=3.0)) == 5.0
    assert float(varargs(1.0, 2.0, a=3.0)) == 11.0
    assert float(varargs(1.0, 2.0, a=3.0)) == 17.0


def test_aot_lowering_by_keyword_matches_the_call_by_position():
    s = bs.State(jnp.zeros(2))
    traces = []

    @bs.transform.jit
    def step(x):
        traces.append(1)
        s.value += x
        return s.value

    x = jnp.ones(2)
    step.compile(x=x)
    assert jnp.array_equal(step(x), jnp.ones(2))
    assert jnp.array_equal(step(x=x), 2 * jnp.ones(2))
    assert len(traces) == 1


# -- the program takes the states' values one argument each, before the call's arguments -----
# (so `jax.jit`'s argument numbers and shardings of the user's arguments are shifted past them,
# by the number of states of each compiled entry)
def _three_states():
    return bs.State(jnp.ones(3)), bs.State(jnp.full(3, 2.0)), bs.State(jnp.zeros(3))


def test_static_argnums_count_the_user_s_arguments_whatever_the_number_of_states():
    a, b, c = _three_states()
    traces = []

    @bs.transform.jit(static_argnums=(1, -1))
    def f(x, scale, y, offset):
        traces.append((scale, offset))
        c.value = a.value * scale + b.value + x + y + offset
        return c.value.sum()

    x, y = jnp.arange(3.0), jnp.ones(3)
    assert float(f(x, 2, y, 1)) == float((1 * 2 + 2 + jnp.arange(3.0) + 1 + 1).sum())
    assert float(f(x, 2, y, 1)) == float(f(x, 2, y, 1))
    assert float(f(x, 3, y, 0)) == float((3 + 2 + jnp.arange(3.0) + 1).sum())
    assert traces == [(2, 1), (3, 0)]


def test_donate_argnums_donates_the_user_s_argument_not_a_state():
    a, b, c = _three_states()

    @bs.transform.jit(donate_argnums=1)
    def f(x, y):
        c.value = c.value + a.value + b.value + x
        return y * 2

    x, y = jnp.arange(3.0), jnp.ones(3)
    out = f(x, y)
    assert y.is_deleted() and not x.is_deleted()
    assert not any(s.value.is_deleted() for s in (a, b))
    assert jnp.array_equal(out, jnp.full(3, 2.0)) and jnp.array_equal(c.value, 3 + jnp.arange(3.0))


def test_donated_states_and_donated_arguments_together():
    a, b, c = _three_states()

    @bs.transform.jit(donate_argnums=0, donate_states=True)
    def f(x):
        old = c.value
        c.value = a.value + b.value + x
        return old.sum(), x * 2  # an output of x's shape, so that its buffer can be reused

    for i in range(3):
        x = jnp.full(3, float(i))
        before = c.value
        expected = float(before.sum())
        assert float(f(x)[0]) == expected
        assert x.is_deleted() and before.is_deleted() and not a.value.is_deleted()
        assert jnp.array_equal(c.value, jnp.full(3, 3.0 + i))
    assert f.donated_states(jnp.zeros(3)) == [c]


def test_in_and_out_shardings_apply_to_the_user_s_arguments_and_output():
    import jax
    sharding = jax.sharding.SingleDeviceSharding(jax.devices()[0])
    a, b, c = _three_states()

    @bs.transform.jit(in_shardings=(sharding, sharding), out_shardings=(sharding, sharding))
    def f(x, y):
        c.value = a.value + b.value + x
        return x * 2, y + c.value

    out = f(jnp.arange(3.0), jnp.ones(3))
    assert all(o.sharding == sharding for o in out)
    assert jnp.array_equal(out[1], 4 + jnp.arange(3.0)) and jnp.array_equal(c.value, 3 + jnp.arange(3.0))
