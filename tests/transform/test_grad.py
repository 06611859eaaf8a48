"""The grad family: return structures, state conventions and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs


@pytest.fixture
def params():
    return bs.ParamState(jnp.array([1.0, 2.0]), name="w"), bs.ParamState(jnp.array(0.5), name="b")


def loss_of(w, b):
    def loss(x):
        return jnp.sum(w.value * x) + b.value

    return loss


def test_single_state_gives_array(params):
    w, b = params
    g = bs.transform.grad(loss_of(w, b), grad_states=w)(3.0)
    assert_allclose(g, [3.0, 3.0])


@pytest.mark.parametrize("container", [list, tuple])
def test_sequence_gives_same_sequence(params, container):
    w, b = params
    g = bs.transform.grad(loss_of(w, b), grad_states=container([w, b]))(3.0)
    assert type(g) is container and len(g) == 2
    assert_allclose(g[1], 1.0)


def test_dict_gives_same_keys(params):
    w, b = params
    g = bs.transform.grad(loss_of(w, b), grad_states={"w": w, "b": b})(3.0)
    assert set(g) == {"w", "b"}


def test_module_states_gives_paths():
    layer = bs.nn.Linear(2, 1)
    params = layer.states(bs.ParamState)
    g = bs.transform.grad(lambda x: layer(x).sum(), grad_states=params)(jnp.ones(2))
    assert list(g) == [("weight",)]
    assert_allclose(g[("weight",)]["weight"], np.ones((2, 1)))


def test_states_and_argnums(params):
    w, b = params
    state_grads, arg_grad = bs.transform.grad(loss_of(w, b), grad_states=w, argnums=0)(3.0)
    assert_allclose(state_grads, [3.0, 3.0])
    assert_allclose(arg_grad, 3.0)


def test_argnums_tuple():
    gx, gy = bs.transform.grad(lambda x, y: x * y, argnums=(0, 1))(2.0, 5.0)
    assert float(gx) == 5.0 and float(gy) == 2.0


def test_default_argnums_zero():
    assert float(bs.transform.grad(lambda x: x ** 2)(3.0)) == 6.0


def test_extras_order_grads_value_aux(params):
    w, b = params

    def f(x):
        return jnp.sum(w.value * x), {"note": x}

    grads, value, aux = bs.transform.grad(f, grad_states=w, has_aux=True, return_value=True)(2.0)
    assert_allclose(grads, [2.0, 2.0])
    assert float(value) == 6.0 and float(aux["note"]) == 2.0


def test_non_differentiated_writes_applied(params):
    w, b = params
    h = bs.State(jnp.zeros(2), name="h")

    def f(x):
        h.value = w.value * x
        return jnp.sum(h.value)

    bs.transform.grad(f, grad_states=w)(3.0)
    assert_allclose(h.value, [3.0, 6.0])


def test_unused_grad_state_is_error(params):
    w, b = params
    unused = bs.ParamState(jnp.zeros(2), name="unused")
    with pytest.raises(bs.BrainStateError, match="ParamState 'unused'.*never reads it.*check_states=False"):
        bs.transform.grad(loss_of(w, b), grad_states=[w, unused])(1.0)
    g = bs.transform.grad(loss_of(w, b), grad_states=[w, unused], check_states=False)(1.0)
    assert_allclose(g[1], np.zeros(2))


def test_grad_states_must_be_states():
    with pytest.raises(TypeError, match="grad_states must contain only States"):
        bs.transform.grad(lambda: 0.0, grad_states=[jnp.ones(2)])


def test_grad_states_duplicates_rejected(params):
    w, _ = params
    with pytest.raises(ValueError, match="same State twice"):
        bs.transform.grad(lambda: 0.0, grad_states=[w, w])


def test_argnums_out_of_range():
    with pytest.raises(ValueError, match="argnums=3 is out of range"):
        bs.transform.grad(lambda x: x, argnums=3)(1.0)


def test_has_aux_needs_pair(params):
    w, b = params
    with pytest.raises(TypeError, match="has_aux=True needs the function to return a pair"):
        bs.transform.grad(lambda x: jnp.sum(w.value * x), grad_states=w, has_aux=True)(1.0)


def test_not_callable():
    with pytest.raises(TypeError, match="grad expects a callable"):
        bs.transform.grad(3)


def test_decorator_form(params):
    w, b = params

    @bs.transform.grad(grad_states=w)
    def f(x):
        return jnp.sum(w.value * x)

    assert_allclose(f(2.0), [2.0, 2.0])


def test_jit_of_grad_matches_raw(params):
    w, b = params
    f = bs.transform.jit(bs.transform.grad(loss_of(w, b), grad_states=[w, b]))
    gw, gb = f(4.0)
    raw = jax.grad(lambda w_, b_: jnp.sum(w_ * 4.0) + b_, argnums=(0, 1))(w.value, b.value)
    assert_allclose(gw, raw[0]) and assert_allclose(gb, raw[1])


def test_vector_grad_sums_cotangents(params):
    w, _ = params
    g = bs.transform.vector_grad(lambda x: w.value * x, argnums=0)(jnp.ones(2))
    assert_allclose(g, [1.0, 2.0])


def test_jacrev_jacfwd_agree(params):
    w, _ = params
    jr = bs.transform.jacrev(lambda x: w.value * x, grad_states=w)(2.0)
    jf = bs.transform.jacfwd(lambda x: w.value * x, grad_states=w)(2.0)
    assert_allclose(jr, 2 * np.eye(2))
    assert_allclose(jf, 2 * np.eye(2))
    assert bs.transform.jacobian is bs.transform.jacrev


def test_hessian():
    h = bs.transform.hessian(lambda x: jnp.sum(x ** 3))(jnp.array([1.0, 2.0]))
    assert_allclose(h, np.diag([6.0, 12.0]))


def test_vjp_states_and_args(params):
    w, _ = params
    out, f_vjp = bs.transform.vjp(lambda x: w.value * x, 3.0, grad_states=w)
    assert_allclose(out, [3.0, 6.0])
    gw, gx = f_vjp(jnp.ones(2))
    assert_allclose(gw, [3.0, 3.0]) and assert_allclose(gx, 3.0)


def test_vjp_has_aux_and_errors():
    out, f_vjp, aux = bs.transform.vjp(lambda x: (x * 2, x + 1), 1.0, has_aux=True)
    assert float(aux) == 2.0 and float(f_vjp(1.0)) == 2.0
    with pytest.raises(ValueError, match="vjp argnums=2 is out of range"):
        bs.transform.vjp(lambda x: x, 1.0, argnums=2)


def test_jvp_writes_primal_values():
    h = bs.State(jnp.zeros(()))

    def f(x):
        h.value = x * 2
        return x ** 2

    out, t = bs.transform.jvp(f, (3.0,), (1.0,))
    assert float(out) == 9.0 and float(t) == 6.0 and float(h.value) == 6.0
    with pytest.raises(ValueError, match="1 primal\\(s\\) but 2 tangent"):
        bs.transform.jvp(f, (3.0,), (1.0, 2.0))


def test_fwd_grad_is_unbiased_estimate(params):
    w, _ = params
    g = bs.transform.fwd_grad(lambda x: jnp.sum(w.value * x), grad_states=w, tangent_size=4000, key=0)(3.0)
    assert_allclose(g, [3.0, 3.0], atol=0.3)


def test_vmap_of_grad_per_example():
    w = bs.ParamState(jnp.array([1.0, -1.0]))
    xs = jnp.arange(6.0).reshape(3, 2)
    per_example = bs.transform.vmap(bs.transform.grad(lambda x: jnp.sum(w.value * x) ** 2, grad_states=w))(xs)
    raw = jax.vmap(jax.grad(lambda w_, x: jnp.sum(w_ * x) ** 2), in_axes=(None, 0))(w.value, xs)
    assert_allclose(per_example, raw, rtol=1e-6)


def test_grads_of_module_states_come_back_in_a_plain_dict_keyed_by_path():
    layer = bs.nn.Linear(2, 3, w_init=jnp.ones((2, 3)))
    params = layer.states(bs.ParamState)
    grads = bs.transform.grad(lambda: layer(jnp.ones(2)).sum(), params)()
    assert type(grads) is dict and set(grads) == set(params.keys())
    values = {k: v.value for k, v in params.items()}
    summed = jax.tree.map(lambda a, b: a + b, values, grads)  # the same tree as the values
    assert_allclose(summed[("weight",)]["weight"], np.full((2, 3), 2.0))


def test_debug_nan_reports_the_primitive_that_made_a_nan_gradient():
    w = bs.ParamState(jnp.array([1.0, 2.0]))
    bad = bs.transform.grad(lambda: jnp.sqrt(w.value - 1.5).sum(), w, debug_nan=True)
    with pytest.raises(RuntimeError, match=r"\[grad\] NaN/Inf.*\n.*Introduced by primitive `sqrt`"):
        bad()
    with pytest.raises(Exception, match="Introduced by primitive `sqrt`"):  # when the compiled call runs
        jax.block_until_ready(bs.transform.jit(bad)())
    fine = bs.transform.grad(lambda: jnp.sqrt(w.value + 1.0).sum(), w, debug_nan=True)()
    np.testing.assert_allclose(fine, 0.5 / np.sqrt([2.0, 3.0]), rtol=1e-6)
    assert bs.transform.vector_grad(lambda: jnp.sqrt(w.value + 1.0), w, debug_nan=True)().shape == (2,)


def test_brainstate_errors_are_value_errors_where_the_reference_raised_value_error():
    w, v = bs.ParamState(jnp.ones(2)), bs.ParamState(jnp.ones(2))
    with pytest.raises(ValueError, match="never reads it"):
        bs.transform.grad(lambda: w.value.sum(), grad_states=[v])()
    assert issubclass(bs.BrainStateError, ValueError)
