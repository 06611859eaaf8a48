"""BrainState <-> Flax NNX: round trips, native layers, training, state semantics, errors."""

import jax
import jax.numpy as jnp
import optax
import pytest
from flax import nnx
from numpy.testing import assert_allclose

import brainstate
from brainstate import interop, nn
from brainstate.interop import BrainStateNnx, NnxModule, StateVariable

from tests.interop.models import MODELS, Noisy, assert_same_states, bs_sgd, make, sample, target


@pytest.mark.parametrize("name", sorted(MODELS))
def test_round_trip_keeps_states_exactly(name):
    model = make(name)
    # the sample tells a convolution its spatial size, which NNX does not keep
    assert_same_states(interop.from_nnx(interop.to_nnx(model), sample_input=sample(name)[0]), model)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_call_gives_same_output_and_state_updates(name, fit):
    model, x = make(name), sample(name)
    converted = interop.to_nnx(model)
    out = nnx.jit(lambda m, x: m(x))(converted, x)
    assert_allclose(out, brainstate.transform.jit(model)(x), rtol=1e-6, atol=1e-6)
    assert_same_states(interop.from_nnx(converted, sample_input=x[0]), model, exact=False)


def test_native_layers_hold_the_same_weights():
    model = make("mlp")
    converted = interop.to_nnx(model)
    assert [type(l) for l in converted.layers] == [nnx.Linear, BrainStateNnx, nnx.Linear]
    w = model.layers[0].weight.value
    assert_allclose(converted.layers[0].kernel.get_value(), w["weight"], rtol=0)
    assert_allclose(converted.layers[0].bias.get_value(), w["bias"], rtol=0)


@pytest.mark.parametrize("name", ["masked", "shared", "block"])
def test_modules_without_native_counterpart_are_wrapped_whole(name):
    assert type(interop.to_nnx(make(name))) is BrainStateNnx


def test_wrapper_variables_have_the_matching_kinds():
    converted = interop.to_nnx(make("block"))
    states = converted.states
    assert type(states["l1"]["weight"]["weight"]) is nnx.Param
    assert type(states["bn"]["running_mean"]) is nnx.BatchStat
    assert type(states["calls"]) is StateVariable
    assert states["calls"].get_metadata()["kind"] == "ShortTermState"


@pytest.mark.parametrize("name", ["mlp", "block", "layernorm"])
def test_trains_in_nnx_like_in_brainstate(name, fit):
    model = make(name)
    x = sample(name)
    y = target(model, x)
    converted = interop.to_nnx(model)
    optimizer = nnx.Optimizer(converted, optax.sgd(0.1), wrt=nnx.Param)

    @nnx.jit
    def step(m, opt):
        loss, grads = nnx.value_and_grad(lambda m: ((m(x) - y) ** 2).mean())(m)
        opt.update(m, grads)
        return loss

    nnx_losses = [float(step(converted, optimizer)) for _ in range(6)]
    bs_losses = bs_sgd(model, x, y, 6)
    assert nnx_losses[-1] < nnx_losses[0]
    assert_allclose(nnx_losses, bs_losses, rtol=1e-5)
    assert_same_states(interop.from_nnx(converted), model, exact=False)


def test_train_and_eval_set_the_mode_of_wrapped_batch_norm():
    model = make("batchnorm")
    converted = interop.to_nnx(model)
    x = sample("batchnorm")
    converted.eval()
    before = converted.layers[1].states["running_mean"].get_value()
    with brainstate.environ.context(fit=False):
        assert_allclose(converted(x), model(x), rtol=1e-6)
    assert_allclose(converted.layers[1].states["running_mean"].get_value(), before, rtol=0)
    converted.train()
    with brainstate.environ.context(fit=True):
        assert_allclose(converted(x), model(x), rtol=1e-6)
    assert_allclose(converted.layers[1].states["running_mean"].get_value(), model.layers[1].running_mean.value,
                    rtol=1e-6)
    assert float(jnp.abs(converted.layers[1].states["running_mean"].get_value() - before).max()) > 0


def test_recurrent_cell_keeps_its_hidden_state_across_calls():
    model = make("gru")
    converted = interop.to_nnx(model)
    x = sample("gru")
    for _ in range(3):
        assert_allclose(converted(x), model(x), rtol=1e-6)
    back = interop.from_nnx(converted)
    assert type(back.h) is brainstate.HiddenState
    assert_allclose(back.h.value, model.h.value, rtol=1e-6)


def test_random_draws_come_from_the_wrappers_own_key():
    converted = interop.to_nnx(Noisy(), rngs=nnx.Rngs(3))
    key = converted.rng.get_value()
    default = brainstate.random.get_key()
    a, b = converted(jnp.zeros(3)), converted(jnp.zeros(3))
    assert float(jnp.abs(a - b).max()) > 0
    assert not bool(jnp.array_equal(jax.random.key_data(converted.rng.get_value()), jax.random.key_data(key)))
    assert bool(jnp.array_equal(jax.random.key_data(brainstate.random.get_key()), jax.random.key_data(default)))
    again = interop.to_nnx(Noisy(), rngs=nnx.Rngs(3))
    assert_allclose(again(jnp.zeros(3)), a, rtol=0)


def test_native_dropout_follows_train_and_eval():
    converted = interop.to_nnx(nn.Sequential(nn.Linear(3, 3), nn.Dropout(0.5)), rngs=nnx.Rngs(0))
    dropout = converted.layers[1]
    assert type(dropout) is nnx.Dropout and dropout.rate == 0.5
    x = jnp.ones((4, 3))
    converted.eval()
    assert_allclose(converted(x), converted.layers[0](x), rtol=0)
    converted.train()
    assert bool((converted(x) == 0).any())


def test_from_nnx_wraps_a_module_and_mirrors_its_variables():
    src = nnx.BatchNorm(4, rngs=nnx.Rngs(0))
    wrapped = interop.from_nnx(src)
    assert type(wrapped) is NnxModule
    kinds = {path: type(s) for path, s in wrapped.states().items()}
    assert kinds == {("variables", "bias"): brainstate.ParamState, ("variables", "scale"): brainstate.ParamState,
                     ("variables", "mean"): brainstate.BatchState, ("variables", "var"): brainstate.BatchState}
    x = jnp.arange(12.0).reshape(3, 4)
    with brainstate.environ.context(fit=True):
        out = brainstate.transform.jit(wrapped)(x)
    src.train()
    assert_allclose(out, src(x), rtol=1e-6)
    assert_allclose(wrapped.variables["mean"].value, src.mean.get_value(), rtol=1e-6)
    back = interop.to_nnx(wrapped)
    assert type(back) is nnx.BatchNorm
    assert_allclose(back.var.get_value(), src.var.get_value(), rtol=1e-6)


def test_from_nnx_module_trains_in_brainstate_like_in_nnx():
    class Net(nnx.Module):
        def __init__(self):
            self.lin = nnx.Linear(3, 2, rngs=nnx.Rngs(0))
            self.bn = nnx.BatchNorm(2, rngs=nnx.Rngs(0))

        def __call__(self, x):
            return self.bn(self.lin(x))

    src = Net()
    wrapped = interop.from_nnx(src)
    x, y = sample("mlp"), jnp.ones((5, 2))
    with brainstate.environ.context(fit=True):
        bs_losses = bs_sgd(wrapped, x, y, 4)
    optimizer = nnx.Optimizer(src, optax.sgd(0.1), wrt=nnx.Param)
    nnx_losses = []
    for _ in range(4):
        loss, grads = nnx.value_and_grad(lambda m: ((m(x) - y) ** 2).mean())(src)
        optimizer.update(src, grads)
        nnx_losses.append(float(loss))
    assert_allclose(bs_losses, nnx_losses, rtol=1e-5)
    assert_allclose(wrapped.variables["lin"]["kernel"].value, src.lin.kernel.get_value(), rtol=1e-5)


def test_from_nnx_sequential_converts_layer_by_layer():
    src = nnx.Sequential(nnx.Linear(3, 4, rngs=nnx.Rngs(0)), nnx.relu, nnx.LayerNorm(4, rngs=nnx.Rngs(0)),
                         nnx.Conv(4, 2, 3, rngs=nnx.Rngs(0)), nnx.Embed(3, 2, rngs=nnx.Rngs(0)))
    out = interop.from_nnx(src, sample_input=jnp.ones((6, 3)))
    assert [type(l) for l in out.layers] == [nn.Linear, type(nnx.relu), nn.LayerNorm, nn.Conv1d, nn.Embedding]
    x = jnp.linspace(-1, 1, 18).reshape(6, 3)
    head = nnx.Sequential(*src.layers[:4])
    assert_allclose(nn.Sequential(*out.layers[:4])(x), head(x), rtol=1e-5, atol=1e-6)


def test_conv_without_a_sample_input_is_wrapped():
    out = interop.from_nnx(nnx.Conv(3, 2, 3, rngs=nnx.Rngs(0)))
    assert type(out) is NnxModule


def test_to_nnx_rejects_what_is_not_a_module():
    with pytest.raises(interop.UnsupportedStructureError, match="expects a brainstate.nn.Module, got int"):
        interop.to_nnx(3)


def test_to_nnx_rejects_bad_rngs():
    with pytest.raises(interop.UnsupportedStructureError, match="rngs must be an nnx.Rngs or None, got int"):
        interop.to_nnx(nn.Linear(2, 2), rngs=0)


def test_from_nnx_rejects_what_is_not_an_nnx_module():
    with pytest.raises(interop.UnsupportedStructureError, match="expects a flax.nnx.Module, got Linear"):
        interop.from_nnx(nn.Linear(2, 2))


def test_colliding_paths_are_reported():
    class Clash(nn.Module):
        def __init__(self):
            super().__init__()
            self.table = {0: brainstate.ShortTermState(jnp.zeros(1)), "0": brainstate.ShortTermState(jnp.ones(1))}

        def update(self, x):
            return x

    with pytest.raises(interop.ConversionError, match="two states map to the NNX path 'table/0'"):
        interop.to_nnx(Clash())


def test_a_mapping_returning_the_wrong_type_is_reported():
    class Odd(nn.Module):
        def update(self, x):
            return x

    interop.register_layer_mapping(interop.LayerMapping(Odd, "nnx", type("Foreign", (nnx.Module,), {}),
                                                        lambda f, in_size: None, lambda m: "not a module"))
    with pytest.raises(interop.ConversionError, match="returned str, not an nnx.Module"):
        interop.to_nnx(Odd())


def test_a_mapping_on_import_returning_the_wrong_type_is_reported():
    class Foreign(nnx.Module):
        def __call__(self, x):
            return x

    interop.register_layer_mapping(interop.LayerMapping(type("Mine", (nn.Module,), {}), "nnx", Foreign,
                                                        lambda f, in_size: 1.5, lambda m: None))
    with pytest.raises(interop.ConversionError, match="returned float, not a brainstate.nn.Module"):
        interop.from_nnx(Foreign())


def test_a_registered_mapping_is_used_both_ways():
    class Double(nn.Module):
        def update(self, x):
            return 2 * x

    class NnxDouble(nnx.Module):
        def __call__(self, x):
            return 2 * x

    interop.register_layer_mapping(interop.LayerMapping(Double, "nnx", NnxDouble, lambda f, in_size: Double(),
                                                        lambda m: NnxDouble()))
    assert type(interop.to_nnx(Double())) is NnxDouble
    assert type(interop.from_nnx(NnxDouble())) is Double
    assert "Double" in interop.supported_layers("nnx")["nnx"]
