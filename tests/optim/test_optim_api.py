"""The optimizer as a graph node: registration, buffers by path, lr, masks, clipping, errors."""

import doctest
import re
import subprocess
import sys

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pytest
from numpy.testing import assert_allclose

import brainstate
import brainstate.optim as optim
from brainstate.util import FlattedDict, Not, PathContains, WithTag


def weights(**values):
    return {k: brainstate.ParamState(jnp.asarray(v, jnp.float32)) for k, v in values.items()}


def registered(opt, **values):
    ws = weights(**values)
    opt.register_trainable_weights(ws)
    return ws


# -- buffers are States, found by path -------------------------------------------------------------

def test_graph_states_expose_the_buffers_by_path():
    model = brainstate.nn.Sequential(brainstate.nn.Linear(3, 4), brainstate.nn.Linear(4, 2))
    opt = optim.Adam(lr=1e-3)
    opt.register_trainable_weights(model.states(brainstate.ParamState))
    buffers = brainstate.graph.states(opt)
    inner = ("opt_state", "optimizer", "inner_state", 0)
    for path in [("step_count",), ("opt_state", "optimizer", "count"),
                 ("opt_state", "optimizer", "hyperparams", "learning_rate"), inner + ("count",),
                 inner + ("mu", "layers", 0, "weight", "weight"), inner + ("nu", "layers", 1, "weight", "bias")]:
        assert path in buffers, path
    assert all(isinstance(s, optim.OptimState) for s in buffers.values())
    assert buffers[inner + ("mu", "layers", 1, "weight", "weight")].value.shape == (4, 2)
    # the weights are referenced, not owned: they are saved with the model, not the optimizer
    assert not any(isinstance(s, brainstate.ParamState) for s in buffers.values())
    assert list(opt.param_states) == list(model.states(brainstate.ParamState))


def test_restoring_buffers_by_path_continues_bit_identically():
    def build():
        model = brainstate.nn.Linear(3, 2)
        opt = optim.Adam(lr=1e-2)
        opt.register_trainable_weights(model.states(brainstate.ParamState))
        return model, opt

    x = jnp.linspace(-1.0, 1.0, 12).reshape(4, 3)

    def train(model, opt, n):
        params = model.states(brainstate.ParamState)
        step = brainstate.transform.jit(
            lambda: opt.update(brainstate.transform.grad(lambda: (model(x) ** 2).mean(), grad_states=params)()))
        for _ in range(n):
            step()

    model_a, opt_a = build()
    train(model_a, opt_a, 3)
    model_b, opt_b = build()
    for src, dst in [(model_a, model_b), (opt_a, opt_b)]:
        values = FlattedDict({p: s.value for p, s in brainstate.graph.states(src).items()})
        brainstate.graph.update_states(dst, values)
    train(model_a, opt_a, 2)
    train(model_b, opt_b, 2)
    for a, b in [(model_a, model_b), (opt_a, opt_b)]:
        states_b = brainstate.graph.states(b)
        for path, state in brainstate.graph.states(a).items():
            jax.tree.map(np.testing.assert_array_equal, states_b[path].value, state.value)
    assert int(opt_b.step_count.value) == 5


class _Box:
    """A pytree node the graph walk does not enter."""

    def __init__(self, x):
        self.x = x


jax.tree_util.register_pytree_node(_Box, lambda b: ((b.x,), None), lambda _, xs: _Box(*xs))


def test_an_optax_state_the_graph_cannot_walk_is_held_in_one_state():
    def init(params):
        return _Box(jax.tree.map(jnp.zeros_like, params))

    def update(g, state, params=None):
        total = jax.tree.map(lambda a, b: a + b, state.x, g)
        return jax.tree.map(lambda t: -0.1 * t, total), _Box(total)

    opt = optim.OptaxOptimizer(optax.GradientTransformation(init, update))
    ws = registered(opt, w=[1.0, 2.0])
    assert isinstance(opt.opt_state, optim.OptimState)
    opt.update({"w": jnp.ones(2)})
    opt.update({"w": jnp.ones(2)})
    assert_allclose(ws["w"].value, [0.7, 1.7], rtol=1e-6)


# -- registration and gradient keys -----------------------------------------------------------------

def test_a_list_of_weights_is_keyed_by_position():
    opt = optim.SGD(lr=1.0)
    a, b = brainstate.ParamState(jnp.ones(2)), brainstate.ParamState(jnp.ones(3))
    opt.register_trainable_weights([a, b])
    opt.update([jnp.ones(2), jnp.zeros(3)])
    opt.update({0: jnp.ones(2), 1: jnp.ones(3)})
    assert_allclose(a.value, [-1.0, -1.0])
    assert_allclose(b.value, [0.0, 0.0, 0.0])


def test_grads_from_transform_grad_match_the_registered_keys():
    model = brainstate.nn.Linear(2, 1)
    params = model.states(brainstate.ParamState)
    opt = optim.SGD(lr=0.5)
    opt.register_trainable_weights(params)
    before = params[("weight",)].value["bias"]
    opt.update(brainstate.transform.grad(lambda: model(jnp.ones((1, 2))).sum(), grad_states=params)())
    assert_allclose(params[("weight",)].value["bias"], before - 0.5)


@pytest.mark.parametrize("call, error, match", [
    (lambda opt, ws: opt.register_trainable_weights(ws), RuntimeError, "weights are registered already"),
    (lambda opt, ws: opt.update({"w": jnp.ones(2)}), KeyError,
     re.escape("missing [('b',)], unexpected []")),
    (lambda opt, ws: opt.update({"w": jnp.ones(2), "b": jnp.ones(()), "c": jnp.ones(())}), KeyError,
     re.escape("missing [], unexpected [('c',)]")),
    (lambda opt, ws: opt.update({"w": jnp.ones(3), "b": jnp.ones(())}), ValueError,
     re.escape("the gradient for the weight at path ('w',) has shape (3,), but the weight has shape (2,)")),
    (lambda opt, ws: opt.update(jnp.ones(2)), TypeError, "grads must be a dict keyed like the registered weights"),
])
def test_registered_optimizer_errors(call, error, match):
    opt = optim.SGD(lr=0.1)
    ws = registered(opt, w=[1.0, 2.0], b=0.0)
    with pytest.raises(error, match=match):
        call(opt, ws)


@pytest.mark.parametrize("param_states, error, match", [
    ({}, ValueError, "no weights given"),
    (jnp.ones(2), TypeError, "expected a dict of States .* got ArrayImpl"),
    ({"w": jnp.ones(2)}, TypeError, "the entry 'w' is a ArrayImpl, not a State"),
    ({("a",): brainstate.ParamState(jnp.ones(())), ("a", "b"): brainstate.ParamState(jnp.ones(()))},
     ValueError, "the weight keys cannot be nested"),
])
def test_registration_errors(param_states, error, match):
    with pytest.raises(error, match=match):
        optim.Adam().register_trainable_weights(param_states)


def test_update_before_registration_is_an_error():
    with pytest.raises(RuntimeError, match=r"SGD.update: no weights are registered"):
        optim.SGD().update({})


# -- learning rate ------------------------------------------------------------------------------------

def test_lr_is_readable_and_settable_before_and_after_registration():
    opt = optim.SGD(lr=0.1)
    assert_allclose(opt.lr, 0.1)
    opt.lr = 0.2
    ws = registered(opt, w=0.0)
    assert_allclose(opt.lr, 0.2)
    step = brainstate.transform.jit(opt.update)
    step({"w": jnp.ones(())})
    opt.lr = 0.5  # a State: the compiled step sees it without retracing
    step({"w": jnp.ones(())})
    assert_allclose(ws["w"].value, -0.7, rtol=1e-6)
    assert_allclose(opt.lr, 0.5)


def test_lr_of_a_complete_transformation_is_none():
    assert optim.OptaxOptimizer(optax.adam(1e-3)).lr is None


@pytest.mark.parametrize("opt, value, error, match", [
    (lambda: optim.SGD(lr=optim.StepLR(0.1)), 0.1, AttributeError, "follows the schedule StepLR"),
    (lambda: optim.OptaxOptimizer(optax.sgd(0.1)), 0.1, AttributeError, "part of the optax transformation"),
    (lambda: optim.SGD(lr=0.1), "fast", TypeError, "lr must be a number, got str"),
    (lambda: optim.SGD(lr=0.1), -1.0, ValueError, "lr must be non-negative"),
])
def test_lr_setter_errors(opt, value, error, match):
    o = opt()
    with pytest.raises(error, match=match):
        o.lr = value


# -- weight decay masks and clipping ------------------------------------------------------------------

def test_coupled_weight_decay_follows_the_filter():
    opt = optim.SGD(lr=1.0, weight_decay=0.5, weight_decay_mask=Not(PathContains("b")))
    ws = registered(opt, w=[2.0], b=[2.0])
    opt.update({"w": jnp.zeros(1), "b": jnp.zeros(1)})
    assert_allclose(ws["w"].value, [1.0])
    assert_allclose(ws["b"].value, [2.0])


def test_decoupled_weight_decay_mask_by_tag_matches_optax():
    ws = {"w": brainstate.ParamState(jnp.ones(3)), "b": brainstate.ParamState(jnp.ones(3), tag="no_decay")}
    opt = optim.AdamW(lr=0.1, weight_decay=0.5, weight_decay_mask=Not(WithTag("no_decay")))
    opt.register_trainable_weights(ws)
    g = {"w": jnp.array([1.0, -2.0, 3.0]), "b": jnp.array([1.0, -2.0, 3.0])}
    opt.update(g)
    tx = optax.adamw(0.1, weight_decay=0.5, mask={"w": True, "b": False})
    params = {"w": jnp.ones(3), "b": jnp.ones(3)}
    updates, _ = tx.update(g, tx.init(params), params)
    want = optax.apply_updates(params, updates)
    assert_allclose(ws["w"].value, want["w"], rtol=1e-6)
    assert_allclose(ws["b"].value, want["b"], rtol=1e-6)
    assert not np.allclose(want["w"], want["b"])


def test_clip_by_global_norm():
    opt = optim.SGD(lr=1.0, grad_clip_norm=1.0)
    ws = registered(opt, w=[0.0], v=[0.0])
    opt.update({"w": jnp.array([3.0]), "v": jnp.array([4.0])})
    assert_allclose([ws["w"].value[0], ws["v"].value[0]], [-0.6, -0.8], rtol=1e-6)


def test_clip_by_value():
    opt = optim.SGD(lr=1.0, grad_clip_value=0.5)
    ws = registered(opt, w=[0.0, 0.0])
    opt.update({"w": jnp.array([3.0, -0.2])})
    assert_allclose(ws["w"].value, [-0.5, 0.2], rtol=1e-6)


# -- constructor errors ----------------------------------------------------------------------------------

@pytest.mark.parametrize("make, error, match", [
    (lambda: optim.OptaxOptimizer(), TypeError, "tx must be an optax.GradientTransformation or a factory"),
    (lambda: optim.OptaxOptimizer(optax.adam(1e-3), lr=1e-3), ValueError, "already contains its learning rate"),
    (lambda: optim.OptaxOptimizer(optax.adam), ValueError, "is a factory, so it needs a learning rate"),
    (lambda: optim.Adam(lr=None), ValueError, "Adam: lr is None; give the learning rate"),
    (lambda: optim.Adam(lr="high"), TypeError, "lr must be a number or a schedule"),
    (lambda: optim.Adam(lr=-1e-3), ValueError, "lr must be non-negative"),
    (lambda: optim.SGD(weight_decay=-0.1), ValueError, "weight_decay must be non-negative"),
    (lambda: optim.SGD(grad_clip_norm=0.0), ValueError, "grad_clip_norm must be positive"),
    (lambda: optim.SGD(momentum=None), TypeError, "momentum must be a number, got NoneType"),
    (lambda: optim.Adam(betas=(0.9, 0.99, 0.9)), ValueError, r"betas must be a pair \(beta1, beta2\)"),
    (lambda: optim.Adam(beta2=1.0), ValueError, r"beta2 must be in \[0, 1\)"),
    (lambda: optim.SGD(weight_decay_mask=3), TypeError, "3 is not a filter"),
])
def test_constructor_errors(make, error, match):
    with pytest.raises(error, match=match):
        make()


# -- training ----------------------------------------------------------------------------------------------

def test_adam_under_jit_trains_a_small_mlp():
    brainstate.random.seed(0)
    model = brainstate.nn.Sequential(brainstate.nn.Linear(1, 16), brainstate.nn.tanh, brainstate.nn.Linear(16, 1))
    params = model.states(brainstate.ParamState)
    opt = optim.Adam(lr=1e-2)
    opt.register_trainable_weights(params)
    x = jnp.linspace(-2.0, 2.0, 64)[:, None]
    y = jnp.sin(x)

    @brainstate.transform.jit
    def step():
        grads, loss = brainstate.transform.grad(lambda: ((model(x) - y) ** 2).mean(), grad_states=params,
                                                return_value=True)()
        opt.update(grads)
        return loss

    losses = [float(step()) for _ in range(200)]
    assert losses[-1] < 0.1 * losses[0], (losses[0], losses[-1])


# -- packaging ------------------------------------------------------------------------------------------

def test_docstring_examples_run():
    result = doctest.testmod(optim, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 0 and result.failed == 0


def test_missing_optax_gives_an_install_hint():
    code = ("import sys, brainstate\n"
            "sys.modules['optax'] = None  # as if it were not installed\n"
            "try:\n    import brainstate.optim\nexcept ImportError as e:\n    print(e)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=600)  # against a hang only: a loaded machine may take minutes to start JAX
    assert "pip install optax" in out.stdout, out.stderr


def test_extra_arguments_reach_optax():
    def update(g, state, params=None, *, value):
        return jax.tree.map(lambda x: -value * x, g), state

    tx = optax.GradientTransformationExtraArgs(lambda params: optax.EmptyState(), update)
    opt = optim.OptaxOptimizer(tx)
    ws = registered(opt, w=[0.0])
    opt.update({"w": jnp.ones(1)}, value=jnp.asarray(3.0))
    assert_allclose(ws["w"].value, [-3.0])


@pytest.mark.parametrize("method", ["register_trainable_weights", "update"])
def test_the_abstract_optimizer_names_what_to_implement(method):
    with pytest.raises(NotImplementedError, match=f"Optimizer does not implement {method}"):
        getattr(optim.Optimizer(), method)({})
