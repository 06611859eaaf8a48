"""DictManager: selection by type or predicate, identity-based uniqueness, set operations."""

import copy

import jax
import pytest

from brainstate.util import DictManager


def make():
    return DictManager(a=1, b=2.0, c="x")


@pytest.mark.parametrize("sep, keys", [(int, ["a"]), ((int, float), ["a", "b"]), (lambda v: v == "x", ["c"])])
def test_subset_by_type_tuple_or_predicate(sep, keys):
    assert list(make().subset(sep)) == keys


def test_not_subset_is_the_complement():
    assert list(make().not_subset(int)) == ["b", "c"]


def test_subset_rejects_non_filters():
    with pytest.raises(TypeError, match="expected a type, a tuple of types or a predicate"):
        make().subset(3)


def test_split_gives_one_per_type_plus_rest():
    ints, floats, rest = make().split(int, float)
    assert (list(ints), list(floats), list(rest)) == (["a"], ["b"], ["c"])


def test_split_rejects_predicates():
    with pytest.raises(TypeError, match="expected types, got the callable"):
        make().split(lambda v: True)


def test_filter_by_predicate_sees_key_and_value():
    assert list(make().filter_by_predicate(lambda k, v: k != "a")) == ["b", "c"]


def test_add_unique_key_accepts_the_same_object():
    obj = []
    d = DictManager(k=obj)
    d.add_unique_key("k", obj)
    assert d["k"] is obj


def test_add_unique_key_rejects_another_object():
    with pytest.raises(ValueError, match="key 'k' already holds a different object"):
        DictManager(k=[1]).add_unique_key("k", [1])


def test_add_unique_value_skips_held_objects():
    obj = []
    d = DictManager(k=obj)
    assert (d.add_unique_value("other", obj), d.add_unique_value("new", [])) == (False, True)
    assert list(d) == ["k", "new"]


def test_unique_keeps_first_key_of_each_object():
    obj = []
    assert list(DictManager(p=obj, q=obj, r=[]).unique()) == ["p", "r"]


def test_unique_in_place_returns_self():
    obj = []
    d = DictManager(p=obj, q=obj)
    assert d.unique_() is d and list(d) == ["p"]


def test_assign_applies_mappings_then_keywords():
    d = DictManager()
    d.assign({"a": 1}, {"a": 2, "b": 3}, b=4)
    assert d == {"a": 2, "b": 4}


def test_pop_by_keys_ignores_absent_keys():
    d = make()
    d.pop_by_keys(["a", "zz"])
    assert list(d) == ["b", "c"]


@pytest.mark.parametrize("by, kept", [("id", ["p", "q"]), ("value", [])])
def test_pop_by_values_by_identity_or_equality(by, kept):
    obj = [1]
    d = DictManager(p=[1], q=[1], r=obj)
    d.pop_by_values([obj, [1]] if by == "value" else [obj], by=by)
    assert list(d) == kept


def test_value_comparison_must_be_id_or_value():
    with pytest.raises(ValueError, match="by='foo' is not a comparison"):
        make().difference_by_values([1], by="foo")


def test_difference_and_intersection_by_keys():
    d = make()
    assert (list(d.difference_by_keys(["a"])), list(d.intersection_by_keys(["a", "zz"]))) == (["b", "c"], ["a"])


def test_difference_and_intersection_by_values():
    d = make()
    assert list(d.difference_by_values([1], by="value")) == ["b", "c"]
    assert list(d.intersection_by_values([1], by="value")) == ["a"]


def test_map_values_and_keys():
    d = DictManager(a=1)
    assert d.map_values(str) == {"a": "1"} and d.map_keys(str.upper) == {"A": 1}


def test_operators_combine_into_new_manager():
    d = DictManager(a=1)
    assert type(d + {"b": 2}) is DictManager and (d | {"a": 3}) == {"a": 3} and d == {"a": 1}


def test_in_place_or_updates():
    d = DictManager(a=1)
    d |= {"b": 2}
    assert d == {"a": 1, "b": 2}


def test_to_dict_is_plain():
    assert type(DictManager(a=1).to_dict()) is dict


def test_copies_keep_class():
    d = DictManager(a=[1])
    assert type(copy.copy(d)) is DictManager and type(copy.deepcopy(d)) is DictManager and type(d.copy()) is DictManager


def test_repr_names_the_class():
    assert repr(DictManager(a=1)) == "DictManager({'a': 1})"


def test_pytree_children_are_values_in_insertion_order():
    d = DictManager(b=1, a=2)
    assert jax.tree.leaves(d) == [1, 2]
    assert jax.tree.map(lambda x: x * 10, d) == {"b": 10, "a": 20}


class Ints(DictManager):
    def _check_elem(self, elem):
        if not isinstance(elem, int):
            raise TypeError(f"Ints holds ints, got {elem!r}")


def test_subclass_check_runs_on_every_insertion_route():
    d = Ints(a=1)
    for insert in (lambda: d.__setitem__("b", "x"), lambda: d.update(b="x"), lambda: d.setdefault("b", "x"),
                   lambda: Ints(b="x"), lambda: d + {"b": "x"}):
        with pytest.raises(TypeError, match="Ints holds ints"):
            insert()


def test_subclass_is_a_pytree_and_keeps_its_class():
    out = jax.tree.map(lambda x: x + 1, Ints(a=1))
    assert type(out) is Ints and out == {"a": 2}
