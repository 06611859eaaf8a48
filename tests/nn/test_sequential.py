"""Sequential built from describers (`Layer.desc(...)`), its editing methods, and `x >> module`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate
from brainstate import nn
from brainstate.mixin import ParamDesc, ParamDescriber


def kinds(seq):
    return [type(layer).__name__ for layer in seq]


def test_every_module_class_is_a_param_desc():
    assert issubclass(nn.Module, ParamDesc)
    desc = nn.Linear.desc(out_size=5)
    assert isinstance(desc, ParamDescriber) and desc.cls is nn.Linear and desc.kwargs == {"out_size": 5}
    layer = desc(in_size=3)
    assert isinstance(layer, nn.Linear) and layer.in_size == (3,) and layer.out_size == (5,)


def test_describer_takes_in_size_from_the_previous_layer():
    seq = nn.Sequential(nn.Linear(10, 64), nn.ReLU(), nn.Linear.desc(out_size=5))
    assert seq[2].in_size == (64,) and seq[2].out_size == (5,)
    assert seq.in_size == (10,) and seq.out_size == (5,)
    x = jnp.linspace(-1.0, 1.0, 10)
    p0, p2 = seq[0].weight.value, seq[2].weight.value
    expected = jax.nn.relu(x @ p0["weight"] + p0["bias"]) @ p2["weight"] + p2["bias"]
    assert_allclose(seq(x), expected, rtol=1e-6)


@pytest.mark.parametrize("middle", [jax.nn.relu, nn.Dropout(0.5), nn.Tanh()], ids=["function", "Dropout", "Tanh"])
def test_size_flows_through_element_wise_layers_and_functions(middle):
    seq = nn.Sequential(nn.Linear(4, 6), middle, nn.Linear.desc(out_size=2))
    assert seq[2].in_size == (6,) and seq.out_size == (2,)


def test_describers_chain_one_after_another():
    seq = nn.Sequential(nn.Linear(3, 8), nn.Linear.desc(out_size=4), nn.Linear.desc(out_size=2))
    assert [(layer.in_size, layer.out_size) for layer in seq] == [((3,), (8,)), ((8,), (4,)), ((4,), (2,))]


def test_first_layer_may_be_a_describer_with_its_own_in_size():
    seq = nn.Sequential(nn.Linear.desc(3, 4), nn.Linear.desc(out_size=2))
    assert seq.in_size == (3,) and seq.out_size == (2,) and seq[1].in_size == (4,)


def test_describer_after_a_layer_of_unknown_size_is_an_error():
    with pytest.raises(ValueError, match=r"layer #2 is a describer .* output size of layer #1 \(MaxPool1d\) "
                                         r"is unknown"):
        nn.Sequential(nn.Linear(10, 8), nn.MaxPool1d(2, channel_axis=None), nn.Linear.desc(out_size=5))


def test_describer_must_build_a_module():
    with pytest.raises(TypeError, match=r"at layer #1 built a dict, not a Module"):
        nn.Sequential(nn.Linear(3, 4), ParamDescriber(dict))


def test_describer_whose_arguments_do_not_fit_is_reported():
    with pytest.raises(TypeError, match=r"building layer #1 from ParamDescriber\(Linear\(\)\) failed "
                                        r"\(with in_size=\(4,\)\)"):
        nn.Sequential(nn.Linear(3, 4), nn.Linear.desc())


def test_append_builds_describers_and_updates_out_size():
    seq = nn.Sequential(nn.Linear(10, 20))
    seq.append(nn.ReLU())
    assert seq.out_size == (20,)
    seq.append(nn.Linear.desc(out_size=7))
    assert kinds(seq) == ["Linear", "ReLU", "Linear"]
    assert seq[2].in_size == (20,) and seq.out_size == (7,)
    assert seq(jnp.ones((2, 10))).shape == (2, 7)
    assert list(seq.states()) == [("layers", 0, "weight"), ("layers", 2, "weight")]


def test_append_rejects_a_non_callable():
    seq = nn.Sequential(nn.Linear(2, 3))
    with pytest.raises(TypeError, match=r"layer #1 \(str 'relu'\) is not callable"):
        seq.append("relu")
    assert len(seq) == 1


def test_extend_adds_all_or_nothing():
    seq = nn.Sequential(nn.Linear(10, 20))
    seq.extend([nn.Tanh(), nn.Linear.desc(out_size=3)])
    assert kinds(seq) == ["Linear", "Tanh", "Linear"] and seq.out_size == (3,) and seq[2].in_size == (20,)
    with pytest.raises(TypeError, match=r"layer #4 \(int 7\) is not callable"):
        seq.extend([nn.ReLU(), 7])
    assert kinds(seq) == ["Linear", "Tanh", "Linear"]


@pytest.mark.parametrize("index, expected", [(0, ["ReLU", "A", "B"]), (1, ["A", "ReLU", "B"]),
                                             (2, ["A", "B", "ReLU"]), (-1, ["A", "ReLU", "B"]),
                                             (-2, ["ReLU", "A", "B"])])
def test_insert_follows_list_index_rules(index, expected):
    a, b = nn.Linear(10, 20, name="A"), nn.Linear(20, 5, name="B")
    seq = nn.Sequential(a, b)
    seq.insert(index, nn.ReLU())
    assert [layer.name or type(layer).__name__ for layer in seq] == expected


def test_insert_builds_a_describer_with_the_size_flowing_in():
    seq = nn.Sequential(nn.Linear(10, 20), nn.ReLU(), nn.Linear(20, 5))
    seq.insert(2, nn.Linear.desc(out_size=20))
    assert seq[2].in_size == (20,) and seq.out_size == (5,)
    assert seq(jnp.ones(10)).shape == (5,)


def test_insert_at_the_front_updates_in_size():
    seq = nn.Sequential(nn.Linear(10, 20), nn.Linear(20, 5))
    seq.insert(0, nn.Linear(3, 10))
    assert seq.in_size == (3,) and seq.out_size == (5,)
    assert seq(jnp.ones(3)).shape == (5,)


def test_insert_at_the_front_builds_a_describer_with_the_in_size():
    seq = nn.Sequential(nn.Linear(10, 20))
    seq.insert(0, nn.Linear.desc(out_size=10))
    assert seq[0].in_size == (10,) and seq.in_size == (10,)


def test_insert_at_the_end_updates_out_size():
    seq = nn.Sequential(nn.Linear(10, 20))
    seq.insert(1, nn.Linear.desc(out_size=4))
    assert seq.out_size == (4,)


@pytest.mark.parametrize("index", [3, -3])
def test_insert_out_of_range_is_an_error(index):
    seq = nn.Sequential(nn.Linear(10, 20), nn.Linear(20, 5))
    with pytest.raises(IndexError, match=rf"index {index} is out of range for 2 layers"):
        seq.insert(index, nn.ReLU())
    assert len(seq) == 2


def test_insert_index_must_be_an_int():
    with pytest.raises(TypeError, match="index must be an int, got str"):
        nn.Sequential(nn.Linear(2, 3)).insert("0", nn.ReLU())


def test_indexing_with_a_list_shares_the_layers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.ReLU(), nn.Linear(3, 1))
    picked = seq[[0, 2]]
    assert isinstance(picked, nn.Sequential) and picked[0] is seq[0] and picked[1] is seq[2]
    with pytest.raises(ValueError, match=r"Sequential\[\[\]\] selects no layer out of 3"):
        seq[[]]


def test_right_shift_calls_the_module():
    layer = nn.Linear(2, 3, w_init=jnp.arange(6.0).reshape(2, 3))
    x = jnp.array([1.0, 2.0])
    assert_allclose(x >> layer, x @ jnp.arange(6.0).reshape(2, 3))
    assert_allclose(x >> layer >> nn.ReLU(), np.maximum(x @ np.arange(6.0).reshape(2, 3), 0))


def test_right_shift_works_under_jit():
    layer = nn.Linear(2, 3)
    f = brainstate.transform.jit(lambda x: x >> layer)
    assert_allclose(f(jnp.ones(2)), layer(jnp.ones(2)), rtol=1e-6)
