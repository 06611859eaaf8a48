"""The pretty-printing protocol: headers and attributes, containers, cycles."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

from brainstate.util import (MappingReprMixin, PrettyAttr, PrettyDict, PrettyList, PrettyMapping, PrettyObject,
                             PrettyRepr, PrettyType, yield_unique_pretty_repr_items)


class Point(PrettyRepr):
    def __pretty_repr__(self):
        yield PrettyType("Point")
        yield PrettyAttr("x", 1)
        yield PrettyAttr("label", "'p'")


def test_pretty_repr_lays_out_header_and_attributes():
    assert repr(Point()) == "Point(\n  x=1,\n  label='p'\n)"


def test_pretty_type_uses_class_name():
    assert PrettyType(int).name == "int"


def test_object_without_attributes_prints_empty_repr():
    class Empty(PrettyRepr):
        def __pretty_repr__(self):
            yield PrettyType("Empty", empty_repr="-")

    assert repr(Empty()) == "Empty(-)"


def test_pretty_repr_must_start_with_a_header():
    class Bad(PrettyRepr):
        def __pretty_repr__(self):
            yield PrettyAttr("x", 1)

    with pytest.raises(TypeError, match="must yield a PrettyType first, got PrettyAttr"):
        repr(Bad())


def test_pretty_repr_only_attributes_after_the_header():
    class Bad(PrettyRepr):
        def __pretty_repr__(self):
            yield PrettyType("Bad")
            yield 3

    with pytest.raises(TypeError, match="yielded a int after the header"):
        repr(Bad())


def test_pretty_object_shows_instance_attributes_with_nested_indentation():
    class Inner(PrettyObject):
        def __init__(self):
            self.v = 2

    class Outer(PrettyObject):
        def __init__(self):
            self.a = "s"
            self.inner = Inner()

    assert repr(Outer()) == "Outer(\n  a='s',\n  inner=Inner(\n    v=2\n  )\n)"


def test_pretty_object_cycle_prints_ellipsis():
    class Cell(PrettyObject):
        def __init__(self):
            self.me = self

    assert repr(Cell()) == "Cell(\n  me=Cell(...)\n)"


def test_pretty_repr_item_can_hide_attributes():
    class Secret(PrettyObject):
        def __init__(self):
            self.shown, self.hidden = 1, 2

        def __pretty_repr_item__(self, key, value):
            return None if key == "hidden" else (key, value)

    assert "hidden" not in repr(Secret())


def test_yield_unique_items_default_header_and_attributes():
    class Link:
        def __init__(self):
            self.to = None

    header, *attrs = yield_unique_pretty_repr_items(Link())
    assert header.name == "Link" and [(a.key, a.value) for a in attrs] == [("to", "None")]


def test_yield_unique_items_on_a_cycle_yield_the_header_only():
    class Link:
        pass

    a = Link()
    a.to = a
    nested = []

    def repr_attr(node):
        nested.extend(yield_unique_pretty_repr_items(node.to))
        yield from ()

    list(yield_unique_pretty_repr_items(a, repr_attr=repr_attr))
    assert len(nested) == 1 and nested[0].empty_repr == "..."


def test_pretty_dict_prints_one_entry_per_line():
    assert repr(PrettyDict(a=1, b={"c": 2})) == "{\n  'a': 1,\n  'b': {'c': 2}\n}"


def test_pretty_dict_containing_itself_is_cut():
    d = PrettyDict()
    d["self"] = d
    assert repr(d) == "{\n  'self': {...}\n}"


def test_empty_pretty_containers():
    assert (repr(PrettyDict()), repr(PrettyList())) == ("{}", "[]")


def test_pretty_list_prints_one_item_per_line_and_is_a_pytree():
    xs = PrettyList([1, 2])
    assert repr(xs) == "[\n  1,\n  2\n]"
    mapped = jax.tree.map(lambda x: x * 10, xs)
    assert isinstance(mapped, PrettyList) and list(mapped) == [10, 20]


def test_pretty_mapping_names_its_type():
    assert repr(PrettyMapping({"a": 1}, type_name="Config")) == "Config{\n  'a': 1\n}"


def test_mapping_repr_mixin_gives_pretty_items_only():
    class M(dict, MappingReprMixin):
        pass

    m = M(a=1)
    assert repr(m) == "{'a': 1}"
    assert [item.key for item in list(m.__pretty_repr__())[1:]] == ["'a'"]


# -- the container API of PrettyDict / PrettyList ------------------------------------------------
def _mixed():
    import brainstate

    return PrettyDict(w=brainstate.ParamState(1.0), h=brainstate.HiddenState(0.0), n=3)


def test_pretty_dict_filter_groups_by_first_matching_filter():
    import brainstate

    params, hidden = _mixed().filter(brainstate.ParamState, brainstate.State)
    assert isinstance(params, PrettyDict) and list(params) == ["w"] and list(hidden) == ["h"]


def test_pretty_dict_filter_with_one_filter_gives_one_dict():
    out = _mixed().filter(lambda path, v: path == ("n",))
    assert isinstance(out, PrettyDict) and out.to_dict() == {"n": 3}


def test_pretty_dict_subset_is_filter():
    import brainstate

    assert list(_mixed().subset(brainstate.HiddenState)) == ["h"]


def test_pretty_dict_filter_sees_tuple_keys_as_paths():
    d = PrettyDict({("a", "b"): 1, ("c",): 2})
    assert d.filter(lambda path, v: path[0] == "a").to_dict() == {("a", "b"): 1}


def test_pretty_dict_split_must_cover_every_entry():
    import brainstate

    with pytest.raises(ValueError, match=r"PrettyDict.split: no filter matches the entries at paths \[\('n',\)\]"):
        _mixed().split(brainstate.State)
    states, rest = _mixed().split(brainstate.State, ...)
    assert sorted(states) == ["h", "w"] and rest.to_dict() == {"n": 3}


@pytest.mark.parametrize("method", ["filter", "split", "subset"])
def test_pretty_dict_needs_a_filter(method):
    with pytest.raises(TypeError, match=f"PrettyDict.{method} needs at least one filter"):
        getattr(PrettyDict(a=1), method)()


def test_pretty_dict_merge_later_entries_win_and_inputs_unchanged():
    a, b = PrettyDict(x=1, y=2), {"y": 3, "z": 4}
    merged = a.merge(b, PrettyDict(z=5))
    assert isinstance(merged, PrettyDict) and merged.to_dict() == {"x": 1, "y": 3, "z": 5}
    assert a.to_dict() == {"x": 1, "y": 2}


def test_pretty_dict_to_dict_is_a_plain_dict():
    out = PrettyDict(a=1).to_dict()
    assert type(out) is dict and out == {"a": 1}


def test_pretty_dict_treefy_state_snapshots_states_also_nested():
    import brainstate

    s = brainstate.ParamState(jnp.ones(2))
    out = PrettyDict(w=s, inner=[s, 4], n=1).treefy_state()
    assert type(out["w"]).__name__ == "TreefyState" and type(out["inner"][0]).__name__ == "TreefyState"
    np.testing.assert_allclose(out["inner"][0].value, [1.0, 1.0])
    assert out["inner"][1] == 4 and out["n"] == 1 and isinstance(out, PrettyDict)


def test_pretty_list_tree_methods_round_trip():
    xs = PrettyList([1, 2])
    children, aux = xs.tree_flatten()
    assert (children, aux) == ([1, 2], ())
    back = PrettyList.tree_unflatten(aux, [3, 4])
    assert isinstance(back, PrettyList) and list(back) == [3, 4]


def test_pretty_list_is_a_pytree_through_its_methods():
    leaves, treedef = jax.tree_util.tree_flatten(PrettyList([jnp.ones(1), 2.0]))
    assert len(leaves) == 2
    assert isinstance(jax.tree_util.tree_unflatten(treedef, [0, 1]), PrettyList)
