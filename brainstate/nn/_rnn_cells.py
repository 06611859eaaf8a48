"""Recurrent cells: one time step of a recurrent network per `update(x)` call.

A cell keeps its weights in `Linear` sub-modules (one `ParamState` each) acting on the
concatenation `[x, h]`, and its recurrent values (`h`, and `c` for the LSTM family) in
`HiddenState`s created by `init_state(batch_size=None)` with shape `(num_out,)` or
`(batch_size, num_out)`. Because the hidden values are ordinary states, a cell runs unchanged
under `transform.for_loop` (states ride in the carry) and under `transform.vmap` with its hidden
states declared as batched.

Invariants: inputs have shape `batch_shape + (num_in,)` where `batch_shape` is that of the hidden
states; a cell called before `init_state` raises an error saying so. Gate layouts (the order of
the blocks in each fused weight) follow the reference release, so parameters are interchangeable.
"""

import numbers
from typing import Any, Callable, Optional, Tuple, Union

import jax
import jax.numpy as jnp

from .. import environ, random
from .._errors import BrainStateError
from .._state import HiddenState, ParamState
from . import _activations, init
from ._linear import Linear
from ._module import Module

__all__ = ["RNNCell", "ValinaRNNCell", "GRUCell", "MGUCell", "LSTMCell", "URLSTMCell"]

Init = Union[Callable[[Tuple[int, ...]], Any], Any]


# Default initializers, as in the reference release (instances are stateless apart from drawing
# from the default `brainstate.random` stream, so sharing them between cells is safe).
xavier_normal = init.XavierNormal()
orthogonal = init.Orthogonal()
zeros = init.ZeroInit()


class RNNCell(Module):
    """Base class of recurrent cells: `init_state(batch_size)`, then `update(x)` once per step.

    Subclasses call `_setup` in their constructor, list their hidden attributes in
    `_hidden_names`, and read hidden values through `_hidden`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> issubclass(brainstate.nn.GRUCell, brainstate.nn.RNNCell)
      True
    """

    _hidden_names: Tuple[str, ...] = ("h",)

    def __init__(self, name: Optional[str] = None):
        super().__init__(name=name)

    def _setup(self, num_in: int, num_out: int, state_init: Init, activation: Union[str, Callable]) -> None:
        for arg, value in (("num_in", num_in), ("num_out", num_out)):
            if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 1:
                raise ValueError(f"{self._label()}: {arg} must be a positive integer, got {value!r}.")
        self.num_in, self.num_out = int(num_in), int(num_out)
        self.in_size, self.out_size = (self.num_in,), (self.num_out,)
        self._state_initializer = state_init
        self.activation: Callable[..., Any]
        if isinstance(activation, str):
            if activation not in _activations.__all__:
                raise ValueError(
                    f"{self._label()}: unknown activation {activation!r}. Use the name of a function in "
                    f"brainstate.nn (e.g. 'tanh', 'relu', 'sigmoid') or pass a callable.")
            self.activation = getattr(_activations, activation)
        elif callable(activation):
            self.activation = activation
        else:
            raise TypeError(
                f"{self._label()}: activation must be a function name (e.g. 'tanh') or a callable, got "
                f"{type(activation).__name__} {activation!r}.")

    # -- hidden states -------------------------------------------------------------------------
    def _initial(self, batch_size: Optional[int]) -> jax.Array:
        if batch_size is not None and (isinstance(batch_size, bool) or not isinstance(batch_size, numbers.Integral)
                                       or batch_size < 1):
            raise ValueError(
                f"{self._label()}: batch_size must be None (unbatched) or a positive integer, got "
                f"{batch_size!r}.")
        shape = (self.num_out,) if batch_size is None else (int(batch_size), self.num_out)
        spec = self._state_initializer
        value = jnp.asarray(spec(shape) if callable(spec) else spec)
        try:
            return jnp.broadcast_to(value, shape)
        except ValueError:
            raise ValueError(
                f"{self._label()}: state_init gave an array of shape {value.shape}, which does not "
                f"broadcast to the hidden shape {shape}. Pass a scalar, an array of shape "
                f"({self.num_out},), or a function of the shape.") from None

    def init_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Create the hidden states, of shape `(num_out,)` or `(batch_size, num_out)`."""
        for attr in self._hidden_names:
            setattr(self, attr, HiddenState(self._initial(batch_size)))

    def reset_state(self, batch_size: Optional[int] = None, **kwargs: Any) -> None:
        """Set the hidden states back to their initial values (reshaping them to `batch_size`)."""
        for attr in self._hidden_names:
            state = vars(self).get(attr)
            value = self._initial(batch_size)
            if state is None:
                setattr(self, attr, HiddenState(value))
            elif jnp.shape(state.value) == value.shape:
                state.value = value
            else:
                state.restore_value(value)  # a deliberate change of batch size

    def _hidden(self, attr: str) -> HiddenState:
        state = vars(self).get(attr)
        if state is None:
            raise BrainStateError(
                f"{self._label()} has no hidden state {attr!r} yet: call `cell.init_state()` (or "
                f"`cell.init_state(batch_size)`) or `brainstate.nn.init_all_states(model)` before "
                f"running it.")
        return state

    def _check_input(self, x: Any) -> jax.Array:
        x = jnp.asarray(x)
        if x.ndim == 0 or x.shape[-1] != self.num_in:
            got = "a scalar" if x.ndim == 0 else f"shape {x.shape}"
            raise ValueError(
                f"{self._label()} expects inputs whose last dimension is num_in={self.num_in}, got "
                f"{got}. Reshape the input, or build the cell with num_in matching the data.")
        batch = jnp.shape(self._hidden(self._hidden_names[0]).value)[:-1]
        if x.shape[:-1] != batch:
            raise ValueError(
                f"{self._label()} has hidden states with batch shape {batch}, but got an input of "
                f"shape {x.shape} (batch shape {x.shape[:-1]}). Call `init_state(batch_size)` with "
                f"the input's batch size, or feed inputs of shape {batch + (self.num_in,)}.")
        return x


class ValinaRNNCell(RNNCell):
    """Vanilla (Elman) RNN cell: `h' = activation([x, h] @ W + b)`.

    Args:
      num_in: input size.
      num_out: hidden (and output) size.
      state_init: initial hidden value: a function of the shape, or an array / scalar.
      w_init: initializer of the `(num_in + num_out, num_out)` weight.
      b_init: initializer of the bias (None for no bias).
      activation: a function name of `brainstate.nn` or a callable.
      name: optional module name.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> cell = brainstate.nn.ValinaRNNCell(3, 4)
      >>> cell.init_state(batch_size=2)
      >>> cell(jnp.ones((2, 3))).shape
      (2, 4)
    """

    def __init__(self, num_in: int, num_out: int, state_init: Init = zeros, w_init: Init = xavier_normal,
                 b_init: Optional[Init] = zeros, activation: Union[str, Callable] = "relu",
                 name: Optional[str] = None):
        super().__init__(name=name)
        self._setup(num_in, num_out, state_init, activation)
        self.W = Linear(num_in + num_out, num_out, w_init=w_init, b_init=b_init)

    def update(self, x: Any) -> jax.Array:
        """Advance one step on input `x` and return the new hidden value."""
        x = self._check_input(x)
        h = self._hidden("h")
        h.value = self.activation(self.W(jnp.concatenate([x, h.value], axis=-1)))
        return h.value


class GRUCell(RNNCell):
    """Gated recurrent unit.

    With `r, z = sigmoid([x, h] @ Wrz + brz)` (reset and update gates) and
    `n = activation([x, r * h] @ Wh + bh)`, the new hidden value is `h' = (1 - z) * h + z * n`.

    Args: as `ValinaRNNCell` (default activation 'tanh', orthogonal weights).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> cell = brainstate.nn.GRUCell(3, 4)
      >>> cell.init_state(batch_size=2)
      >>> cell(jnp.ones((2, 3))).shape
      (2, 4)
    """

    def __init__(self, num_in: int, num_out: int, w_init: Init = orthogonal, b_init: Optional[Init] = zeros,
                 state_init: Init = zeros, activation: Union[str, Callable] = "tanh", name: Optional[str] = None):
        super().__init__(name=name)
        self._setup(num_in, num_out, state_init, activation)
        self.Wrz = Linear(num_in + num_out, num_out * 2, w_init=w_init, b_init=b_init)
        self.Wh = Linear(num_in + num_out, num_out, w_init=w_init, b_init=b_init)

    def update(self, x: Any) -> jax.Array:
        """Advance one step on input `x` and return the new hidden value."""
        x = self._check_input(x)
        state = self._hidden("h")
        h = state.value
        r, z = jnp.split(jax.nn.sigmoid(self.Wrz(jnp.concatenate([x, h], axis=-1))), 2, axis=-1)
        n = self.activation(self.Wh(jnp.concatenate([x, r * h], axis=-1)))
        state.value = (1 - z) * h + z * n
        return state.value


class MGUCell(RNNCell):
    """Minimal gated unit: a GRU whose single forget gate plays both gate roles.

    With `f = sigmoid([x, h] @ Wf + bf)` and `n = activation([x, f * h] @ Wh + bh)`, the new
    hidden value is `h' = (1 - f) * h + f * n`.

    Args: as `GRUCell`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> cell = brainstate.nn.MGUCell(3, 4)
      >>> cell.init_state(batch_size=2)
      >>> cell(jnp.ones((2, 3))).shape
      (2, 4)
    """

    def __init__(self, num_in: int, num_out: int, w_init: Init = orthogonal, b_init: Optional[Init] = zeros,
                 state_init: Init = zeros, activation: Union[str, Callable] = "tanh", name: Optional[str] = None):
        super().__init__(name=name)
        self._setup(num_in, num_out, state_init, activation)
        self.Wf = Linear(num_in + num_out, num_out, w_init=w_init, b_init=b_init)
        self.Wh = Linear(num_in + num_out, num_out, w_init=w_init, b_init=b_init)

    def update(self, x: Any) -> jax.Array:
        """Advance one step on input `x` and return the new hidden value."""
        x = self._check_input(x)
        state = self._hidden("h")
        h = state.value
        f = jax.nn.sigmoid(self.Wf(jnp.concatenate([x, h], axis=-1)))
        n = self.activation(self.Wh(jnp.concatenate([x, f * h], axis=-1)))
        state.value = (1 - f) * h + f * n
        return state.value


class LSTMCell(RNNCell):
    """Long short-term memory cell with hidden value `h` and cell value `c`.

    The fused weight gives the blocks `i, g, f, o = split([x, h] @ W + b, 4)`; then
    `c' = sigmoid(f + 1) * c + sigmoid(i) * activation(g)` (forget bias 1) and
    `h' = sigmoid(o) * activation(c')`. Returns `h'`.

    Args: as `ValinaRNNCell` (default activation 'tanh').

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> cell = brainstate.nn.LSTMCell(3, 4)
      >>> cell.init_state(batch_size=2)
      >>> cell(jnp.ones((2, 3))).shape
      (2, 4)
    """

    _hidden_names = ("c", "h")

    def __init__(self, num_in: int, num_out: int, w_init: Init = xavier_normal, b_init: Optional[Init] = zeros,
                 state_init: Init = zeros, activation: Union[str, Callable] = "tanh", name: Optional[str] = None):
        super().__init__(name=name)
        self._setup(num_in, num_out, state_init, activation)
        self.W = Linear(num_in + num_out, num_out * 4, w_init=w_init, b_init=b_init)

    def update(self, x: Any) -> jax.Array:
        """Advance one step on input `x` and return the new hidden value `h`."""
        x = self._check_input(x)
        h_state, c_state = self._hidden("h"), self._hidden("c")
        i, g, f, o = jnp.split(self.W(jnp.concatenate([x, h_state.value], axis=-1)), 4, axis=-1)
        c = jax.nn.sigmoid(f + 1.0) * c_state.value + jax.nn.sigmoid(i) * self.activation(g)
        c_state.value = c
        h_state.value = jax.nn.sigmoid(o) * self.activation(c)
        return h_state.value


class URLSTMCell(RNNCell):
    """LSTM with uniform gate initialization and a refine gate (Gu et al., 2020).

    The fused weight (no bias) gives `f, r, u, o = split([x, h] @ W, 4)`; with the forget bias
    `b` (a `ParamState`, initialised so that `sigmoid(b)` is uniform on `[1/n, 1 - 1/n]`):
    `fg = sigmoid(f + b)`, `rg = sigmoid(r - b)`, `g = 2 rg fg + (1 - 2 rg) fg**2`,
    `c' = g * c + (1 - g) * activation(u)`, `h' = sigmoid(o) * activation(c')`. Returns `h'`.

    Args: as `LSTMCell`, without `b_init`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> cell = brainstate.nn.URLSTMCell(3, 4)
      >>> cell.init_state(batch_size=2)
      >>> cell(jnp.ones((2, 3))).shape
      (2, 4)
    """

    _hidden_names = ("c", "h")

    def __init__(self, num_in: int, num_out: int, w_init: Init = xavier_normal, state_init: Init = zeros,
                 activation: Union[str, Callable] = "tanh", name: Optional[str] = None):
        super().__init__(name=name)
        self._setup(num_in, num_out, state_init, activation)
        self.W = Linear(num_in + num_out, num_out * 4, w_init=w_init, b_init=None)
        self.bias = ParamState(self._forget_bias())

    def _forget_bias(self) -> jax.Array:
        """Logits of `u ~ Uniform[1/n, 1 - 1/n]`, so that `sigmoid(bias) == u` (0 when n < 3)."""
        n = self.num_out
        if n < 3:  # the interval is a point (n=2) or empty (n=1): use its centre, sigmoid(0)=0.5
            return jnp.zeros((n,), environ.dftype())
        u = random.uniform(1 / n, 1 - 1 / n, size=(n,), dtype=environ.dftype())
        return jnp.log(u) - jnp.log1p(-u)

    def update(self, x: Any) -> jax.Array:
        """Advance one step on input `x` and return the new hidden value `h`."""
        x = self._check_input(x)
        h_state, c_state = self._hidden("h"), self._hidden("c")
        f, r, u, o = jnp.split(self.W(jnp.concatenate([x, h_state.value], axis=-1)), 4, axis=-1)
        fg = jax.nn.sigmoid(f + self.bias.value)
        rg = jax.nn.sigmoid(r - self.bias.value)
        g = 2 * rg * fg + (1 - 2 * rg) * fg ** 2
        c = g * c_state.value + (1 - g) * self.activation(u)
        c_state.value = c
        h_state.value = jax.nn.sigmoid(o) * self.activation(c)
        return h_state.value
