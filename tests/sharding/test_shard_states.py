"""shard_states: each state placed on the mesh as it declares; clear errors naming the state."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.sharding import NamedSharding, PartitionSpec as P
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate.sharding import get_sharding, has_declared_sharding, resolve_sharding, shard_states
from sharding_helpers import auto_mesh

RULES = {"batch": "data", "hidden": "model", "in": None}


class Block(bs.nn.Module):
    def __init__(self):
        super().__init__()
        self.w = bs.ParamState(jnp.ones((8, 4)), logical_axes=("in", "hidden"))
        self.s = bs.ParamState(jnp.ones((8, 4)), sharding=P("data"))
        self.r = bs.ParamState(jnp.ones(4))
        self.h = bs.ShortTermState(jnp.zeros((8, 2)))


def test_each_state_placed_as_declared(mesh):
    block = Block()
    placed = shard_states(block, mesh, RULES)
    assert {p: s.spec for p, s in placed.items()} == {
        ("w",): P(None, "model"), ("s",): P("data"), ("r",): P(), ("h",): P()}
    for path, state in bs.graph.states(block).items():
        assert state.sharding == placed[path] == get_sharding(state)
    assert_allclose(block.w.value, np.ones((8, 4)))
    assert_allclose(block.h.value, np.zeros((8, 2)))


def test_specs_override_metadata_and_filter_limits_placement(mesh):
    block = Block()
    placed = shard_states(block, mesh, RULES, filter=bs.ParamState, specs={bs.util.PathContains("s"): ("batch",)})
    assert placed[("s",)].spec == P("data")
    assert ("h",) not in placed and not hasattr(block.h, "sharding")
    placed = shard_states(block, mesh, RULES, specs={block.w: P("data", "model")})
    assert block.w.value.sharding.spec == P("data", "model")


def test_named_sharding_is_retargeted_to_the_given_mesh(mesh):
    other = auto_mesh((2, 4), ("data", "model"))
    w = bs.State(jnp.ones((8, 8)), sharding=NamedSharding(other, P("data", "model")))
    shard_states([w], mesh)
    assert w.sharding.mesh == mesh and w.sharding.spec == P("data", "model")


def test_tree_declaration_for_a_pytree_state_is_kept_by_jit(mesh):
    layer = bs.nn.Linear(4, 8)
    before = jax.tree_util.tree_map(np.asarray, layer.weight.value)
    shard_states(layer, mesh, specs={bs.ParamState: {"weight": P(None, "model"), "bias": P("model")}})
    assert layer.weight.value["weight"].sharding.spec == P(None, "model")

    @bs.transform.jit
    def step():
        layer.weight.value = jax.tree_util.tree_map(lambda w: w * 2, layer.weight.value)

    step()
    assert has_declared_sharding(layer.weight)
    assert_allclose(layer.weight.value["weight"], 2 * before["weight"])


def test_resolve_sharding_does_not_move(mesh):
    w = bs.ParamState(jnp.ones((8, 4)), logical_axes=("batch", None))
    assert resolve_sharding(w, mesh, RULES).spec == P("data")
    assert not hasattr(w, "sharding") and len(w.value.sharding.device_set) == 1


def test_get_and_has_declared_sharding():
    tree = bs.State({"a": jnp.ones(2), "n": np.ones(2)})
    shardings = get_sharding(tree)
    assert shardings["n"] is None and isinstance(shardings["a"], jax.sharding.Sharding)
    assert not has_declared_sharding(tree)


def test_moving_a_value_elsewhere_is_detected(mesh):
    w = bs.ParamState(jnp.ones((8, 4)), sharding=P("data"))
    shard_states([w], mesh)
    assert has_declared_sharding(w)
    w.value = jax.device_put(np.ones((8, 4), np.float32), jax.devices()[0])
    assert not has_declared_sharding(w)


# -- bad input ---------------------------------------------------------------------------------
def test_axis_missing_from_mesh_names_the_state_and_path(mesh):
    model = {"enc": Block()}
    model["enc"].w.name = "w_in"
    with pytest.raises(ValueError, match=r"ParamState 'w_in' at path 'enc.w' \(created at .*test_shard_states.py:\d+\)"
                                         r".*uses mesh axis 'tensor', but the mesh only has axes \('data', 'model'\)"):
        shard_states(model, mesh, {"in": None, "hidden": "tensor"})


def test_indivisible_dimension_names_the_state(mesh):
    w = bs.ParamState(jnp.ones((10, 4)), name="w", sharding=P("data"))
    with pytest.raises(ValueError, match=r"ParamState 'w' at path '0'.*dimension 0 of shape \(10, 4\) is 10, which "
                                         r"mesh axis 'data' \(size 4\) does not divide"):
        shard_states([w], mesh)


def test_placement_is_all_or_nothing(mesh):
    good = bs.ParamState(jnp.ones((8, 4)), sharding=P("data"))
    bad = bs.ParamState(jnp.ones((6, 4)), sharding=P("data"))
    with pytest.raises(ValueError, match="does not divide"):
        shard_states({"a": good, "b": bad}, mesh)
    assert good.sharding == P("data") and len(good.value.sharding.device_set) == 1


def test_missing_logical_rule_names_the_state(mesh):
    w = bs.ParamState(jnp.ones((8, 4)), logical_axes=("batch", "heads"))
    with pytest.raises(ValueError, match=r"ParamState at path 'w'.*logical axis 'heads'.*has no sharding rule"):
        shard_states({"w": w}, mesh, RULES)


def test_tree_declaration_not_matching_the_value(mesh):
    layer = bs.nn.Linear(4, 8)
    with pytest.raises(ValueError, match=r"at path 'weight'.*tree of shardings .* does not match the structure"):
        shard_states(layer, mesh, specs={bs.ParamState: {"kernel": P(), "bias": P()}})


@pytest.mark.parametrize("declaration, message", [
    (3, r"declares the layout 3, which cannot be placed on a mesh"),
    (jax.sharding.SingleDeviceSharding(jax.devices()[0]), r"declares the layout SingleDeviceSharding"),
])
def test_declaration_that_is_not_a_layout(mesh, declaration, message):
    with pytest.raises(TypeError, match=message):
        shard_states([bs.State(jnp.ones(8), sharding=declaration)], mesh)


def test_bad_mesh_and_specs():
    with pytest.raises(TypeError, match=r"shard_states: mesh must be a jax.sharding.Mesh"):
        shard_states([bs.State(jnp.ones(2))], ("data",))
    mesh1 = jax.make_mesh((1,), ("data",))
    with pytest.raises(TypeError, match=r"specs: expected a dict"):
        shard_states([bs.State(jnp.ones(2))], mesh1, specs=[P()])


def test_placing_inside_jit_is_refused(mesh):
    w = bs.State(jnp.ones(8))

    @bs.transform.jit
    def f():
        shard_states([w], mesh)

    with pytest.raises(bs.BrainStateError, match=r"shard_states was called inside a traced function"):
        f()


def test_a_state_holding_a_tracer_is_refused(mesh):
    graphdef, values = bs.graph.treefy_split(bs.nn.Linear(4, 8))

    @jax.jit  # a raw JAX trace: the merged states hold tracers
    def f(values):
        shard_states(bs.graph.treefy_merge(graphdef, values), mesh)

    with pytest.raises(bs.BrainStateError, match=r"shard_states: ParamState at path 'weight' \(created at .*\) "
                                                 r"holds a JAX tracer"):
        f(values)
