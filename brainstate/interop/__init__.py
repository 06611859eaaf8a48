"""Convert models and their states between BrainState and Flax NNX, Flax Linen and Equinox.

`to_nnx` / `from_nnx`, `to_linen` / `from_linen` and `to_equinox` / `from_equinox` keep the
structure (a `Sequential` stays a sequence), build each layer natively where the other framework
has the same layer (`supported_layers()`), and carry everything else through a generic wrapper
that runs the original computation with its states held by the other framework. Values, state
semantics (running statistics, hidden states) and training behaviour are preserved, and a model
converted there and back has the same states as before.

flax and equinox are optional: `pip install 'brainstate[interop]'`. The wrapper classes
(`BrainStateNnx`, `StateVariable`, `NnxModule`, `BrainStateLinen`, `LinenModule`,
`BrainStateEquinox`, `EquinoxModule`) are attributes of this package too, imported on first access.
"""

from ._convert import (from_equinox as from_equinox, from_linen as from_linen, from_nnx as from_nnx,
                       to_equinox as to_equinox, to_linen as to_linen, to_nnx as to_nnx)
from ._errors import (ConversionError as ConversionError, InteropError as InteropError,
                      MissingDependencyError as MissingDependencyError, MissingShapeError as MissingShapeError,
                      UnmappedLayerError as UnmappedLayerError, UnsupportedLayerError as UnsupportedLayerError,
                      UnsupportedStructureError as UnsupportedStructureError)
from ._layers import (LayerMapping as LayerMapping, register_layer_mapping as register_layer_mapping,
                      supported_layers as supported_layers)

__all__ = ["to_nnx", "from_nnx", "to_linen", "from_linen", "to_equinox", "from_equinox", "supported_layers",
           "register_layer_mapping", "LayerMapping", "InteropError", "MissingDependencyError",
           "UnmappedLayerError", "UnsupportedLayerError", "UnsupportedStructureError", "MissingShapeError",
           "ConversionError"]

# wrapper class -> the module defining it (which imports flax or equinox)
_LAZY = {"BrainStateNnx": "nnx", "StateVariable": "nnx", "NnxModule": "nnx", "BrainStateLinen": "linen",
         "LinenModule": "linen", "BrainStateEquinox": "equinox", "EquinoxModule": "equinox"}


def __getattr__(name):
    if name in _LAZY:
        from ._layers import load_framework
        return getattr(load_framework(_LAZY[name], f"brainstate.interop.{name}"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
