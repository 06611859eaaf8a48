"""`InterpolationRegistry`, the built-in interpolation methods, and `Delay`'s buffer layouts."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.nn import InterpolationRegistry

DT = 0.1
BUILT_IN = ["nearest", "round", "linear", "linear_interp", "cubic", "hermite", "polynomial2", "polynomial3"]
FRACTIONAL = ["linear", "cubic", "hermite", "polynomial2", "polynomial3"]


@pytest.fixture
def registry():
    """Restores the registry after a test that registers methods."""
    saved = dict(InterpolationRegistry._methods)
    yield InterpolationRegistry
    InterpolationRegistry._methods.clear()
    InterpolationRegistry._methods.update(saved)


# -- the registry ---------------------------------------------------------------------------------

def test_built_in_methods_are_listed():
    assert InterpolationRegistry.list_methods()[:len(BUILT_IN)] == BUILT_IN


def test_aliases_are_the_same_methods():
    assert InterpolationRegistry.get("round") is InterpolationRegistry.get("nearest")
    assert InterpolationRegistry.get("linear_interp") is InterpolationRegistry.get("linear")


def test_get_unknown_method():
    with pytest.raises(ValueError, match=r"Unknown interpolation method 'spline'. Available methods: \['nearest'"):
        InterpolationRegistry.get("spline")


def test_register_get_and_unregister(registry):
    def first(history, indices, float_idx, max_length):
        return jax.tree.map(lambda h: h[(0,) + indices], history)

    registry.register("first", first)
    assert registry.get("first") is first and registry.list_methods()[-1] == "first"
    registry.register("first", _sum_method)  # registering again replaces
    assert registry.get("first") is _sum_method
    registry.unregister("first")
    assert "first" not in registry.list_methods()


@pytest.mark.parametrize("name, method, error, match", [
    (3, lambda *a: None, TypeError, "name must be a string, got int"),
    ("m", 3, TypeError, r"the method for 'm' must be callable as fn\(history, indices, float_idx, max_length\)"),
    ("cubic", lambda *a: None, ValueError, "'cubic' is a built-in method and cannot be replaced"),
])
def test_register_rejects(registry, name, method, error, match):
    with pytest.raises(error, match=match):
        registry.register(name, method)


@pytest.mark.parametrize("name, match", [("linear", "InterpolationRegistry.unregister: 'linear' is built in"),
                                            ("nope", "InterpolationRegistry.unregister: 'nope' is not registered")])
def test_unregister_rejects(name, match):
    with pytest.raises(ValueError, match=match):
        InterpolationRegistry.unregister(name)


# -- the methods against closed forms ---------------------------------------------------------------

RING = 12
POSITIONS = np.array([2.0, 3.3, 4.5, 6.75, 8.1])  # away from the ends, so no stencil wraps


def _ring(f):
    slots = np.arange(RING, dtype=np.float64)
    return jnp.asarray(np.stack([f(slots), 2 * f(slots) + 1], axis=1), jnp.float32)  # two features


def _read(name, ring, pos, **kw):
    return np.asarray(InterpolationRegistry.get(name)(ring, (), jnp.asarray(pos, jnp.float32), RING, **kw))


@pytest.mark.parametrize("name, degree", [("linear", 1), ("cubic", 2), ("hermite", 2), ("polynomial2", 2),
                                          ("polynomial3", 3)])
def test_methods_reproduce_polynomials_of_their_degree(name, degree):
    def f(x):
        return 0.3 * x ** degree - 1.2 * x + 0.5

    ring = _ring(f)
    for pos in POSITIONS:
        assert_allclose(_read(name, ring, pos), [f(pos), 2 * f(pos) + 1], rtol=1e-5, atol=1e-4)


def test_nearest_rounds_the_position():
    ring = _ring(np.exp)
    for pos in POSITIONS:
        assert_allclose(_read("nearest", ring, pos), ring[int(np.round(pos))])


def _catmull_rom_numpy(v, t):
    vm1, v0, v1, v2 = v
    return 0.5 * (2 * v0 + (v1 - vm1) * t + (2 * vm1 - 5 * v0 + 4 * v1 - v2) * t ** 2
                  + (3 * v0 - vm1 - 3 * v1 + v2) * t ** 3)


@pytest.mark.parametrize("name", ["cubic", "hermite"])
def test_cubic_and_hermite_are_the_catmull_rom_spline(name):
    ring = _ring(np.sin)
    values = np.asarray(ring)
    for pos in POSITIONS:
        i, t = int(np.floor(pos)), pos - np.floor(pos)
        want = _catmull_rom_numpy([values[i - 1], values[i], values[i + 1], values[i + 2]], t)
        assert_allclose(_read(name, ring, pos), want, rtol=1e-5, atol=1e-6)


def test_polynomial3_matches_numpy_polyfit():
    ring = _ring(np.cos)
    values = np.asarray(ring)
    for pos in POSITIONS:
        i = int(np.floor(pos))
        xs = np.arange(i - 1, i + 3)
        want = [np.polyval(np.polyfit(xs, values[xs, k], 3), pos) for k in range(2)]
        assert_allclose(_read("polynomial3", ring, pos), want, rtol=1e-4, atol=1e-5)


def test_positions_wrap_around_the_ring():
    ring = _ring(lambda x: x)
    assert_allclose(_read("linear", ring, -0.5), 0.5 * (np.asarray(ring[-1]) + np.asarray(ring[0])))


def test_newest_clamps_the_stencil_to_the_stored_window():
    ring = _ring(lambda x: x ** 2)
    values = np.asarray(ring)
    # newest = 5: slots 6.. hold the oldest values, which a stencil must not reach into.
    got = _read("cubic", ring, 4.5, newest=5)
    want = _catmull_rom_numpy([values[3], values[4], values[5], values[5]], 0.5)
    assert_allclose(got, want, rtol=1e-6)


def test_array_positions_with_indices():
    ring = _ring(lambda x: x ** 2)
    pos = jnp.array([2.5, 3.25])
    got = InterpolationRegistry.get("cubic")(ring, (jnp.array([0, 1]),), pos, RING)
    assert_allclose(got, [2.5 ** 2, 2 * 3.25 ** 2 + 1], rtol=1e-5)


# -- Delay --------------------------------------------------------------------------------------------

N = 16


def _signal():
    i = np.arange(N, dtype=np.float64)
    return np.stack([0.05 * i ** 2 - i, np.sin(i)], axis=1).astype(np.float32)


def _run(delay, xs, read, jit=True):
    def run(xs):
        def step(i, x):
            with bs.environ.context(t=i * DT):
                delay.update(x)
                return read()

        return bs.transform.for_loop(step, jnp.arange(N), xs)

    with bs.environ.context(dt=DT):
        return np.asarray(bs.transform.jit(run)(jnp.asarray(xs)) if jit else run(jnp.asarray(xs)))


def _delay(**kw):
    with bs.environ.context(dt=DT):
        delay = bs.nn.Delay(jnp.zeros(2), **kw)
    delay.init_state()
    return delay


@pytest.mark.parametrize("name", FRACTIONAL)
def test_delay_entries_interpolate_with_the_method(name):
    delay = _delay(entries={"x": 2.5 * DT}, interpolation=name)
    xs = _signal()
    out = _run(delay, xs, lambda: delay.at("x"))
    ring = jnp.asarray(xs)  # the whole signal, slot i = step i
    for n in range(5, N - 2):  # the stencil around n - 2.5 lies inside the written steps
        assert_allclose(out[n], _read_signal(name, ring, n - 2.5), rtol=1e-5, atol=1e-5)


def _read_signal(name, signal, pos):
    return np.asarray(InterpolationRegistry.get(name)(signal, (), jnp.float32(pos), len(signal)))


@pytest.mark.parametrize("name", FRACTIONAL + ["nearest"])
def test_retrieve_at_time_interpolates_with_the_method(name):
    delay = _delay(time=5 * DT, interpolation=name)
    xs = _signal()
    out = _run(delay, xs, lambda: delay.retrieve_at_time(bs.environ.get("t") - 1.25 * DT))
    ring = jnp.asarray(xs)
    for n in range(4, N - 2):
        assert_allclose(out[n], _read_signal(name, ring, n - 1.25), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("name", BUILT_IN)
@pytest.mark.parametrize("every", [1, 2])
def test_rotation_and_concat_give_the_same_values(name, every):
    outs = []
    for method in ["rotation", "concat"]:
        delay = _delay(time=4 * DT, entries={"a": 1.5 * DT, "b": 3 * DT}, interpolation=name, delay_method=method,
                       update_every=every * DT, init=-1.0)
        outs.append(_run(delay, _signal(), lambda: (delay.at("a"), delay.at("b"), delay.retrieve_at_step(2),
                                                     delay.retrieve_at_time(bs.environ.get("t") - 0.5 * DT))))
    for rotation, concat in zip(*outs, strict=True):
        assert_allclose(rotation, concat, rtol=1e-6, atol=1e-6)


def test_concat_keeps_the_newest_value_last():
    delay = _delay(time=3 * DT, delay_method="concat")
    for i in range(5):
        delay.update(jnp.full(2, float(i)))
    assert_allclose(np.asarray(delay.history.value)[:, 0], [1.0, 2.0, 3.0, 4.0])


def test_eager_and_jitted_loops_agree():
    reads = []
    for jit in (False, True):
        delay = _delay(entries={"x": 2.5 * DT}, interpolation="hermite", delay_method="concat")
        reads.append(_run(delay, _signal(), lambda: delay.at("x"), jit=jit))
    assert_allclose(reads[0], reads[1], rtol=1e-6)


def test_stencil_at_the_newest_end_repeats_the_newest_value():
    delay = _delay(time=4 * DT, entries={"half": 0.5 * DT}, interpolation="cubic")
    for v in (1.0, 2.0, 4.0, 8.0):
        delay.update(jnp.full(2, v))
    # Half a step back lies between 4 and 8; the stencil's value after 8 repeats 8 instead of
    # wrapping around to the oldest slot.
    want = _catmull_rom_numpy([2.0, 4.0, 8.0, 8.0], 0.5)
    assert_allclose(np.asarray(delay.at("half")), [want, want])


def test_interp_method_is_the_older_name_of_interpolation():
    delay = _delay(entries={"x": 2.4 * DT}, interp_method="round")
    assert delay.interp_method == "nearest"
    for i in range(4):
        delay.update(jnp.full(2, float(i)))
    assert_allclose(np.asarray(delay.at("x")), [0.0, 0.0])  # 2.4 steps, registered as 3 whole steps
    assert _delay(interp_method="round", interpolation="cubic").interp_method == "cubic"
    assert _delay().interp_method == "linear"
    assert _delay(interp_method="linear_interp").interp_method == "linear"
    assert _delay(interpolation="round").interp_method == "round"


def _sum_method(history, indices, float_idx, max_length):
    """A custom method: the sum of the whole buffer (ignores the position)."""
    return jax.tree.map(lambda h: h.sum(axis=0), history)


def test_delay_uses_a_registered_or_callable_method(registry):
    registry.register("sum", _sum_method)
    for spec in ("sum", _sum_method):
        delay = _delay(entries={"x": 1.5 * DT}, interpolation=spec)
        for i in range(3):
            delay.update(jnp.full(2, float(i)))
        assert_allclose(np.asarray(delay.at("x")), [3.0, 3.0])


def test_a_method_returning_the_wrong_structure_is_reported():
    delay = _delay(entries={"x": 1.5 * DT}, interpolation=lambda h, i, p, n: (h, h))
    with pytest.raises(ValueError, match="returned 2 leaves, but the delay holds 1"):
        delay.at("x")


def test_a_fractional_read_past_the_buffer_is_reported():
    delay = _delay(time=2 * DT)
    with bs.environ.context(dt=DT, t=1.0), pytest.raises(ValueError, match="a delay of 2.5 steps reaches past"):
        delay.retrieve_at_time(1.0 - 2.5 * DT)


@pytest.mark.parametrize("name, extra", [("linear", 0), ("nearest", 0), ("cubic", 1), ("hermite", 1),
                                         ("polynomial2", 1), ("polynomial3", 1), (_sum_method, 0)])
def test_wider_stencils_store_one_more_step(name, extra):
    assert _delay(time=2.5 * DT, interpolation=name).max_length == 4 + extra
    assert _delay(interpolation=name).max_length == 1


def test_stencil_at_the_oldest_end_repeats_the_oldest_value():
    delay = _delay(time=2 * DT, interpolation="cubic")
    assert delay.max_length == 4  # 16, 8, 4, 2 stay stored; 1 is overwritten
    for v in (1.0, 2.0, 4.0, 8.0, 16.0):
        delay.update(jnp.full(2, v))
    with bs.environ.context(dt=DT, t=1.0):
        got = np.asarray(delay.retrieve_at_time(1.0 - 2.5 * DT))
    # 2.5 steps back lies between 4 and 2; the stencil's older end (4 back) is not stored, so it
    # repeats 2 rather than wrapping around to the newest value, 16.
    want = _catmull_rom_numpy([2.0, 2.0, 4.0, 8.0], 0.5)
    assert_allclose(got, [want, want], rtol=1e-6)


def test_max_time_is_the_longest_registered_delay():
    delay = _delay(time=2 * DT, entries={"a": 3.5 * DT, "b": DT})
    assert delay.max_time == 3.5 * DT and delay.max_length == 5
    assert _delay().max_time == 0.0
    with bs.environ.context(dt=DT):
        vector = bs.nn.Delay(jnp.zeros(2), time=jnp.array([DT, 4 * DT, 2 * DT]))
    assert_allclose(vector.max_time, 4 * DT)


def test_max_time_keeps_units():
    import brainunit as u  # a test dependency; imported here so the module stays light

    with bs.environ.context(dt=0.1 * u.ms):
        delay = bs.nn.Delay(jnp.zeros(2) * u.mV, time=0.3 * u.ms, entries={"a": 0.2 * u.ms})
    assert delay.max_time == 0.3 * u.ms and delay.max_length == 4
