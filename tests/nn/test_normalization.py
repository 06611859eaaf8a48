"""Normalization layers against NumPy / jax.numpy formulas; BatchNorm running statistics."""

import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn

RNG = np.random.default_rng(0)


def data(*shape):
    return RNG.normal(size=shape).astype(np.float32) * 2 + 1


def standardize(x, axes, eps):
    mean = x.mean(axis=axes, keepdims=True)
    var = x.var(axis=axes, keepdims=True)
    return (x - mean) / np.sqrt(var + eps)


# -- BatchNorm ---------------------------------------------------------------------------------
@pytest.mark.parametrize("cls, in_size", [(nn.BatchNorm0d, (3,)), (nn.BatchNorm1d, (5, 3)),
                                          (nn.BatchNorm2d, (4, 4, 3)), (nn.BatchNorm3d, (2, 3, 2, 3))])
def test_batchnorm_running_stats_after_n_steps_match_numpy(cls, in_size):
    bn = cls(in_size, momentum=0.9)
    mean, var = np.zeros(3), np.ones(3)
    axes = tuple(range(len(in_size)))
    with bs.environ.context(fit=True):
        for step in range(4):
            x = data(6, *in_size)
            y = bn(x)
            mean = 0.9 * mean + 0.1 * x.mean(axis=axes)
            var = 0.9 * var + 0.1 * x.var(axis=axes)
            assert_allclose(y, standardize(x, axes, 1e-5), rtol=1e-5, atol=1e-5)
    assert_allclose(bn.running_mean.value.ravel(), mean, rtol=1e-5, atol=1e-6)
    assert_allclose(bn.running_var.value.ravel(), var, rtol=1e-5, atol=1e-6)


def test_batchnorm_state_kinds_and_shapes():
    bn = nn.BatchNorm1d((5, 3))
    assert isinstance(bn.running_mean, bs.LongTermState) and isinstance(bn.running_var, bs.LongTermState)
    assert not isinstance(bn.running_mean, bs.ParamState)
    assert isinstance(bn.weight, bs.ParamState)
    assert bn.running_mean.value.shape == (1, 3)
    assert {k: v.shape for k, v in bn.weight.value.items()} == {"scale": (1, 3), "bias": (1, 3)}


def test_batchnorm_eval_uses_running_stats():
    bn = nn.BatchNorm1d((5, 3))
    bn.running_mean.value = jnp.full((1, 3), 0.5)
    bn.running_var.value = jnp.full((1, 3), 4.0)
    bn.weight.value = {"scale": jnp.full((1, 3), 2.0), "bias": jnp.full((1, 3), -1.0)}
    x = data(2, 5, 3)
    with bs.environ.context(fit=False):
        y = bn(x)
    assert_allclose(y, (x - 0.5) / np.sqrt(4.0 + 1e-5) * 2.0 - 1.0, rtol=1e-5, atol=1e-5)
    assert_allclose(bn.running_mean.value, np.full((1, 3), 0.5))


def test_batchnorm_feature_axes_tuple_keeps_per_position_stats():
    bn = nn.BatchNorm1d((5, 3), feature_axis=(0, 1), momentum=0.0)
    x = data(8, 5, 3)
    with bs.environ.context(fit=True):
        bn(x)
    assert_allclose(bn.running_mean.value, x.mean(0), rtol=1e-5, atol=1e-6)


def test_batchnorm_unbatched_input_reduces_over_sample():
    bn = nn.BatchNorm1d((5, 3), momentum=0.0)
    x = data(5, 3)
    with bs.environ.context(fit=True):
        y = bn(x)
    assert_allclose(y, standardize(x, (0,), 1e-5), rtol=1e-5, atol=1e-5)
    assert_allclose(bn.running_mean.value.ravel(), x.mean(0), rtol=1e-5, atol=1e-6)


def test_batchnorm_mask_restricts_statistics():
    bn = nn.BatchNorm0d(3, momentum=0.0)
    x = data(6, 3)
    mask = np.array([True, True, False, True, False, True])[:, None]
    with bs.environ.context(fit=True):
        bn(x, mask=mask)
    assert_allclose(bn.running_mean.value, x[mask[:, 0]].mean(0), rtol=1e-5, atol=1e-6)
    assert_allclose(bn.running_var.value, x[mask[:, 0]].var(0), rtol=1e-5, atol=1e-6)


def test_batchnorm_slow_variance_matches_fast():
    x = data(6, 4, 3)
    outs = []
    for fast in (True, False):
        with bs.environ.context(fit=True):
            outs.append(nn.BatchNorm1d((4, 3), use_fast_variance=fast)(x))
    assert_allclose(outs[0], outs[1], rtol=1e-5, atol=1e-5)


def test_batchnorm_missing_fit_raises_environ_keyerror():
    with pytest.raises(KeyError, match="'fit'.*brainstate.environ.context"):
        nn.BatchNorm0d(3)(data(4, 3))


def test_batchnorm_without_running_stats_uses_batch_stats_and_ignores_fit():
    bn = nn.BatchNorm0d(3, track_running_stats=False, affine=False)
    x = data(4, 3)
    assert not bn.states()
    assert_allclose(bn(x), standardize(x, (0,), 1e-5), rtol=1e-5, atol=1e-5)


def test_batchnorm_under_jit_updates_running_stats_like_eager():
    x = data(4, 5, 3)
    eager, jitted = nn.BatchNorm1d((5, 3)), nn.BatchNorm1d((5, 3))
    step = bs.transform.jit(lambda v: jitted(v))
    with bs.environ.context(fit=True):
        for _ in range(3):
            assert_allclose(step(x), eager(x), rtol=1e-5, atol=1e-5)
    assert_allclose(jitted.running_mean.value, eager.running_mean.value, rtol=1e-6)
    assert_allclose(jitted.running_var.value, eager.running_var.value, rtol=1e-6)


def test_batchnorm_vmap_with_axis_name_uses_cross_batch_statistics():
    bn = nn.BatchNorm0d(3, axis_name="batch", momentum=0.0)
    x = data(8, 3)
    with bs.environ.context(fit=True):
        y = bs.transform.vmap(lambda v: bn(v), axis_name="batch")(x)
    assert_allclose(y, standardize(x, (0,), 1e-5), rtol=1e-5, atol=1e-5)
    assert_allclose(bn.running_mean.value, x.mean(0), rtol=1e-5, atol=1e-6)
    assert_allclose(bn.running_var.value, x.var(0), rtol=1e-5, atol=1e-5)


def test_batchnorm_grad_flows_to_scale_and_bias():
    bn = nn.BatchNorm0d(3)
    x = data(4, 3)

    def loss():
        with bs.environ.context(fit=True):
            return jnp.sum(bn(x) * jnp.arange(3.0))

    grads = bs.transform.grad(loss, grad_states=bn.states(bs.ParamState))()
    g = grads[("weight",)]
    assert_allclose(g["bias"], 4 * np.arange(3.0), rtol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(in_size=(4, 3)), "BatchNorm2d expects in_size with 3 entries"),
    (dict(in_size=(4, 4, 3), momentum=1.5), "momentum must be a number in \\[0, 1\\]"),
    (dict(in_size=(4, 4, 3), epsilon=-1.0), "epsilon must be a positive number"),
    (dict(in_size=(4, 4, 3), feature_axis=5), "feature_axis=5 is not valid"),
    (dict(in_size=(4, 4, 3), scale_initializer=jnp.ones(5)), "scale_init cannot give a value of shape"),
])
def test_batchnorm_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.BatchNorm2d(**kwargs)


def test_batchnorm_wrong_input_rank_is_an_error():
    with bs.environ.context(fit=True), pytest.raises(ValueError, match=r"BatchNorm1d expects inputs with 2 or 3"):
        nn.BatchNorm1d((5, 3))(jnp.ones((3,)))


def test_batchnorm_wrong_feature_size_is_an_error():
    with bs.environ.context(fit=True), pytest.raises(ValueError, match="expects size 3 on feature axis 1"):
        nn.BatchNorm1d((5, 3), name="bn")(jnp.ones((2, 5, 4)))


# -- LayerNorm / RMSNorm -----------------------------------------------------------------------
@pytest.mark.parametrize("fast, rtol, atol", [(True, 1e-4, 5e-4), (False, 1e-5, 1e-5)])
def test_layernorm_matches_formula_with_affine(fast, rtol, atol):
    # Against the formula in float64, on data of its own (the shared generator's draws depend on
    # the order tests run in). The default one-pass variance, E[x²] − E[x]², loses digits in
    # float32 when a row's spread is small next to its mean: over 300 seeds both variants stay
    # within a third of these tolerances; the one-pass one exceeded 1e-5 for some.
    ln = nn.LayerNorm((5, 4), scale_init=nn.init.Constant(2.0), bias_init=nn.init.Constant(0.5),
                      use_fast_variance=fast)
    x = np.random.default_rng(7).normal(size=(3, 5, 4)).astype(np.float32) * 2 + 1
    assert_allclose(ln(x), standardize(x.astype(np.float64), (-1,), 1e-6) * 2.0 + 0.5, rtol=rtol, atol=atol)
    assert ln.weight.value["scale"].shape == (1, 4)


def test_layernorm_over_several_axes_and_any_batch_depth():
    ln = nn.LayerNorm((5, 4), reduction_axes=(-2, -1), feature_axes=(-2, -1))
    x = data(2, 3, 5, 4)
    assert_allclose(ln(x), standardize(x, (-2, -1), 1e-6), rtol=1e-5, atol=1e-5)
    assert ln.weight.value["bias"].shape == (5, 4)


def test_layernorm_without_scale_and_bias_has_no_state():
    ln = nn.LayerNorm(4, use_bias=False, use_scale=False)
    assert ln.weight is None and not ln.states()
    x = np.random.default_rng(8).normal(size=(2, 4)).astype(np.float32) * 2 + 1
    # (rows of 4 with the one-pass variance: see test_layernorm_matches_formula_with_affine)
    assert_allclose(ln(x), standardize(x.astype(np.float64), (-1,), 1e-6), rtol=1e-4, atol=5e-4)


def test_layernorm_slow_variance_matches_formula():
    x = data(3, 6)
    assert_allclose(nn.LayerNorm(6, use_fast_variance=False)(x), standardize(x, (-1,), 1e-6), rtol=1e-5, atol=1e-5)


def test_layernorm_wrong_feature_size_is_an_error():
    with pytest.raises(ValueError, match="LayerNorm expects size 4 on feature axis 1"):
        nn.LayerNorm((5, 4))(jnp.ones((5, 6)))


def test_layernorm_too_few_dims_is_an_error():
    with pytest.raises(ValueError, match=r"LayerNorm expects inputs with at least 2 dimensions"):
        nn.LayerNorm((5, 4))(jnp.ones((4,)))


def test_rmsnorm_matches_formula():
    rms = nn.RMSNorm(4, scale_init=nn.init.Constant(3.0))
    x = data(2, 3, 4)
    want = x / np.sqrt(np.mean(x ** 2, axis=-1, keepdims=True) + 1e-6) * 3.0
    assert_allclose(rms(x), want, rtol=1e-5, atol=1e-5)
    assert list(rms.states()) == [("scale",)] and rms.scale.value["scale"].shape == (4,)


def test_rmsnorm_axis_name_reduces_across_vmap_lanes():
    rms = nn.RMSNorm(4, use_scale=False, reduction_axes=-1, axis_name="i")
    x = data(3, 4)
    y = bs.transform.vmap(lambda v: rms(v), axis_name="i")(x)
    assert_allclose(y, x / np.sqrt(np.mean(x ** 2) + 1e-6), rtol=1e-5, atol=1e-5)


def test_norm_epsilon_must_be_positive():
    with pytest.raises(ValueError, match="RMSNorm: epsilon must be a positive number"):
        nn.RMSNorm(4, epsilon=0.0)


def test_reduction_axes_out_of_range_is_an_error():
    with pytest.raises(ValueError, match=r"LayerNorm: reduction_axes=3 is not valid"):
        nn.LayerNorm((5, 4), reduction_axes=3)


# -- GroupNorm ---------------------------------------------------------------------------------
def group_norm(x, groups, eps, axes):
    xg = x.reshape(x.shape[:-1] + (groups, x.shape[-1] // groups))
    return standardize(xg, axes, eps).reshape(x.shape)


def test_groupnorm_matches_formula_over_all_but_batch_axis():
    gn = nn.GroupNorm(6, num_groups=3, scale_init=nn.init.Constant(2.0))
    x = data(2, 5, 6)
    assert_allclose(gn(x), group_norm(x, 3, 1e-6, (1, 3)) * 2.0, rtol=1e-5, atol=1e-5)
    assert gn.weight.value["scale"].shape == (6,)


def test_groupnorm_group_size_and_explicit_reduction_axes():
    gn = nn.GroupNorm((4, 4, 6), num_groups=None, group_size=3, reduction_axes=(-2, -1))
    x = data(2, 4, 4, 6)
    assert gn.num_groups == 2
    assert_allclose(gn(x), group_norm(x, 2, 1e-6, (2, 4)), rtol=1e-5, atol=1e-5)


def test_groupnorm_one_group_per_channel_is_instance_norm():
    x = data(3, 7, 4)
    assert_allclose(nn.GroupNorm(4, num_groups=4)(x), standardize(x, (1,), 1e-6), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("kwargs, match", [
    (dict(num_groups=4), "num_groups=4 must be a positive divisor of the number of channels 6"),
    (dict(num_groups=None), "give exactly one of num_groups and group_size"),
    (dict(num_groups=3, group_size=2), "give exactly one of num_groups and group_size"),
    (dict(num_groups=None, group_size=4), "group_size=4 must be a positive divisor"),
    (dict(num_groups=3, reduction_axes=(1,)), "must include the channel axis -1"),
])
def test_groupnorm_constructor_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        nn.GroupNorm(6, **kwargs)


def test_groupnorm_channel_axis_must_be_last():
    with pytest.raises(ValueError, match="GroupNorm: feature_axis must be the last axis"):
        nn.GroupNorm((6, 4), feature_axis=0, num_groups=2)


def test_groupnorm_needs_batched_input():
    with pytest.raises(ValueError, match=r"GroupNorm expects a batch of shape \(batch, ..., 6\)"):
        nn.GroupNorm(6, num_groups=3)(jnp.ones(6))


def test_groupnorm_reduction_axis_out_of_range_is_an_error():
    with pytest.raises(ValueError, match="reduction axis -4 is out of range"):
        nn.GroupNorm(6, num_groups=3, reduction_axes=(-4, -1))(jnp.ones((2, 6)))


def test_integer_inputs_are_promoted_to_float():
    y = nn.LayerNorm(4)(jnp.arange(8).reshape(2, 4))
    assert jnp.issubdtype(y.dtype, jnp.floating)
    assert_allclose(y, standardize(np.arange(8.0).reshape(2, 4), (-1,), 1e-6), rtol=1e-5, atol=1e-5)


def test_dtype_argument_sets_output_dtype():
    assert nn.RMSNorm(4, dtype=jnp.bfloat16)(jnp.ones((2, 4))).dtype == jnp.bfloat16
