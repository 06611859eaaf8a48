"""DotDict: attribute access to keys, nested conversion, PyTree, copying and pickling."""

import copy
import pickle

import jax
import pytest

from brainstate.util import DotDict


def test_attribute_reads_key_at_every_depth():
    d = DotDict({"optim": {"lr": 0.1}, "layers": [{"size": 3}]})
    assert d.optim.lr == 0.1 and d.layers[0].size == 3


def test_missing_attribute_raises_attribute_error():
    with pytest.raises(AttributeError, match="no key or attribute 'zz'. Present keys: \\['a'\\]"):
        DotDict(a=1).zz


def test_getattr_default_and_hasattr_work():
    d = DotDict(a=1)
    assert getattr(d, "b", 5) == 5 and not hasattr(d, "b")


def test_attribute_assignment_sets_key_and_converts_dicts():
    d = DotDict()
    d.sub = {"x": 1}
    assert isinstance(d["sub"], DotDict) and d.sub.x == 1


def test_attribute_shadowing_a_dict_method_is_refused():
    with pytest.raises(AttributeError, match="cannot set attribute 'items'.*d\\['items'\\] = value"):
        DotDict().items = 1


def test_delete_attribute_deletes_key():
    d = DotDict(a=1)
    del d.a
    assert d == {}


def test_delete_missing_attribute_raises():
    with pytest.raises(AttributeError, match="no key or attribute 'a' to delete"):
        del DotDict().a


def test_dir_lists_identifier_keys():
    assert "lr" in dir(DotDict(lr=1, **{"not valid": 2})) and "not valid" not in dir(DotDict(**{"not valid": 2}))


def test_to_dict_is_plain_all_the_way_down():
    plain = DotDict({"a": {"b": [{"c": 1}]}}).to_dict()
    assert type(plain["a"]) is dict and type(plain["a"]["b"][0]) is dict


def test_from_dict():
    assert DotDict.from_dict({"a": {"b": 1}}).a.b == 1


def test_or_operators_return_dotdicts():
    d = DotDict(a=1)
    assert isinstance(d | {"b": {"c": 1}}, DotDict) and isinstance({"b": 2} | d, DotDict)


def test_in_place_or_converts():
    d = DotDict()
    d |= {"b": {"c": 1}}
    assert d.b.c == 1


def test_copy_is_shallow_and_deepcopy_is_deep():
    d = DotDict({"a": {"b": 1}})
    shallow, deep = d.copy(), d.deepcopy()
    d.a.b = 2
    assert shallow.a.b == 2 and deep.a.b == 1 and isinstance(deep, DotDict)


def test_pickle_round_trip():
    d = DotDict({"a": {"b": 1}})
    back = pickle.loads(pickle.dumps(d))
    assert back == d and isinstance(back.a, DotDict)


def test_copy_module_works():
    assert copy.copy(DotDict(a=1)) == {"a": 1}


def test_pytree_round_trip_keeps_class():
    out = jax.tree.map(lambda x: x + 1, DotDict({"a": 1, "n": {"b": 2}}))
    assert isinstance(out.n, DotDict) and out.to_dict() == {"a": 2, "n": {"b": 3}}
