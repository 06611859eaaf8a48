"""The exception types BrainState raises.

Every message names the state (its name or graph path) or the argument, says why the operation
is not allowed, and how to fix it. `BrainStateError` is the common base so user code can catch
all of them at once. It is also a `ValueError`: where the reference release raised a plain
`ValueError` (a grad state the function never reads, a State passed as a jit argument, a loop
condition that writes a state), we raise a `BrainStateError` with a clearer message, and
`except ValueError:` keeps working.
"""

__all__ = ["BrainStateError", "TraceContextError", "BatchAxisError"]


class BrainStateError(ValueError):
    """Base class of every BrainState-specific error (a `ValueError`, see the module docstring)."""


class TraceContextError(BrainStateError):
    """A state was used with a value that belongs to a JAX trace it cannot reach.

    Raised when a tracer is written into a `State` outside a state-aware transform (for example
    inside raw `jax.jit`), or when a state still holding a leaked tracer is read afterwards.
    """


class BatchAxisError(BrainStateError):
    """A state received a batched value inside `vmap` without being declared as batched."""
