"""Where the grad family puts gradients: pytree outputs (jacobians), second order (hessian),
states and arguments together, and units (`unit_aware=True`). The oracle is plain JAX on a
function of the same values passed explicitly."""

import sys

import jax
import jax.numpy as jnp
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

T = bs.transform
W0, V0 = jnp.array([1.0, 2.0, 3.0]), jnp.array(0.5)


def assert_trees_close(a, b):
    assert jax.tree_util.tree_structure(a) == jax.tree_util.tree_structure(b)
    for x, y in zip(jax.tree_util.tree_leaves(a), jax.tree_util.tree_leaves(b)):
        assert_allclose(x, y, rtol=1e-6, atol=1e-6)


@pytest.fixture
def wv():
    return bs.ParamState(W0), bs.ParamState(V0)


def dict_out(w, v):
    return {"a": jnp.sin(w) * v, "b": w.sum()}


@pytest.mark.parametrize("jac", [T.jacrev, T.jacfwd])
def test_dict_output_has_output_outside_states_inside(wv, jac):
    w, v = wv
    got = jac(lambda: dict_out(w.value, v.value), grad_states={"w": w, "v": v})()
    expected = getattr(jax, jac.__name__)(lambda p: dict_out(p["w"], p["v"]))({"w": W0, "v": V0})
    assert_trees_close(got, expected)
    got_list = jac(lambda: dict_out(w.value, v.value), grad_states=[w, v])()
    expected_list = getattr(jax, jac.__name__)(lambda p: dict_out(*p))([W0, V0])
    assert_trees_close(got_list, expected_list)


@pytest.mark.parametrize("jac", [T.jacrev, T.jacfwd])
def test_single_state_and_tuple_output(wv, jac):
    w, _ = wv
    got = jac(lambda: (w.value * 2.0, w.value.sum()), grad_states=w)()
    assert isinstance(got, tuple) and len(got) == 2
    assert_allclose(got[0], 2.0 * jnp.eye(3))
    assert_allclose(got[1], jnp.ones(3))


def test_states_and_argument_together_follow_jax(wv):
    w, v = wv
    x = jnp.ones(3)
    got = T.jacrev(lambda x: (w.value * x * v.value, (w.value * x).sum()), grad_states=[w, v], argnums=0)(x)
    expected = jax.jacrev(lambda p: (p[0][0] * p[1] * p[0][1], (p[0][0] * p[1]).sum()))(([W0, V0], x))
    assert_trees_close(got, expected)


def test_array_output_keeps_the_pair_convention(wv):
    w, _ = wv
    x = jnp.arange(3.0)
    state_jac, arg_jac = T.jacrev(lambda x: w.value * x, grad_states=w, argnums=0)(x)
    assert_allclose(state_jac, jnp.diag(x))
    assert_allclose(arg_jac, jnp.diag(W0))


def test_hessian_of_one_state_is_an_array(wv):
    w, v = wv
    h = T.hessian(lambda: jnp.sum(w.value ** 2) * v.value ** 2, grad_states=w)()
    assert isinstance(h, jax.Array)
    assert_allclose(h, 2 * 0.25 * jnp.eye(3))


def test_hessian_of_a_dict_nests_the_dict_twice(wv):
    w, v = wv
    got = T.hessian(lambda: jnp.sum(w.value ** 2) * v.value ** 2, grad_states={"w": w, "v": v})()
    expected = jax.hessian(lambda p: jnp.sum(p["w"] ** 2) * p["v"] ** 2)({"w": W0, "v": V0})
    assert_trees_close(got, expected)
    assert set(got) == {"w", "v"} and set(got["w"]) == {"w", "v"}


def test_hessian_with_states_and_argument_is_the_block_matrix(wv):
    w, _ = wv
    x = jnp.array([3.0, 4.0, 5.0])
    (hww, hwx), (hxw, hxx) = T.hessian(lambda x: jnp.sum(w.value ** 2 * x ** 3), grad_states=w, argnums=0)(x)
    assert_allclose(hww, jnp.diag(2 * x ** 3))
    assert_allclose(hxx, jnp.diag(6 * W0 ** 2 * x))
    assert_allclose(hwx, jnp.diag(6 * W0 * x ** 2))
    assert_allclose(hxw, hwx)


def test_grad_with_tuple_argnums_and_states(wv):
    w, v = wv
    gs, (gx, gy) = T.grad(lambda x, y: jnp.sum(w.value * x * y), grad_states=[w], argnums=(0, 1))(2.0, 3.0)
    assert_allclose(gs[0], [6.0, 6.0, 6.0])
    assert_allclose(gx, 3.0 * W0.sum())
    assert_allclose(gy, 2.0 * W0.sum())


def test_vjp_still_returns_state_and_argument_cotangents(wv):
    w, _ = wv
    out, f_vjp = T.vjp(lambda x: w.value * x, 3.0, grad_states={"w": w})
    gs, gx = f_vjp(jnp.ones(3))
    assert_allclose(gs["w"], [3.0, 3.0, 3.0])
    assert_allclose(gx, W0.sum())


# -- units ------------------------------------------------------------------------------------
def test_unit_aware_gradients_carry_units():
    u = pytest.importorskip("brainunit")
    w = bs.ParamState(jnp.array([1.0, 2.0]) * u.mV)
    loss = lambda x: u.math.sum(w.value * x)
    g = T.grad(loss, grad_states=w, unit_aware=True)(3.0 * u.ms)
    assert u.get_unit(g) == u.ms
    assert_allclose(g.mantissa, [3.0, 3.0])
    (gw, gx), value = T.grad(loss, grad_states=w, argnums=0, unit_aware=True, return_value=True)(3.0 * u.ms)
    assert u.get_unit(gx) == u.mV and float(gx.mantissa) == 3.0
    assert_allclose(value.to_decimal(u.mV * u.ms), 9.0)
    vg = T.vector_grad(lambda x: w.value * x, grad_states=w, unit_aware=True)(3.0 * u.ms)
    assert u.get_unit(vg) == u.ms
    jr = T.jacrev(lambda x: w.value * x, grad_states=w, unit_aware=True)(3.0 * u.ms)
    assert_allclose(jr.mantissa, 3.0 * jnp.eye(2))
    jf = T.jacfwd(lambda x: w.value * x, argnums=0, unit_aware=True)(3.0 * u.ms)
    assert u.get_unit(jf) == u.mV
    h = T.hessian(lambda x: u.math.sum(w.value * x ** 2), argnums=0, unit_aware=True)(jnp.ones(2) * u.ms)
    assert_allclose(h.mantissa, jnp.diag(jnp.array([2.0, 4.0])))
    assert u.get_unit(h) == u.mV


def test_without_unit_aware_grad_refuses_a_quantity_loss():
    u = pytest.importorskip("brainunit")
    w = bs.ParamState(jnp.array([1.0, 2.0]) * u.mV)
    with pytest.raises(TypeError, match=r"grad: the function returned a Quantity in .*; pass unit_aware=True"):
        T.grad(lambda x: u.math.sum(w.value * x), grad_states=w)(3.0 * u.ms)


def test_without_unit_aware_the_other_transforms_take_a_quantity_as_a_pytree():
    # braintools' exponential Euler takes vector_grad of a derivative in mV / ms
    u = pytest.importorskip("brainunit")

    def f(v):
        return (-65.0 * u.mV - v * u.mV) / (10.0 * u.ms)

    assert_allclose(T.vector_grad(f)(jnp.ones(2)), [-0.1, -0.1], rtol=1e-6)
    jr = T.jacrev(f)(jnp.ones(2))
    assert_allclose(jr.mantissa, -0.1 * jnp.eye(2), rtol=1e-6)
    assert u.get_unit(jr) == u.mV / u.ms
    assert_allclose(T.jacfwd(f)(jnp.ones(2)).mantissa, -0.1 * jnp.eye(2), rtol=1e-6)


def test_unit_aware_without_brainunit_says_how_to_install(monkeypatch):
    monkeypatch.setitem(sys.modules, "brainunit", None)
    with pytest.raises(ImportError, match=r"pip install 'brainstate\[units\]'"):
        T.grad(lambda x: x, unit_aware=True)
