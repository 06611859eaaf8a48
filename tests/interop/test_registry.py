"""The native-layer table, `supported_layers`, `LayerMapping` checks and missing packages."""

import importlib
import sys

import jax.numpy as jnp
import pytest

import brainstate
from brainstate import interop, nn
from brainstate.interop._functional import StateBinding

BUILT_IN = ["Conv1d", "Conv2d", "Conv3d", "Dropout", "Embedding", "LayerNorm", "Linear", "RMSNorm", "Sequential"]


@pytest.mark.parametrize("framework", ["nnx", "linen", "equinox"])
def test_supported_layers_lists_the_built_in_mappings(framework):
    listed = interop.supported_layers(framework)
    assert list(listed) == [framework]
    # other mappings may have been registered in this process (docstring examples register one)
    assert set(BUILT_IN) <= set(listed[framework]) and listed[framework] == sorted(listed[framework])


def test_supported_layers_without_a_name_covers_every_framework():
    assert sorted(interop.supported_layers()) == ["equinox", "linen", "nnx"]


def test_supported_layers_rejects_an_unknown_framework():
    with pytest.raises(ValueError, match="framework must be one of .* or None, got 'torch'"):
        interop.supported_layers("torch")


def test_layer_mapping_rejects_an_unknown_framework():
    with pytest.raises(ValueError, match="LayerMapping: framework must be one of .*, got 'jax'"):
        interop.LayerMapping(nn.Linear, "jax", object, lambda f, s: None, lambda m: None)


@pytest.mark.parametrize("arg", ["bst_type", "foreign_type"])
def test_layer_mapping_rejects_a_type_that_is_not_a_class(arg):
    kwargs = dict(bst_type=nn.Linear, framework="nnx", foreign_type=object, to_bst=len, to_foreign=len)
    kwargs[arg] = "Linear"
    with pytest.raises(TypeError, match=f"LayerMapping: {arg} must be a class, got 'Linear'"):
        interop.LayerMapping(**kwargs)


@pytest.mark.parametrize("arg", ["to_bst", "to_foreign"])
def test_layer_mapping_rejects_a_function_that_is_not_callable(arg):
    kwargs = dict(bst_type=nn.Linear, framework="nnx", foreign_type=object, to_bst=len, to_foreign=len)
    kwargs[arg] = 3
    with pytest.raises(TypeError, match=f"LayerMapping: {arg} must be callable, got 3"):
        interop.LayerMapping(**kwargs)


def test_register_layer_mapping_rejects_anything_else():
    with pytest.raises(TypeError, match="expects a LayerMapping, got tuple"):
        interop.register_layer_mapping((nn.Linear, "nnx"))


def test_a_declining_mapping_falls_back_to_the_wrapper():
    from brainstate.interop import BrainStateEquinox
    interop.register_layer_mapping(interop.LayerMapping(nn.Linear, "equinox", object, lambda f, s: None,
                                                        lambda m: None))
    assert type(interop.to_equinox(nn.Linear(2, 2))) is BrainStateEquinox


# Layers built with an `nn.Param` initial value hold the Param (its constraint and prior), which
# no native layer of the other frameworks can carry.
PARAM_LAYERS = {
    "Linear": lambda: nn.Linear(3, 2, w_init=nn.Param(jnp.ones((3, 2)))),
    "Conv1d": lambda: nn.Conv1d((8, 3), 2, 3, w_init=nn.Param(jnp.ones((3, 3, 2)))),
    "Embedding": lambda: nn.Embedding(5, 3, embedding_init=nn.Param(jnp.ones((5, 3)))),
}
WRAPPERS = {"nnx": "BrainStateNnx", "linen": "BrainStateLinen", "equinox": "BrainStateEquinox"}


@pytest.mark.parametrize("framework", sorted(WRAPPERS))
@pytest.mark.parametrize("layer", sorted(PARAM_LAYERS))
def test_a_layer_holding_a_param_is_wrapped_not_built_natively(layer, framework):
    # Reading such a layer as a native one used to fail with AttributeError (a dict has no .value).
    converted = getattr(interop, f"to_{framework}")(PARAM_LAYERS[layer]())
    if framework == "linen":
        converted, _ = converted  # to_linen gives (module, variables)
    assert type(converted).__name__ == WRAPPERS[framework]


@pytest.mark.parametrize("convert, package", [
    (lambda: interop.to_nnx(nn.Linear(2, 2)), "flax"),
    (lambda: interop.to_linen(nn.Linear(2, 2)), "flax"),
    (lambda: interop.to_equinox(nn.Linear(2, 2)), "equinox"),
    (lambda: interop.supported_layers("equinox"), "equinox"),
])
def test_a_missing_package_is_named_with_its_install_command(monkeypatch, convert, package):
    monkeypatch.setitem(sys.modules, package, None)  # makes `import <package>` fail
    with pytest.raises(interop.MissingDependencyError,
                       match=f"needs the optional package '{package}', which is not installed. Install it "
                             f"with `pip install {package}`"):
        convert()


@pytest.mark.parametrize("module, package", [("_nnx", "flax"), ("_linen", "flax"), ("_equinox", "equinox")])
def test_importing_a_framework_module_without_its_package_names_it(monkeypatch, module, package):
    monkeypatch.setitem(sys.modules, package, None)
    for name in [n for n in sys.modules if n == package or n.startswith(package + ".")]:
        monkeypatch.setitem(sys.modules, name, None)
    monkeypatch.delitem(sys.modules, f"brainstate.interop.{module}")
    with pytest.raises(ImportError, match=f"needs the optional package '{package}'"):
        importlib.import_module(f"brainstate.interop.{module}")


def test_the_missing_dependency_error_is_an_import_error():
    err = interop.MissingDependencyError("flax", "here")
    assert isinstance(err, ImportError) and isinstance(err, brainstate.BrainStateError)
    assert err.package == "flax"


# -- the binding every wrapper runs through -----------------------------------------------------------
GLOBAL = brainstate.ShortTermState(jnp.zeros(2), name="GLOBAL")


class ReadsGlobal(nn.Module):
    def update(self, x):
        return x + GLOBAL.value


class WritesGlobal(nn.Module):
    def update(self, x):
        GLOBAL.value = GLOBAL.value + x
        return x


class Flagged(nn.Module):
    def update(self, x, double=False):
        return 2 * x if double else x


def test_a_state_outside_the_module_is_read_as_a_constant():
    GLOBAL.value = jnp.array([1.0, 2.0])
    out, new_values, _ = StateBinding(ReadsGlobal(), "test")([], (jnp.zeros(2),), {})
    assert out.tolist() == [1.0, 2.0] and new_values == []


def test_writing_a_state_outside_the_module_is_reported():
    with pytest.raises(interop.UnsupportedLayerError,
                       match="the module writes ShortTermState 'GLOBAL', which is not part of the module"):
        StateBinding(WritesGlobal(), "to_nnx(WritesGlobal)")([], (jnp.ones(2),), {})


def test_python_arguments_stay_static():
    binding = StateBinding(Flagged(), "test")
    assert binding([], (jnp.ones(2),), {"double": True})[0].tolist() == [2.0, 2.0]
    assert binding([], (jnp.ones(2),), {"double": False})[0].tolist() == [1.0, 1.0]


def test_conform_checks_the_number_of_values():
    with pytest.raises(interop.ConversionError, match="got 0 values for the 1 states of test"):
        StateBinding(nn.Linear(2, 2), "test").conform([], "here")


def test_leaves_and_values_convert_both_ways():
    binding = StateBinding(nn.Sequential(nn.Linear(2, 3), nn.BatchNorm0d(3)), "test")
    leaves = binding.leaves()
    assert [path for path, _, _ in leaves] == [("layers", "0", "weight", "bias"), ("layers", "0", "weight", "weight"),
                                               ("layers", "1", "running_mean"), ("layers", "1", "running_var"),
                                               ("layers", "1", "weight", "bias"), ("layers", "1", "weight", "scale")]
    values = binding.from_leaves([leaf for _, _, leaf in leaves])
    assert binding.to_leaves(values) == [leaf for _, _, leaf in leaves]


@pytest.mark.parametrize("name, framework", [
    ("BrainStateNnx", "_nnx"), ("StateVariable", "_nnx"), ("NnxModule", "_nnx"), ("BrainStateLinen", "_linen"),
    ("LinenModule", "_linen"), ("BrainStateEquinox", "_equinox"), ("EquinoxModule", "_equinox")])
def test_wrapper_classes_are_reachable_from_the_package(name, framework):
    module = importlib.import_module(f"brainstate.interop.{framework}")
    assert getattr(interop, name) is getattr(module, name)


def test_an_unknown_attribute_is_an_attribute_error():
    with pytest.raises(AttributeError, match="module 'brainstate.interop' has no attribute 'to_torch'"):
        interop.to_torch
