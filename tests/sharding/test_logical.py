"""Logical axis names mapped to mesh axes by rules."""

import pytest
from jax.sharding import PartitionSpec as P

from brainstate.sharding import check_rules, logical_to_mesh_axes


@pytest.mark.parametrize("axes, expected", [
    (("batch", "hidden"), P("data", "model")),
    (("in", "hidden"), P(None, "model")),
    ((None, "batch"), P(None, "data")),
    (("both",), P(("data", "model"))),
    ((), P()),
])
def test_logical_axes_map_to_mesh_axes(axes, expected):
    rules = {"batch": "data", "hidden": "model", "in": None, "both": ("data", "model")}
    assert logical_to_mesh_axes(axes, rules) == expected


def test_rules_as_pairs_equal_rules_as_dict():
    pairs = [("batch", "data"), ("hidden", ["model"])]
    assert check_rules(pairs) == {"batch": "data", "hidden": ("model",)}


def test_missing_rule_names_the_axis_and_the_fix():
    with pytest.raises(ValueError, match=r"w: logical axis 'hiden' .* has no sharding rule; the rules cover "
                                         r"'hidden'.*\{'hiden': None\}"):
        logical_to_mesh_axes(("hiden",), {"hidden": "model"}, where="w")


def test_one_mesh_axis_for_two_dimensions_is_refused():
    with pytest.raises(ValueError, match=r"logical axes 'a' and 'b' .* both map to mesh axis 'x'"):
        logical_to_mesh_axes(("a", "b"), {"a": "x", "b": ("y", "x")})


@pytest.mark.parametrize("rules, message", [
    ({"a": 3}, r"the rule for logical axis 'a' is 3"),
    ({1: "x"}, r"logical axis names are strings, got 1"),
    ([("a", "x"), ("a", "y")], r"logical axis 'a' has two rules"),
    (["a"], r"expected \(logical name, mesh axes\) pairs"),
])
def test_bad_rules(rules, message):
    with pytest.raises((TypeError, ValueError), match=message):
        check_rules(rules)


def test_logical_axes_must_be_names():
    with pytest.raises(TypeError, match=r"logical axes are a tuple of names"):
        logical_to_mesh_axes(("a", 1), {"a": None})
