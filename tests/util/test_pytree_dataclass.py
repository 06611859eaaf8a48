"""PyTree dataclasses: children vs static fields, frozen by default, replace, PyTreeNode."""

import dataclasses

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainstate.util import PyTreeNode, dataclass, field, is_dataclass, struct


@dataclass
class Params:
    w: jax.Array
    name: str = field(pytree_node=False, default="p")


def test_children_are_leaves_and_static_fields_are_structure():
    p = Params(jnp.ones(2))
    assert len(jax.tree.leaves(p)) == 1
    assert jax.tree.structure(p) != jax.tree.structure(Params(jnp.ones(2), name="q"))


def test_children_are_keyed_by_attribute_name():
    (path, _), = jax.tree_util.tree_flatten_with_path(Params(1.0))[0]
    assert path == (jax.tree_util.GetAttrKey("w"),)


def test_frozen_by_default():
    with pytest.raises(dataclasses.FrozenInstanceError, match="cannot assign to field 'w'"):
        Params(1.0).w = 2.0


def test_frozen_can_be_turned_off():
    @dataclass(frozen=False)
    class Box:
        v: int

    b = Box(1)
    b.v = 2
    assert b.v == 2


def test_replace_gives_a_changed_copy():
    p = Params(1.0)
    assert p.replace(name="q").name == "q" and p.name == "p"


def test_works_under_jit_with_static_field():
    out = jax.jit(lambda p: p.replace(w=p.w * 2))(Params(jnp.ones(2), name="s"))
    np.testing.assert_allclose(out.w, [2.0, 2.0])
    assert out.name == "s"


def test_unflatten_does_not_rerun_post_init():
    @dataclass
    class Checked:
        x: float

        def __post_init__(self):
            if not isinstance(self.x, float):
                raise TypeError("x must be a float")

    mapped = jax.tree.map(lambda _: None, Checked(1.0))  # would fail __post_init__
    assert mapped.x is None


def test_decorating_twice_returns_the_class():
    assert dataclass(Params) is Params


def test_field_keeps_user_metadata():
    @dataclass
    class WithMeta:
        x: int = field(pytree_node=False, default=0, metadata={"doc": "count"})

    (f,) = dataclasses.fields(WithMeta)
    assert f.metadata["doc"] == "count" and f.metadata["pytree_node"] is False


@pytest.mark.parametrize("x, expected", [(Params, True), (Params(1.0), True), (int, False),
                                         (dataclasses.make_dataclass("Plain", ["a"]), False)])
def test_is_dataclass_only_for_brainstate_dataclasses(x, expected):
    assert is_dataclass(x) is expected


class Linear(PyTreeNode):
    w: jax.Array
    act: str = field(pytree_node=False, default="relu")


def test_pytree_node_subclasses_are_dataclasses():
    layer = Linear(jnp.ones(3))
    assert is_dataclass(Linear) and len(jax.tree.leaves(layer)) == 1 and layer.replace(act="tanh").act == "tanh"


def test_pytree_node_class_keywords_reach_dataclass():
    class Mutable(PyTreeNode, frozen=False):
        v: int = 0

    m = Mutable()
    m.v = 3
    assert m.v == 3


def test_pytree_node_subclass_of_subclass_is_registered_too():
    class Biased(Linear):
        b: float = 0.0

    assert len(jax.tree.leaves(Biased(jnp.ones(1), b=1.0))) == 2


def test_struct_module_exports():
    assert struct.dataclass is dataclass and struct.PyTreeNode is PyTreeNode
