"""BrainState <-> Flax Linen: round trips, init/apply, training, state semantics, errors."""

import jax
import jax.numpy as jnp
import optax
import pytest
from flax import linen
from numpy.testing import assert_allclose

import brainstate
from brainstate import interop, nn
from brainstate.interop import BrainStateLinen, LinenModule

from tests.interop.models import MODELS, Noisy, assert_same_states, bs_sgd, make, sample, target

MUTABLE = ["batch_stats", "state"]


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_keeps_states_exactly(name):
    model = make(name)
    module, variables = interop.to_linen(model)
    assert_same_states(interop.from_linen(module, variables, sample_input=sample(name)[0]), model)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_init_returns_the_converted_variables(name):
    model = make(name)
    module, variables = interop.to_linen(model)
    initialised = module.init(jax.random.PRNGKey(7), sample(name))
    assert jax.tree_util.tree_structure(initialised) == jax.tree_util.tree_structure(variables)
    for a, b in zip(jax.tree_util.tree_leaves(initialised), jax.tree_util.tree_leaves(variables), strict=True):
        assert_allclose(a, b, rtol=0)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_apply_gives_same_output_and_state_updates(name, fit):
    model, x = make(name), sample(name)
    module, variables = interop.to_linen(model)
    out, updates = jax.jit(lambda v, x: module.apply(v, x, mutable=MUTABLE))(variables, x)
    assert_allclose(out, brainstate.transform.jit(model)(x), rtol=1e-6, atol=1e-6)
    after = interop.from_linen(module, {**variables, **updates}, sample_input=x[0])
    assert_same_states(after, model, exact=False)


def test_collections_follow_the_state_kinds():
    module, variables = interop.to_linen(make("block"))
    assert type(module) is BrainStateLinen
    assert sorted(variables) == ["batch_stats", "params", "state"]
    assert sorted(variables["params"]) == ["bn.weight", "l1.weight", "l2.weight"]
    assert sorted(variables["batch_stats"]) == ["bn.running_mean", "bn.running_var"]
    assert sorted(variables["state"]) == ["calls"]


def test_native_layers_hold_the_same_weights():
    model = make("mlp")
    module, variables = interop.to_linen(model)
    assert type(module) is linen.Sequential and type(module.layers[0]) is linen.Dense
    assert_allclose(variables["params"]["layers_0"]["kernel"], model.layers[0].weight.value["weight"], rtol=0)


@pytest.mark.parametrize("name", ["mlp", "block"])
def test_trains_in_linen_like_in_brainstate(name, fit):
    model, x = make(name), sample(name)
    y = target(model, x)
    module, variables = interop.to_linen(model)
    params, rest = variables["params"], {k: v for k, v in variables.items() if k != "params"}
    tx = optax.sgd(0.1)
    opt_state = tx.init(params)

    @jax.jit
    def step(params, rest, opt_state):
        def loss(p):
            out, updates = module.apply({"params": p, **rest}, x, mutable=MUTABLE)
            return ((out - y) ** 2).mean(), updates

        (value, updates), grads = jax.value_and_grad(loss, has_aux=True)(params)
        changes, opt_state = tx.update(grads, opt_state)
        return optax.apply_updates(params, changes), {**rest, **updates}, opt_state, value

    losses = []
    for _ in range(6):
        params, rest, opt_state, value = step(params, rest, opt_state)
        losses.append(float(value))
    assert losses[-1] < losses[0]
    assert_allclose(losses, bs_sgd(model, x, y, 6), rtol=1e-5)
    assert_same_states(interop.from_linen(module, {"params": params, **rest}), model, exact=False)


def test_deterministic_field_fixes_the_mode():
    model = make("batchnorm")
    module, variables = interop.to_linen(model)
    x = jnp.linspace(-1, 1, 20).reshape(5, 4)
    evaluating = module.layers[1].clone(deterministic=True)
    sub = {c: v["layers_1"] for c, v in variables.items()}
    out, updates = evaluating.apply(sub, x, mutable=MUTABLE)
    assert_allclose(updates["batch_stats"]["running_mean"], variables["batch_stats"]["layers_1"]["running_mean"],
                    rtol=0)
    training = module.layers[1].clone(deterministic=False)
    _, updates = training.apply(sub, x, mutable=MUTABLE)
    assert float(jnp.abs(updates["batch_stats"]["running_mean"]).max()) > 0


def test_random_draws_take_the_dropout_stream():
    module, variables = interop.to_linen(Noisy())
    x = jnp.zeros(3)
    a = module.apply(variables, x, rngs={"dropout": jax.random.PRNGKey(0)})
    b = module.apply(variables, x, rngs={"dropout": jax.random.PRNGKey(0)})
    c = module.apply(variables, x, rngs={"dropout": jax.random.PRNGKey(1)})
    assert_allclose(a, b, rtol=0)
    assert float(jnp.abs(a - c).max()) > 0


def test_random_draws_without_a_stream_say_how_to_pass_one():
    module, variables = interop.to_linen(Noisy())
    with pytest.raises(Exception, match="dropout"):
        module.apply(variables, jnp.zeros(3))


def test_from_linen_wraps_a_module_with_its_collections():
    src = linen.BatchNorm(use_running_average=False)
    variables = src.init(jax.random.PRNGKey(0), jnp.ones((3, 4)))
    wrapped = interop.from_linen(src, variables)
    assert type(wrapped) is LinenModule
    assert type(wrapped.variables["params"]["scale"]) is brainstate.ParamState
    assert type(wrapped.variables["batch_stats"]["mean"]) is brainstate.BatchState
    x = jnp.arange(12.0).reshape(3, 4)
    out = brainstate.transform.jit(wrapped)(x)
    want, updates = src.apply(variables, x, mutable=["batch_stats"])
    assert_allclose(out, want, rtol=1e-6)
    assert_allclose(wrapped.variables["batch_stats"]["mean"].value, updates["batch_stats"]["mean"], rtol=1e-6)
    module, back = interop.to_linen(wrapped)
    assert module is src
    assert_allclose(back["batch_stats"]["var"], updates["batch_stats"]["var"], rtol=1e-6)


def test_from_linen_accepts_the_params_collection_alone():
    dense = linen.Dense(2)
    variables = dense.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
    layer = interop.from_linen(dense, variables["params"])
    assert_allclose(layer.weight.value["weight"], variables["params"]["kernel"], rtol=0)


def test_from_linen_sequential_converts_layer_by_layer():
    src = linen.Sequential([linen.Dense(4), linen.relu, linen.LayerNorm(), linen.Conv(2, (3,)), linen.Embed(3, 2)])
    x = jnp.linspace(-1, 1, 18).reshape(6, 3)
    variables = linen.Sequential(src.layers[:4]).init(jax.random.PRNGKey(0), x)
    variables["params"]["layers_4"] = {"embedding": jnp.ones((3, 2))}
    out = interop.from_linen(src, variables, sample_input=x)
    assert [type(l) for l in out.layers] == [nn.Linear, type(linen.relu), nn.LayerNorm, nn.Conv1d, nn.Embedding]
    head = linen.Sequential(src.layers[:4])
    assert_allclose(nn.Sequential(*out.layers[:4])(x), head.apply(variables, x), rtol=1e-5, atol=1e-6)


class Drop(linen.Module):
    @linen.compact
    def __call__(self, x):
        return linen.Dropout(0.5, deterministic=False)(x)


def test_from_linen_feeds_named_rng_streams():
    wrapped = interop.from_linen(Drop(), {}, rng_names=("dropout",))
    out = wrapped(jnp.ones(8))
    assert bool((out == 0).any()) and bool((out == 2).any())


def test_from_linen_without_the_stream_says_to_name_it():
    wrapped = interop.from_linen(Drop(), {})
    with pytest.raises(interop.InteropError, match=r"rng_names=\('dropout',\)"):
        wrapped(jnp.ones(8))


def test_to_linen_rejects_what_is_not_a_module():
    with pytest.raises(interop.UnsupportedStructureError, match="expects a brainstate.nn.Module, got str"):
        interop.to_linen("model")


def test_from_linen_rejects_what_is_not_a_linen_module():
    with pytest.raises(interop.UnsupportedStructureError, match="expects a flax.linen.Module, got Linear"):
        interop.from_linen(nn.Linear(2, 2), {})


def test_from_linen_rejects_params_that_are_not_a_mapping():
    with pytest.raises(interop.UnsupportedStructureError, match="params must be the variables dict"):
        interop.from_linen(linen.Dense(2), [1, 2])


def test_converting_back_without_a_variable_is_reported():
    module, variables = interop.to_linen(make("block"))
    del variables["batch_stats"]["bn.running_var"]
    with pytest.raises(interop.ConversionError, match="the variables have no batch_stats/'bn.running_var'"):
        interop.from_linen(module, variables)


def test_converting_back_a_variable_of_the_wrong_structure_is_reported():
    module, variables = interop.to_linen(make("block"))
    variables["params"]["l1.weight"] = {"weight": jnp.ones((3, 8))}
    with pytest.raises(interop.ConversionError, match="'l1.weight' has 1 array leaves, but the state holds 2"):
        interop.from_linen(module, variables)


def test_a_mapping_returning_the_wrong_type_is_reported():
    class Odd(nn.Module):
        def update(self, x):
            return x

    interop.register_layer_mapping(interop.LayerMapping(Odd, "linen", type("Foreign", (), {}),
                                                        lambda f, in_size: None, lambda m: linen.Dense(2)))
    with pytest.raises(interop.ConversionError, match=r"not a \(linen.Module, variables\) pair"):
        interop.to_linen(Odd())


def test_a_mapping_on_import_returning_the_wrong_type_is_reported():
    class Foreign(linen.Module):
        def __call__(self, x):
            return x

    interop.register_layer_mapping(interop.LayerMapping(type("Mine", (nn.Module,), {}), "linen", Foreign,
                                                        lambda f, in_size: "x", lambda m: None))
    with pytest.raises(interop.ConversionError, match="returned str, not a brainstate.nn.Module"):
        interop.from_linen(Foreign(), {})
