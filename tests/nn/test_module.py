"""Module, the collective init/reset calls, Sequential and Linear."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import nn


class Cell(nn.Module):
    def __init__(self, n, log=None, name=None):
        super().__init__(name=name)
        self.in_size = n
        self.log = [] if log is None else log

    def init_state(self, batch=None):
        self.h = brainstate.HiddenState(jnp.zeros(self.in_size if batch is None else (batch,) + self.in_size))
        self.log.append(("init", self.name))

    def reset_state(self, batch=None):
        self.h.value = jnp.zeros_like(self.h.value)
        self.log.append(("reset", self.name))


class Net(nn.Module):
    def __init__(self, log):
        super().__init__(name="net")
        self.a = Cell(2, log, name="a")
        self.blocks = [Cell(3, log, name="b0"), {"x": Cell(1, log, name="bx")}]
        self.log = log

    def init_state(self, batch=None):
        self.log.append(("init", self.name))


# -- Module --------------------------------------------------------------------------------------

def test_name_is_read_only():
    m = nn.Module(name="m")
    assert m.name == "m"
    with pytest.raises(AttributeError, match="name"):
        m.name = "other"


def test_name_must_be_a_string():
    with pytest.raises(TypeError, match="Module: name must be a string or None, got int 3"):
        nn.Module(name=3)


def test_sizes_are_normalised_to_tuples():
    m = nn.Module()
    m.in_size, m.out_size = 4, [2, 3]
    assert m.in_size == (4,) and m.out_size == (2, 3)


def test_bad_size_is_reported():
    m = nn.Module(name="m")
    with pytest.raises(TypeError, match=r"Module\('m'\): in_size must be an int, a sequence of ints or None, got 'x'"):
        m.in_size = "x"


def test_fixed_size_is_the_size_set():
    m = nn.Module()
    m.in_size, m.out_size = (2, 3), 4
    assert m._fixed_size("in_size") == (2, 3) and m._fixed_size("out_size") == (4,)


@pytest.mark.parametrize("which", ["in_size", "out_size"])
def test_fixed_size_of_an_unset_size_is_reported(which):
    with pytest.raises(ValueError, match=rf"Module\('m'\) needs a fixed {which}, but its {which} is None\. "
                                         rf"Pass {which} when building it"):
        nn.Module(name="m")._fixed_size(which)


@pytest.mark.parametrize("build, match", [
    (lambda: nn.Linear(None, 3), "Linear needs a fixed in_size"),
    (lambda: nn.Linear(3, None), "Linear needs a fixed out_size"),
    (lambda: nn.Embedding(10, None), "Embedding needs a fixed out_size"),
    (lambda: nn.OneToOne(None), "OneToOne needs a fixed in_size"),
    (lambda: nn.LayerNorm(None), "LayerNorm needs a fixed in_size"),
    (lambda: nn.EventLinear(None, 2, 1.0), "EventLinear needs a fixed in_size"),
])
def test_fixed_size_layers_report_a_missing_size_when_built(build, match):
    with pytest.raises(ValueError, match=match):
        build()


def test_call_forwards_to_update():
    class Double(nn.Module):
        def update(self, x):
            return 2 * x

    assert Double()(3) == 6


def test_calling_a_module_without_update_is_reported():
    with pytest.raises(NotImplementedError, match="Module does not define `update`"):
        nn.Module()(1)


def test_module_without_super_init_still_works():
    class Bare(nn.Module):
        def __init__(self):
            self.w = brainstate.ParamState(jnp.ones(1))

    m = Bare()
    assert m.name is None and list(m.states()) == [("w",)]


def test_states_and_nodes_delegate_to_the_graph():
    net = Net([])
    nn.init_all_states(net)
    assert set(net.states(brainstate.HiddenState)) == {("a", "h"), ("blocks", 0, "h"), ("blocks", 1, "x", "h")}
    assert list(net.nodes()) == [("a",), ("blocks", 0), ("blocks", 1, "x"), ()]  # children first


def test_children_are_the_direct_sub_modules():
    net = Net([])
    net.a.sub = Cell(1)
    assert [name for name, _ in net.named_children()] == ["a", "blocks.0", "blocks.1.x"]
    assert list(net.children())[0] is net.a


def test_modules_list_children_first_and_self_last():
    net = Net([])
    assert [name for name, _ in net.named_modules(prefix="net")] == ["net.a", "net.blocks.0", "net.blocks.1.x", "net"]
    assert list(net.modules())[-1] is net
    assert len(list(net.modules(include_self=False))) == 3


def test_parameters_are_the_param_states():
    model = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    model.own = brainstate.ParamState(jnp.zeros(1))
    assert [n for n, _ in model.named_parameters()] == ["layers.0.weight", "layers.1.weight", "own"]
    assert list(model.parameters(recurse=False)) == [model.own]


def test_init_and_reset_state_default_to_no_ops():
    m = nn.Module()
    assert m.init_state() is None and m.reset_state(1, x=2) is None


# -- collective calls ----------------------------------------------------------------------------

def test_init_all_states_calls_children_before_parents_and_returns_target():
    log = []
    net = Net(log)
    assert nn.init_all_states(net, 5) is net
    assert log == [("init", "a"), ("init", "b0"), ("init", "bx"), ("init", "net")]
    assert net.a.h.value.shape == (5, 2)


def test_reset_all_states_resets_every_module():
    log = []
    net = Net(log)
    nn.init_all_states(net)
    net.a.h.value = jnp.ones(2)
    nn.reset_all_states(net)
    np.testing.assert_allclose(net.a.h.value, np.zeros(2))
    assert [e for e in log if e[0] == "reset"] == [("reset", "a"), ("reset", "b0"), ("reset", "bx")]


def test_shared_module_is_initialised_once():
    log = []
    net = Net(log)
    net.alias = net.a
    nn.init_all_states(net)
    assert log.count(("init", "a")) == 1


def test_node_to_exclude_skips_modules():
    log = []
    nn.init_all_states(Net(log), node_to_exclude=lambda path, m: m.name == "b0")
    assert ("init", "b0") not in log


def test_call_order_runs_marked_methods_last_by_level():
    log = []

    class Late(Cell):
        @nn.call_order(2)
        def init_state(self, batch=None):
            log.append(("init", self.name))

    class Early(Cell):
        @nn.call_order(1)
        def init_state(self, batch=None):
            log.append(("init", self.name))

    net = Net(log)
    net.late, net.early = Late(1, name="late"), Early(1, name="early")
    nn.init_all_states(net)
    assert log[-2:] == [("init", "early"), ("init", "late")]


def test_call_order_level_out_of_range_is_reported():
    with pytest.raises(ValueError, match=r"level must be an integer in \[0, 10\), got 10"):
        nn.call_order(10)
    assert nn.call_order(10, check_order_boundary=False)(lambda: None).call_order == 10


def test_call_all_fns_reports_a_missing_method():
    with pytest.raises(AttributeError, match=r"Cell at path \('a',\) has no method 'fit'.*fn_if_not_exist='pass'"):
        nn.call_all_fns(Net([]), "fit")


def test_call_all_fns_can_skip_a_missing_method():
    net = Net([])
    assert nn.call_all_fns(net, "fit", fn_if_not_exist="pass") is net


def test_call_all_fns_rejects_an_unknown_mode():
    with pytest.raises(ValueError, match="fn_if_not_exist must be 'raise', 'pass', 'none' or 'warn', got 'skip'"):
        nn.call_all_fns(Net([]), "init_state", fn_if_not_exist="skip")


# -- Sequential ----------------------------------------------------------------------------------

def test_sequential_runs_layers_in_order():
    seq = nn.Sequential(lambda x: x + 1, lambda x: x * 10)
    assert seq(1) == 20


def test_sequential_infers_sizes_from_its_layers():
    seq = nn.Sequential(nn.Linear(4, 3), jax.nn.relu, nn.Linear(3, 2), jax.nn.tanh)
    assert seq.in_size == (4,) and seq.out_size == (2,)
    assert seq(jnp.ones((5, 4))).shape == (5, 2)


def test_sequential_indexing_and_slicing():
    first, second = nn.Linear(2, 3), nn.Linear(3, 1)
    seq = nn.Sequential(first, jax.nn.relu, second)
    assert seq[0] is first and len(seq) == 3 and list(seq)[2] is second
    tail = seq[1:]
    assert isinstance(tail, nn.Sequential) and tail[1] is second


def test_sequential_empty_slice_is_reported():
    with pytest.raises(ValueError, match="selects no layer out of 1"):
        nn.Sequential(nn.Linear(2, 3))[5:]


def test_sequential_rejects_non_callables():
    with pytest.raises(TypeError, match="layer #1 \\(int 3\\) is not callable"):
        nn.Sequential(nn.Linear(2, 3), 3)


def test_sequential_states_live_under_layers():
    seq = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    assert list(seq.states()) == [("layers", 0, "weight"), ("layers", 1, "weight")]


# -- Linear --------------------------------------------------------------------------------------

def test_linear_keeps_one_param_state_with_weight_and_bias():
    layer = nn.Linear(3, 2)
    assert list(layer.states()) == [("weight",)]
    assert isinstance(layer.weight, brainstate.ParamState)
    value = layer.weight.value
    assert value["weight"].shape == (3, 2) and value["bias"].shape == (2,)
    np.testing.assert_allclose(value["bias"], np.zeros(2))


def test_linear_without_bias_has_no_bias_key():
    assert set(nn.Linear(3, 2, b_init=None).weight.value) == {"weight"}


def test_linear_computes_x_at_w_plus_b():
    w = jnp.arange(6.0).reshape(3, 2)
    layer = nn.Linear(3, 2, w_init=w, b_init=jnp.array([1.0, -1.0]))
    x = jnp.array([[1.0, 2.0, 3.0]])
    np.testing.assert_allclose(layer(x), np.asarray(x @ w + jnp.array([1.0, -1.0])))


def test_linear_mask_multiplies_the_weight():
    w = jnp.ones((2, 2))
    layer = nn.Linear(2, 2, w_init=w, b_init=None, w_mask=jnp.eye(2))
    np.testing.assert_allclose(layer(jnp.array([2.0, 3.0])), np.array([2.0, 3.0]))


def test_linear_default_init_scales_by_fan_in():
    w = nn.Linear(400, 300).weight.value["weight"]  # KaimingNormal: std sqrt(2 / fan_in)
    np.testing.assert_allclose(float(jnp.std(w)), np.sqrt(2 / 400), rtol=0.1)


def test_linear_default_init_differs_between_layers():
    a, b = nn.Linear(4, 4), nn.Linear(4, 4)
    assert not np.allclose(a.weight.value["weight"], b.weight.value["weight"])


def test_linear_init_uses_the_random_seed():
    brainstate.random.seed(3)
    a = nn.Linear(4, 4).weight.value["weight"]
    brainstate.random.seed(3)
    np.testing.assert_allclose(nn.Linear(4, 4).weight.value["weight"], a)


def test_linear_rejects_a_wrong_input_size():
    layer = nn.Linear(3, 2, name="enc")
    with pytest.raises(ValueError, match=r"Linear\('enc'\) expects inputs whose last dimension is its input size 3, got last dimension 4"):
        layer(jnp.ones((2, 4)))


def test_linear_rejects_a_wrong_initial_shape():
    with pytest.raises(ValueError, match=r"Linear: w_init gave an array of shape \(2, 2\), but the layer needs shape \(3, 2\)"):
        nn.Linear(3, 2, w_init=jnp.ones((2, 2)))


def test_linear_works_under_jit_and_grad():
    layer = nn.Linear(3, 2)
    x = jnp.ones((4, 3))
    loss = lambda: jnp.sum(layer(x) ** 2)
    grads = brainstate.transform.grad(loss, layer.states(brainstate.ParamState))()
    assert grads[("weight",)]["weight"].shape == (3, 2)
    np.testing.assert_allclose(brainstate.transform.jit(lambda: layer(x))(), layer(x), rtol=1e-6)


def test_module_init_all_states_method_initialises_children():
    import jax.numpy as jnp

    class Child(nn.Module):
        def init_state(self, n=2):
            self.h = brainstate.HiddenState(jnp.zeros(n))

    class Parent(nn.Module):
        def __init__(self):
            super().__init__()
            self.a, self.b = Child(), Child()

    p = Parent().init_all_states(3)
    assert p.a.h.value.shape == (3,) and p.b.h.value.shape == (3,)
    p.a.h.value = jnp.ones(3)
    p.reset_all_states(3)


def test_assign_state_values_reports_unexpected_and_missing():
    layer = nn.Linear(2, 1)
    unexpected, missing = nn.assign_state_values(layer, {("nope",): jnp.zeros(1)})
    assert unexpected == [("nope",)] and missing == [("weight",)]
    new = {("weight",): {"weight": jnp.zeros((2, 1)), "bias": jnp.ones(1)}}
    assert nn.assign_state_values(layer, new) == ([], [])
    np.testing.assert_allclose(layer(jnp.ones(2)), np.ones(1))


# -- state_trees ---------------------------------------------------------------------------------

def test_state_trees_nests_snapshots_by_path():
    net = nn.Sequential(nn.Linear(2, 3), nn.Linear(3, 1))
    net.h = brainstate.ShortTermState(jnp.ones(2))
    tree = net.state_trees()
    snap = tree["layers"][1]["weight"]
    assert isinstance(snap, brainstate.TreefyState) and snap.type is brainstate.ParamState
    np.testing.assert_allclose(snap.value["weight"], net.layers[1].weight.value["weight"])
    params, short = net.state_trees(brainstate.ParamState, brainstate.ShortTermState)
    assert sorted(params.to_flat()) == [("layers", 0, "weight"), ("layers", 1, "weight")]
    assert list(short.to_flat()) == [("h",)]


def test_state_trees_snapshots_by_attribute_and_filter():
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.linear = nn.Linear(2, 3)
            self.h = brainstate.HiddenState(jnp.zeros(2))

    net = Net()
    tree = net.state_trees()
    assert type(tree.linear.weight).__name__ == "TreefyState" and tree.linear.weight.type is brainstate.ParamState
    np.testing.assert_allclose(tree.h.value, np.zeros(2))
    params, hidden = net.state_trees(brainstate.ParamState, brainstate.HiddenState)
    assert list(params) == ["linear"] and list(hidden) == ["h"]
    net.h.value = jnp.ones(2)  # a snapshot: it does not follow the live state
    np.testing.assert_allclose(tree.h.value, np.zeros(2))


def test_call_all_fns_takes_a_bare_argument_as_one_argument():
    got = []

    class Cell(nn.Module):
        def reset_state(self, batch_size=None):
            got.append(batch_size)

    nn.call_all_fns(Cell(), "reset_state", 7)
    nn.call_all_fns(Cell(), "reset_state", [1, 2])  # a list is one argument too
    nn.call_all_fns(Cell(), "reset_state", (3,))
    assert got == [7, [1, 2], 3]
