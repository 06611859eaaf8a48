"""A BrainState module seen as a pure function of its state values.

The generic wrappers that carry a BrainState module into another framework keep the module's
state values in that framework's containers (NNX Variables, Linen collections, an Equinox PyTree
and `eqx.nn.State`), where its transforms (`nnx.jit`, `jax.grad`, `eqx.filter_jit`) can see
them. `StateBinding(module)` supplies the computation: it fixes the module's States in graph-path
order and runs `module(*args)` with given values fed in through the stateful-function engine,
returning the new values instead of writing them. The live module is never written, so calling a
wrapper inside any JAX transform leaks nothing.

States the call touches outside the module's own graph:
- the default random stream `brainstate.random.DEFAULT` (dropout, noise): fed from the `key` the
  wrapper supplies, and its advanced value returned, so randomness lives in the wrapper;
- any other State: read at its current value, as a constant. Writing one is an
  `UnsupportedLayerError`, since the other framework has nowhere to keep the new value.

Arguments: array leaves (and tracers) are traced; every other leaf (Python numbers, strings,
flags) is a static argument, hashed by value, as a BrainState module expects.
"""

import contextlib
from typing import Any, Dict, List, Optional, Sequence, Tuple

import jax
import numpy as np

from .. import environ, graph, random
from .._state import State
from ..graph import Node
from ..transform import StatefulFunction
from ._errors import ConversionError, InteropError, UnsupportedLayerError

__all__ = ["StateBinding", "Handle", "path_name", "as_key_data", "as_typed_key", "disjoint", "bs_ids"]


def path_name(path: Tuple[Any, ...]) -> str:
    """A graph path as one dotted string, e.g. `('layers', 0, 'weight')` -> `'layers.0.weight'`."""
    return ".".join(str(p) for p in path)


def as_key_data(key: Any) -> jax.Array:
    """Raw key data (`uint32[2]` for threefry) from a typed or raw JAX key."""
    key = jax.numpy.asarray(key)
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return jax.random.key_data(key)
    return key


def as_typed_key(key: Any) -> jax.Array:
    """A typed JAX key (`key<fry>[]`) from a typed or raw JAX key."""
    key = jax.numpy.asarray(key)
    if jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        return key
    return jax.random.wrap_key_data(key)


def _label(state: State) -> str:
    return f"{type(state).__name__} {state.name!r}" if state.name else type(state).__name__


def bs_ids(layer: Any) -> set:
    """The ids of a BrainState layer and its States (empty for a plain function)."""
    if not isinstance(layer, Node):
        return set()
    return {id(layer)} | {id(s) for s in graph.states(layer).values()}


def disjoint(id_sets: Sequence[set]) -> bool:
    """Whether no id occurs in two of the sets: the layers of a `Sequential` share nothing, so
    converting them one by one cannot split a shared State into two copies."""
    seen: set = set()
    for ids in id_sets:
        if ids & seen:
            return False
        seen |= ids
    return True


def _key_name(key: Any) -> str:
    """`'bias'` for `DictKey('bias')`, `'0'` for `SequenceKey(0)`, and so on."""
    tu = jax.tree_util
    if isinstance(key, tu.DictKey):
        return str(key.key)
    if isinstance(key, (tu.SequenceKey, tu.FlattenedIndexKey)):
        return str(key.idx)
    if isinstance(key, tu.GetAttrKey):
        return key.name
    return str(key)


def _is_dynamic(leaf: Any) -> bool:
    return isinstance(leaf, (jax.Array, np.ndarray, np.generic, jax.core.Tracer))


class StateBinding:
    """The States of `module` in path order, and the module as a function of their values.

    Args:
      module: the BrainState module; its States must exist already (call `init_all_states`
        first for layers that create their states lazily).
      owner: how errors name the wrapper (e.g. `'to_nnx(GRUCell)'`).

    Attributes:
      paths: the graph path of every State, in a fixed order.
      kinds: the State class at each path.
    """

    def __init__(self, module: Any, owner: str):
        flat = graph.states(module)
        self.module = module
        self.owner = owner
        self.paths: Tuple[Tuple[Any, ...], ...] = tuple(flat.keys())
        self.states: Tuple[State, ...] = tuple(flat.values())
        self.kinds: Tuple[type, ...] = tuple(type(s) for s in self.states)
        self._index: Dict[int, int] = {id(s): i for i, s in enumerate(self.states)}
        # PyTreeDefs; typed Any because jaxlib ships no stub for them.
        self._treedefs: List[Any] = [jax.tree_util.tree_structure(s.value) for s in self.states]
        self._fun = StatefulFunction(self._run, static_argnums=(0,), name=owner)

    def values(self) -> List[Any]:
        """The current values of the module's States, in path order."""
        return [s.value for s in self.states]

    def leaves(self) -> List[Tuple[Tuple[str, ...], type, Any]]:
        """`(path, kind, array)` for every array leaf of every State value, in order.

        A State holding a PyTree (`Linear`'s `{'weight': ..., 'bias': ...}`) gives one entry per
        leaf, its path extended by the leaf's keys; `from_leaves` reassembles the values.
        """
        out = []
        for path, kind, value in zip(self.paths, self.kinds, self.values(), strict=True):
            for key_path, leaf in jax.tree_util.tree_flatten_with_path(value)[0]:
                out.append((tuple(str(p) for p in path) + tuple(_key_name(k) for k in key_path), kind, leaf))
        return out

    def from_leaves(self, leaves: Sequence[Any]) -> List[Any]:
        """The State values (in path order) from leaves in `leaves()` order."""
        it = iter(leaves)
        return [jax.tree_util.tree_unflatten(t, [next(it) for _ in range(t.num_leaves)]) for t in self._treedefs]

    def conform(self, values: Sequence[Any], where: str) -> List[Any]:
        """`values` (one per path) rebuilt with each State's own tree structure (a Linen
        `FrozenDict` becomes a dict, an NNX `State` a dict, ...).

        Raises:
          ConversionError: a value has a different number of leaves than its State.
        """
        if len(values) != len(self._treedefs):
            raise ConversionError(f"{where}: got {len(values)} values for the {len(self._treedefs)} states of "
                                  f"{self.owner}.")
        out = []
        for path, t, v in zip(self.paths, self._treedefs, values, strict=True):
            leaves = jax.tree_util.tree_leaves(v)
            if len(leaves) != t.num_leaves:
                raise ConversionError(
                    f"{where}: the value given for {path_name(path)!r} has {len(leaves)} array leaves, but "
                    f"the state holds {t.num_leaves} ({t}). Pass the variables this model was converted with.")
            out.append(jax.tree_util.tree_unflatten(t, leaves))
        return out

    def to_leaves(self, values: Sequence[Any]) -> List[Any]:
        """The array leaves of State values given in path order (the inverse of `from_leaves`)."""
        return [leaf for v in values for leaf in jax.tree_util.tree_leaves(v)]

    def _run(self, static: Tuple[Any, ...], *dynamic: Any) -> Any:
        treedef, static_leaves = static
        dyn = iter(dynamic)
        leaves = [next(dyn) if leaf is _DYNAMIC else leaf for leaf in static_leaves]
        args, kwargs = jax.tree_util.tree_unflatten(treedef, leaves)
        return self.module(*args, **kwargs)

    def __call__(self, values: Sequence[Any], args: tuple, kwargs: dict, *, fit: Optional[bool] = None,
                 key: Any = None, key_hint: str = "") -> Tuple[Any, List[Any], Any]:
        """Run the module with `values` fed into its States.

        Args:
          values: one value per path, in `paths` order.
          args, kwargs: the call's arguments.
          fit: if not None, the call runs under `environ.context(fit=fit)`.
          key: the value fed to `brainstate.random.DEFAULT` if the module draws random numbers, or
            a function returning it (called only then).
          key_hint: how the wrapper's user supplies `key`, for the error when it is missing.

        Returns:
          `(out, new_values, new_key)`: the output, every path's value after the call (the given
          object where the call did not write it), and the advanced key (`key` if unused).

        Raises:
          InteropError: the module draws random numbers and `key` is None.
          UnsupportedLayerError: the module writes a State outside its own graph.
        """
        leaves, treedef = jax.tree_util.tree_flatten((tuple(args), dict(kwargs)))
        static = (treedef, tuple(_DYNAMIC if _is_dynamic(x) else x for x in leaves))
        dynamic = [x for x in leaves if _is_dynamic(x)]
        mode = environ.context(fit=fit) if fit is not None else contextlib.nullcontext()
        with mode:
            touched = self._fun.get_states(static, *dynamic)
            written_states = self._fun.get_write_states(static, *dynamic)
            feed = [self._feed(s, values, key, key_hint) for s in touched]
            for s in written_states:
                if id(s) not in self._index and s is not random.DEFAULT:
                    raise UnsupportedLayerError(
                        f"{self.owner}: the module writes {_label(s)}, which is not part of the module "
                        f"(a global or a state of another object). The other framework can only carry "
                        f"the module's own states: make that state an attribute of the module before "
                        f"converting it.")
            after, out = self._fun.jaxpr_call(feed, static, *dynamic)  # every touched state's value
        new_values = list(values)
        new_key = key
        written_ids = {id(s) for s in written_states}
        for s, v in zip(touched, after, strict=True):
            if id(s) not in written_ids:
                continue
            if s is random.DEFAULT:
                new_key = v
            else:
                new_values[self._index[id(s)]] = v
        return out, new_values, new_key

    def _feed(self, state: State, values: Sequence[Any], key: Any, key_hint: str) -> Any:
        i = self._index.get(id(state))
        if i is not None:
            return values[i]
        if state is random.DEFAULT:
            if key is None:
                raise InteropError(
                    f"{self.owner}: the module draws random numbers (from brainstate.random.DEFAULT), "
                    f"but no random key was given. {key_hint}")
            key = key() if callable(key) else key
            # in the form the default stream holds (a typed key, or raw data for a raw-key stream)
            typed = jax.dtypes.issubdtype(jax.numpy.asarray(state.value).dtype, jax.dtypes.prng_key)
            return as_typed_key(key) if typed else as_key_data(key)
        return state.value


class Handle:
    """Holds an object as a static, identity-hashed attribute of another framework's module.

    NNX, Linen and Equinox keep non-array attributes in their (hashed) static structure; this
    keeps what they must not look into (a `StateBinding`, an NNX `GraphDef` with its template
    state) opaque to them, and equal only to itself.
    """

    __slots__ = ("value",)

    def __init__(self, value: Any):
        self.value = value

    def __repr__(self) -> str:
        return f"Handle({type(self.value).__name__})"


class _Dynamic:
    """Marks an argument leaf that is traced (an array) in the static description of a call."""

    def __repr__(self) -> str:
        return "<dynamic>"


_DYNAMIC = _Dynamic()
