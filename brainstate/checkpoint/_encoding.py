"""How the states of a graph become named tensors, and how stored tensors become values again.

Naming. A state is keyed by its graph path, the path elements joined with '.' (for example
`'model.layers.0.weight'`; the root state of a graph has the empty key ''), held in a `PathTable`
(`_paths.py`) so that deep graphs never spell out every key. Two states whose keys collide (a dict
key holding a '.', an int 0 beside a string '0') are refused when saving, never silently merged.
A state whose value is a PyTree stores one tensor per leaf; which tensor name each leaf gets,
and how the header records the keys, is the layout's (`_layout.py`).

Per-state metadata (JSON in the file header) records the state's kind (its class name) and, for
every leaf in flatten order, its key, tensor name, true dtype, shape and encoding:

- `raw`: dtypes safetensors stores natively (bool, (u)int8-64, float16/32/64, complex64).
- `bitcast`: any other dtype (bfloat16, the float8 family, int4, complex128, ...) is stored as
  the unsigned integer of the same width with the same shape (uint8/16/32/64); widths with no
  unsigned integer (16-byte complex128) are stored as uint8 with a trailing axis of the item
  size. Reading views the bytes back as the true dtype, so the bits are exactly preserved.
- `prng_key`: a typed JAX key array (`jax.random.key`) is stored as its raw key data (uint32)
  with the key implementation's name; reading wraps the data again. Raw key data, as held by
  `brainstate.random.RandomState`, is an ordinary uint32 array and needs nothing special.

Sharded leaves. A leaf whose value is a `jax.Array` placed on several devices (or on devices of
other processes) is not gathered into the main file: its metadata says `storage: 'shards'` with
the stored dtype and shape, and each process writes the pieces it holds to its own shard file
(see `_shards.py`). Every leaf placed with a `NamedSharding` also records `sharding`: its
`PartitionSpec` entries and the mesh's axis names and sizes. Restoring places each value with
the *target* state's sharding, so a checkpoint restores onto another mesh shape.

Restoring never trusts the stored tree: values are rebuilt in the target's own tree structure
after its leaf keys, shapes and dtypes were checked against the file.
"""

from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import jax
import numpy as np

from .._state import State
from .. import graph
from ..util._paths import Cell, cell_path
from ._paths import PathTable, element_text
from ._report import CheckpointError, display_path

__all__ = ["LiveStates", "live_states", "state_spec", "encode_states", "decode_value", "compare_specs",
           "stored_array", "sharding_record"]

# The dtypes the safetensors format (and its NumPy API) stores as they are.
_NATIVE = frozenset(["bool", "uint8", "int8", "uint16", "int16", "uint32", "int32", "uint64", "int64",
                     "float16", "float32", "float64", "complex64"])
_UINT_OF_WIDTH = {1: np.uint8, 2: np.uint16, 4: np.uint32, 8: np.uint64}
_PY_SCALARS = (bool, int, float, complex)


def _c_order(x: Any) -> np.ndarray:
    """`x` as a C-contiguous NumPy array of the same shape (0-d stays 0-d, unlike
    `np.ascontiguousarray`)."""
    return np.require(np.asarray(x), requirements="C")


@dataclass(frozen=True)
class LiveStates:
    """The live States of a graph, each once under its first path, in walk order.

    Attributes:
      table: the keys; `nodes[i]` is the (state) node of `states[i]`'s key.
      nodes: one node per state, all different.
      states: the States.
    """

    table: PathTable
    nodes: List[int]
    states: List[State]

    def where(self, i: int) -> Callable[[], str]:
        """How messages name state `i`, built only when a message needs it."""
        return lambda: f"The state at {display_path(self.table.key(self.nodes[i]))!r}"


def live_states(target: Any, where: str, table: Optional[PathTable] = None) -> LiveStates:
    """The live States of a graph with their keys, added to `table` (a new one by default).

    The graph comes from `graph.flatten`, which nests the States by path without building a path
    tuple per State (those would cost the square of the depth), so a deep chain walks in linear time.
    """
    table = PathTable() if table is None else table
    if isinstance(target, State):
        return LiveStates(table, [0], [target])
    _, nested = graph.flatten(target, treefy_state=False)
    nodes: List[int] = []
    states: List[State] = []
    first: Dict[int, Cell] = {}  # node -> the graph path that gave it, as a linked cell
    # One frame per sub-dict being read: (its node, its cell, its remaining items).
    stack: List[Tuple[int, Cell, Iterator]] = [(0, None, iter(nested.items()))]
    while stack:
        parent, parent_cell, items = stack[-1]
        item = next(items, None)
        if item is None:
            stack.pop()
            continue
        key, value = item
        node, cell = table.add_text(parent, element_text(key)), (parent_cell, key)
        if not isinstance(value, State):
            stack.append((node, cell, iter(value.items())))
            continue
        node = table.state_node(node)
        if node in first:
            raise CheckpointError(
                f"{where}: the graph paths {cell_path(first[node])} and {cell_path(cell)} both give the "
                f"checkpoint key {display_path(table.key(node))!r}, so their states could not be told apart "
                f"in the file. Rename one of them (dict keys must not contain '.', and an int key must not "
                f"sit beside the same number as a string).")
        first[node] = cell
        nodes.append(node)
        states.append(value)
    return LiveStates(table, nodes, states)


def _leaf_signature(x: Any, where: Callable[[], str]) -> Tuple[Tuple[int, ...], str]:
    """(shape, dtype name) of a leaf as it is stored; raises for leaves that are not arrays."""
    if isinstance(x, jax.core.Tracer):
        raise CheckpointError(
            f"{where()} holds a JAX tracer: checkpoints are written and read outside traced "
            f"functions. Call save/restore outside `jit`/`grad`/`vmap`/loops, on concrete values.")
    if isinstance(x, _PY_SCALARS):
        return (), np.dtype(jax.dtypes.canonicalize_dtype(type(x))).name
    shape, dtype = getattr(x, "shape", None), getattr(x, "dtype", None)
    if shape is None or dtype is None:
        raise CheckpointError(
            f"{where()} is a {type(x).__name__}, not an array, so it cannot be stored in a "
            f"checkpoint (which holds tensors only). Keep non-array data outside States, or "
            f"convert it to an array.")
    if jax.dtypes.issubdtype(dtype, jax.dtypes.prng_key):
        return tuple(shape), str(dtype)
    return tuple(int(d) for d in shape), np.dtype(dtype).name


def _leaves(state: State) -> List[Tuple[str, Any]]:
    """(leaf key, leaf) of a state's value, in flatten order."""
    flat, _ = jax.tree_util.tree_flatten_with_path(state.value)
    return [(".".join(element_text(k) for k in keypath), leaf) for keypath, leaf in flat]


def state_spec(state: State, where: Callable[[], str]) -> dict:
    """The metadata of a live state: kind, and per leaf its key, dtype and shape (`where()` names
    the state in an error)."""
    leaves = []
    for leaf, x in _leaves(state):
        shape, dtype = _leaf_signature(x, lambda: where() + (f" (leaf {leaf!r})" if leaf else ""))
        leaves.append({"key": leaf, "dtype": dtype, "shape": list(shape)})
    return {"kind": type(state).__name__, "leaves": leaves}


def stored_array(arr: np.ndarray, spec: dict) -> np.ndarray:
    """The array to store for a NumPy leaf (or one piece of a sharded leaf); sets `spec['encoding']`."""
    if arr.dtype.byteorder == ">":
        arr = arr.astype(arr.dtype.newbyteorder("<"))
    arr = _c_order(arr)
    if arr.dtype.name in _NATIVE:
        spec["encoding"] = "raw"
        return arr
    spec["encoding"] = "bitcast"
    width = arr.dtype.itemsize
    if width in _UINT_OF_WIDTH:
        return arr.view(_UINT_OF_WIDTH[width])
    return arr.reshape(-1).view(np.uint8).reshape(arr.shape + (width,))


def _is_key(x: Any) -> bool:
    return isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key)


def _encode_leaf(x: Any, spec: dict) -> np.ndarray:
    """The array to store for one leaf; sets `spec['encoding']` (and `'impl'` for keys)."""
    if isinstance(x, _PY_SCALARS):
        x = np.asarray(x, dtype=spec["dtype"])
    if _is_key(x):
        spec["encoding"], spec["impl"] = "prng_key", str(jax.random.key_impl(x))
        return _c_order(np.asarray(jax.random.key_data(x)))
    return stored_array(np.asarray(x), spec)


def _is_spread(x: Any) -> bool:
    """True for a JAX array on several devices, or on devices this process cannot address."""
    return isinstance(x, jax.Array) and (not x.is_fully_addressable or len(x.sharding.device_set) > 1)


def _spread_leaf(x: jax.Array, spec: dict) -> jax.Array:
    """Metadata of a leaf stored as per-process pieces; returns the array whose shards are stored."""
    if _is_key(x):
        spec["encoding"], spec["impl"] = "prng_key", str(jax.random.key_impl(x))
        x = jax.random.key_data(x)
        stored = np.zeros((0,), np.uint32)
    else:
        stored = stored_array(np.zeros((0,), np.dtype(x.dtype)), spec)  # sets the dtype's encoding, on no data
    spec["storage"] = "shards"
    spec["stored_dtype"] = stored.dtype.name
    spec["stored_shape"] = list(x.shape) + list(stored.shape[1:])
    return x


def sharding_record(x: Any) -> Optional[dict]:
    """The `PartitionSpec` entries and mesh (axis names, sizes) of a leaf placed with a NamedSharding."""
    sharding = getattr(x, "sharding", None) if isinstance(x, jax.Array) else None
    if not isinstance(sharding, jax.sharding.NamedSharding):
        return None
    spec = [list(e) if isinstance(e, tuple) else e for e in sharding.spec]
    return {"spec": spec, "mesh_axes": list(sharding.mesh.axis_names),
            "mesh_shape": [int(n) for n in sharding.mesh.axis_sizes]}


def encode_states(states: List[State], specs: List[dict]) -> Tuple[Dict[str, np.ndarray], Dict[str, jax.Array]]:
    """(tensor name -> stored array, tensor name -> sharded array) of live states whose specs
    (`state_spec`) carry their tensor names; sets each leaf's encoding (and storage, sharding).
    Sharded leaves (see the module docstring) are in the second dict only."""
    tensors: Dict[str, np.ndarray] = {}
    spread: Dict[str, jax.Array] = {}
    for state, spec in zip(states, specs, strict=True):
        for leaf_spec, (_, x) in zip(spec["leaves"], _leaves(state), strict=True):
            name = leaf_spec["tensor"]
            record = sharding_record(x)
            if record is not None:
                leaf_spec["sharding"] = record
            if _is_spread(x):
                spread[name] = _spread_leaf(x, leaf_spec)
            else:
                tensors[name] = _encode_leaf(x, leaf_spec)
    return tensors, spread


def _true_dtype(name: str):
    """The dtype named in the metadata (NumPy's, or an ml_dtypes one JAX knows: bfloat16, ...)."""
    return jax.numpy.dtype(name)


def decode_leaf(stored: np.ndarray, spec: dict) -> Any:
    """The NumPy (or typed-key) value of one leaf from its stored array and metadata."""
    encoding, shape = spec["encoding"], tuple(spec["shape"])
    if encoding == "raw":
        return stored
    if encoding == "prng_key":
        # wrap_key_data takes NumPy key data as well; its stub names only jax.Array.
        return jax.random.wrap_key_data(stored, impl=spec["impl"])  # type: ignore[arg-type]
    return _c_order(stored).reshape(-1).view(_true_dtype(spec["dtype"])).reshape(shape)


def _slicer(array: Any) -> Callable[[Any], Any]:
    """`index -> array[index]`, the callback `jax.make_array_from_callback` fills each device with."""
    return lambda index: array[index]


def decode_value(stored: Dict[str, np.ndarray], spec: dict, like: Optional[State]) -> Any:
    """A state's value from the file: in `like`'s tree structure and placement if given, else
    the single array, or a dict leaf key -> array for a PyTree value."""
    leaves = [decode_leaf(stored[leaf["tensor"]], leaf) for leaf in spec["leaves"]]
    if like is None:
        if len(spec["leaves"]) == 1 and spec["leaves"][0]["key"] == "":
            return leaves[0]
        return {leaf["key"]: x for leaf, x in zip(spec["leaves"], leaves)}
    old_leaves, treedef = jax.tree_util.tree_flatten(like.value)
    new_leaves: List[Any] = []
    for old, new, leaf in zip(old_leaves, leaves, spec["leaves"]):
        committed = isinstance(old, jax.Array) and getattr(old, "committed", False)
        if isinstance(old, np.ndarray):
            new_leaves.append(np.array(new))  # a NumPy leaf stays NumPy (and owns its memory)
        elif isinstance(new, jax.Array):  # a typed key, already wrapped by JAX
            if committed and isinstance(old.sharding, jax.sharding.NamedSharding):
                # Place the key data (one trailing axis more) as the keys are placed, then wrap.
                data = stored[leaf["tensor"]]
                placed = jax.make_array_from_callback(data.shape, old.sharding, _slicer(data))
                new = jax.random.wrap_key_data(placed, impl=leaf["impl"])
            new_leaves.append(new)
        elif committed:
            # Keep the target's placement, which may span devices of several processes: each
            # process fills only the pieces its own devices hold.
            new_leaves.append(jax.make_array_from_callback(new.shape, old.sharding, _slicer(new)))
        else:
            new_leaves.append(jax.device_put(new))
    return jax.tree_util.tree_unflatten(treedef, new_leaves)


def _shape_text(shape) -> str:
    return str(tuple(shape))


def compare_specs(saved: dict, target: dict) -> Optional[str]:
    """What differs between a stored state and a target state, or None if they fit."""
    diffs = []
    if saved["kind"] != target["kind"]:
        diffs.append(f"kind {saved['kind']} in the checkpoint, {target['kind']} in the target")
    saved_keys = [leaf["key"] for leaf in saved["leaves"]]
    target_keys = [leaf["key"] for leaf in target["leaves"]]
    if saved_keys != target_keys:
        diffs.append(f"leaves {saved_keys} in the checkpoint, {target_keys} in the target")
        return "; ".join(diffs)
    for s, t in zip(saved["leaves"], target["leaves"]):
        leaf = f"leaf {s['key']!r} " if s["key"] else ""
        if list(s["shape"]) != list(t["shape"]):
            diffs.append(f"{leaf}shape {_shape_text(s['shape'])} in the checkpoint, "
                         f"{_shape_text(t['shape'])} in the target")
        if s["dtype"] != t["dtype"]:
            diffs.append(f"{leaf}dtype {s['dtype']} in the checkpoint, {t['dtype']} in the target")
    return "; ".join(diffs) or None
