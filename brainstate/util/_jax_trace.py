"""`StateJaxTracer`: a snapshot of the JAX trace that is active when it is made.

JAX traces nest (`jit` inside `grad` inside `vmap`); a value created under one trace must not be
used under another. Taking a `StateJaxTracer` when something is created and asking
`is_valid()` later tells whether the same trace is still the active one. It uses the public
`jax.extend.core.get_opaque_trace_state`.
"""

from typing import Any, Iterator

from jax.extend.core import get_opaque_trace_state

from ._pretty import PrettyAttr, PrettyRepr, PrettyType

__all__ = ["StateJaxTracer"]


class StateJaxTracer(PrettyRepr):
    """The JAX trace that was active when this object was made.

    Example:
      >>> import jax
      >>> from brainstate.util import StateJaxTracer
      >>> outside = StateJaxTracer()
      >>> outside.is_valid()
      True
      >>> def f(x):
      ...     print(outside.is_valid())  # runs while jit traces: another trace is active
      ...     return x
      >>> _ = jax.jit(f)(1.0)
      False
    """

    __module__ = "brainstate.util"
    __slots__ = ("_jax_trace",)

    def __init__(self):
        self._jax_trace = get_opaque_trace_state()

    @property
    def jax_trace(self) -> Any:
        """The opaque trace state captured on construction."""
        return self._jax_trace

    def is_valid(self) -> bool:
        """True while the captured trace is the active one (same level of tracing)."""
        return get_opaque_trace_state() == self._jax_trace

    def __eq__(self, other: Any) -> bool:
        return isinstance(other, StateJaxTracer) and self._jax_trace == other._jax_trace

    # The captured trace state is not hashable either; mypy cannot express an unhashable
    # subclass of `object` other than by this override.
    __hash__ = None  # type: ignore[assignment]

    def __pretty_repr__(self) -> Iterator:
        yield PrettyType("StateJaxTracer")
        yield PrettyAttr("jax_trace", self._jax_trace)
