"""The autodiff family: grad, vector_grad, jacrev, jacfwd, jacobian, hessian.

One class, `GradientTransform`, runs the engine recipe with a JAX autodiff transform applied to
a loss function `(grad_state_values, *args) -> (loss, (written, loss, aux))`. Gradients with
respect to states come back in the container the user passed as `grad_states` (a State, a
list/tuple, a dict, or `module.states(...)`); with `argnums` too, the result is
`(state_grads, arg_grads)`. Extras are appended in the order `(grads, value, aux)`. States the
function writes but that are not differentiated are still written back.
"""

from typing import Any, Callable, Dict, Optional, Sequence, Union

import jax
import jax.numpy as jnp

from .._errors import BrainStateError
from .._state import State
from ..typing import MISSING, Missing
from ._stateful import StatefulFunction

__all__ = ["GradientTransform", "grad", "vector_grad", "jacrev", "jacfwd", "jacobian", "hessian"]

# Keywords the reference release accepted through `**kwargs`; they change nothing here.
_COMPAT_KEYWORDS = frozenset({"debug_nan"})


def check_keywords(where: str, kwargs: Dict[str, Any]) -> None:
    """Reject keywords a transform does not know (a typo must not be silently ignored)."""
    unknown = sorted(set(kwargs) - _COMPAT_KEYWORDS)
    if unknown:
        raise TypeError(
            f"{where}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}. Check the "
            f"spelling; see help(brainstate.transform.{where}) for the accepted arguments.")


def _flatten_grad_states(grad_states):
    """(list of states, function rebuilding the user's container from a list of grads)."""
    if grad_states is None:
        return [], None
    leaves, treedef = jax.tree_util.tree_flatten(grad_states, is_leaf=lambda x: isinstance(x, State))
    for leaf in leaves:
        if not isinstance(leaf, State):
            raise TypeError(
                f"grad_states must contain only States (a State, a list/tuple/dict of States, or "
                f"module.states(...)); found {type(leaf).__name__}: {leaf!r}.")
    if len(set(map(id, leaves))) != len(leaves):
        raise ValueError("grad_states lists the same State twice; pass each state once.")
    return leaves, lambda grads: jax.tree_util.tree_unflatten(treedef, list(grads))


def _vector_grad_transform(fun, argnums, has_aux, **params):
    nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

    def wrapped(*args):
        primals = [args[i] for i in nums]

        def partial_fun(*p):
            full = list(args)
            for i, v in zip(nums, p):
                full[i] = v
            return fun(*full)

        out, vjp_fn, aux = jax.vjp(partial_fun, *primals, has_aux=True)
        grads = vjp_fn(jax.tree_util.tree_map(jnp.ones_like, out))
        return (grads[0] if isinstance(argnums, int) else grads), aux

    return wrapped


_vector_grad_transform.__name__ = "vector_grad"  # how errors name the transform


class GradientTransform:
    """A state-aware autodiff transform of `target`.

    Args:
      target: the function; it may read and write states.
      transform: a JAX transform `(fun, argnums, has_aux=True, **transform_params)`
        (`jax.grad`, `jax.jacrev`, ...).
      grad_states: the states to differentiate with respect to.
      argnums: positional arguments to differentiate with respect to.
      return_value: also return the function's value.
      has_aux: the function returns `(value, aux)`.
      transform_params: extra keyword arguments for `transform`.
      check_states: raise if a grad state is not read by the function.
      debug_nan: accepted for compatibility.
    """

    def __init__(self, target: Callable, transform: Callable, grad_states=None, argnums=None,
                 return_value: bool = False, has_aux: bool = False, transform_params: Optional[Dict] = None,
                 check_states: bool = True, debug_nan: bool = False):
        if not callable(target):
            raise TypeError(f"{transform.__name__} expects a callable, got {type(target).__name__}: {target!r}.")
        self.target = target
        self.transform = transform
        self.grad_states, self._rebuild = _flatten_grad_states(grad_states)
        self._has_states = grad_states is not None
        if argnums is None and grad_states is None:
            argnums = 0
        self._argnums_int = isinstance(argnums, int)
        self.argnums = () if argnums is None else ((argnums,) if isinstance(argnums, int) else tuple(argnums))
        self.return_value = bool(return_value)
        self.has_aux = bool(has_aux)
        self.transform_params = dict(transform_params or {})
        self.check_states = check_states
        self.stateful_fun = StatefulFunction(target, name=getattr(target, "__name__", None))

    def _check_dtypes(self) -> None:
        if self.transform_params.get("allow_int"):
            return
        for state in self.grad_states:
            for leaf_sig in state._sig[1]:
                dtype = leaf_sig[1]
                if leaf_sig[0] != "object" and not jnp.issubdtype(dtype, jnp.inexact):
                    raise TypeError(
                        f"{self.transform.__name__}: cannot differentiate with respect to {state._label()}: "
                        f"it holds {jnp.dtype(dtype).name} values, and gradients need floating-point ones. "
                        f"Store it as a float (`jnp.asarray(x, float)`), leave it out of grad_states, or "
                        f"pass allow_int=True to get float0 zeros for it.")

    def _check_used(self, found) -> None:
        touched = set(map(id, found.states))
        for state in self.grad_states:
            if id(state) not in touched:
                raise BrainStateError(
                    f"{state._label()} is in grad_states but the function never reads it, so its "
                    f"gradient would silently be zero. Remove it from grad_states, or pass "
                    f"check_states=False if a zero gradient is what you want.")

    def __call__(self, *args, **kwargs):
        n = len(args)
        for i in self.argnums:
            if not -n <= i < n:
                raise ValueError(
                    f"argnums={i} is out of range: the function was called with {n} positional "
                    f"argument(s). Pass the argument positionally or fix argnums.")
        argnums = tuple(i % n for i in self.argnums)
        self._check_dtypes()

        def jax_call(pure, values, found):
            if self.check_states:
                self._check_used(found)
            index = {id(s): i for i, s in enumerate(found.states)}
            grad_pos = [index.get(id(s)) for s in self.grad_states]

            def loss_fn(grad_values, *fargs):
                vals = list(values)
                for pos, v in zip(grad_pos, grad_values):
                    if pos is not None:
                        vals[pos] = v
                written, out = pure(vals, *fargs, **kwargs)
                if self.has_aux:
                    if not (isinstance(out, (tuple, list)) and len(out) == 2):
                        raise TypeError(
                            f"has_aux=True needs the function to return a pair (value, aux); it "
                            f"returned {type(out).__name__}.")
                    loss, aux = out
                else:
                    loss, aux = out, None
                return loss, (written, loss, aux)

            grad_values = [s.value if p is None else values[p] for s, p in zip(self.grad_states, grad_pos)]
            jax_argnums = ((0,) if self._has_states else ()) + tuple(i + 1 for i in argnums)
            single = len(jax_argnums) == 1 and (self._argnums_int or not argnums)
            transformed = self.transform(loss_fn, argnums=jax_argnums[0] if single else jax_argnums,
                                         has_aux=True, **self.transform_params)
            grads, (written, loss, aux) = transformed(grad_values, *args)
            return written, (grads, loss, aux)

        grads, loss, aux = self.stateful_fun.call(jax_call, args, kwargs)
        if self._has_states and self.argnums:
            arg_grads = grads[1] if self._argnums_int else tuple(grads[1:])
            out = (self._rebuild(grads[0]), arg_grads)
        elif self._has_states:
            out = self._rebuild(grads)
        else:
            out = grads
        extras = ((loss,) if self.return_value else ()) + ((aux,) if self.has_aux else ())
        return (out, *extras) if extras else out

    def __repr__(self) -> str:
        return f"GradientTransform({getattr(self.target, '__name__', self.target)!r}, {self.transform.__name__})"


def _make(transform, fun, grad_states, argnums, return_value, has_aux, check_states, params):
    def build(f):
        return GradientTransform(f, transform, grad_states=grad_states, argnums=argnums,
                                 return_value=return_value, has_aux=bool(has_aux), transform_params=params,
                                 check_states=check_states)

    return build if isinstance(fun, Missing) else build(fun)


def grad(fun: Any = MISSING, grad_states=None, argnums=None, holomorphic: Optional[bool] = False,
         allow_int: Optional[bool] = False, has_aux: Optional[bool] = None, return_value: Optional[bool] = False,
         unit_aware: bool = False, check_states: bool = True, **kwargs):
    """Gradient of a scalar function with respect to states and/or arguments.

    Returns gradients in the container of `grad_states`; `(state_grads, arg_grads)` when
    `argnums` is given too; extras in the order `(grads, value, aux)`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.array([1., 2.]))
      >>> g = brainstate.transform.grad(lambda x: (w.value * x).sum(), grad_states=w)(3.0)
      >>> g.tolist()
      [3.0, 3.0]
    """
    check_keywords("grad", kwargs)
    return _make(jax.grad, fun, grad_states, argnums, return_value, has_aux, check_states,
                 dict(holomorphic=bool(holomorphic), allow_int=bool(allow_int)))


def vector_grad(func: Any = MISSING, grad_states=None, argnums=None, return_value: bool = False,
                has_aux: Optional[bool] = None, unit_aware: bool = False, check_states: bool = True, **kwargs):
    """Gradient of a vector-valued function with an all-ones cotangent (sum of per-element gradients)."""
    check_keywords("vector_grad", kwargs)
    return _make(_vector_grad_transform, func, grad_states, argnums, return_value, has_aux, check_states, {})


def jacrev(fun: Callable, grad_states=None, argnums=None, has_aux: Optional[bool] = None, return_value: bool = False,
           holomorphic: bool = False, allow_int: bool = False, unit_aware: bool = False, check_states: bool = True,
           **kwargs):
    """Jacobian by reverse mode, with the state conventions of `grad`."""
    check_keywords("jacrev", kwargs)
    return _make(jax.jacrev, fun, grad_states, argnums, return_value, has_aux, check_states,
                 dict(holomorphic=holomorphic, allow_int=allow_int))


def jacfwd(func: Callable, grad_states=None, argnums=None, has_aux: Optional[bool] = None, return_value: bool = False,
           holomorphic: bool = False, unit_aware: bool = False, check_states: bool = True, **kwargs):
    """Jacobian by forward mode, with the state conventions of `grad`."""
    check_keywords("jacfwd", kwargs)
    return _make(jax.jacfwd, func, grad_states, argnums, return_value, has_aux, check_states,
                 dict(holomorphic=holomorphic))


jacobian = jacrev


def hessian(func: Callable, grad_states=None, argnums=None, return_value: bool = False, holomorphic: bool = False,
            has_aux: Optional[bool] = None, unit_aware: bool = False, check_states: bool = True, **kwargs):
    """Hessian (forward-over-reverse), with the state conventions of `grad`."""
    check_keywords("hessian", kwargs)
    return _make(jax.hessian, func, grad_states, argnums, return_value, has_aux, check_states,
                 dict(holomorphic=holomorphic))
