"""How a layer holds its trainable values: one `ParamState`, or the `nn.Param`s it was given.

Layers keep their trainable values in ONE state named `weight`: a dict such as
`{'weight': ..., 'bias': ...}`, or a bare array. A user may instead pass an `nn.Param` as an
initial value (`w_init=Param(w0, t=PositiveT(), reg=L2Reg(0.01))`): the layer then keeps that
Param, so its constraint holds and its prior counts (`module.reg_loss()`) during training, and
its raw `ParamState` is what `grad`, filters and optimizers see. `weight` is then a dict whose
entries are the given Params and one `param_type` state per other entry (or the Param itself
where the layer has a single value). `read(layer.weight)` gives the layer the plain values in
every case.
"""

from typing import Any, Dict, Tuple, TypeGuard, Union

import numpy as np

from .._state import State
from ._param import Param

__all__ = ["is_param", "check_param", "no_param", "hold", "read", "value_of"]

Holder = Union[State, Param, Dict[str, Any]]


def is_param(spec: Any) -> TypeGuard[Param]:
    """True if an init specification is an `nn.Param` (kept by the layer, not copied)."""
    return isinstance(spec, Param)


def check_param(owner: str, param: Param, shape: Tuple[int, ...], arg: str, allow_scalar: bool = False) -> Param:
    """`param` itself, after checking that its value has `shape` (or is a scalar, if allowed).

    Raises:
      ValueError: if the Param's value has another shape.
    """
    got = tuple(np.shape(param.value()))
    if got != tuple(shape) and not (allow_scalar and got == ()):
        raise ValueError(f"{owner}: the Param given as {arg} has shape {got}, but the layer needs shape "
                         f"{tuple(shape)}. Build the Param with a value of that shape.")
    return param


def no_param(owner: str, spec: Any, arg: str) -> None:
    """Reject a Param where the layer needs a fixed constant (a mask, a sign pattern).

    Raises:
      TypeError: if `spec` is a Param.
    """
    if isinstance(spec, Param):
        raise TypeError(f"{owner}: {arg} is a fixed constant, not a trainable value, so it cannot be a Param. "
                        f"Pass an array (e.g. param.value()).")


def hold(param_type: type, values: Any) -> Holder:
    """What the layer stores as `weight`: `param_type(values)` unless `values` holds a Param."""
    if isinstance(values, dict):
        if not any(isinstance(v, Param) for v in values.values()):
            return param_type(values)
        return {k: v if isinstance(v, Param) else param_type(v) for k, v in values.items()}
    return values if isinstance(values, Param) else param_type(values)


def read(holder: Holder) -> Any:
    """The plain values of what `hold` returned (a Param gives its constrained value)."""
    if isinstance(holder, State):
        return holder.value
    if isinstance(holder, Param):
        return holder.value()
    return {k: read(v) for k, v in holder.items()}


def value_of(value: Any) -> Any:
    """An initial value as a plain value (a Param's current constrained value for a Param)."""
    return value.value() if isinstance(value, Param) else value
