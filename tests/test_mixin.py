"""brainstate.mixin: modes, type combinators, deferred construction, not-implemented markers."""

import copy
import pickle

import pytest

import brainstate
from brainstate.mixin import (Batching, HashableDict, JointMode, JointTypes, Mixin, Mode, NoSubclassMeta,
                              OneOfTypes, ParamDesc, ParamDescriber, Training, hashable, is_not_implemented,
                              not_implemented)


def test_typing_reexports_exist():
    m = brainstate.mixin
    assert all(hasattr(m, n) for n in ["Any", "ArrayLike", "Optional", "Sequence", "T", "TypeVar", "Union", "jax"])


def test_modes_compare_by_type():
    assert Training() == Training() and Batching(2) == Batching(8) and Training() != Batching()
    assert hash(Batching(2)) == hash(Batching(8))


def test_mode_reprs():
    assert (repr(Training()), repr(Batching(4, 1))) == ("Training", "Batching(batch_size=4, batch_axis=1)")


def test_is_a_is_exact_and_has_includes_subclasses():
    mode = Training()
    assert mode.is_a(Training) and not mode.is_a(Mode) and mode.has(Mode) and not mode.has(Batching)


@pytest.mark.parametrize("method", ["is_a", "has"])
def test_mode_checks_want_classes(method):
    with pytest.raises(TypeError, match=f"Training.{method} expects a mode class.*got Training"):
        getattr(Training(), method)(Training())


def test_batching_defaults():
    assert (Batching().batch_size, Batching().batch_axis) == (1, 0)


def test_joint_mode_has_each_member():
    joint = JointMode(Training(), Batching(8))
    assert joint.has(Training) and joint.has(Batching) and joint.has(Mode) and not joint.is_a(Training)


def test_joint_mode_is_a_joint_type_in_any_order():
    joint = JointMode(Training(), Batching())
    assert joint.is_a(JointTypes[Batching, Training]) and not joint.is_a(JointTypes[Training])


def test_joint_mode_of_one_is_a_that_mode():
    assert JointMode(Training()).is_a(Training)


def test_joint_mode_reads_member_attributes():
    assert JointMode(Training(), Batching(8, 1)).batch_axis == 1


def test_joint_mode_missing_attribute_raises():
    with pytest.raises(AttributeError, match="none of the modes .* has attribute 'nope'"):
        JointMode(Training()).nope


def test_joint_mode_rejects_non_modes():
    with pytest.raises(TypeError, match="every member must be a Mode instance, got 1"):
        JointMode(Training(), 1)


def test_joint_mode_repr_and_equality():
    a = JointMode(Training(), Batching(2))
    assert repr(a) == "JointMode(Training, Batching(batch_size=2, batch_axis=0))"
    assert a == JointMode(Batching(), Training()) and hash(a) == hash(JointMode(Batching(), Training()))


def test_joint_mode_survives_pickle_and_copy():
    joint = JointMode(Training(), Batching(3))
    assert pickle.loads(pickle.dumps(joint)).batch_size == 3 and copy.deepcopy(joint).has(Training)


def test_joint_mode_dunder_lookups_are_not_forwarded():
    with pytest.raises(AttributeError, match="__array__"):
        JointMode(Training()).__array__


def test_joint_types_match_instances_of_all():
    class Both(Training, Batching):
        pass

    both = JointTypes[Training, Batching]
    assert isinstance(Both(), both) and not isinstance(Training(), both) and issubclass(Both, both)


def test_one_of_types_match_instances_of_any():
    either = OneOfTypes[Training, Batching]
    assert isinstance(Training(), either) and not isinstance(1, either) and issubclass(Batching, either)


def test_one_of_types_accepts_none():
    assert isinstance(None, OneOfTypes[int, None]) and repr(OneOfTypes[int, None]) == "OneOfTypes[builtins.int, None]"


def test_combinations_collapse_and_compare_unordered():
    assert JointTypes[int] is int and JointTypes(int, int) is int
    assert JointTypes[int, str] == JointTypes(str, int) and JointTypes[int, str] != OneOfTypes[int, str]
    assert hash(OneOfTypes[int, str]) == hash(OneOfTypes[str, int])


def test_combination_repr():
    assert repr(JointTypes[Training, Batching]) == "JointTypes[brainstate.mixin.Training, brainstate.mixin.Batching]"


@pytest.mark.parametrize("make,alias", [(lambda: JointTypes[int, str], "_JointGenericAlias"),
                                        (lambda: OneOfTypes[int, str], "_OneOfGenericAlias")])
def test_combinations_are_instances_of_the_exported_alias_types(make, alias):
    import brainstate.mixin as mixin

    assert alias in mixin.__all__
    assert isinstance(make(), getattr(mixin, alias))
    assert make().__args__ == (int, str)


def test_joint_and_one_of_aliases_are_distinct_types():
    from brainstate.mixin import _JointGenericAlias, _OneOfGenericAlias

    assert not isinstance(OneOfTypes[int, str], _JointGenericAlias)
    assert not isinstance(JointTypes[int, str], _OneOfGenericAlias)


@pytest.mark.parametrize("make,kind", [(lambda: JointTypes[Training, Batching], "an intersection"),
                                       (lambda: OneOfTypes[Training, Batching], "a union")])
def test_calling_a_combination_raises(make, kind):
    with pytest.raises(TypeError, match=rf"Cannot instantiate {make()._name}\[brainstate.mixin.Training, "
                                        rf"brainstate.mixin.Batching\]: it is {kind} type"):
        make()(1, key=2)


def test_combinations_pickle_and_serve_as_annotations():
    import pickle
    import typing

    both = JointTypes[Training, Batching]
    assert pickle.loads(pickle.dumps(both)) == both
    assert typing.Optional[both] == typing.Union[both, None]  # accepted by typing (it is callable)


def test_combination_needs_types():
    with pytest.raises(TypeError, match="JointTypes needs at least one type"):
        JointTypes()


def test_combination_rejects_non_types():
    with pytest.raises(TypeError, match="OneOfTypes: 3 is not a type"):
        OneOfTypes[int, 3]


class Layer(ParamDesc):
    def __init__(self, size, act="relu"):
        self.size, self.act = size, act


def test_desc_builds_later_with_stored_and_new_arguments():
    make = Layer.desc(act="tanh")
    layer = make(3)
    assert isinstance(make, ParamDescriber) and (layer.size, layer.act) == (3, "tanh")


def test_build_time_keywords_override_stored_ones():
    assert Layer.desc(3, act="tanh")(act="gelu").act == "gelu" and Layer.desc(3).init().size == 3


def test_identifier_is_hashable_with_unhashable_arguments():
    ident = Layer.desc([1, 2], act=["a"]).identifier
    hash(ident)
    assert ident == (Layer, ("[1, 2]",), {"act": "['a']"})


def test_describer_isinstance_checks_built_class():
    class Sub(Layer):
        pass

    assert isinstance(Sub.desc(1), Layer.desc()) and not isinstance(Layer.desc(1), Sub.desc())


def test_describer_class_getitem_and_repr():
    assert ParamDescriber[Layer].cls is Layer and repr(Layer.desc(3, act="x")) == "ParamDescriber(Layer(3, act='x'))"


def test_describer_cannot_be_subclassed():
    with pytest.raises(TypeError, match="type 'ParamDescriber' is not an acceptable base type"):
        class Sub(ParamDescriber):
            pass


def test_no_subclass_meta_allows_the_class_itself():
    class Final(metaclass=NoSubclassMeta):
        pass

    assert isinstance(Final, NoSubclassMeta)


def test_param_desc_default_non_hashable_params():
    assert Layer.non_hashable_params is None and issubclass(Layer, Mixin)


def test_hashable_dict_hash_ignores_order_and_strs_unhashables():
    d = HashableDict({"a": [1], "b": 1})
    assert d["a"] == "[1]" and hash(d) == hash(HashableDict({"b": 1, "a": [1]}))


def test_hashable():
    assert hashable((1, 2)) and not hashable([1]) and not hashable({"a": 1})


def test_not_implemented_marks_and_raises():
    class Base:
        @not_implemented
        def update(self, x):
            """Step."""

    assert is_not_implemented(Base.update) and Base.update.__doc__ == "Step." and not is_not_implemented(print)
    with pytest.raises(NotImplementedError, match="Base.update is not implemented. Override it"):
        Base().update(1)


def test_names_moved_to_brainpy_warn_and_explain():
    import importlib.util

    with pytest.warns(DeprecationWarning, match="use brainpy.mixin.AlignPost"):
        if importlib.util.find_spec("brainpy") is None:
            with pytest.raises(AttributeError, match="install brainpy"):
                brainstate.mixin.AlignPost
        else:
            assert brainstate.mixin.AlignPost.__name__ == "AlignPost"
    with pytest.raises(AttributeError, match="has no attribute 'Nothing'"):
        brainstate.mixin.Nothing


def test_an_unknown_mixin_name_is_an_attribute_error():
    import brainstate

    with pytest.raises(AttributeError, match="module 'brainstate.mixin' has no attribute 'NoSuchMixin'"):
        brainstate.mixin.NoSuchMixin
