import jax.numpy as jnp
import pytest

import brainstate as bs
from brainstate import util

P = bs.ParamState(jnp.zeros(1), tag="w")
H = bs.HiddenState(jnp.zeros(1))


@pytest.mark.parametrize("flt, path, value, expected", [
    (bs.ParamState, (), P, True),
    (bs.ParamState, (), H, False),
    (bs.State, (), H, True),
    ("w", (), P, True),
    ("w", (), H, False),
    (..., (), H, True),
    (True, (), H, True),
    (None, (), P, False),
    (False, (), P, False),
    ([bs.HiddenState, "w"], (), P, True),
    ((bs.HiddenState,), (), P, False),
    (lambda path, x: path == ("a",), ("a",), P, True),
    (util.PathContains("layer"), ("layer", 0), P, True),
    (util.PathContains("layer"), ("other",), P, False),
    (util.All(bs.ParamState, "w"), (), P, True),
    (util.All(bs.ParamState, "x"), (), P, False),
    (util.Not(bs.ParamState), (), H, True),
    (util.Everything(), (), P, True),
    (util.Nothing(), (), P, False),
])
def test_filters(flt, path, value, expected):
    assert util.to_predicate(flt)(path, value) is expected


def test_snapshot_matches_its_type():
    assert util.to_predicate(bs.ParamState)((), P.to_state_ref())
    assert not util.to_predicate(bs.HiddenState)((), P.to_state_ref())


def test_predicates_hashable_and_equal():
    assert util.OfType(bs.ParamState) == util.OfType(bs.ParamState)
    assert len({util.Any(bs.ParamState, "w"), util.Any(bs.ParamState, "w")}) == 1
    assert util.Not(bs.ParamState) == util.Not(bs.ParamState)
    assert util.Everything() == util.Everything() and util.Nothing() == util.Nothing()


def test_bad_filter():
    with pytest.raises(TypeError, match="is not a filter"):
        util.to_predicate(3.5)


def test_filter_is_an_importable_module():
    import importlib

    module = importlib.import_module("brainstate.util.filter")
    assert module is util.filter
    from brainstate.util.filter import Filter, OfType, to_predicate  # noqa: F401  (the reference's import path)

    assert OfType is util.OfType and to_predicate is util.to_predicate
