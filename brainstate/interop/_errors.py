"""The errors `brainstate.interop` raises.

`InteropError` is the common base (a `BrainStateError`). The names follow the reference
release so code that catches them keeps working; this implementation converts any module it
has no native mapping for through a generic wrapper, so it never needs to refuse a layer for
want of a mapping or of an input shape (`UnmappedLayerError`, `MissingShapeError` are kept for
code that catches them).
"""

from .._errors import BrainStateError

__all__ = ["InteropError", "MissingDependencyError", "UnmappedLayerError", "UnsupportedLayerError",
           "UnsupportedStructureError", "MissingShapeError", "ConversionError"]


class InteropError(BrainStateError):
    """Base class of the errors raised while converting to or from another framework."""

    __module__ = "brainstate.interop"


class MissingDependencyError(InteropError, ImportError):
    """The optional package a conversion needs (`flax` or `equinox`) is not installed.

    Args:
      package: the missing package, as given to `pip install`.
      caller: what needed it (e.g. `'brainstate.interop.to_nnx'`).
    """

    __module__ = "brainstate.interop"

    def __init__(self, package: str, caller: str):
        self.package = package
        super().__init__(
            f"{caller} needs the optional package {package!r}, which is not installed. Install it with "
            f"`pip install {package}` (or `pip install 'brainstate[interop]'` for flax and equinox).")


class UnmappedLayerError(InteropError):
    """No native mapping exists for a layer (kept for compatibility; never raised here)."""

    __module__ = "brainstate.interop"


class UnsupportedLayerError(InteropError):
    """A layer cannot be converted: it uses state the target framework cannot carry."""

    __module__ = "brainstate.interop"


class UnsupportedStructureError(InteropError, TypeError):
    """The object given is not a model of the framework the conversion reads."""

    __module__ = "brainstate.interop"


class MissingShapeError(InteropError):
    """An input shape was needed (kept for compatibility; never raised here)."""

    __module__ = "brainstate.interop"


class ConversionError(InteropError):
    """A conversion produced something inconsistent (a layer mapping returned the wrong type, or
    variables do not fit the module they are given with)."""

    __module__ = "brainstate.interop"
