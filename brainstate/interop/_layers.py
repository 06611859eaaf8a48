"""The table of layers that convert natively, one framework at a time.

A `LayerMapping` pairs a BrainState layer class with a class of another framework and two
functions that build one from the other, weights included. `to_nnx` / `to_linen` / `to_equinox`
(and the `from_*` functions) look a layer up here by its exact class; a mapping function may
decline a particular instance (return None), e.g. a `Linear` with a weight mask, which has no
counterpart. Anything without a mapping (or declined) is carried by the framework's generic
wrapper instead, which keeps the BrainState computation and its state semantics exactly.

The built-in mappings live in each framework's module and are registered when it is first
imported; `load_framework` imports it, raising `MissingDependencyError` when its package is
absent.
"""

import dataclasses
import importlib
from typing import Any, Callable, Dict, List, Optional, Tuple

from ._errors import MissingDependencyError

__all__ = ["LayerMapping", "register_layer_mapping", "supported_layers", "FRAMEWORKS", "load_framework",
           "export_mapping", "import_mapping"]

# framework name -> (the module implementing it, the pip package it needs)
FRAMEWORKS: Dict[str, Tuple[str, str]] = {
    "nnx": ("brainstate.interop._nnx", "flax"),
    "linen": ("brainstate.interop._linen", "flax"),
    "equinox": ("brainstate.interop._equinox", "equinox"),
}

_EXPORT: Dict[Tuple[str, type], "LayerMapping"] = {}
_IMPORT: Dict[Tuple[str, type], "LayerMapping"] = {}


@dataclasses.dataclass(frozen=True)
class LayerMapping:
    """How one BrainState layer class converts to and from one class of another framework.

    Args:
      bst_type: the `brainstate.nn.Module` subclass.
      framework: `'nnx'`, `'linen'` or `'equinox'`.
      foreign_type: the other framework's layer class.
      to_bst: `(foreign, in_size) -> Module | None`, the BrainState layer with the same
        weights, or None to decline (the generic wrapper is used then). `in_size` is the
        unbatched input shape when known, else None. For Linen `foreign` is the pair
        `(linen_module, variables)`.
      to_foreign: `(module) -> foreign | None`, the other framework's layer (for Linen the
        pair `(linen_module, variables)`), or None to decline.

    Raises:
      ValueError: `framework` is not one of the three.
      TypeError: a type argument is not a class, or a function is not callable.

    Example:
      >>> import brainstate
      >>> from brainstate.interop import LayerMapping
      >>> class Scale(brainstate.nn.Module):
      ...     def update(self, x):
      ...         return 2 * x
      >>> class ForeignScale:
      ...     pass
      >>> m = LayerMapping(Scale, "nnx", ForeignScale, lambda f, in_size: Scale(), lambda m: ForeignScale())
      >>> m.framework
      'nnx'
    """

    bst_type: type
    framework: str
    foreign_type: type
    to_bst: Callable[..., Any]
    to_foreign: Callable[..., Any]

    def __post_init__(self):
        if self.framework not in FRAMEWORKS:
            raise ValueError(f"LayerMapping: framework must be one of {sorted(FRAMEWORKS)}, got "
                             f"{self.framework!r}.")
        for arg in ("bst_type", "foreign_type"):
            if not isinstance(getattr(self, arg), type):
                raise TypeError(f"LayerMapping: {arg} must be a class, got {getattr(self, arg)!r}.")
        for arg in ("to_bst", "to_foreign"):
            if not callable(getattr(self, arg)):
                raise TypeError(f"LayerMapping: {arg} must be callable, got {getattr(self, arg)!r}.")


def register_layer_mapping(mapping: LayerMapping) -> None:
    """Add (or replace) a native conversion, used in both directions from now on.

    Args:
      mapping: the `LayerMapping`.

    Raises:
      TypeError: `mapping` is not a `LayerMapping`.

    Example:
      >>> import brainstate
      >>> from brainstate.interop import LayerMapping, register_layer_mapping
      >>> class Double(brainstate.nn.Module):
      ...     def update(self, x):
      ...         return 2 * x
      >>> class ForeignDouble:
      ...     pass
      >>> register_layer_mapping(LayerMapping(Double, "equinox", ForeignDouble,
      ...                                     lambda f, in_size: Double(), lambda m: ForeignDouble()))
    """
    if not isinstance(mapping, LayerMapping):
        raise TypeError(f"register_layer_mapping expects a LayerMapping, got {type(mapping).__name__}: "
                        f"{mapping!r}. Build one with brainstate.interop.LayerMapping(...).")
    _EXPORT[(mapping.framework, mapping.bst_type)] = mapping
    _IMPORT[(mapping.framework, mapping.foreign_type)] = mapping


def export_mapping(framework: str, bst_type: type) -> Optional[LayerMapping]:
    """The mapping for a BrainState layer class (exact class), or None."""
    return _EXPORT.get((framework, bst_type))


def import_mapping(framework: str, foreign_type: type) -> Optional[LayerMapping]:
    """The mapping for a foreign layer class (exact class), or None."""
    return _IMPORT.get((framework, foreign_type))


def load_framework(framework: str, caller: str) -> Any:
    """Import the module implementing `framework` (registering its built-in mappings).

    Raises:
      MissingDependencyError: the framework's package is not installed.
    """
    module, package = FRAMEWORKS[framework]
    try:
        importlib.import_module(package)
    except ImportError as err:
        raise MissingDependencyError(package, caller) from err
    return importlib.import_module(module)


def supported_layers(framework: Optional[str] = None) -> Dict[str, List[str]]:
    """The BrainState layers that convert natively, to and from each framework.

    A native conversion builds the framework's own layer with the same weights, laid out as that
    framework lays them out:

    ============  ==========  ==========  ====================================
    brainstate    flax.nnx    flax.linen  equinox.nn
    ============  ==========  ==========  ====================================
    Sequential    Sequential  Sequential  Sequential (when every layer maps)
    Linear        Linear      Dense       Linear
    Conv1d/2d/3d  Conv        Conv        Conv1d/2d/3d (channel_first=True)
    LayerNorm     LayerNorm   LayerNorm   LayerNorm (use_fast_variance=False)
    RMSNorm       RMSNorm     RMSNorm     RMSNorm
    Embedding     Embed       Embed       Embedding
    Dropout       Dropout     Dropout     Dropout (without broadcast_dims)
    ============  ==========  ==========  ====================================

    Our `Linear` and convolutions keep kernel and bias in one `ParamState` `weight`
    (`{'weight': (in, out), 'bias': (out,)}`); NNX and Linen hold `kernel` / `bias` with the same
    layout, Equinox holds `weight` as `(out, in)` (convolutions `(out, in, *window)`, channels
    first). A layer converts natively only when the target computes the same function: a
    `Linear` with a weight mask, a channels-last convolution for Equinox (whose layers are
    channels-first), or a `LayerNorm` over several axes does not. Equinox layers act on one sample
    (`jax.vmap` over a batch), as is usual there, so a `Sequential` becomes `eqx.nn.Sequential`
    only when every layer maps natively or is element-wise; otherwise the whole of it is wrapped
    and keeps its batched calling convention. Convolutions come back from another framework as
    convolutions only when `sample_input` gives their spatial size.

    Every other module (batch norm, recurrent cells, spiking neurons, your own modules) converts
    through a generic wrapper that runs the BrainState computation itself, with its states held
    by the other framework: NNX Variables (`ParamState` -> `nnx.Param`, `BatchState` ->
    `nnx.BatchStat`), Linen collections (`params`, `batch_stats`, `state`), or Equinox arrays plus an
    `eqx.nn.State`. Converting back unwraps it to the original class with the new values.

    Args:
      framework: `'nnx'`, `'linen'` or `'equinox'`; None for all three.

    Returns:
      `{framework: [class names]}`, sorted, including mappings added with
      `register_layer_mapping`.

    Raises:
      ValueError: an unknown framework name.
      MissingDependencyError: the framework's package (`flax` or `equinox`) is not installed.

    Example:
      >>> from brainstate.interop import supported_layers
      >>> "Linear" in supported_layers("nnx")["nnx"]
      True
    """
    if framework is not None and framework not in FRAMEWORKS:
        raise ValueError(f"supported_layers: framework must be one of {sorted(FRAMEWORKS)} or None, got "
                         f"{framework!r}.")
    names = [framework] if framework is not None else list(FRAMEWORKS)
    result = {}
    for name in names:
        load_framework(name, "brainstate.interop.supported_layers")
        layers = {t.__name__ for (fw, t) in _EXPORT if fw == name}
        result[name] = sorted(layers | {"Sequential"})
    return result
