"""`nn.Param` / `nn.Const`: raw storage, the never-stale cache, priors, Module queries, errors."""

import logging

import brainunit as u
import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

nn = bs.nn
SOFTPLUS = nn.SoftplusT(0.0)


def softplus(x):
    return np.log1p(np.exp(np.asarray(x, np.float64)))


def make(value=(1.0, 2.0, 3.0), **kw):
    return nn.Param(jnp.array(value), t=kw.pop("t", SOFTPLUS), **kw)


# -- storage -----------------------------------------------------------------------------------
def test_raw_state_holds_the_inverse_and_value_the_forward():
    p = make()
    assert isinstance(p.val, bs.ParamState)
    assert_allclose(np.asarray(p.val.value), np.log(np.expm1([1.0, 2.0, 3.0])), rtol=1e-5)
    assert_allclose(np.asarray(p.value()), [1.0, 2.0, 3.0], rtol=1e-5)


def test_integer_values_become_floats():
    p = nn.Param(3)
    assert p.val.value.dtype == bs.environ.dftype()
    assert float(p.value()) == 3.0


def test_const_is_not_trainable_and_has_no_state():
    c = nn.Const(jnp.array([1.0, 2.0]), reg=nn.L2Reg(1.0))
    assert not c.fit and isinstance(c.val, jax.Array)
    assert len(c.states()) == 0
    assert c.reg_loss() == 0.0


def test_precompute_is_applied_after_the_transform():
    p = make(precompute=lambda y: 2.0 * y)
    assert_allclose(np.asarray(p.value()), [2.0, 4.0, 6.0], rtol=1e-5)


def test_quantity_values():
    p = nn.Param(jnp.array([2.0, 3.0]) * u.mV)
    assert u.get_unit(p.value()) == u.mV and u.get_unit(p.val.value) == u.mV
    q = nn.Param(2.0 * u.mV, t=nn.SoftplusT(0.0 * u.mV))
    assert not isinstance(q.val.value, u.Quantity)  # the raw value is a plain number
    assert_allclose(float(q.value().to_decimal(u.mV)), 2.0, rtol=1e-5)
    q.set_value(0.003 * u.volt)
    assert_allclose(float(q.value().to_decimal(u.mV)), 3.0, rtol=1e-5)


# -- writing -----------------------------------------------------------------------------------
def test_set_value_stores_the_inverse():
    p = make()
    p.set_value(jnp.array([4.0, 5.0, 6.0]))
    assert_allclose(np.asarray(p.val.value), np.log(np.expm1([4.0, 5.0, 6.0])), rtol=1e-5)
    assert_allclose(np.asarray(p.value()), [4.0, 5.0, 6.0], rtol=1e-5)


def test_set_value_broadcasts_a_scalar_to_the_parameter_shape():
    p = make()
    p.set_value(2.0)
    assert_allclose(np.asarray(p.value()), [2.0, 2.0, 2.0], rtol=1e-5)


def test_set_value_on_a_const_rebinds_its_array():
    c = nn.Const(jnp.array([1.0, 2.0]))
    c.set_value(jnp.array([3.0, 4.0]))
    assert_allclose(np.asarray(c.value()), [3.0, 4.0])


def test_reset_to_prior_uses_the_prior_value_broadcast():
    p = make(reg=nn.GaussianReg(2.5, 1.0))
    p.reset_to_prior()
    assert_allclose(np.asarray(p.value()), [2.5, 2.5, 2.5], rtol=1e-5)
    q = make()
    q.reset_to_prior()  # no prior: unchanged
    assert_allclose(np.asarray(q.value()), [1.0, 2.0, 3.0], rtol=1e-5)


def test_clip_clips_the_constrained_value():
    p = make()
    p.clip(1.5, 2.5)
    assert_allclose(np.asarray(p.value()), [1.5, 2.0, 2.5], rtol=1e-5)
    q = nn.Param(jnp.array([1.0, 5.0]) * u.mV)
    q.clip(max_val=0.002 * u.volt)
    assert_allclose(np.asarray(q.value().to_decimal(u.mV)), [1.0, 2.0], rtol=1e-6)


def test_reg_loss_is_the_prior_loss_of_the_constrained_value():
    p = make(reg=nn.L2Reg(0.5))
    assert_allclose(float(p.reg_loss()), 0.5 * 14.0, rtol=1e-5)
    assert make().reg_loss() == 0.0


# -- the cache ---------------------------------------------------------------------------------
def test_value_does_not_cache_until_asked():
    p = make()
    p.value()
    assert p.cache_stats == {"valid": False, "has_cached_value": False}


def test_cache_hit_returns_the_cached_object():
    p = make()
    cached = p.cache()
    assert p.cache_stats == {"valid": True, "has_cached_value": True}
    assert p.value() is cached


def test_an_eager_raw_write_is_seen_and_refreshes_the_cache():
    p = make()
    p.cache()
    p.val.value = jnp.zeros(3)
    assert p.cache_stats["valid"] is False
    assert_allclose(np.asarray(p.value()), softplus(np.zeros(3)), rtol=1e-6)
    assert p.cache_stats["valid"] is True  # refreshed by the miss while caching is on


def test_set_value_and_a_new_transform_are_seen():
    p = make()
    p.cache()
    p.set_value(jnp.array([7.0, 8.0, 9.0]))
    assert_allclose(np.asarray(p.value()), [7.0, 8.0, 9.0], rtol=1e-5)
    p.t = nn.IdentityT()
    assert_allclose(np.asarray(p.value()), np.asarray(p.val.value))


def test_clear_cache_stops_caching():
    p = make()
    p.cache()
    p.clear_cache()
    p.val.value = jnp.zeros(3)
    p.value()
    assert p.cache_stats == {"valid": False, "has_cached_value": False}


def _write_then_read(p, step=1.0):
    p.val.value = p.val.value + step
    return p.value()


def test_cache_is_never_stale_under_jit():
    p = make()
    raw0 = np.asarray(p.val.value)
    p.cache()
    inside = bs.transform.jit(lambda: _write_then_read(p))()
    assert_allclose(np.asarray(inside), softplus(raw0 + 1), rtol=1e-5)
    assert_allclose(np.asarray(p.value()), softplus(raw0 + 1), rtol=1e-5)


def test_cache_is_never_stale_under_vmap():
    p = make()
    raw0 = np.asarray(p.val.value)
    p.cache()
    inside = bs.transform.vmap(lambda x: _write_then_read(p, x), in_states=p.val, out_states=p.val)(
        jnp.array([1.0, 2.0, 3.0]))
    assert_allclose(np.asarray(inside), softplus(raw0 + [1, 2, 3]), rtol=1e-5)
    assert_allclose(np.asarray(p.value()), softplus(raw0 + [1, 2, 3]), rtol=1e-5)


def test_cache_is_never_stale_under_for_loop():
    p = make()
    raw0 = np.asarray(p.val.value)
    p.cache()
    inside = bs.transform.for_loop(lambda i: _write_then_read(p), jnp.arange(3))
    assert_allclose(np.asarray(inside), softplus(raw0 + np.arange(1, 4)[:, None]), rtol=1e-5)
    assert_allclose(np.asarray(p.value()), softplus(raw0 + 3), rtol=1e-5)


def test_cache_is_never_stale_under_checkpoint():
    p = make()
    raw0 = np.asarray(p.val.value)
    p.cache()
    inside = bs.transform.checkpoint(lambda: _write_then_read(p))()
    assert_allclose(np.asarray(inside), softplus(raw0 + 1), rtol=1e-5)
    assert_allclose(np.asarray(p.value()), softplus(raw0 + 1), rtol=1e-5)


def test_a_cache_filled_inside_a_trace_sees_later_writes_and_leaks_no_tracer():
    p = make()
    raw0 = np.asarray(p.val.value)

    def f():
        before = p.cache()
        after = _write_then_read(p)
        return before, after

    before, after = bs.transform.jit(f)()
    assert_allclose(np.asarray(before), softplus(raw0), rtol=1e-5)
    assert_allclose(np.asarray(after), softplus(raw0 + 1), rtol=1e-5)
    # The entry made during the trace holds that trace's tracer, which no eager read matches.
    assert_allclose(np.asarray(p.value()), softplus(raw0 + 1), rtol=1e-5)


def test_gradient_flows_through_a_cached_param():
    p = make()
    p.cache()  # a concrete cached value must not stand in for the differentiated raw value
    g = bs.transform.grad(lambda: jnp.sum(p.value()), grad_states=p.val)()
    assert_allclose(np.asarray(g), 1 / (1 + np.exp(-np.asarray(p.val.value))), rtol=1e-5)


def test_param_precompute_caches_inside_and_clears_after_even_on_error():
    class Cell(nn.Module):
        def __init__(self):
            super().__init__()
            self.a = make()
            self.b = nn.Param(2.0)

    cell = Cell()
    with cell.param_precompute():
        assert all(p.cache_stats["valid"] for p in cell.param_modules())
        cell.a.val.value = jnp.zeros(3)
        assert_allclose(np.asarray(cell.a.value()), softplus(np.zeros(3)), rtol=1e-6)
    assert not any(p.cache_stats["has_cached_value"] for p in cell.param_modules())
    with pytest.raises(RuntimeError, match="boom"):
        with cell.param_precompute():
            raise RuntimeError("boom")
    assert not any(p.cache_stats["has_cached_value"] for p in cell.param_modules())


def test_cache_logging(caplog):
    p = make(enable_cache_logging=True)
    with caplog.at_level(logging.INFO, logger="brainstate.nn.Param"):
        p.cache()
        p.value()
        p.clear_cache()
    assert [r.getMessage().split("cache ")[-1] for r in caplog.records] == ["filled", "hit", "cleared"]


# -- Module queries, filters, grad -------------------------------------------------------------
class Model(nn.Module):
    def __init__(self):
        super().__init__()
        self.tau = nn.Param(2.0, t=nn.SoftplusT(0.0), reg=nn.L2Reg(0.5))
        self.prob = nn.Param(0.3, t=nn.SigmoidT(0.0, 1.0), reg=nn.L1Reg(1.0))
        self.fixed = nn.Const(1.0)
        self.inner = nn.Sequential(nn.Linear(2, 2))


def test_filters_find_raw_states_and_param_modules():
    m = Model()
    assert set(m.states(bs.ParamState)) == {("tau", "val"), ("prob", "val"), ("inner", "layers", 0, "weight")}
    assert set(m.nodes(nn.Param)) == {("tau",), ("prob",), ("fixed",)}
    assert [n for n, _ in m.named_param_modules()] == ["fixed", "prob", "tau"]
    assert list(m.param_modules()) == [m.fixed, m.prob, m.tau]
    assert list(m.param_modules(allowed_hierarchy=(0, 0))) == []


def test_module_reg_loss_sums_the_priors():
    assert_allclose(float(Model().reg_loss()), 0.5 * 4.0 + 0.3, rtol=1e-5)
    assert nn.Linear(2, 2).reg_loss() == 0.0


def test_grad_sees_the_raw_param_state():
    m = Model()
    params = m.states(bs.ParamState)
    grads = bs.transform.grad(lambda: m.tau.value() * m.prob.value(), grad_states=params,
                              check_states=False)()
    raw_tau, raw_p = float(m.tau.val.value), float(m.prob.val.value)
    sig = lambda z: 1 / (1 + np.exp(-z))
    assert_allclose(float(grads[("tau", "val")]), sig(raw_tau) * 0.3, rtol=1e-4)
    assert_allclose(float(grads[("prob", "val")]), 2.0 * sig(raw_p) * (1 - sig(raw_p)), rtol=1e-4)


# -- layers keep a Param -----------------------------------------------------------------------
def test_linear_keeps_a_param_weight():
    w = nn.Param(jnp.full((3, 2), 0.5), t=nn.PositiveT(), reg=nn.L2Reg(1.0))
    layer = nn.Linear(3, 2, w_init=w)
    assert layer.weight["weight"] is w
    x = jnp.array([1.0, 2.0, 3.0])
    assert_allclose(np.asarray(layer(x)), np.full(2, 3.0), rtol=1e-5)
    assert set(layer.states(bs.ParamState)) == {("weight", "weight", "val"), ("weight", "bias")}
    assert_allclose(float(layer.reg_loss()), 6 * 0.25, rtol=1e-5)


def test_a_param_weight_stays_constrained_while_training():
    bs.random.seed(0)
    layer = nn.Linear(2, 1, w_init=nn.Param(jnp.full((2, 1), 0.5), t=nn.PositiveT()), b_init=None)
    params = layer.states(bs.ParamState)
    opt = bs.optim.SGD(lr=0.5)
    opt.register_trainable_weights(params)
    x = jnp.array([[1.0, 0.0], [0.0, 1.0]])

    @bs.transform.jit
    def step():
        grads = bs.transform.grad(lambda: jnp.sum((layer(x) + 1.0) ** 2), grad_states=params)()
        opt.update(grads)

    for _ in range(20):
        step()
    w = np.asarray(layer.weight["weight"].value())
    assert np.all(w > 0) and np.all(w < 0.05)  # pushed towards the negative target, never across 0


@pytest.mark.parametrize("build", [
    lambda p: nn.Conv1d((6, 2), 3, 3, w_init=p((3, 2, 3))),
    lambda p: nn.ScaledWSLinear(2, 3, w_init=p((2, 3))),
    lambda p: nn.SignedWLinear(2, 3, w_init=p((2, 3))),
    lambda p: nn.AllToAll(3, 3, w_init=p(())),
    lambda p: nn.OneToOne(3, w_init=p((3,)), b_init=p((3,))),
    lambda p: nn.Embedding(4, 3, embedding_init=p((4, 3))),
], ids=["Conv1d", "ScaledWSLinear", "SignedWLinear", "AllToAll", "OneToOne", "Embedding"])
def test_layers_accept_a_param(build):
    layer = build(lambda shape: nn.Param(jnp.full(shape, 0.5), t=nn.PositiveT()))
    assert layer.nodes(nn.Param)
    raw = layer.states(bs.ParamState)
    assert any(path[-1] == "val" for path in raw)


def test_param_of_the_wrong_shape_is_rejected():
    with pytest.raises(ValueError, match=r"the Param given as w_init has shape \(2, 2\)"):
        nn.Linear(3, 2, w_init=nn.Param(jnp.ones((2, 2))))


@pytest.mark.parametrize("build, error, match", [
    (lambda p: nn.Linear(3, 2, w_mask=p), TypeError, "w_mask is a fixed constant"),
    (lambda p: nn.SignedWLinear(3, 2, w_sign=p), TypeError, "w_sign is a fixed constant"),
    (lambda p: nn.Embedding(3, 2, embedding_init=p, padding_idx=0), ValueError,
     "padding_idx zeroes a row of the table"),
])
def test_layers_reject_a_param_where_a_constant_is_needed(build, error, match):
    with pytest.raises(error, match=match):
        build(nn.Param(jnp.ones((3, 2))))


def test_init_param_passes_a_param_through():
    p = nn.Param(jnp.ones(3))
    assert nn.init.param(p, (3,)) is p
    with pytest.raises(ValueError, match="does not fit the parameter shape"):
        nn.init.param(p, (4,))


# -- Param.init and errors ---------------------------------------------------------------------
def test_param_init_forms():
    p = make()
    assert nn.Param.init(p, sizes=3) is p
    assert nn.Param.init(None) is None
    c = nn.Param.init(jnp.ones(3), sizes=(3,))
    assert isinstance(c, nn.Const) and c.value().shape == (3,)
    f = nn.Param.init(lambda shape, scale: jnp.full(shape, scale), sizes=(2, 2), scale=3.0)
    assert_allclose(np.asarray(f.value()), np.full((2, 2), 3.0))
    assert float(nn.Param.init(2.0, sizes=(4,)).value()) == 2.0  # a scalar broadcasts


@pytest.mark.parametrize("call, error, match", [
    (lambda: nn.Param.init(None, allow_none=False), ValueError, "got None for a required parameter"),
    (lambda: nn.Param.init(lambda s: jnp.ones(s)), ValueError, "so sizes must be given"),
    (lambda: nn.Param.init(jnp.ones(3), sizes=4), ValueError, r"shape \(3,\), which does not broadcast"),
    (lambda: nn.Param.init("abc"), TypeError, "expected a Param, an array"),
    (lambda: nn.Const(1.0, fit=True), ValueError, "fit must be False"),
    (lambda: nn.Param(1.0, t=3), TypeError, "t must be a Transform"),
    (lambda: nn.Param(1.0, reg="l2"), TypeError, "reg must be None or a Regularization"),
    (lambda: nn.Param(1.0, precompute=3), TypeError, "precompute must be None or a function"),
    (lambda: nn.Param(1.0, fit="yes"), TypeError, "fit must be True or False"),
    (lambda: nn.Param(1.0, enable_cache_logging=None), TypeError, "enable_cache_logging must be True or False"),
    (lambda: nn.Param(-1.0, t=nn.SoftplusT(0.0)), ValueError, "lies outside the range of SoftplusT"),
    (lambda: make().set_value(jnp.array([1.0, -2.0, 3.0])), ValueError, "lies outside the range"),
])
def test_invalid_use_raises(call, error, match):
    with pytest.raises(error, match=match):
        call()


def test_setting_a_const_inside_a_transform_raises_and_keeps_the_value():
    c = nn.Const(jnp.array([1.0, 2.0]))
    with pytest.raises(bs.TraceContextError, match="keeps a plain array"):
        bs.transform.jit(lambda x: c.set_value(x))(jnp.array([3.0, 4.0]))
    assert_allclose(np.asarray(c.value()), [1.0, 2.0])


def test_an_eager_cache_is_not_refreshed_with_tracers():
    p = make()
    p.cache()
    bs.transform.jit(lambda: _write_then_read(p))()
    entry = p._cache_slot.entry
    assert entry is None or not isinstance(entry[0], jax.core.Tracer)


def test_boundary_values_are_accepted():
    # The bounds themselves map to -inf / +inf raw values, which round-trip exactly.
    p = nn.Param(jnp.array([0.0, 1.0]), t=nn.SigmoidT(0.0, 1.0))
    assert_allclose(np.asarray(p.value()), [0.0, 1.0])


def test_a_cloned_param_has_its_own_raw_state_and_correct_values():
    p = make()
    p.cache()
    q = bs.graph.clone(p)
    assert q.val is not p.val
    q.val.value = jnp.zeros(3)
    assert_allclose(np.asarray(q.value()), softplus(np.zeros(3)), rtol=1e-6)
    assert_allclose(np.asarray(p.value()), [1.0, 2.0, 3.0], rtol=1e-5)


def test_set_value_with_a_batch_axis_gives_the_parameter_that_shape():
    p = bs.nn.Param(jnp.ones(5))
    p.set_value(jnp.full((3, 5), 2.0))
    assert p.value().shape == (3, 5)
    assert_allclose(p.value(), np.full((3, 5), 2.0))
    p.set_value(jnp.array(4.0))  # a smaller value still broadcasts to the parameter's shape
    assert_allclose(p.value(), np.full((3, 5), 4.0))
