"""RNN cells against hand-written equations, under loops and vmap, and their errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn

N_IN, N_OUT = 3, 4
CELLS = [nn.ValinaRNNCell, nn.GRUCell, nn.MGUCell, nn.LSTMCell, nn.URLSTMCell]


def sig(x):
    return 1 / (1 + np.exp(-x))


def affine(linear, x):
    p = {k: np.asarray(v, np.float64) for k, v in linear.weight.value.items()}
    return x @ p["weight"] + p.get("bias", 0.0)


# Hand-written steps: (cell, x, hidden dict) -> new hidden dict; the output is hidden['h'].
def vanilla_step(cell, x, s):
    return {"h": np.maximum(affine(cell.W, np.concatenate([x, s["h"]], -1)), 0)}


def gru_step(cell, x, s):
    h = s["h"]
    rz = sig(affine(cell.Wrz, np.concatenate([x, h], -1)))
    r, z = rz[..., :N_OUT], rz[..., N_OUT:]
    n = np.tanh(affine(cell.Wh, np.concatenate([x, r * h], -1)))
    return {"h": (1 - z) * h + z * n}


def mgu_step(cell, x, s):
    h = s["h"]
    f = sig(affine(cell.Wf, np.concatenate([x, h], -1)))
    n = np.tanh(affine(cell.Wh, np.concatenate([x, f * h], -1)))
    return {"h": (1 - f) * h + f * n}


def lstm_step(cell, x, s):
    z = affine(cell.W, np.concatenate([x, s["h"]], -1))
    i, g, f, o = (z[..., k * N_OUT:(k + 1) * N_OUT] for k in range(4))
    c = sig(f + 1) * s["c"] + sig(i) * np.tanh(g)
    return {"c": c, "h": sig(o) * np.tanh(c)}


def urlstm_step(cell, x, s):
    z = affine(cell.W, np.concatenate([x, s["h"]], -1))
    f, r, u, o = (z[..., k * N_OUT:(k + 1) * N_OUT] for k in range(4))
    b = np.asarray(cell.bias.value, np.float64)
    fg, rg = sig(f + b), sig(r - b)
    g = 2 * rg * fg + (1 - 2 * rg) * fg ** 2
    c = g * s["c"] + (1 - g) * np.tanh(u)
    return {"c": c, "h": sig(o) * np.tanh(c)}


STEPS = {nn.ValinaRNNCell: vanilla_step, nn.GRUCell: gru_step, nn.MGUCell: mgu_step,
         nn.LSTMCell: lstm_step, nn.URLSTMCell: urlstm_step}


def make(cls, batch_size=None, **kw):
    bs.random.seed(0)
    cell = cls(N_IN, N_OUT, **kw)
    cell.init_state(batch_size)
    return cell


def inputs(steps, batch=()):
    return np.sin(np.arange(steps * int(np.prod(batch)) * N_IN, dtype=np.float32)).reshape(steps, *batch, N_IN)


@pytest.mark.parametrize("batch_size", [None, 2])
@pytest.mark.parametrize("cls", CELLS, ids=lambda c: c.__name__)
def test_steps_match_hand_written_equations(cls, batch_size):
    cell = make(cls, batch_size)
    names = sorted(cell.states(bs.HiddenState))
    hidden = {p[0]: np.asarray(cell.states(bs.HiddenState)[p].value, np.float64) for p in names}
    batch = () if batch_size is None else (batch_size,)
    for x in inputs(3, batch):
        out = cell(jnp.asarray(x))
        hidden = STEPS[cls](cell, x.astype(np.float64), hidden)
        assert_allclose(np.asarray(out), hidden["h"], rtol=1e-5, atol=1e-6)
        for name, value in hidden.items():
            assert_allclose(np.asarray(getattr(cell, name).value), value, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", CELLS, ids=lambda c: c.__name__)
def test_hidden_values_are_hidden_states(cls):
    cell = make(cls, 5)
    hidden = cell.states(bs.HiddenState)
    expected = {("h",)} | ({("c",)} if cls in (nn.LSTMCell, nn.URLSTMCell) else set())
    assert set(hidden) == expected
    for state in hidden.values():
        assert type(state) is bs.HiddenState and state.value.shape == (5, N_OUT)
    assert all(isinstance(p, bs.ParamState) for p in cell.states(bs.ParamState).values())
    assert cell.in_size == (N_IN,) and cell.out_size == (N_OUT,)


def test_parameter_layout():
    assert set(make(nn.GRUCell).states(bs.ParamState)) == {("Wrz", "weight"), ("Wh", "weight")}
    assert make(nn.GRUCell).Wrz.weight.value["weight"].shape == (N_IN + N_OUT, 2 * N_OUT)
    assert make(nn.LSTMCell).W.weight.value["weight"].shape == (N_IN + N_OUT, 4 * N_OUT)
    ur = make(nn.URLSTMCell)
    assert set(ur.states(bs.ParamState)) == {("W", "weight"), ("bias",)}
    assert set(ur.W.weight.value) == {"weight"}


def test_urlstm_forget_bias_is_uniform_logit():
    bs.random.seed(0)
    cell = nn.URLSTMCell(2, 50)
    u = np.asarray(jax.nn.sigmoid(cell.bias.value))
    assert u.min() >= 1 / 50 - 1e-6 and u.max() <= 1 - 1 / 50 + 1e-6
    assert u.std() > 0.1
    assert_allclose(nn.URLSTMCell(2, 1).bias.value, [0.0])


def test_default_orthogonal_and_xavier_initializers():
    bs.random.seed(0)
    w = np.asarray(nn.GRUCell(4, 4).Wh.weight.value["weight"])  # (8, 4): orthonormal columns
    assert_allclose(w.T @ w, np.eye(4), atol=1e-5)
    w = np.asarray(nn.LSTMCell(50, 50).W.weight.value["weight"])
    assert abs(w.std() - np.sqrt(2 / (100 + 200))) < 0.01


def test_custom_initializers_and_activation():
    cell = nn.ValinaRNNCell(2, 3, state_init=0.5, w_init=jnp.ones((5, 3)), b_init=None, activation="tanh")
    cell.init_state()
    assert_allclose(cell.h.value, np.full(3, 0.5))
    assert_allclose(cell(jnp.ones(2)), np.tanh(np.full(3, 3.5)), rtol=1e-6)
    cell = nn.ValinaRNNCell(2, 3, w_init=jnp.ones((5, 3)), activation=lambda v: 2 * v)
    cell.init_state()
    assert_allclose(cell(jnp.ones(2)), np.full(3, 4.0))


def test_state_init_function_gets_the_shape():
    cell = nn.GRUCell(2, 3, state_init=lambda shape: jnp.full(shape, 0.25))
    cell.init_state(batch_size=4)
    assert_allclose(cell.h.value, np.full((4, 3), 0.25))


def test_reset_state_restores_initial_values_and_batch():
    cell = make(nn.LSTMCell)
    cell(jnp.ones(N_IN))
    cell.reset_state()
    assert_allclose(cell.h.value, np.zeros(N_OUT))
    assert_allclose(cell.c.value, np.zeros(N_OUT))
    h = cell.h
    cell.reset_state(batch_size=3)
    assert cell.h is h and cell.h.value.shape == (3, N_OUT)


def test_init_all_states_initialises_nested_cells():
    net = nn.Sequential(nn.GRUCell(2, 3), nn.Linear(3, 1))
    nn.init_all_states(net, 7)
    assert net.layers[0].h.value.shape == (7, 3)
    assert net(jnp.ones((7, 2))).shape == (7, 1)


@pytest.mark.parametrize("cls", CELLS, ids=lambda c: c.__name__)
def test_for_loop_equals_python_loop(cls):
    if not hasattr(bs.transform, "for_loop"):
        pytest.skip("transform.for_loop not available yet")
    xs = jnp.asarray(inputs(6, (2,)))
    cell = make(cls, 2)
    expected = np.stack([np.asarray(cell(x)) for x in xs])
    final = np.asarray(cell.h.value)
    cell = make(cls, 2)
    looped = bs.transform.for_loop(cell, xs)
    assert_allclose(looped, expected, rtol=1e-5, atol=1e-6)
    assert_allclose(cell.h.value, final, rtol=1e-5, atol=1e-6)


def test_bptt_gradient_matches_pure_jax():
    if not hasattr(bs.transform, "for_loop"):
        pytest.skip("transform.for_loop not available yet")
    xs = jnp.asarray(inputs(5))
    cell = make(nn.MGUCell)
    params = cell.states(bs.ParamState)

    def loss():
        cell.reset_state()
        return jnp.sum(bs.transform.for_loop(cell, xs) ** 2)

    grads = bs.transform.grad(loss, grad_states=params)()

    def pure(wf, wh):
        def step(h, x):
            f = jax.nn.sigmoid(jnp.concatenate([x, h]) @ wf["weight"] + wf["bias"])
            n = jnp.tanh(jnp.concatenate([x, f * h]) @ wh["weight"] + wh["bias"])
            h = (1 - f) * h + f * n
            return h, h

        return jnp.sum(jax.lax.scan(step, jnp.zeros(N_OUT), xs)[1] ** 2)

    gf, gh = jax.grad(pure, argnums=(0, 1))(cell.Wf.weight.value, cell.Wh.weight.value)
    for key in ("weight", "bias"):
        assert_allclose(grads[("Wf", "weight")][key], gf[key], rtol=1e-5, atol=1e-6)
        assert_allclose(grads[("Wh", "weight")][key], gh[key], rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cls", [nn.GRUCell, nn.LSTMCell], ids=lambda c: c.__name__)
def test_vmap_over_hidden_states_equals_batched_call(cls):
    if not hasattr(bs.transform, "vmap"):
        pytest.skip("transform.vmap not available yet")
    x = jnp.asarray(inputs(1, (3,))[0])
    cell = make(cls, 3)
    expected = np.asarray(cell(x))
    cell = make(cls, 3)
    hidden = list(cell.states(bs.HiddenState).values())
    out = bs.transform.vmap(lambda v: cell(v), in_states=hidden, out_states=hidden)(x)
    assert_allclose(out, expected, rtol=1e-5, atol=1e-6)
    assert_allclose(cell.h.value, expected, rtol=1e-5, atol=1e-6)


# -- errors ------------------------------------------------------------------------------------
@pytest.mark.parametrize("cls", CELLS, ids=lambda c: c.__name__)
def test_call_before_init_state_raises(cls):
    cell = cls(N_IN, N_OUT)
    with pytest.raises(bs.BrainStateError, match=rf"{cls.__name__} has no hidden state .*init_state.*init_all_states"):
        cell(jnp.ones(N_IN))


def test_error_names_the_cell():
    with pytest.raises(bs.BrainStateError, match=r"LSTMCell\('enc'\) has no hidden state"):
        nn.LSTMCell(2, 2, name="enc")(jnp.ones(2))


@pytest.mark.parametrize("cls", CELLS, ids=lambda c: c.__name__)
def test_wrong_input_size_raises(cls):
    cell = make(cls)
    with pytest.raises(ValueError, match=rf"{cls.__name__} expects inputs whose last dimension is num_in=3, got shape \(5,\)"):
        cell(jnp.ones(5))


def test_scalar_input_raises():
    with pytest.raises(ValueError, match="num_in=3, got a scalar"):
        make(nn.GRUCell)(1.0)


def test_batch_mismatch_raises():
    cell = make(nn.GRUCell, 2)
    with pytest.raises(ValueError, match=r"batch shape \(2,\), but got an input of shape \(3,\).*init_state\(batch_size\)"):
        cell(jnp.ones(N_IN))


@pytest.mark.parametrize("arg", ["num_in", "num_out"])
def test_bad_sizes_raise(arg):
    kw = {"num_in": 2, "num_out": 3, arg: 0}
    with pytest.raises(ValueError, match=f"GRUCell: {arg} must be a positive integer, got 0"):
        nn.GRUCell(**kw)


def test_unknown_activation_name_raises():
    with pytest.raises(ValueError, match="LSTMCell: unknown activation 'tanhh'"):
        nn.LSTMCell(2, 3, activation="tanhh")


def test_non_callable_activation_raises():
    with pytest.raises(TypeError, match="MGUCell: activation must be a function name .* or a callable, got int"):
        nn.MGUCell(2, 3, activation=3)


@pytest.mark.parametrize("batch_size", [0, 2.5, True])
def test_bad_batch_size_raises(batch_size):
    with pytest.raises(ValueError, match="ValinaRNNCell: batch_size must be None .* or a positive integer"):
        nn.ValinaRNNCell(2, 3).init_state(batch_size)


def test_bad_state_init_shape_raises():
    cell = nn.GRUCell(2, 3, state_init=jnp.ones(4))
    with pytest.raises(ValueError, match=r"GRUCell: state_init gave an array of shape \(4,\).*hidden shape \(3,\)"):
        cell.init_state()
