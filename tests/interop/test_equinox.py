"""BrainState <-> Equinox: round trips, native layers, training, eqx.nn.State threading, errors."""

import equinox as eqx
import jax
import jax.numpy as jnp
import optax
import pytest
from numpy.testing import assert_allclose

import brainstate
from brainstate import interop, nn
from brainstate.interop import BrainStateEquinox, EquinoxModule

from tests.interop.models import MODELS, Noisy, assert_same_states, bs_sgd, make, sample, target

# which corpus models become native Equinox layers (called per sample) rather than one wrapper
NATIVE = {"mlp", "mlp_fn", "layernorm_2pass", "conv_cf"}


def call(converted, x, state=None):
    """Call a converted model on a batch as Equinox expects: native layers per sample, a wrapper
    as the BrainState model (threading its state)."""
    if not isinstance(converted, BrainStateEquinox):
        return jax.vmap(converted)(x), state
    if converted.is_stateful():
        return converted(x, state)
    return converted(x), state


@pytest.mark.parametrize("name", sorted(MODELS))
def test_native_or_wrapped_as_expected(name):
    converted = interop.to_equinox(make(name))
    assert isinstance(converted, BrainStateEquinox) is (name not in NATIVE)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_keeps_states_exactly(name):
    model = make(name)
    assert_same_states(interop.from_equinox(interop.to_equinox(model), sample_input=sample(name)[0]), model)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_call_gives_same_output_and_state_updates(name, fit):
    model, x = make(name), sample(name)
    converted = interop.to_equinox(model)
    state = eqx.nn.State(converted) if isinstance(converted, BrainStateEquinox) and converted.is_stateful() else None
    out, state = eqx.filter_jit(call)(converted, x, state)
    assert_allclose(out, brainstate.transform.jit(model)(x), rtol=1e-5, atol=1e-6)
    after = interop.from_equinox(converted, state=state, sample_input=x[0])
    assert_same_states(after, model, exact=False)


def test_linear_weight_is_transposed_to_out_in():
    model = nn.Linear(3, 2)
    converted = interop.to_equinox(model)
    assert type(converted) is eqx.nn.Linear
    assert_allclose(converted.weight, model.weight.value["weight"].T, rtol=0)


def test_channels_first_conv_kernel_is_out_in_window():
    model = make("conv_cf")
    converted = interop.to_equinox(model)
    assert type(converted) is eqx.nn.Conv2d
    assert_allclose(converted.weight, jnp.transpose(model.weight.value["weight"], (3, 2, 0, 1)), rtol=0)


def test_wrapper_splits_parameters_from_other_states():
    converted = interop.to_equinox(make("block"))
    assert sorted(converted.params) == ["bn.weight", "l1.weight", "l2.weight"]
    assert sorted(converted.index.init) == ["bn.running_mean", "bn.running_var", "calls"]
    grads = eqx.filter_grad(lambda m: m(sample("block"), eqx.nn.State(m))[0].sum())
    with brainstate.environ.context(fit=False):
        g = grads(converted)
    assert float(jnp.abs(g.params["l1.weight"]["weight"]).max()) > 0


@pytest.mark.parametrize("name", ["mlp", "block"])
def test_trains_in_equinox_like_in_brainstate(name, fit):
    model, x = make(name), sample(name)
    y = target(model, x)
    converted = interop.to_equinox(model)
    state = eqx.nn.State(converted) if name == "block" else None
    tx = optax.sgd(0.1)
    opt_state = tx.init(eqx.filter(converted, eqx.is_inexact_array))

    @eqx.filter_jit
    def step(m, state, opt_state):
        def loss(m):
            out, new_state = call(m, x, state)
            return ((out - y) ** 2).mean(), new_state

        (value, state), grads = eqx.filter_value_and_grad(loss, has_aux=True)(m)
        changes, opt_state = tx.update(grads, opt_state)
        return eqx.apply_updates(m, changes), state, opt_state, value

    losses = []
    for _ in range(6):
        converted, state, opt_state, value = step(converted, state, opt_state)
        losses.append(float(value))
    assert losses[-1] < losses[0]
    assert_allclose(losses, bs_sgd(model, x, y, 6), rtol=1e-5)
    assert_same_states(interop.from_equinox(converted, state=state), model, exact=False)


def test_inference_mode_sets_evaluation():
    model = make("batchnorm")
    converted = eqx.nn.inference_mode(interop.to_equinox(model))
    x = sample("batchnorm")
    out, state = converted(x, eqx.nn.State(converted))
    with brainstate.environ.context(fit=False):
        assert_allclose(out, model(x), rtol=1e-6)
    assert_allclose(state.get(converted.index)["layers.1.running_mean"], jnp.zeros(4), rtol=0)


def test_recurrent_cell_threads_its_hidden_state():
    model = make("gru")
    converted = interop.to_equinox(model)
    state = eqx.nn.State(converted)
    x = sample("gru")
    for _ in range(3):
        out, state = converted(x, state)
        assert_allclose(out, model(x), rtol=1e-6)
    back = interop.from_equinox(converted, state=state)
    assert_allclose(back.h.value, model.h.value, rtol=1e-6)


def test_random_draws_use_the_call_key():
    converted = interop.to_equinox(Noisy())
    x = jnp.zeros(3)
    a, b = converted(x, key=jax.random.key(0)), converted(x, key=jax.random.key(0))
    c = converted(x, key=jax.random.PRNGKey(1))
    assert_allclose(a, b, rtol=0)
    assert float(jnp.abs(a - c).max()) > 0


def test_random_draws_without_a_key_say_how_to_pass_one():
    with pytest.raises(interop.InteropError, match=r"no random key was given. Pass key="):
        interop.to_equinox(Noisy())(jnp.zeros(3))


def test_stateful_wrapper_needs_its_state():
    converted = interop.to_equinox(make("block"))
    with pytest.raises(interop.InteropError, match=r"call it as `out, state = model\(x, state\)`"):
        converted(sample("block"))


def test_writing_a_parameter_during_a_call_is_reported():
    class Decay(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = brainstate.ParamState(jnp.ones(2))

        def update(self, x):
            self.w.value = self.w.value * 0.5
            return x * self.w.value

    with pytest.raises(interop.UnsupportedLayerError, match="writes its parameter 'w' during the call"):
        interop.to_equinox(Decay())(jnp.ones(2))


def test_from_equinox_wraps_a_stateful_model_and_threads_its_state():
    model, state = eqx.nn.make_with_state(eqx.nn.BatchNorm)(4, axis_name="batch", mode="batch")
    wrapped = interop.from_equinox(model, state=state)
    assert type(wrapped) is EquinoxModule
    leaves = jax.tree_util.tree_leaves(state)
    assert [type(s) for s in wrapped.state] == [brainstate.BatchState] * len(leaves)
    x = jnp.arange(12.0).reshape(3, 4)
    with brainstate.environ.context(fit=True):
        out = brainstate.transform.vmap(wrapped, axis_name="batch")(x)
    want, new_state = jax.vmap(model, axis_name="batch", in_axes=(0, None), out_axes=(0, None))(x, state)
    assert_allclose(out, want, rtol=1e-6)
    back = interop.to_equinox(wrapped)
    assert_allclose(eqx.nn.State(back).get(back.batch_state_index)[0], new_state.get(model.batch_state_index)[0],
                    rtol=1e-6)


def test_from_equinox_of_a_stateful_model_needs_its_state():
    model, _ = eqx.nn.make_with_state(eqx.nn.BatchNorm)(4, axis_name="batch", mode="batch")
    with pytest.raises(interop.UnsupportedStructureError, match="keeps state in an eqx.nn.State: pass it"):
        interop.from_equinox(model)


def test_from_equinox_model_trains_in_brainstate_like_in_equinox():
    class Net(eqx.Module):
        lin: eqx.nn.Linear

        def __call__(self, x):
            return jnp.tanh(self.lin(x))

    src = Net(eqx.nn.Linear(3, 2, key=jax.random.PRNGKey(0)))
    wrapped = interop.from_equinox(src)
    x, y = sample("mlp")[0], jnp.ones(2)
    bs_losses = bs_sgd(wrapped, x, y, 4)
    eqx_losses, m = [], src
    for _ in range(4):
        value, grads = eqx.filter_value_and_grad(lambda m: ((m(x) - y) ** 2).mean())(m)
        m = jax.tree_util.tree_map(lambda p, g: p - 0.1 * g, m, grads)
        eqx_losses.append(float(value))
    assert_allclose(bs_losses, eqx_losses, rtol=1e-5)
    assert_allclose(wrapped.params["lin"]["weight"].value, m.lin.weight, rtol=1e-5)


def test_from_equinox_sequential_converts_layer_by_layer():
    key = jax.random.PRNGKey(0)
    src = eqx.nn.Sequential([eqx.nn.Conv1d(3, 2, 3, padding=1, key=key), eqx.nn.Lambda(jax.nn.relu),
                             eqx.nn.LayerNorm((2, 6)), eqx.nn.Dropout(0.5, inference=True)])
    out = interop.from_equinox(src, sample_input=jnp.ones((3, 6)))
    assert [type(l) for l in out.layers] == [nn.Conv1d, type(jax.nn.relu), EquinoxModule, nn.Dropout]
    x = jnp.linspace(-1, 1, 18).reshape(3, 6)
    with brainstate.environ.context(fit=False):
        assert_allclose(out(x), src(x), rtol=1e-5, atol=1e-6)


def test_to_equinox_rejects_what_is_not_a_module():
    with pytest.raises(interop.UnsupportedStructureError, match="expects a brainstate.nn.Module, got float"):
        interop.to_equinox(1.0)


def test_from_equinox_rejects_what_is_not_an_equinox_module():
    with pytest.raises(interop.UnsupportedStructureError, match="expects an equinox.Module, got dict"):
        interop.from_equinox({})


def test_from_equinox_rejects_a_state_of_the_wrong_type():
    with pytest.raises(interop.UnsupportedStructureError, match="state must be an eqx.nn.State or None, got dict"):
        interop.from_equinox(eqx.nn.Identity(), state={})


def test_a_mapping_returning_the_wrong_type_is_reported():
    class Odd(nn.Module):
        def update(self, x):
            return x

    interop.register_layer_mapping(interop.LayerMapping(Odd, "equinox", type("Foreign", (), {}),
                                                        lambda f, in_size: None, lambda m: 3))
    with pytest.raises(interop.ConversionError, match="returned int, not an equinox.Module"):
        interop.to_equinox(Odd())


def test_a_mapping_on_import_returning_the_wrong_type_is_reported():
    class Foreign(eqx.Module):
        def __call__(self, x):
            return x

    interop.register_layer_mapping(interop.LayerMapping(type("Mine", (nn.Module,), {}), "equinox", Foreign,
                                                        lambda f, in_size: [], lambda m: None))
    with pytest.raises(interop.ConversionError, match="returned list, not a brainstate.nn.Module"):
        interop.from_equinox(Foreign())
