"""`nn.Delay`, `DelayAccess` and `StateWithDelay`: values written step by step come back delayed."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

DT = 0.1
N = 20
INIT = -1.0


def _signal():
    i = np.arange(N, dtype=np.float32)
    return np.stack([i, 2 * i + 1], axis=1)  # step i writes [i, 2i + 1]


def _delayed(xs, k):
    """`xs` shifted by `k` steps, with INIT before the first write."""
    out = np.full_like(xs, INIT)
    out[k:] = xs[:len(xs) - k]
    return out


def _run(delay, xs, read):
    @bs.transform.jit
    def run(xs):
        def step(x):
            delay.update(x)
            return read()

        return bs.transform.for_loop(step, xs)

    with bs.environ.context(dt=DT):
        return run(jnp.asarray(xs))


def test_integer_and_interpolated_delays_under_jit_and_for_loop():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), entries={"three": 3 * DT, "frac": 2.5 * DT}, init=INIT)
    delay.init_state()
    xs = _signal()
    three, frac = _run(delay, xs, lambda: (delay.at("three"), delay.at("frac")))
    assert_allclose(np.asarray(three), _delayed(xs, 3))
    assert_allclose(np.asarray(frac), 0.5 * (_delayed(xs, 2) + _delayed(xs, 3)), rtol=1e-5)


def test_buffer_length_is_one_more_than_the_longest_delay():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), time=4 * DT, entries={"a": 2.5 * DT})
    assert delay.max_length == 5


@pytest.mark.parametrize("time, steps", [(2.4, 3), (2.5, 3), (2.1, 3), (2.0, 2), (3.0, 3), (11.0, 11)])
def test_nearest_interpolation_registers_whole_steps_rounded_up(time, steps):
    # as the reference registers a delay: never shorter than asked (float noise aside: 1.1 / 0.1)
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), entries={"x": time * DT}, interpolation="nearest", init=INIT)
    delay.init_state()
    assert delay.max_length == steps + 1
    xs = _signal()
    out = _run(delay, xs, lambda: delay.at("x"))
    assert_allclose(np.asarray(out), _delayed(xs, steps))


def test_prefetch_delay_reads_whole_steps_rounded_up():
    class Counter(bs.nn.Dynamics):
        def init_state(self, *args, **kwargs):
            self.x = bs.HiddenState(jnp.zeros(2))

        def update(self):
            self.x.value = self.x.value + 1.0

    with bs.environ.context(dt=DT):
        c = Counter(2)
        read = c.prefetch_delay("x", 0.21)
        bs.nn.init_all_states(c)
        seen = []
        for _ in range(6):
            c()  # the update, then the recorded history
            seen.append(float(read()[0]))
    assert seen == [0.0, 0.0, 0.0, 1.0, 2.0, 3.0]  # three steps back (0.21 / 0.1 rounded up)


def test_init_function_gets_the_dtype_when_it_takes_one():
    with bs.environ.context(dt=DT):
        d = bs.nn.Delay(jnp.zeros(2), time=0.5, init=lambda shape, dtype: jnp.full(shape, 7.0, dtype))
        d.init_state()
        plain = bs.nn.Delay(jnp.zeros(2), time=0.5, init=lambda shape: jnp.full(shape, 3.0))
        plain.init_state()
    assert_allclose(d.retrieve_at_step(2), [7.0, 7.0]) and assert_allclose(plain.retrieve_at_step(2), [3.0, 3.0])


def test_retrieve_at_step_zero_is_the_newest_value():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), time=5 * DT)
    delay.init_state()
    xs = _signal()
    out = _run(delay, xs, lambda: (delay.retrieve_at_step(0), delay.retrieve_at_step(4)))
    assert_allclose(np.asarray(out[0]), xs)
    assert_allclose(np.asarray(out[1]), _delayed(xs, 4) * (np.arange(N)[:, None] >= 4))


def test_retrieve_at_time_uses_environ_t():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), time=5 * DT, init=INIT)
    delay.init_state()
    xs = _signal()

    @bs.transform.jit
    def run(xs):
        def step(i, x):
            with bs.environ.context(t=i * DT, i=i):
                delay.update(x)
                return delay.retrieve_at_time(i * DT - 2 * DT), delay.retrieve_at_time(i * DT - 1.5 * DT)

        return bs.transform.for_loop(step, jnp.arange(N), xs)

    with bs.environ.context(dt=DT):
        two, one_half = run(jnp.asarray(xs))
    assert_allclose(np.asarray(two), _delayed(xs, 2), rtol=1e-5, atol=1e-5)
    assert_allclose(np.asarray(one_half), 0.5 * (_delayed(xs, 1) + _delayed(xs, 2)), rtol=1e-5, atol=1e-5)


def test_update_every_writes_every_other_step():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), entries={"one": 2 * DT}, update_every=2 * DT, init=INIT)
    delay.init_state()
    xs = _signal()
    out = np.asarray(_run(delay, xs, lambda: delay.at("one")))
    written = 2 * (np.arange(N) // 2) - 2  # the write before the newest one
    want = np.where(written[:, None] >= 0, xs[np.maximum(written, 0)], INIT)
    assert_allclose(out, want)


def test_batched_history():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(3), entries={"one": DT})
    delay.init_state(batch_size=2)
    assert delay.history.value.shape == (2, 2, 3)
    delay.update(jnp.ones((2, 3)))
    delay.update(2 * jnp.ones((2, 3)))
    assert_allclose(np.asarray(delay.at("one")), np.ones((2, 3)))


def test_pytree_values_and_callable_init():
    target = {"a": jnp.zeros(2), "b": jax.ShapeDtypeStruct((), jnp.float32)}
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(target, entries={"one": DT}, init=lambda shape: jnp.full(shape, 7.0))
    delay.init_state()
    delay.update({"a": jnp.ones(2), "b": jnp.array(3.0)})
    out = delay.at("one")
    assert_allclose(np.asarray(out["a"]), [7.0, 7.0])
    assert_allclose(np.asarray(out["b"]), 7.0)


def test_indices_select_elements():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(4), time=2 * DT)
    delay.init_state()
    delay.update(jnp.arange(4.0))
    delay.update(jnp.arange(4.0) + 10)
    assert_allclose(np.asarray(delay.retrieve_at_step(1, jnp.array([0, 3]))), [0.0, 3.0])


def test_reset_state_refills_with_init():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), entries={"one": DT}, init=INIT)
    delay.init_state()
    delay.update(jnp.ones(2))
    delay.update(jnp.ones(2))
    delay.reset_state()
    assert_allclose(np.asarray(delay.at("one")), [INIT, INIT])
    delay.reset_state(batch_size=3)
    assert delay.history.value.shape == (2, 3, 2)


def test_delay_access_reads_its_entry():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(1))
        access = delay.access("one", DT)
    delay.init_state()
    delay.update(jnp.array([5.0]))
    delay.update(jnp.array([6.0]))
    assert_allclose(np.asarray(access()), [5.0])


def test_state_with_delay_records_a_state():
    holder = bs.nn.Module()
    holder.x = bs.ShortTermState(jnp.zeros(2))
    with bs.environ.context(dt=DT):
        delay = bs.nn.StateWithDelay(holder, "x", entries={"two": 2 * DT})
    delay.init_state()
    for i in range(4):
        holder.x.value = jnp.full(2, float(i))
        delay.update()
    assert_allclose(np.asarray(delay.at("two")), [1.0, 1.0])


def test_state_with_delay_follows_its_target_to_another_batch_size():
    with bs.environ.context(dt=DT):
        lif = bs.nn.LIF(3)
        history = bs.nn.StateWithDelay(lif, "V", entries={"two": 2 * DT})
        net = bs.nn.Sequential(lif, history)
        bs.nn.init_all_states(net, 4)
        assert history.history.value.shape[1:] == (4, 3)
        bs.nn.reset_all_states(net, 8)  # the target first (call order), then the history
        assert lif.V.value.shape == (8, 3) and history.history.value.shape[1:] == (8, 3)
        for i in range(4):
            lif.V.value = jnp.full((8, 3), float(i))
            history.update()
        assert_allclose(np.asarray(history.at("two")), np.ones((8, 3)))


def test_units_are_kept():
    import brainunit as u  # a test dependency; imported here so the module stays light

    with bs.environ.context(dt=0.1 * u.ms):
        delay = bs.nn.Delay(jnp.zeros(2) * u.mV, entries={"half": 0.05 * u.ms, "one": 0.1 * u.ms})
        delay.init_state()
        delay.update(jnp.ones(2) * u.mV)
        delay.update(3 * jnp.ones(2) * u.mV)
        assert_allclose(np.asarray(delay.at("one").to_decimal(u.mV)), [1.0, 1.0])
        assert_allclose(np.asarray(delay.at("half").to_decimal(u.mV)), [2.0, 2.0])
        assert_allclose(np.asarray(bs.transform.jit(lambda: delay.at("one"))().to_decimal(u.mV)), [1.0, 1.0])


# -- errors -------------------------------------------------------------------------------------
def test_unknown_interpolation():
    with pytest.raises(ValueError, match=r"unknown interpolation 'spline'; available: \['nearest', 'round', "):
        bs.nn.Delay(jnp.zeros(2), interpolation="spline")


def test_interpolation_of_a_wrong_type():
    with pytest.raises(TypeError, match="interpolation must be a method name or a callable"):
        bs.nn.Delay(jnp.zeros(2), interpolation=3)


def test_unknown_delay_method():
    with pytest.raises(ValueError, match=r"delay_method must be 'rotation' .* or 'concat' .*, got 'shift'"):
        bs.nn.Delay(jnp.zeros(2), delay_method="shift")


def test_bad_init():
    with pytest.raises(TypeError, match="init must be None, a scalar, an array or a function"):
        bs.nn.Delay(jnp.zeros(2), init="zeros")


def test_update_every_must_be_a_multiple_of_dt():
    with bs.environ.context(dt=DT), pytest.raises(ValueError, match="update_every must be a whole multiple of dt"):
        bs.nn.Delay(jnp.zeros(2), update_every=1.5 * DT)


def test_negative_delay():
    with bs.environ.context(dt=DT), pytest.raises(ValueError, match="delays must be non-negative"):
        bs.nn.Delay(jnp.zeros(2), time=-DT)


def test_traced_delay_time():
    delay = bs.nn.Delay(jnp.zeros(2))

    def register(t):
        delay.register_delay(t)
        return t

    with bs.environ.context(dt=DT), pytest.raises(ValueError, match="delay times must be concrete"):
        jax.jit(register)(1.0)


def test_register_delay_needs_a_time():
    with pytest.raises(TypeError, match="register_delay needs a delay time"):
        bs.nn.Delay(jnp.zeros(2)).register_delay()


def test_registering_a_longer_delay_after_init_state():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), time=DT)
        delay.init_state()
        with pytest.raises(ValueError, match="Register every delay before `init_state`"):
            delay.register_entry("long", 5 * DT)


def test_duplicate_entry():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), entries={"a": DT})
        with pytest.raises(KeyError, match="already registered"):
            delay.register_entry("a", 2 * DT)


def test_unknown_entry():
    delay = bs.nn.Delay(jnp.zeros(2))
    delay.init_state()
    with pytest.raises(KeyError, match="no delay entry 'b'"):
        delay.at("b")


def test_use_before_init_state():
    with pytest.raises(bs.BrainStateError, match="call `init_state\\(\\)`"):
        bs.nn.Delay(jnp.zeros(2)).update(jnp.ones(2))


def test_no_target_info():
    with pytest.raises(ValueError, match="target_info=None"):
        bs.nn.Delay(None).init_state()


def test_wrong_number_of_leaves():
    delay = bs.nn.Delay(jnp.zeros(2))
    delay.init_state()
    with pytest.raises(ValueError, match="got a value with 2 leaves"):
        delay.update((jnp.ones(2), jnp.ones(2)))


def test_step_beyond_the_buffer():
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), time=2 * DT)
    delay.init_state()
    with pytest.raises(ValueError, match="delay_step must be in \\[0, 2\\]"):
        delay.retrieve_at_step(3)


def test_delay_access_needs_a_delay():
    with pytest.raises(TypeError, match="DelayAccess: delay must be a Delay"):
        bs.nn.DelayAccess(object(), 1.0, entry="a")


def test_state_with_delay_of_a_non_state():
    holder = bs.nn.Module()
    holder.x = jnp.zeros(2)
    with pytest.raises(TypeError, match=r"StateWithDelay.*: Module\.x is ArrayImpl, not a State\. Record a state "
                                        r"attribute \(initialise the target's states first\)"):
        bs.nn.StateWithDelay(holder, "x").init_state()


def test_a_delay_without_target_info_cannot_build_its_buffer():
    delay = bs.nn.Delay(None)
    with pytest.raises(ValueError, match=r"Delay does not know the shape of its values \(target_info=None\)"):
        delay.init_state()
