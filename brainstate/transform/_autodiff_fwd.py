"""Linearisation transforms: `vjp`, `jvp` and the forward-gradient estimator `fwd_grad`.

They follow the state conventions of `grad` (see _grad.py): `grad_states` select states to
differentiate, states the function writes are written back with their primal values, and
read-only states are constants.
"""

from typing import Any, Callable, Optional, Sequence

import jax
import jax.numpy as jnp

from ._grad import MISSING, GradientTransform, _flatten_grad_states, _make, check_keywords
from ._stateful import StatefulFunction

__all__ = ["vjp", "jvp", "fwd_grad"]


def vjp(fun: Callable, *primals, grad_states=None, argnums=0, has_aux: bool = False) -> tuple:
    """Evaluate `fun(*primals)` and return `(out, vjp_fn)` (and `aux` when `has_aux`).

    `vjp_fn(cotangent)` returns the cotangents of the `argnums` arguments (a single value for an
    int, a tuple otherwise); with `grad_states`, it returns `(state_cotangents, arg_cotangents)`,
    the former in the container of `grad_states`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.array([1., 2.]))
      >>> out, f_vjp = brainstate.transform.vjp(lambda x: w.value * x, 3.0, grad_states=w)
      >>> [g.tolist() for g in f_vjp(jnp.ones(2))]
      [[3.0, 3.0], 3.0]
    """
    states, container = _flatten_grad_states(grad_states)
    if not primals and grad_states is not None and argnums == 0:
        argnums = ()  # the default: with no primals, differentiate the states only
    int_argnums = isinstance(argnums, int)
    argnums = () if argnums is None else ((argnums,) if int_argnums else tuple(argnums))
    n = len(primals)
    for i in argnums:
        if not -n <= i < n:
            raise ValueError(f"vjp argnums={i} is out of range for {n} primal argument(s).")
    argnums = tuple(i % n for i in argnums)

    def jax_call(pure, values, found):
        index = {id(s): i for i, s in enumerate(found.states)}
        pos = [index.get(id(s)) for s in states]

        def f(grad_values, *diff_args):
            vals = list(values)
            for p, v in zip(pos, grad_values):
                if p is not None:
                    vals[p] = v
            full = list(primals)
            for i, v in zip(argnums, diff_args):
                full[i] = v
            written, out = pure(vals, *full)
            out, aux = out if has_aux else (out, None)
            return out, (written, aux)

        grad_values = [s.value if p is None else values[p] for s, p in zip(states, pos)]
        out, fn, (written, aux) = jax.vjp(f, grad_values, *(primals[i] for i in argnums), has_aux=True)
        return written, (out, fn, aux)

    out, fn, aux = StatefulFunction(fun).call(jax_call, primals, {})

    def vjp_fn(cotangent):
        grads = fn(cotangent)
        arg_grads = grads[1] if int_argnums else tuple(grads[1:])
        return (container.unflatten(grads[0]), arg_grads) if grad_states is not None else arg_grads

    return (out, vjp_fn, aux) if has_aux else (out, vjp_fn)


def jvp(fun: Callable, primals: Sequence, tangents: Sequence, *, has_aux: bool = False) -> tuple:
    """`(primals_out, tangents_out)` (and `aux`) of a stateful function, like `jax.jvp`.

    States are constants for differentiation; the states `fun` writes get their primal values.
    """
    primals, tangents = tuple(primals), tuple(tangents)
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp got {len(primals)} primal(s) but {len(tangents)} tangent(s); pass one tangent per primal.")

    def jax_call(pure, values, found):
        def f(*args):
            written, out = pure(values, *args)
            out, aux = out if has_aux else (out, None)
            return out, (written, aux)

        out, t_out, (written, aux) = jax.jvp(f, primals, tangents, has_aux=True)
        return written, (out, t_out, aux)

    out, t_out, aux = StatefulFunction(fun).call(jax_call, primals, {})
    return (out, t_out, aux) if has_aux else (out, t_out)


def _fwd_grad_transform(tangent_size=None, drct_der_clip=None, key=None):
    """A transform estimating gradients from random directional derivatives (forward gradients)."""

    def transform(fun, argnums, has_aux, **unused):
        nums = (argnums,) if isinstance(argnums, int) else tuple(argnums)

        def wrapped(*args):
            k = key
            if k is None:
                from ..random import split_key  # the default stream advances like any draw

                k = split_key()
            elif isinstance(k, int):
                k = jax.random.PRNGKey(k)
            primals = tuple(args[i] for i in nums)
            leaves, treedef = jax.tree_util.tree_flatten(primals)

            def estimate(sample_key):
                keys = jax.random.split(sample_key, max(len(leaves), 1))
                vs = [jax.random.normal(kk, jnp.shape(x), jnp.result_type(x)) for kk, x in zip(keys, leaves)]
                v = jax.tree_util.tree_unflatten(treedef, vs)

                def partial(*p):
                    full = list(args)
                    for i, val in zip(nums, p):
                        full[i] = val
                    return fun(*full)

                _, d, aux = jax.jvp(partial, primals, v, has_aux=True)
                if drct_der_clip is not None:
                    d = jnp.clip(d, -drct_der_clip, drct_der_clip)
                return jax.tree_util.tree_map(lambda t: t * d, v), aux

            if tangent_size is None:
                grads, aux = estimate(k)
            else:
                grads, aux = jax.vmap(estimate)(jax.random.split(k, tangent_size))
                grads = jax.tree_util.tree_map(lambda g: g.mean(0), grads)
                aux = jax.tree_util.tree_map(lambda a: a[0], aux)
            return (grads[0] if isinstance(argnums, int) else grads), aux

        return wrapped

    return transform


def fwd_grad(func: Any = MISSING, grad_states=None, argnums=None, return_value: bool = False,
             has_aux: Optional[bool] = None, tangent_size: Optional[int] = None,
             drct_der_clip: Optional[float] = None, key=None, **kwargs):
    """Forward gradient: an unbiased gradient estimate from random-direction `jvp`s.

    For a scalar function, samples `v ~ N(0, I)` and returns `(∇f·v) v` (averaged over
    `tangent_size` samples; directional derivatives clipped to `±drct_der_clip`). Uses `key`
    (an int seed or a key), else the default `brainstate.random` stream. Same return
    conventions as `grad`.
    """
    check_keywords("fwd_grad", kwargs)
    transform = _fwd_grad_transform(tangent_size, drct_der_clip, key)
    transform.__name__ = "fwd_grad"
    return _make(transform, func, grad_states, argnums, return_value, has_aux, True, {}, {})
