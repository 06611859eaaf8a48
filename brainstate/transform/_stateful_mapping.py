"""`StatefulMapping`: the engine recipe for transforms that map a function over an axis.

`vmap`, `vmap2`, `vmap_new_states` and `pmap2` are this one recipe on the stateful-function
engine, parameterised by the JAX mapping primitive (`jax.vmap` or `jax.pmap`):

1. Discover the states the function touches, tracing it once as one lane sees it: mapped
   arguments lose their mapped axis, and states selected as batched inputs are presented as
   one lane (`StatefulFunction(state_view=...)`).
2. Give every state an input axis: the axis of the first selector in `state_in_axes` that
   matches it, else None (broadcast: every lane sees the same value). A random stream
   (`brainstate.random.RandomState`) the function draws from is split into one key per lane and
   one advanced key is written back, so lanes draw different numbers and the stream moves once.
3. Give every written state an output axis: its `state_out_axes` axis, else its input axis,
   else None. An undeclared state must be written with a value that is the same in every lane;
   JAX itself rejects a batched value under output axis None, the recipe then finds which state
   it was and applies `unexpected_out_state_mapping`: 'raise' raises `BatchAxisError` naming the
   state, which keeps its old value; 'auto', 'warn' and 'ignore' write it back with the mapped
   axis in front ('auto' also feeds it per lane on later calls once its leading size matches).
4. Write back. A state whose output axis differs from its input axis changes shape on purpose
   (`restore_value`); every other write keeps the state's signature.

Invariants: the mapped size is checked across arguments and batched states before JAX runs,
with an error naming the argument or state; nothing is written unless the whole call succeeded.
"""

import functools
import threading
import warnings
import weakref
from typing import Any, Callable, Dict, Hashable, Iterable, List, Optional, Sequence, Tuple

import jax
import numpy as np

from .._errors import BatchAxisError, BrainStateError
from .._state import State
from ..util._filters import to_predicate
from ._stateful import StatefulFunction, check_no_state_args

__all__ = ["StatefulMapping", "lane_shapes"]

_POLICIES = ("auto", "raise", "warn", "ignore")


# -- selecting states ---------------------------------------------------------------------------
def _is_states(x) -> bool:
    return isinstance(x, (list, tuple, set, frozenset)) and any(isinstance(s, State) for s in x)


def _state_predicate(sel, where: str) -> Callable[[State], bool]:
    """A predicate over states for a filter, a State, or a collection of States and filters."""
    if isinstance(sel, State):
        target = sel
        return lambda s: s is target
    if isinstance(sel, dict):
        sel = list(sel.values())
    elif not isinstance(sel, (list, tuple, set, frozenset, str, type)) and isinstance(sel, Iterable) \
            and not callable(sel):
        sel = list(sel)  # dict views, generators
    if _is_states(sel):
        ids = {id(s): s for s in sel if isinstance(s, State)}  # holding the states keeps ids unique
        others = [_state_predicate(f, where) for f in sel if not isinstance(f, State)]
        return lambda s: id(s) in ids or any(p(s) for p in others)
    try:
        pred = to_predicate(sel)
    except TypeError as e:
        raise TypeError(f"{where}: {e}") from None
    return lambda s: bool(pred((), s))


def selectors(spec, where: str) -> List[Tuple[int, Callable[[State], bool]]]:
    """`[(axis, predicate)]` from `None`, a selector (axis 0) or `{axis: selector}`.

    A dict whose keys are all ints maps axes to selectors; any other dict is a collection of
    States (its values), mapped along axis 0.
    """
    if spec is None:
        return []
    if isinstance(spec, dict) and spec and all(isinstance(k, int) and not isinstance(k, bool) for k in spec):
        return [(axis, _state_predicate(sel, f"{where}[{axis}]")) for axis, sel in spec.items()]
    return [(0, _state_predicate(spec, where))]


def _first_axis(sels, state) -> Optional[int]:
    for axis, pred in sels:
        if pred(state):
            return axis
    return None


_RANDOM_STATE: List[type] = []  # RandomState, imported on first use


def _random_state_type():
    """`brainstate.random.RandomState`, or None when the random layer is missing."""
    if not _RANDOM_STATE:
        try:
            from ..random import RandomState
        except ImportError:
            return None
        _RANDOM_STATE.append(RandomState)
    return _RANDOM_STATE[0]


def _single_key(value) -> bool:
    """Whether a random state holds one key (rather than one key per lane)."""
    if jax.dtypes.issubdtype(getattr(value, "dtype", np.float32), jax.dtypes.prng_key):
        return np.ndim(value) == 0
    return np.ndim(value) == 1


# -- arguments and sizes ------------------------------------------------------------------------
def _axis_leaves(axes, tree, name: str, where: str):
    """`[(name, leaf, axis)]` for a PyTree and a prefix tree of axes."""
    out = []

    def visit(path, axis, sub):
        for p, leaf in jax.tree_util.tree_flatten_with_path(sub)[0]:
            out.append((name + jax.tree_util.keystr(path) + jax.tree_util.keystr(p), leaf, axis))

    try:
        jax.tree_util.tree_map_with_path(visit, axes, tree, is_leaf=lambda x: x is None)
    except ValueError:
        raise ValueError(f"{where}: the in_axes entry for {name} ({axes!r}) does not match the structure of "
                         f"{name}; give an int, None, or a tree prefix of the argument.") from None
    return out


def _axis_size(name: str, leaf, axis, where: str) -> int:
    shape = np.shape(leaf)
    if not -len(shape) <= axis < len(shape):
        raise ValueError(
            f"{where}: cannot map {name} over axis {axis}: it has shape {tuple(shape)}. Use an axis "
            f"it has, or None to give every lane the whole value.")
    return shape[axis]


def lane_shapes(tree, axis):
    """The abstract value one lane sees: every mapped leaf without its mapped axis."""
    def lane(leaf):
        aval = jax.eval_shape(lambda x: x, leaf)
        shape = list(aval.shape)
        del shape[axis]
        return jax.ShapeDtypeStruct(tuple(shape), aval.dtype, weak_type=aval.weak_type)

    if axis is None:
        return tree
    return jax.tree_util.tree_map(lane, tree)


class StatefulMapping:
    """A function mapped over an axis (`jax.vmap`, `jax.pmap`), with its states threaded.

    Args:
      fun: the function; it may read and write any `State` it reaches.
      in_axes, out_axes: as in `jax.vmap`, for the positional arguments and the output.
        Keyword arguments are mapped over axis 0.
      state_in_axes: states fed per lane: `{axis: selector}` or a selector (axis 0). A selector is
        a filter (`brainstate.util`), a State, or a collection of States.
      state_out_axes: written states stacked along an axis, with the same conventions. A state
        with an input axis and no output axis is written back along its input axis.
      unexpected_out_state_mapping: what to do with an undeclared state written with a batched
        value: 'raise' (`BatchAxisError`), or 'auto' / 'warn' / 'ignore' (write it back with the
        mapped axis in front; 'warn' warns, 'auto' also feeds it per lane once its leading size
        equals the mapped size).
      static_argnums, static_argnames: arguments closed over as constants (never mapped).
      axis_env: `(name, size)` pairs for collectives when the function is traced on its own.
      return_only_write: accepted for compatibility.
      axis_size: the mapped size; inferred from the mapped arguments and states when None.
      axis_name: the axis name for collectives.
      name: a name for error messages.
      mapping_fn: `jax.vmap` or `jax.pmap` (anything with their `in_axes`/`out_axes`/
        `axis_size`/`axis_name` keywords).
      mapping_kwargs: more keyword arguments for `mapping_fn`.
      words: how errors name the two state declarations (`vmap` says in_states/out_states).
      random_follows_filters: a random stream holding one key per lane and selected by the
        declarations is mapped like any state (otherwise, and for a stream holding one key,
        random streams are split per lane).
      creates_states: the function creates states on every call (the `*_new_states`
        transforms): it is traced anew each time, never served from a cache.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> h = brainstate.ShortTermState(jnp.zeros(3))
      >>> def add(x):
      ...     h.value = h.value + x
      ...     return h.value.sum()
      >>> f = brainstate.transform.StatefulMapping(add, state_in_axes=brainstate.ShortTermState)
      >>> f(jnp.array([1., 2., 3.])).tolist(), h.value.tolist()
      ([1.0, 2.0, 3.0], [1.0, 2.0, 3.0])
    """

    def __init__(self, fun: Callable, in_axes=0, out_axes=0, state_in_axes=None, state_out_axes=None,
                 unexpected_out_state_mapping: str = "auto", static_argnums=(), static_argnames=(),
                 axis_env=None, return_only_write: bool = True, axis_size: Optional[int] = None,
                 axis_name=None, name: Optional[str] = None, mapping_fn: Callable = jax.vmap,
                 mapping_kwargs: Optional[Dict] = None, words: Tuple[str, str] = ("state_in_axes", "state_out_axes"),
                 random_follows_filters: bool = False, creates_states: bool = False):
        where: str = name if name else getattr(mapping_fn, "__name__", "mapping")
        if not callable(fun):
            raise TypeError(f"{where} expects a callable, got {type(fun).__name__}: {fun!r}.")
        if unexpected_out_state_mapping not in _POLICIES:
            raise ValueError(f"{where}: unexpected_out_state_mapping must be one of {_POLICIES}, got "
                             f"{unexpected_out_state_mapping!r}.")
        if axis_size is not None and (not isinstance(axis_size, int) or isinstance(axis_size, bool) or axis_size < 1):
            raise ValueError(f"{where}: axis_size must be a positive int, got {axis_size!r}.")
        if isinstance(in_axes, list):
            in_axes = tuple(in_axes)
        if not (in_axes is None or isinstance(in_axes, (int, tuple))):
            raise TypeError(f"{where}: in_axes must be an int, None, or a tuple with one entry per "
                            f"positional argument; got {in_axes!r}.")
        self.origin_fun = fun
        self.in_axes, self.out_axes = in_axes, out_axes
        self.state_in_axes = selectors(state_in_axes, f"{where} state_in_axes")
        self.state_out_axes = selectors(state_out_axes, f"{where} state_out_axes")
        self.unexpected_out_state_mapping = unexpected_out_state_mapping
        self.axis_size, self.axis_name = axis_size, axis_name
        self.mapping_fn = mapping_fn
        self.mapping_kwargs = dict(mapping_kwargs or {})
        self.stateful_fun = StatefulFunction(fun, static_argnums, static_argnames, axis_env=axis_env, name=name,
                                             state_view=self._lane_view)
        self._user_axis_env = axis_env
        self._where = where
        self._words = tuple(words)
        self._random_follows_filters = bool(random_follows_filters)
        self._cacheable = not creates_states
        # Undeclared states once written with a batched value ('auto' feeds them per lane later).
        self._scattered: "weakref.WeakSet[State]" = weakref.WeakSet()
        self._sizes = threading.local()  # the mapped size of the call being traced, for `_lane_view`
        self._cache: Dict[Hashable, Tuple[Any, Callable]] = {}  # mapped functions, reused by jax.pmap's cache
        try:
            functools.update_wrapper(self, fun, updated=())
        except AttributeError:
            pass

    # -- which axis for which state ------------------------------------------------------------
    def _own_stream(self, state) -> bool:
        """A random stream split per lane by the recipe (rather than mapped like other states)."""
        rng = _random_state_type()
        if rng is None or not isinstance(state, rng):
            return False
        if not self._random_follows_filters or _single_key(state._value):
            return True  # one key has no axis to map: it is split, a key per lane
        return _first_axis(self.state_in_axes, state) is None and _first_axis(self.state_out_axes, state) is None

    def _in_axis(self, state) -> Optional[int]:
        return None if self._own_stream(state) else _first_axis(self.state_in_axes, state)

    def _lane_view(self, state, avals):
        """What one lane sees of a batched state: its abstract value without the mapped axis."""
        axis = self._in_axis(state)
        if axis is None and self._auto_fed(state, avals, getattr(self._sizes, "n", None)):
            axis = 0
        if axis is None:
            return None
        for leaf in jax.tree_util.tree_leaves(avals):
            _axis_size(f"{state._label()} (in {self._words[0]})", leaf, axis, self._where)
        return lane_shapes(avals, axis)

    def _auto_fed(self, state, value, n) -> bool:
        """An undeclared state that already carries the mapped axis in front ('auto' policy)."""
        return (self.unexpected_out_state_mapping == "auto" and state in self._scattered and n is not None
                and all(np.ndim(x) and np.shape(x)[0] == n for x in jax.tree_util.tree_leaves(value)))

    # -- calling -------------------------------------------------------------------------------
    def _arg_axes(self, args) -> tuple:
        if not isinstance(self.in_axes, tuple):
            return (self.in_axes,) * len(args)
        if len(self.in_axes) != len(args):
            raise ValueError(
                f"{self._where}: in_axes has {len(self.in_axes)} entries but the function was called with "
                f"{len(args)} positional argument(s). Give one entry per positional argument (None to "
                f"pass an argument whole to every lane), or a single int for all of them.")
        return self.in_axes

    def __call__(self, *args, **kwargs):
        check_no_state_args(args, kwargs, self._where)
        sf = self.stateful_fun
        n = len(args)
        static_argnums, static_argnames = sf.signature.all_argnums, sf.signature.all_argnames
        static_pos = sorted({i % n for i in static_argnums if -n <= i < n})
        axes = self._arg_axes(args)
        call = _Call()
        call.static = tuple((i, args[i]) for i in static_pos), tuple(
            sorted((k, v) for k, v in kwargs.items() if k in static_argnames))
        call.dyn_pos = tuple(i for i in range(n) if i not in static_pos)
        call.dyn_args = tuple(args[i] for i in call.dyn_pos)
        call.dyn_axes = tuple(axes[i] for i in call.dyn_pos)
        call.dyn_kwargs = {k: v for k, v in kwargs.items() if k not in static_argnames}
        named = []  # (name, leaf, axis) of every mapped leaf, for the size check
        for i in call.dyn_pos:
            named += [x for x in _axis_leaves(axes[i], args[i], f"args[{i}]", self._where) if x[2] is not None]
        for k, v in call.dyn_kwargs.items():
            named += _axis_leaves(0, v, f"kwargs[{k!r}]", self._where)
        call.sizes = [(name, _axis_size(name, leaf, ax, self._where), ax) for name, leaf, ax in named]
        lane_args = list(args)
        for i in call.dyn_pos:
            lane_args[i] = jax.tree_util.tree_map(lambda ax, sub: lane_shapes(sub, ax), axes[i], args[i],
                                                  is_leaf=lambda x: x is None)
        lane_kwargs = dict(kwargs)
        lane_kwargs.update((k, lane_shapes(v, 0)) for k, v in call.dyn_kwargs.items())
        if self.axis_name is not None and self._user_axis_env is None:
            sf.axis_env = [(self.axis_name, self.axis_size or (call.sizes[0][1] if call.sizes else 1))]
        if not self._cacheable:
            sf.clear_cache()  # the function creates its states anew on every call
        self._sizes.n = self.axis_size or (call.sizes[0][1] if call.sizes else None)
        try:
            return sf.call(lambda pure, values, found: self._run(pure, values, found, call), tuple(lane_args),
                           lane_kwargs, restored=lambda found: [a or b for a, b in zip(call.reshaped, found.write_restored())])
        except _Retrace:
            sf.clear_cache()  # the traces saw the newly scattered states whole; nothing was written
            return self(*args, **kwargs)

    def _size(self, sizes, states, in_axes, values) -> int:
        seen = list(sizes)
        for s, ax, v in zip(states, in_axes, values):
            if ax is not None:
                name = f"{s._label()} (in {self._words[0]})"
                seen += [(name, _axis_size(name, x, ax, self._where), ax) for x in jax.tree_util.tree_leaves(v)]
        if self.axis_size is not None:
            seen.insert(0, ("axis_size", self.axis_size, None))
        if not seen:
            raise ValueError(
                f"{self._where} cannot tell the size of the mapped axis: no argument and no state is "
                f"mapped. Pass axis_size=..., map an argument, or declare a batched state.")
        first = seen[0]
        for other in seen[1:]:
            if other[1] != first[1]:
                raise ValueError(
                    f"{self._where}: inconsistent sizes for the mapped axis: {_says(first)} but "
                    f"{_says(other)}. Every mapped argument and batched state needs the same size "
                    f"along its mapped axis.")
        return first[1]

    def _plan(self, found, values, call):
        """Input axes, state values as fed, output axes of the writes, advanced keys, size."""
        states = found.states
        written_ids = {id(s) for s in found.write_states}
        in_ax = [self._in_axis(s) for s in states]
        n = self._size(call.sizes, states, in_ax, values)
        vals, advanced = list(values), {}
        for i, s in enumerate(states):
            if in_ax[i] is not None:
                continue
            if self._own_stream(s) and id(s) in written_ids:
                if _single_key(vals[i]):
                    keys = jax.random.split(vals[i], n + 1)
                    # The stream is left where the reference release leaves it (its n lane keys,
                    # then one more split whose fresh key becomes the stream), so a seeded script
                    # draws the same numbers after a vmap on either package.
                    advanced[id(s)], vals[i] = jax.random.split(keys[0])[1], keys[1:]
                in_ax[i] = 0  # one key per lane (a stream holding one key per lane is mapped as is)
            elif self._auto_fed(s, vals[i], n):
                in_ax[i] = 0  # a read-modify-write buffer that already carries the mapped axis
        index = {id(s): i for i, s in enumerate(states)}
        w_axes = []
        for s in found.write_states:
            if id(s) in advanced:
                w_axes.append("key")
                continue
            ax = None if self._own_stream(s) else _first_axis(self.state_out_axes, s)
            if ax is None:
                ax = in_ax[index[id(s)]]
            if ax is None and s in self._scattered:
                ax = 0
            w_axes.append(ax)
        return in_ax, vals, w_axes, advanced, n

    def _mapped(self, fn, pure, call, in_ax, out_w, n, **kw):
        keep = [k for k, ax in enumerate(out_w) if ax != "key"]
        dyn_pos, (static_args, static_kwargs) = call.dyn_pos, call.static

        def lane(state_vals, d_args, d_kwargs, anchor):
            full = dict(static_args)
            full.update(zip(dyn_pos, d_args))
            written, out = pure(state_vals, *[full[i] for i in range(len(full))], **d_kwargs, **dict(static_kwargs))
            return [written[k] for k in keep], out

        return fn(lane, in_axes=(in_ax, call.dyn_axes, 0, 0), out_axes=([out_w[k] for k in keep], self.out_axes),
                  axis_size=n, axis_name=self.axis_name, **kw)

    def _run(self, pure, values, found, call):
        in_ax, vals, w_axes, advanced, n = self._plan(found, values, call)
        # jax.pmap needs a mapped input to map over; a tiny one stands in when nothing else is.
        anchor = None if self.mapping_fn is jax.vmap or call.sizes or any(ax is not None for ax in in_ax) \
            else np.zeros(n, np.bool_)
        inputs = (vals, call.dyn_args, call.dyn_kwargs, anchor)
        undeclared = [k for k, ax in enumerate(w_axes) if ax is None]
        key = (id(found), tuple(in_ax), tuple(w_axes), n, call.static)
        try:
            entry = self._cache.get(key) if self._cacheable else None
            if entry is None or entry[0] is not found:
                if undeclared and self.mapping_fn is not jax.vmap:
                    # Only jax.vmap rejects a batched value under out axis None: check with it first.
                    jax.eval_shape(self._mapped(jax.vmap, pure, call, in_ax, w_axes, n), *inputs)
                entry = (found, self._mapped(self.mapping_fn, pure, call, in_ax, w_axes, n, **self.mapping_kwargs))
                if self._cacheable:
                    self._cache[key] = entry
            written, out = entry[1](*inputs)
        except BrainStateError:
            raise  # the function's own error (also a ValueError): not about batched writes
        except ValueError as err:
            self._cache.pop(key, None)
            batched = self._find_batched(lambda out_w: self._mapped(jax.vmap, pure, call, in_ax, out_w, n),
                                         w_axes, undeclared, inputs)
            if not batched:
                raise
            newly = [found.write_states[k] for k in batched]
            self._unexpected(found, newly, err)
            index = {id(s): i for i, s in enumerate(found.states)}
            if any(self._auto_fed(s, values[index[id(s)]], n) for s in newly):
                # The state already carries the mapped axis in front, so from now on each lane
                # sees its own row ('auto'): the function must be traced again with that view.
                raise _Retrace()
            return self._run(pure, values, found, call)
        it = iter(written)
        full = [advanced[id(s)] if ax == "key" else next(it) for s, ax in zip(found.write_states, w_axes)]
        index = {id(s): i for i, s in enumerate(found.states)}
        call.reshaped = [ax not in ("key", in_ax[index[id(s)]]) for s, ax in zip(found.write_states, w_axes)]
        return full, out

    def _find_batched(self, make, w_axes, undeclared, inputs) -> List[int]:
        """Which undeclared written values are batched (JAX only says that one of them is)."""
        def fails(out_w) -> bool:
            try:
                jax.eval_shape(make(out_w), *inputs)
            except ValueError:
                return True
            return False

        all_mapped = [0 if k in undeclared else ax for k, ax in enumerate(w_axes)]
        if not undeclared or fails(all_mapped):
            return []  # the error is not about the states
        return [k for k in undeclared if fails([None if j == k else ax for j, ax in enumerate(all_mapped)])]

    def _unexpected(self, found, states, err) -> None:
        policy = self.unexpected_out_state_mapping
        names = ", ".join(s._label() for s in states)
        if policy == "raise":
            raise BatchAxisError(
                f"{names} {'was' if len(states) == 1 else 'were'} written inside {self._where} with a value "
                f"that differs between lanes (batched along the mapped axis), but "
                f"{'it is' if len(states) == 1 else 'they are'} not declared in {self._words[1]}. A state "
                f"holds one value, so the lanes' values cannot all be written to it. Declare the state in "
                f"{self._words[1]} (and in {self._words[0]} if its value already has the batch axis) to "
                f"keep one value per lane, or do not write batched values to it. The state keeps its old "
                f"value.") from err
        if policy == "warn":
            warnings.warn(f"{names} written inside {self._where} with a batched value but not declared in "
                          f"{self._words[1]}: it is written back with the mapped axis at position 0.",
                          stacklevel=4)
        self._scattered.update(states)

    def __repr__(self) -> str:
        return f"{self._where}({getattr(self.origin_fun, '__name__', self.origin_fun)!r})"


class _Retrace(Exception):
    """A state just found batched already has the mapped axis in front: trace again, per lane."""


class _Call:
    """What one call passes from `__call__` to the JAX call and the write-back."""

    __slots__ = ("static", "dyn_pos", "dyn_args", "dyn_axes", "dyn_kwargs", "sizes", "reshaped")


def _says(entry) -> str:
    name, size, axis = entry
    if axis is None:
        return f"{name}={size}"
    return f"{name} has size {size} along axis {axis}"
