"""The conformance list: one `Case` per public layer of `brainstate.nn`.

Each family of layers keeps its cases in its own module here (`linear.py`, `conv.py`, ...),
as a module-level list `CASES`. `ALL_CASES` gathers every module's list, and
`test_conformance.py` runs each case eagerly, under `jit`, under `vmap` and under `grad`,
compares the numbers (lanes against unbatched calls, gradients against `jax.grad` of the
functional form), and fails when a public layer has no case.
"""

import dataclasses
import importlib
import pkgutil
from typing import Any, Callable, Optional


@dataclasses.dataclass
class Case:
    """How to build and call one layer.

    Attributes:
      name: the public class name in `brainstate.nn` this case covers.
      build: returns a fresh layer (states initialised, e.g. `init_state` already called).
      inputs: returns the positional arguments of one call (unbatched unless the layer wants a batch).
      deterministic: eager and jitted calls give the same numbers (False for dropout-like layers).
      vmap: how to call the layer under `brainstate.transform.vmap` with a leading batch of 3 inputs;
        default: `vmap(lambda *a: layer(*a))(*batched_inputs)`.
      vmap_reference: the expected output of `vmap` given the batched inputs, for layers whose
        lanes are not independent (BatchNorm over a named axis); default: each lane is the
        output of a freshly built layer called on that lane's inputs.
      grad: differentiate w.r.t. the layer's ParamStates (if any) or the first input.
      skip_vmap: a reason, if vmap does not apply to this layer.
      skip_grad: a reason, if grad does not apply (integer inputs and no parameters, ...).
      kwargs: keyword arguments of the call.
    """

    name: str
    build: Callable[[], Any]
    inputs: Callable[[], tuple]
    deterministic: bool = True
    vmap: Optional[Callable[[Any, tuple], Any]] = None
    vmap_reference: Optional[Callable[[tuple], Any]] = None
    skip_vmap: Optional[str] = None
    skip_grad: Optional[str] = None
    kwargs: dict = dataclasses.field(default_factory=dict)

    def __str__(self):
        return self.name


def _collect():
    cases = []
    for info in pkgutil.iter_modules(__path__):
        module = importlib.import_module(f"{__name__}.{info.name}")
        cases.extend(getattr(module, "CASES", []))
    return cases


ALL_CASES = _collect()
