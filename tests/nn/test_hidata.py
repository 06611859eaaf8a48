"""`nn.HiData`: access, immutability, PyTree behaviour, derived containers, errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

HiData = bs.nn.HiData


def sample():
    return HiData(name="neuron", v=jnp.zeros(3), syn=HiData(g=jnp.ones(2, jnp.int32), x=None))


def test_attribute_and_item_access():
    d = sample()
    assert d.v is d["v"] and d.syn.g is d["syn"]["g"]
    assert "v" in d and "w" not in d and len(d) == 2
    assert list(d.keys()) == ["v", "syn"] and list(d) == ["v", "syn"]
    assert [k for k, _ in d.items()] == ["v", "syn"] and len(list(d.values())) == 2


def test_children_from_a_dict_and_keywords_merge():
    assert list(HiData({"a": 1}, b=2).keys()) == ["a", "b"]


def test_pytree_keeps_name_and_maps_leaves():
    d = sample()
    leaves, tree = jax.tree.flatten(d)
    assert len(leaves) == 2  # None is an empty subtree
    doubled = jax.tree.map(lambda x: x * 2, d)
    assert isinstance(doubled, HiData) and doubled.name == "neuron"
    assert_allclose(np.asarray(doubled.syn.g), [2, 2])
    paths = [jax.tree_util.keystr(p) for p, _ in jax.tree_util.tree_flatten_with_path(d)[0]]
    assert paths == ["['v']", "['syn']['g']"]


def test_passes_through_jit_and_vmap():
    out = bs.transform.jit(lambda d: d.replace(v=d.v + 1))(sample())
    assert_allclose(np.asarray(out.v), np.ones(3))
    batched = jax.vmap(lambda d: d.v.sum())(HiData(v=jnp.ones((4, 3))))
    assert_allclose(np.asarray(batched), np.full(4, 3.0))


def test_derived_containers_leave_the_original_unchanged():
    d = sample()
    added = d.add({"a": 1}, HiData(b=2), c=3)
    assert list(added.keys()) == ["v", "syn", "a", "b", "c"] and added.name == "neuron"
    assert list(d.pop("v").keys()) == ["syn"]
    assert d.replace(v=5).v == 5 and d.v is not 5
    assert list(d.keys()) == ["v", "syn"]
    clone = d.clone()
    assert clone.syn is not d.syn and clone.name == "neuron"
    assert_allclose(np.asarray(clone.syn.g), np.asarray(d.syn.g))


def test_summaries_and_dict_round_trip():
    d = sample()
    assert d.state_size == 2
    assert d.dtype == jnp.zeros(3).dtype
    assert HiData(a=None, b=HiData(c=jnp.ones(1, jnp.int32))).dtype == jnp.int32
    as_dict = d.to_dict()
    assert isinstance(as_dict["syn"], dict) and as_dict["syn"]["x"] is None
    back = HiData.from_dict(as_dict)
    assert isinstance(back.syn, HiData) and back.syn.g is d.syn.g


def test_repr_shows_names_and_shapes():
    text = repr(sample())
    assert "name='neuron'" in text and "v=Array(shape=(3,), dtype=float32)" in text and "syn=HiData(" in text
    assert repr(HiData(name="x")) == "HiData(name='x')"


@pytest.mark.parametrize("call, error, match", [
    (lambda d: d.w, AttributeError, "has no child 'w'"),
    (lambda d: setattr(d, "v", 1), AttributeError, "HiData is immutable"),
    (lambda d: d["w"], KeyError, "w"),
    (lambda d: d.pop("w"), KeyError, "w"),
    (lambda d: d.add(3), TypeError, "positional arguments must be HiData or dict"),
    (lambda d: HiData(a=1, b=None).dtype, ValueError, "no child is an array"),
])
def test_invalid_use_raises(call, error, match):
    with pytest.raises(error, match=match):
        call(sample())
