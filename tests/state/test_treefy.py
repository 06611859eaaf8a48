"""TreefyState: the immutable snapshot of a State that split/merge and checkpoints carry."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs


def _snapshot():
    return bs.TreefyState.from_state(bs.ParamState(jnp.arange(3.0), name="w", tag="weights"))


def test_snapshot_keeps_type_value_and_metadata():
    snap = _snapshot()
    assert snap.type is bs.ParamState and snap.name == "w" and snap.tag == frozenset({"weights"})
    assert_allclose(snap.value, np.arange(3.0))


def test_replace_gives_a_new_snapshot_and_leaves_the_old_one():
    snap = _snapshot()
    new = snap.replace(jnp.ones(3))
    assert new.type is bs.ParamState and new.get_metadata() == snap.get_metadata()
    assert_allclose(new.value, np.ones(3))
    assert_allclose(snap.value, np.arange(3.0))


def test_snapshot_is_a_pytree_of_its_value():
    doubled = jax.tree_util.tree_map(lambda x: 2 * x, _snapshot())
    assert doubled.type is bs.ParamState and doubled.name == "w"
    assert_allclose(doubled.value, 2 * np.arange(3.0))


@pytest.mark.parametrize("attr", ["value", "type", "name", "anything"])
def test_attributes_cannot_be_set(attr):
    snap = _snapshot()
    with pytest.raises(AttributeError, match=r"TreefyState is immutable; use `\.replace\(value\)` to get a new one"):
        setattr(snap, attr, 1.0)
    assert_allclose(snap.value, np.arange(3.0))


def test_unknown_attribute_names_the_state_type():
    with pytest.raises(AttributeError, match=r"TreefyState of ParamState has no attribute 'bogus'"):
        _snapshot().bogus


def test_copy_deepcopy_and_pickle_keep_type_value_and_metadata():
    import copy
    import pickle

    s = bs.ParamState(jnp.arange(3.0), name="w")
    snap = bs._state.TreefyState.from_state(s)
    for other in (copy.copy(snap), copy.deepcopy(snap), pickle.loads(pickle.dumps(snap))):
        assert other.type is bs.ParamState and other.name == "w"
        assert_allclose(other.value, snap.value)
        assert other == snap
