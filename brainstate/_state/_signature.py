"""The abstract signature of a state's value, and the write check built on it.

A state's first value fixes its signature: the tree structure plus, for every leaf, its shape
and dtype (as JAX computes in it: without 64-bit mode a NumPy float64 leaf counts as float32). A later write must keep the signature. Python scalars and other weakly typed leaves
adapt: a weak leaf whose dtype promotes into the stored dtype is cast to it, so
`state.value = 0` on a float32 state stores a float32 zero and the jit cache does not retrace.

The check runs on eager writes and at trace time; the compiled per-call path never calls it.
"""

import jax
import numpy as np

from .._errors import BrainStateError

__all__ = ["signature", "checked_value", "describe", "strong", "is_placeholder"]

_PY_SCALARS = (bool, int, float, complex)
Tracer = jax.core.Tracer


def _leaf_sig(x):
    """(shape, dtype, weak) of an array-like leaf, or ('object', type) of anything else."""
    if isinstance(x, _PY_SCALARS):
        return (), jax.dtypes.canonicalize_dtype(type(x)), True
    shape = getattr(x, "shape", None)
    dtype = getattr(x, "dtype", None)
    if shape is None or dtype is None:
        return "object", type(x), False
    if jax.dtypes.issubdtype(dtype, jax.dtypes.extended):
        return tuple(shape), dtype, bool(getattr(x, "weak_type", False))
    # The dtype JAX computes in: with 64-bit mode off, a NumPy float64 array is a float32 one.
    return tuple(shape), _canonical(np.dtype(dtype)), bool(getattr(x, "weak_type", False))


def _canonical(dtype: np.dtype) -> np.dtype:
    return np.dtype(jax.dtypes.canonicalize_dtype(dtype))


def strong(value):
    """`value` with every weakly typed concrete array made strongly typed (same dtype).

    A state's arrays are stored strongly typed from the start: a compiled step usually writes a
    strongly typed result, and a weak initial value would make the second call retrace.
    Python scalars are left as they are.
    """
    leaves, treedef = jax.tree_util.tree_flatten(value)
    if not any(getattr(x, "weak_type", False) and not isinstance(x, Tracer) for x in leaves):
        return value
    import jax.numpy as jnp

    leaves = [jnp.asarray(x, dtype=x.dtype) if getattr(x, "weak_type", False) and not isinstance(x, Tracer) else x
              for x in leaves]
    return jax.tree_util.tree_unflatten(treedef, leaves)


def signature(value):
    """(treedef, leaves, leaf signatures, has_tracer) of a state value."""
    leaves, treedef = jax.tree_util.tree_flatten(value)
    return treedef, leaves, tuple(_leaf_sig(x) for x in leaves), any(isinstance(x, Tracer) for x in leaves)


def _fmt_leaf(sig) -> str:
    if sig[0] == "object":
        return sig[1].__name__
    shape, dtype, weak = sig
    return f"{'weak ' if weak else ''}{np.dtype(dtype).name if isinstance(dtype, np.dtype) else dtype}[{','.join(map(str, shape))}]"


def describe(treedef, sigs) -> str:
    """Readable signature, e.g. `float32[3,4]` or `{'bias': float32[4], 'weight': float32[3,4]}`."""
    return str(jax.tree_util.tree_unflatten(treedef, [_Raw(_fmt_leaf(s)) for s in sigs]))


class _Raw(str):
    def __repr__(self):
        return str(self)


def checked_value(state, value, expected=None):
    """Return `(value, has_tracer)` to store in `state`, or raise if `value` breaks its signature.

    `expected` is the `(treedef, leaf signatures)` to keep (default: the state's own; inside a
    vmap a state is seen, and checked, per lane). Weak leaves that differ only in dtype are cast
    to the stored dtype.
    """
    from ._state import State  # circular: State uses this module for its writes

    treedef, leaves, sigs, has_tracer = signature(value)
    if any(isinstance(x, State) for x in leaves):
        raise BrainStateError(
            f"Cannot write a State into {state._label()}: a State holds arrays, not other States. "
            f"Write the other state's value instead (`a.value = b.value`).")
    old_tree, old_sigs = state._sig if expected is None else expected
    if treedef != old_tree or len(sigs) != len(old_sigs):
        _mismatch(state, old_tree, old_sigs, treedef, sigs, "tree structure")
    cast = None
    for i, (new, old) in enumerate(zip(sigs, old_sigs)):
        if new == old:
            continue
        if new[:2] == old[:2]:
            if new[0] != "object" and new[2] and not old[2]:
                # A weakly typed value into a strongly typed state: store it strongly typed, so
                # compiled functions see one argument type and never retrace over weak types.
                cast = cast or {}
                cast[i] = old[1]
            continue
        if new[0] == "object" or old[0] == "object":
            if new[0] == old[0] == "object":
                continue  # opaque Python leaves: no shape/dtype to keep
            _mismatch(state, old_tree, old_sigs, treedef, sigs, "leaf type")
        if new[0] != old[0]:
            _mismatch(state, old_tree, old_sigs, treedef, sigs, "shape")
        if (new[2] or old[2]) and _promotes_into(new[1], old[1]):
            cast = cast or {}
            cast[i] = old[1]
            continue
        _mismatch(state, old_tree, old_sigs, treedef, sigs, "dtype")
    if cast:
        import jax.numpy as jnp

        leaves = [jnp.asarray(x, dtype=cast[i]) if i in cast else x for i, x in enumerate(leaves)]
        value = jax.tree_util.tree_unflatten(treedef, leaves)
    return value, has_tracer


def _promotes_into(new, old) -> bool:
    try:
        return np.dtype(jax.numpy.promote_types(new, old)) == np.dtype(old)
    except Exception:  # extended dtypes (PRNG keys) never promote
        return False


def _mismatch(state, old_tree, old_sigs, treedef, sigs, what):
    raise ValueError(
        f"Cannot write to {state._label()}: the new value changes its {what}.\n"
        f"  state holds: {describe(old_tree, old_sigs)}\n"
        f"  new value:   {describe(treedef, sigs)}\n"
        f"A state keeps the tree structure, shapes and dtypes of its first value, so compiled code "
        f"that uses it stays valid. Cast or reshape the value to match, or change the state on "
        f"purpose with `state.restore_value(new_value)`. The state keeps its old value.")


def is_placeholder(sig) -> bool:
    """A signature that only holds a place: `None`, or one weakly typed Python scalar.

    A state created with a placeholder (`State(None)`, `State(0.)`) takes the signature of the
    first array written to it, as the reference's ecosystem expects.
    """
    treedef, sigs = sig
    if treedef.num_leaves == 0:
        return treedef == jax.tree_util.tree_structure(None)
    return treedef.num_leaves == 1 and treedef == _LEAF and sigs[0][0] == () and sigs[0][2]


_LEAF = jax.tree_util.tree_structure(0)
