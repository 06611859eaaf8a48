"""`Linear`: the affine layer `y = x @ W + b`.

The layer keeps ONE state (a `ParamState` unless `param_type` says otherwise) in its attribute
`weight`, whose value is the dict `{'weight': (in, out) array, 'bias': (out,) array}` (no
`'bias'` key without a bias), so its state path is `('weight',)` and optimizers see one
parameter tree per layer. A fixed `w_mask` (same shape as the weight) multiplies the weight on
every call; it is a constant, not a state.

Physical units (`brainunit`) are kept: a weight given in `u.mA` stays a Quantity in the state
and the output is in `unit(x) * mA`. A plain bias (the default: plain zeros, whatever the
weight's unit, as in the reference release) is read in the unit of `x @ W`; a bias that
carries a unit must have the dimension of `x @ W`, which is checked at call time.
"""

import math
from typing import Any, Callable, Optional, Sequence, Tuple, Union

import jax
import jax.numpy as jnp

from .._state import ParamState
from . import init
from ._layer_weights import check_param, hold, is_param, no_param, read
from ._module import Module
from ._units import add_bias, attach, split

__all__ = ["Linear"]

Init = Union[Callable[[Tuple[int, ...]], Any], Any]


def _next_key() -> jax.Array:
    # Imported on use: `brainstate.random` is a lower layer, but importing it lazily keeps
    # `nn` importable on its own and avoids any import cycle at package start-up.
    from .. import random

    return random.split_key()


def lecun_normal(shape: Tuple[int, ...]) -> jax.Array:
    """LeCun-style normal init: standard normal scaled by `1/sqrt(fan_in)` (`shape[0]`)."""
    return jax.random.normal(_next_key(), shape) / math.sqrt(shape[0])


def zeros(shape: Tuple[int, ...]) -> jax.Array:
    """All-zero init."""
    return jnp.zeros(shape)


class Linear(Module):
    """A fully connected layer: `y = x @ W + b` over the last axis of `x`.

    Args:
      in_size: input size (an int or a shape; its last entry is the feature size).
      out_size: output size (an int or a shape; its last entry is the feature size).
      w_init: a function `shape -> array`, an array of shape `(in, out)`, or an `nn.Param` of that
        shape (kept by the layer: its constraint and prior apply while training).
      b_init: a function `shape -> array`, an array broadcastable to `(out,)`, an `nn.Param` of
        shape `(out,)`, or None for no bias.
      w_mask: None, or an array / function giving a `(in, out)` mask multiplied into the weight.
      name: optional module name.
      param_type: the State class that holds the parameters (default `ParamState`).

    Raises:
      ValueError: if an initial value has the wrong shape.
      TypeError: if `w_mask` is an `nn.Param` (a mask is a constant).

    Physical units are kept (see the module docstring): `Linear(3, 4, w_init=w * u.mA)`
    gives outputs in mA for plain inputs and in mV * mA for inputs in mV; the default bias is
    plain zeros, read in the output's unit.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.Linear(3, 2)
      >>> layer(jnp.ones((4, 3))).shape
      (4, 2)
      >>> sorted(layer.weight.value)
      ['bias', 'weight']
    """

    __module__ = "brainstate.nn"

    def __init__(self, in_size: Union[int, Sequence[int]], out_size: Union[int, Sequence[int]],
                 w_init: Init = init.KaimingNormal(), b_init: Optional[Init] = init.ZeroInit(),
                 w_mask: Optional[Init] = None,
                 name: Optional[str] = None, param_type: type = ParamState):
        super().__init__(name=name)
        self.in_size = in_size
        self.out_size = out_size
        shape = (self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1])
        params = {"weight": self._initial(w_init, shape, "w_init")}
        if b_init is not None:
            params["bias"] = self._initial(b_init, shape[1:], "b_init")
        no_param(self._label(), w_mask, "w_mask")
        self.w_mask = None if w_mask is None else self._initial(w_mask, shape, "w_mask")
        self.weight = hold(param_type, params)

    def _initial(self, init: Init, shape: Tuple[int, ...], arg: str) -> Any:
        if is_param(init):
            return check_param(self._label(), init, shape, arg)
        value, unit = split(init(shape) if callable(init) else init)
        value = jnp.asarray(value)
        if value.shape != shape:
            try:
                value = jnp.broadcast_to(value, shape)
            except ValueError:
                n_in, n_out = self._fixed_size("in_size")[-1], self._fixed_size("out_size")[-1]
                raise ValueError(
                    f"{self._label()}: {arg} gave an array of shape {value.shape}, but the layer "
                    f"needs shape {shape} (in={n_in}, out={n_out}). Pass an "
                    f"array of that shape or a function of the shape.") from None
        return attach(value, unit)

    def update(self, x: Any) -> jax.Array:
        """`x @ W + b`; `x` has shape `(..., in)`.

        Raises:
          ValueError: if the last dimension of `x` is not the layer's input size.
        """
        x_m, x_unit = split(x)
        x_m = jnp.asarray(x_m)
        n_in = self._fixed_size("in_size")[-1]
        if x_m.ndim == 0 or x_m.shape[-1] != n_in:
            got = "a scalar" if x_m.ndim == 0 else f"last dimension {x_m.shape[-1]} (shape {x_m.shape})"
            raise ValueError(
                f"{self._label()} expects inputs whose last dimension is its input size {n_in}, got "
                f"{got}. Reshape the input, or build the layer with in_size matching the data.")
        params = read(self.weight)
        w = params["weight"] if self.w_mask is None else params["weight"] * self.w_mask
        # With units, brainunit's `@` multiplies the units; a plain `x` is kept as a jax array.
        y = attach(x_m, x_unit) @ w
        if "bias" in params:
            y = add_bias(self._label(), y, params["bias"], "x @ W and the bias",
                         "Give the bias the unit of x @ W (e.g. b_init=brainstate.nn.init.ZeroInit(unit=...)), "
                         "give a plain bias (read in the unit of x @ W), or build the layer with b_init=None.")
        return y
