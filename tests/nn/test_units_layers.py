"""Layers and initializers with physical units (brainunit Quantities in weights and inputs)."""

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn
from brainstate.nn import init

W = jnp.arange(12.0).reshape(3, 4) / 10
X = jnp.array([1.0, -2.0, 0.5])


# -- initializers ---------------------------------------------------------------------------------

RANDOM_INITS = ["Normal", "TruncatedNormal", "Uniform", "KaimingNormal", "KaimingUniform", "XavierNormal",
                "XavierUniform", "LecunNormal", "LecunUniform", "Orthogonal", "DeltaOrthogonal"]


@pytest.mark.parametrize("name", RANDOM_INITS)
def test_random_initializer_unit_multiplies_the_same_draw(name):
    shape = (3, 3, 4) if name == "DeltaOrthogonal" else (4, 5)
    plain = getattr(init, name)(seed=7)(shape)
    with_unit = getattr(init, name)(seed=7, unit=u.mV)(shape)
    assert isinstance(with_unit, u.Quantity) and with_unit.unit == u.mV
    assert_allclose(with_unit.mantissa, plain)


@pytest.mark.parametrize("make", [lambda unit: init.ZeroInit(unit=unit), lambda unit: init.Identity(2.0, unit=unit)],
                         ids=["ZeroInit", "Identity"])
def test_regular_initializer_unit(make):
    value = make(u.nA)((3, 3))
    assert value.unit == u.nA
    assert_allclose(value.mantissa, make(None)((3, 3)))


def test_constant_keeps_the_unit_of_its_value():
    value = init.Constant(jnp.array([1.0, 2.0]) * u.mV)((3, 2))
    assert value.unit == u.mV
    assert_allclose(value.mantissa, [[1.0, 2.0]] * 3)


def test_param_keeps_units_of_arrays_initializers_and_scalars():
    arr = init.param(jnp.ones(3) * u.mV, (3,))
    assert arr.unit == u.mV and arr.shape == (3,)
    batched = init.param(jnp.arange(3.0) * u.mV, (3,), batch_size=2)
    assert batched.unit == u.mV
    assert_allclose(batched.mantissa, [[0.0, 1.0, 2.0]] * 2)
    drawn = init.param(init.Normal(unit=u.mA, seed=1), (2, 3))
    assert drawn.unit == u.mA and drawn.shape == (2, 3)
    assert init.param(2.0 * u.ms, (3,)) == 2.0 * u.ms
    filled = init.param(2.0 * u.ms, (3,), allow_scalar=False)
    assert filled.unit == u.ms
    assert_allclose(filled.mantissa, [2.0] * 3)


def test_param_checks_the_shape_of_a_quantity():
    with pytest.raises(ValueError, match=r"a value of shape \(4,\) does not fit the parameter shape \(3,\)"):
        init.param(jnp.ones(4) * u.mV, (3,))


# -- Linear ---------------------------------------------------------------------------------------

def test_linear_keeps_the_unit_of_its_weight():
    layer = nn.Linear(3, 4, w_init=W * u.mA)
    y = layer(X)
    assert isinstance(y, u.Quantity) and y.unit == u.mA
    assert_allclose(y.mantissa, X @ W, rtol=1e-6)
    params = layer.weight.value
    assert params["weight"].unit == u.mA
    # the default bias is plain zeros (the reference release's layout), read in the output's unit
    assert not isinstance(params["bias"], u.Quantity)
    assert_allclose(params["bias"], np.zeros(4))


def test_linear_with_initializers_in_units():
    layer = nn.Linear(3, 4, w_init=init.KaimingNormal(unit=u.mA, seed=0), b_init=init.Constant(0.5 * u.mA))
    y = layer(X)
    params = layer.weight.value
    assert_allclose(y.mantissa, X @ params["weight"].mantissa + 0.5, rtol=1e-6)
    assert y.unit == u.mA


def test_linear_multiplies_input_and_weight_units():
    layer = nn.Linear(3, 4, w_init=W * u.mS, b_init=None)
    y = layer(X * u.mV)
    assert y.unit.dim == (u.mS * u.mV).dim
    assert_allclose(y.to_decimal(u.uA), X @ W, rtol=1e-6)


def test_linear_with_plain_weight_and_quantity_input():
    y = nn.Linear(3, 4, w_init=W, b_init=None)(X * u.mV)
    assert y.unit == u.mV
    assert_allclose(y.mantissa, X @ W, rtol=1e-6)


def test_linear_bias_of_another_dimension_is_reported():
    layer = nn.Linear(3, 4, w_init=W * u.mA, b_init=init.Constant(1.0 * u.mV))
    with pytest.raises(ValueError, match=r"Linear: x @ W and the bias: mA and mV have different physical "
                                         r"dimensions.*b_init=None"):
        layer(X)


def test_linear_default_bias_with_a_unit_weight_and_a_unit_input():
    # Regression: the default bias took the weight's unit (mV), so an input in siemens (output in
    # mA) failed; a plain bias is read in the unit of x @ W, eagerly and under jit.
    layer = nn.Linear(3, 4, w_init=init.KaimingNormal(unit=u.mV, seed=1))
    w = layer.weight.value["weight"].mantissa
    for run in (layer, bs.transform.jit(lambda x: layer(x))):
        y = run(X * u.siemens)
        assert y.unit.dim == u.mA.dim
        assert_allclose(y.to_decimal(u.mA), X @ w, rtol=1e-5)


def test_linear_plain_bias_is_read_in_the_output_unit():
    layer = nn.Linear(3, 4, w_init=W * u.mS, b_init=init.Constant(jnp.arange(4.0)))
    y = layer(X * u.mV)  # mS * mV = uA
    assert_allclose(y.to_decimal(u.uA), X @ W + jnp.arange(4.0), rtol=1e-5)


@pytest.mark.parametrize("transform", ["jit", "vmap"])
def test_linear_with_units_under_transforms(transform):
    layer = nn.Linear(3, 4, w_init=W * u.mA, b_init=init.Constant(jnp.arange(4.0) * u.mA))
    expected = layer(X)
    if transform == "jit":
        got = bs.transform.jit(lambda x: layer(x))(X)
        assert got.unit == u.mA
        assert_allclose(got.mantissa, expected.mantissa, rtol=1e-6)
    else:
        xs = jnp.stack([X, 2 * X])
        got = bs.transform.vmap(lambda x: layer(x))(xs)
        assert got.unit == u.mA
        for lane, x in enumerate(xs):
            assert_allclose(got.mantissa[lane], layer(x).mantissa, rtol=1e-6)


def test_linear_with_units_gradient_matches_the_functional_form():
    layer = nn.Linear(3, 4, w_init=W * u.mA, b_init=init.Constant(jnp.arange(4.0) * u.mA))

    def loss():
        return jnp.sum(jnp.sin(layer(X).mantissa))

    grads = bs.transform.grad(loss, grad_states=layer.states(bs.ParamState))()
    g = grads[("weight",)]
    expected = jax.grad(lambda p: jnp.sum(jnp.sin(X @ p["weight"] + p["bias"])))(
        {"weight": W, "bias": jnp.arange(4.0)})
    assert_allclose(u.get_mantissa(g["weight"]), expected["weight"], rtol=1e-5)
    assert_allclose(u.get_mantissa(g["bias"]), expected["bias"], rtol=1e-5)


# -- SparseLinear ---------------------------------------------------------------------------------

DENSE = np.array([[1.0, 0.0, 2.0], [0.0, 3.0, 0.0], [4.0, 0.0, 0.0], [0.0, 5.0, 6.0]], np.float32)
SPARSE_KINDS = {"CSR": u.sparse.CSR, "CSC": u.sparse.CSC, "COO": u.sparse.COO}


@pytest.mark.parametrize("kind", SPARSE_KINDS)
@pytest.mark.parametrize("shape", [(4,), (5, 4), (2, 3, 4)], ids=["vector", "batch", "two-batch-axes"])
def test_sparse_linear_accepts_brainunit_matrices(kind, shape):
    layer = nn.SparseLinear(SPARSE_KINDS[kind].fromdense(jnp.asarray(DENSE)))
    x = np.cos(np.arange(np.prod(shape))).reshape(shape).astype(np.float32)
    assert layer.in_size == (4,) and layer.out_size == (3,)
    assert_allclose(layer(jnp.asarray(x)), x @ DENSE, rtol=1e-5, atol=1e-6)


def test_sparse_linear_keeps_the_unit_of_the_matrix_and_adds_a_bias():
    mat = u.sparse.CSR.fromdense(jnp.asarray(DENSE) * u.mA)
    layer = nn.SparseLinear(mat, b_init=init.Constant(jnp.array([1.0, 2.0, 3.0]) * u.mA))
    y = layer(jnp.ones(4))
    assert y.unit == u.mA
    assert_allclose(y.mantissa, np.ones(4) @ DENSE + [1.0, 2.0, 3.0])
    assert layer.weight.value["weight"].unit == u.mA


def test_sparse_linear_plain_zero_bias_adds_in_the_output_unit():
    layer = nn.SparseLinear(u.sparse.CSR.fromdense(jnp.asarray(DENSE) * u.mA), b_init=init.ZeroInit())
    assert not isinstance(layer.weight.value["bias"], u.Quantity)
    assert layer(jnp.ones(4)).unit == u.mA
    y = layer(jnp.ones(4) * u.kohm)  # mA * kohm = V
    assert_allclose(y.to_decimal(u.volt), np.ones(4) @ DENSE, rtol=1e-6)


def _positions(kind):
    """(rows, cols) of DENSE's nonzeros in the order the brainunit format stores its values."""
    if kind == "CSC":  # column by column
        cols, rows = np.nonzero(DENSE.T)
        return rows, cols
    return np.nonzero(DENSE)  # CSR and COO (from dense): row by row


@pytest.mark.parametrize("kind", SPARSE_KINDS)
def test_sparse_linear_gradient_of_the_stored_values_matches_the_dense_form(kind):
    # brainunit 0.5.x differentiates `x @ CSR` wrongly; the layer must not inherit that.
    layer = nn.SparseLinear(SPARSE_KINDS[kind].fromdense(jnp.asarray(DENSE)))
    x = jnp.linspace(-1.0, 1.0, 4)
    grads = bs.transform.jit(bs.transform.grad(lambda: jnp.sum(layer(x) ** 2),
                                               grad_states=layer.states(bs.ParamState)))()
    g = grads[("weight",)]["weight"]
    rows, cols = _positions(kind)
    assert_allclose(layer.weight.value["weight"], DENSE[rows, cols])

    def functional(values):
        return jnp.sum((x @ jnp.zeros((4, 3)).at[rows, cols].set(values)) ** 2)

    assert_allclose(g, jax.grad(functional)(jnp.asarray(DENSE[rows, cols])), rtol=1e-5)


def test_sparse_linear_rejects_a_mismatched_in_size():
    with pytest.raises(ValueError, match=r"in_size \(5,\) has 5 features but spar_mat has 4 rows"):
        nn.SparseLinear(u.sparse.CSR.fromdense(jnp.asarray(DENSE)), in_size=5)


# -- other linear variants ------------------------------------------------------------------------

def test_all_to_all_and_one_to_one_multiply_units():
    x = jnp.array([1.0, 2.0, 3.0]) * u.mV
    y = nn.AllToAll(3, 3, w_init=jnp.ones((3, 3)) * u.mS, include_self=False)(x)
    assert_allclose(y.to_decimal(u.uA), [5.0, 4.0, 3.0])
    y = nn.AllToAll(3, 3, w_init=2.0 * u.mS)(x)
    assert_allclose(y.to_decimal(u.uA), [12.0, 12.0, 12.0])
    y = nn.OneToOne(3, w_init=jnp.array([1.0, 2.0, 3.0]) * u.mS, b_init=init.ZeroInit(unit=u.uA))(x)
    assert_allclose(y.to_decimal(u.uA), [1.0, 4.0, 9.0])


@pytest.mark.parametrize("make", [
    lambda: nn.AllToAll(3, 3, w_init=jnp.ones((3, 3)) * u.mV, b_init=init.Constant(jnp.array([1.0, 2.0, 3.0]))),
    lambda: nn.OneToOne(3, w_init=jnp.ones(3) * u.mV, b_init=init.Constant(jnp.array([1.0, 2.0, 3.0]))),
], ids=["AllToAll", "OneToOne"])
def test_all_to_all_and_one_to_one_plain_bias_with_unit_weight_and_input(make):
    # Regression: a plain default bias took the weight's unit (mV) and the siemens input failed.
    layer = make()
    assert not isinstance(layer.weight.value["bias"], u.Quantity)
    x = jnp.array([1.0, 2.0, 3.0])
    want = (x @ np.ones((3, 3)) if isinstance(layer, nn.AllToAll) else x) + np.array([1.0, 2.0, 3.0])
    for run in (layer, bs.transform.jit(lambda v: layer(v))):
        y = run(x * u.siemens)
        assert y.unit.dim == u.mA.dim
        assert_allclose(y.to_decimal(u.mA), want, rtol=1e-6)


def test_all_to_all_bias_of_another_dimension_is_reported():
    layer = nn.AllToAll(3, 3, w_init=jnp.ones((3, 3)) * u.mS, b_init=init.ZeroInit(unit=u.mV))
    with pytest.raises(ValueError, match=r"AllToAll: the weighted input and the bias: mS and mV have different "
                                         r"physical dimensions.*or a plain bias"):
        layer(jnp.ones(3))


def test_signed_weight_linear_keeps_the_weight_unit():
    layer = nn.SignedWLinear(2, 2, w_init=-jnp.ones((2, 2)) * u.mS, w_sign=jnp.array([[1.0], [-1.0]]))
    y = layer(jnp.array([3.0, 1.0]) * u.mV)
    assert_allclose(y.to_decimal(u.uA), [2.0, 2.0])


def test_scaled_ws_linear_rejects_a_weight_with_a_unit():
    with pytest.raises(ValueError, match=r"standardizes its weight on every call, which removes any unit"):
        nn.ScaledWSLinear(3, 2, w_init=jnp.ones((3, 2)) * u.mS)


# -- an nn.Param given as the initial value, with or without a unit -----------------------------

def test_linear_keeps_a_plain_param_and_its_constraint():
    p = nn.Param(W + 0.5, t=nn.PositiveT())
    layer = nn.Linear(3, 4, w_init=p)
    assert layer.weight["weight"] is p
    assert_allclose(layer(X), X @ (W + 0.5), rtol=1e-5)


def test_linear_keeps_a_param_in_units_with_a_plain_default_bias():
    p = nn.Param(W * u.mS)
    layer = nn.Linear(3, 4, w_init=p)
    assert layer.weight["weight"] is p
    assert not isinstance(layer.weight["bias"].value, u.Quantity)
    y = layer(X)  # a plain input: the output is in the weight's unit
    assert_allclose(y.to_decimal(u.mS), X @ W, rtol=1e-5)


def test_linear_gradient_reaches_the_raw_state_of_a_param_in_units():
    layer = nn.Linear(3, 4, w_init=nn.Param(W * u.mS), b_init=None)
    raw = layer.weight["weight"].val
    grads = bs.transform.grad(lambda x: jnp.sum(layer(x).to_decimal(u.uA)), grad_states=[raw])(X * u.mV)
    # d(sum of y in uA) / d(W in mS) = x in mV (mV * mS = uA); the gradient is labelled in W's unit.
    assert grads[0].unit == u.mS
    assert_allclose(grads[0].mantissa, jnp.broadcast_to(X[:, None], (3, 4)))


@pytest.mark.parametrize("make, x, expected", [
    (lambda: nn.AllToAll(3, 3, w_init=nn.Param(jnp.ones((3, 3)) * u.mS), include_self=False),
     jnp.array([1.0, 2.0, 3.0]), [5.0, 4.0, 3.0]),
    (lambda: nn.OneToOne(3, w_init=nn.Param(jnp.array([1.0, 2.0, 3.0]) * u.mS), b_init=init.ZeroInit(unit=u.uA)),
     jnp.array([1.0, 2.0, 3.0]), [1.0, 4.0, 9.0]),
    (lambda: nn.SignedWLinear(2, 2, w_init=nn.Param(-jnp.ones((2, 2)) * u.mS), w_sign=jnp.array([[1.0], [-1.0]])),
     jnp.array([3.0, 1.0]), [2.0, 2.0]),
], ids=["AllToAll", "OneToOne", "SignedWLinear"])
def test_variant_layers_keep_a_param_in_units(make, x, expected):
    layer = make()
    assert any(isinstance(v, nn.Param) for v in (layer.weight.values() if isinstance(layer.weight, dict)
                                                  else [layer.weight]))
    assert_allclose(layer(x * u.mV).to_decimal(u.uA), expected, rtol=1e-6)
