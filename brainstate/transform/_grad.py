"""The autodiff family: grad, vector_grad, jacrev, jacfwd, jacobian, hessian.

One class, `GradientTransform`, runs the engine recipe with a JAX autodiff transform applied to
a loss function `(grad_state_values, *args) -> (loss, (written, loss, aux))`. Gradients with
respect to states come back in the container the user passed as `grad_states` (a State, a
list/tuple, a dict, or `module.states(...)`); with `argnums` too, the result is
`(state_grads, arg_grads)`. Extras are appended in the order `(grads, value, aux)`. States the
function writes but that are not differentiated are still written back.

JAX differentiates with respect to one input built from these (the container of the grad states'
values, the arguments, or the pair), so every transform places gradients by JAX's own rules: a
jacobian of a pytree output has the output's structure outside and the container inside, a
hessian nests the container twice (with `argnums` too, the full block matrix of the pair).
`unit_aware=True` runs brainunit's version of the transform (`brainunit.autograd`), so the
gradient of a `Quantity` carries its unit.
"""

from typing import Any, Callable, Dict, Optional, Sequence, Union

import jax
import jax.numpy as jnp

from .._errors import BrainStateError
from .._state import State
from ..typing import MISSING, Missing
from ._stateful import StatefulFunction

__all__ = ["GradientTransform", "grad", "vector_grad", "jacrev", "jacfwd", "jacobian", "hessian"]

# Keywords the reference release accepted through `**kwargs` (besides those the signatures name).
_COMPAT_KEYWORDS = frozenset({"debug_nan"})


def check_keywords(where: str, kwargs: Dict[str, Any]) -> None:
    """Reject keywords a transform does not know (a typo must not be silently ignored)."""
    unknown = sorted(set(kwargs) - _COMPAT_KEYWORDS)
    if unknown:
        raise TypeError(
            f"{where}() got unexpected keyword argument(s) {', '.join(map(repr, unknown))}. Check the "
            f"spelling; see help(brainstate.transform.{where}) for the accepted arguments.")


def _flatten_grad_states(grad_states):
    """(list of states, treedef of the user's container with the states as leaves)."""
    if grad_states is None:
        return [], None
    if isinstance(grad_states, dict):  # `module.states(...)` and other dict kinds: grads in a plain dict
        grad_states = dict(grad_states.items())
    leaves, treedef = jax.tree_util.tree_flatten(grad_states, is_leaf=lambda x: isinstance(x, State))
    for leaf in leaves:
        if not isinstance(leaf, State):
            raise TypeError(
                f"grad_states must contain only States (a State, a list/tuple/dict of States, or "
                f"module.states(...)); found {type(leaf).__name__}: {leaf!r}.")
    if len(set(map(id, leaves))) != len(leaves):
        raise ValueError("grad_states lists the same State twice; pass each state once.")
    return leaves, treedef


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
      debug_nan: if a gradient (or the value) holds a NaN/Inf, raise a report naming the
        primitive that produced it (`debug_nan`): eagerly, or when the compiled call runs.
    """

    def __init__(self, target: Callable, transform: Callable, grad_states=None, argnums=None,
                 return_value: bool = False, has_aux: bool = False, transform_params: Optional[Dict] = None,
                 check_states: bool = True, debug_nan: bool = False):
        if not callable(target):
            raise TypeError(f"{transform.__name__} expects a callable, got {type(target).__name__}: {target!r}.")
        self.target = target
        self.transform = transform
        self.grad_states, self._container = _flatten_grad_states(grad_states)
        self._has_states = grad_states is not None
        if argnums is None and grad_states is None:
            argnums = 0
        self._argnums_int = isinstance(argnums, int)
        self.argnums = () if argnums is None else ((argnums,) if isinstance(argnums, int) else tuple(argnums))
        self.return_value = bool(return_value)
        self.has_aux = bool(has_aux)
        self.transform_params = dict(transform_params or {})
        self.check_states = check_states
        self.debug_nan = bool(debug_nan)
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
        result = self._compute(*args, **kwargs)
        if self.debug_nan:
            self._inspect_nan(result, args, kwargs)
        return result

    def _inspect_nan(self, result, args, kwargs) -> None:
        """Replay the computation (`debug_nan`) if a gradient or the value is not finite."""
        from ._debug_nan import debug_nan_if  # the IR tools load on first use

        leaves = [x for x in jax.tree_util.tree_leaves(result)
                  if jnp.issubdtype(jnp.result_type(x), jnp.inexact)]
        if not leaves:
            return
        has_nan = jnp.any(jnp.stack([jnp.any(~jnp.isfinite(x)) for x in leaves]))
        debug_nan_if(has_nan, lambda *a: self._compute(*a, **kwargs), *args,
                     phase=self.transform.__name__)

    def _compute(self, *args, **kwargs):
        n = len(args)
        for i in self.argnums:
            if not -n <= i < n:
                raise ValueError(
                    f"argnums={i} is out of range: the function was called with {n} positional "
                    f"argument(s). Pass the argument positionally or fix argnums.")
        argnums = tuple(i % n for i in self.argnums)
        self._check_dtypes()
        has_states, container = self._has_states, self._container

        def jax_call(pure, values, found):
            if self.check_states:
                self._check_used(found)
            index = {id(s): i for i, s in enumerate(found.states)}
            grad_pos = [index.get(id(s)) for s in self.grad_states]

            # JAX differentiates with respect to one input: the grad states' values in the user's
            # container, the differentiated arguments, or the pair of both. Every transform then
            # places the gradients itself: a pytree output's structure outside, this input's
            # inside (jacobians), nested twice for the hessian.
            def loss_fn(diff, *fargs):
                state_part, arg_part = diff if has_states and argnums else (diff, None) if has_states else (None, diff)
                vals = list(values)
                if has_states:
                    for pos, v in zip(grad_pos, container.flatten_up_to(state_part)):
                        if pos is not None:
                            vals[pos] = v
                if argnums:
                    fargs = list(fargs)
                    for i, v in zip(argnums, (arg_part,) if self._argnums_int else arg_part):
                        fargs[i] = v
                written, out = pure(vals, *fargs, **kwargs)
                if self.has_aux:
                    if not (isinstance(out, (tuple, list)) and len(out) == 2):
                        raise TypeError(
                            f"has_aux=True needs the function to return a pair (value, aux); it "
                            f"returned {type(out).__name__}.")
                    loss, aux = out
                else:
                    loss, aux = out, None
                if self.transform in _UNITLESS and hasattr(loss, "unit") and hasattr(loss, "mantissa"):
                    raise TypeError(
                        f"{self.transform.__name__}: the function returned a Quantity in {loss.unit}; pass "
                        f"unit_aware=True to differentiate with units (brainunit), or return a plain "
                        f"number (its `.mantissa`, or the value divided by its unit).")
                return loss, (written, loss, aux)

            state_part = container.unflatten(
                [s.value if p is None else values[p] for s, p in zip(self.grad_states, grad_pos)]
            ) if has_states else None
            arg_part = (args[argnums[0]] if self._argnums_int else tuple(args[i] for i in argnums)) if argnums else None
            diff = (state_part, arg_part) if has_states and argnums else state_part if has_states else arg_part
            transformed = self.transform(loss_fn, argnums=0, has_aux=True, **self.transform_params)
            grads, (written, loss, aux) = transformed(diff, *args)
            return written, (grads, loss, aux)

        grads, loss, aux = self.stateful_fun.call(jax_call, args, kwargs)
        extras = ((loss,) if self.return_value else ()) + ((aux,) if self.has_aux else ())
        return (grads, *extras) if extras else grads

    def __repr__(self) -> str:
        return f"GradientTransform({getattr(self.target, '__name__', self.target)!r}, {self.transform.__name__})"


def _unit_aware(name: str, transform: Callable, unit_aware: bool) -> Callable:
    """`transform`, or brainunit's unit-aware version of it (`brainunit.autograd.<name>`): the
    gradient of a `Quantity` loss then carries the unit loss-unit / input-unit."""
    if not unit_aware:
        return transform
    try:
        import brainunit
    except ImportError:
        raise ImportError(f"{name}(unit_aware=True) needs brainunit: pip install 'brainstate[units]' (or "
                          f"brainunit); or pass unit_aware=False for unit-less values.") from None
    return getattr(brainunit.autograd, name)


# Only `grad` needs a scalar array: the others take a Quantity output as the PyTree it is (its
# mantissa the leaf, the unit kept), as the reference release does.
_UNITLESS = frozenset({jax.grad})


def _make(transform, fun, grad_states, argnums, return_value, has_aux, check_states, params, kwargs):
    def build(f):
        return GradientTransform(f, transform, grad_states=grad_states, argnums=argnums,
                                 return_value=return_value, has_aux=bool(has_aux), transform_params=params,
                                 check_states=check_states, debug_nan=bool(kwargs.get("debug_nan", False)))

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
    transform = _unit_aware("grad", jax.grad, unit_aware)
    return _make(transform, fun, grad_states, argnums, return_value, has_aux, check_states,
                 dict(holomorphic=bool(holomorphic), allow_int=bool(allow_int)), kwargs)


def vector_grad(func: Any = MISSING, grad_states=None, argnums=None, return_value: bool = False,
                has_aux: Optional[bool] = None, unit_aware: bool = False, check_states: bool = True, **kwargs):
    """Gradient of a vector-valued function with an all-ones cotangent (sum of per-element gradients)."""
    check_keywords("vector_grad", kwargs)
    transform = _unit_aware("vector_grad", _vector_grad_transform, unit_aware)
    return _make(transform, func, grad_states, argnums, return_value, has_aux, check_states, {}, kwargs)


def jacrev(fun: Callable, grad_states=None, argnums=None, has_aux: Optional[bool] = None, return_value: bool = False,
           holomorphic: bool = False, allow_int: bool = False, unit_aware: bool = False, check_states: bool = True,
           **kwargs):
    """Jacobian by reverse mode, with the state conventions of `grad`."""
    check_keywords("jacrev", kwargs)
    transform = _unit_aware("jacrev", jax.jacrev, unit_aware)
    return _make(transform, fun, grad_states, argnums, return_value, has_aux, check_states,
                 dict(holomorphic=holomorphic, allow_int=allow_int), kwargs)


def jacfwd(func: Callable, grad_states=None, argnums=None, has_aux: Optional[bool] = None, return_value: bool = False,
           holomorphic: bool = False, unit_aware: bool = False, check_states: bool = True, **kwargs):
    """Jacobian by forward mode, with the state conventions of `grad`."""
    check_keywords("jacfwd", kwargs)
    transform = _unit_aware("jacfwd", jax.jacfwd, unit_aware)
    return _make(transform, func, grad_states, argnums, return_value, has_aux, check_states,
                 dict(holomorphic=holomorphic), kwargs)


jacobian = jacrev


def hessian(func: Callable, grad_states=None, argnums=None, return_value: bool = False, holomorphic: bool = False,
            has_aux: Optional[bool] = None, unit_aware: bool = False, check_states: bool = True, **kwargs):
    """Hessian (forward-over-reverse), with the state conventions of `grad`."""
    check_keywords("hessian", kwargs)
    transform = _unit_aware("hessian", jax.hessian, unit_aware)
    return _make(transform, func, grad_states, argnums, return_value, has_aux, check_states,
                 dict(holomorphic=holomorphic), kwargs)
