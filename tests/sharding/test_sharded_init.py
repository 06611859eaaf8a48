"""sharded_init: a model built with its states created directly in their sharded layout."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import PartitionSpec as P
from numpy.testing import assert_array_equal

import brainstate as bs
from brainstate.sharding import has_declared_sharding, sharded_init

LINEAR_SPECS = {bs.util.All(bs.ParamState, bs.util.Not(bs.util.PathContains("embed"))):
                {"weight": P(None, "model"), "bias": P("model")}}


class Net(bs.nn.Module):
    def __init__(self):
        super().__init__()
        self.embed = bs.ParamState(bs.random.normal(size=(16, 8)), logical_axes=("vocab", "hidden"))
        self.mlp = bs.nn.Sequential(bs.nn.Linear(8, 16), bs.nn.Linear(16, 4))
        self.h = bs.HiddenState(jnp.zeros((8,)), logical_axes=("batch",))


def test_values_equal_the_eager_build_and_states_are_sharded_as_declared(mesh):
    bs.random.seed(3)
    eager = Net()
    key_after_eager = np.asarray(bs.random.get_key_data())
    bs.random.seed(3)
    built = sharded_init(Net, mesh, {"vocab": "data", "hidden": "model", "batch": "data"}, specs=LINEAR_SPECS)
    assert_array_equal(bs.random.get_key_data(), key_after_eager)  # the stream advanced as one eager build
    eager_states = bs.graph.states(eager)
    for path, state in bs.graph.states(built).items():
        assert type(state) is type(eager_states[path])
        assert has_declared_sharding(state), path
        jax.tree_util.tree_map(assert_array_equal, state.value, eager_states[path].value)
    assert built.embed.value.sharding.spec == P("data", "model")
    assert built.mlp.layers[1].weight.value["bias"].sharding.spec == P("model")
    assert built.h.value.sharding.spec == P("data")


def test_the_factory_never_runs_eagerly(mesh):
    concrete = []

    def factory():
        layer = bs.nn.Linear(8, 16)
        concrete.append(not isinstance(layer.weight.value["weight"], jax.core.Tracer))
        return layer

    sharded_init(factory, mesh, specs=LINEAR_SPECS)
    assert concrete and not any(concrete)


def test_a_compiled_step_keeps_the_layout(mesh):
    model = sharded_init(lambda: bs.nn.Linear(8, 16), mesh, specs=LINEAR_SPECS)

    @bs.transform.jit
    def step(x):
        grads = bs.transform.grad(lambda: model(x).sum(), grad_states=model.weight)()
        model.weight.value = jax.tree_util.tree_map(lambda w, g: w - 0.1 * g, model.weight.value, grads)

    step(jnp.ones((4, 8)))
    assert has_declared_sharding(model.weight)


def test_indivisible_dimension_names_the_path_and_leaf(mesh):
    def factory():
        return bs.nn.Sequential(bs.nn.Linear(8, 6))

    with pytest.raises(ValueError, match=r"ParamState at path 'layers.0.weight' \(created at .*\) \(leaf \['bias'\]\): "
                                         r"dimension 0 of shape \(6,\) is 6, which mesh axis 'data' \(size 4\) does not"):
        sharded_init(factory, mesh, specs={bs.ParamState: {"weight": P(None, "data"), "bias": P("data")}})


def test_an_array_kept_outside_a_state_is_refused(mesh):
    class Leaky(bs.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = bs.ParamState(jnp.ones(4))
            self.scale = jnp.ones(4) * 2  # not a State: only exists inside the traced build

    with pytest.raises(bs.BrainStateError, match=r"stored an array at path 'scale' outside a State"):
        sharded_init(Leaky, mesh)


def test_bad_arguments(mesh):
    with pytest.raises(TypeError, match=r"sharded_init: factory must be a function"):
        sharded_init("Linear(2, 2)", mesh)
    with pytest.raises(TypeError, match=r"sharded_init: mesh must be a jax.sharding.Mesh"):
        sharded_init(lambda: bs.nn.Linear(2, 2), None)
