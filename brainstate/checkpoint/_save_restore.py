"""`save`, `load` and `restore`: the states of any graph to one file and back, by graph path.

`save(path, target)` writes every State reachable from `target` (a model, an optimizer, a dict
of both, or a single State) once, under its first graph path. `restore(path, target)` writes the
stored values back into the target's existing States, matching by path.

Invariants:
- a restore is all or nothing: a strict restore that finds any missing, unexpected or
  mismatched path raises one `CheckpointError` listing them all, before writing anything; a
  write that fails midway (a state hook raising, say) puts back every value already written;
- values are rebuilt in the target's own tree structure, keeping NumPy leaves NumPy and JAX
  leaves on their device, so compiled functions that use the states do not retrace;
- the file is verified whole (header and checksum) before any value is used;
- arrays placed on several devices are saved piece by piece, each process writing its own
  pieces to a shard file next to the main one (`_shards.py`), and restored with the target
  state's sharding; every process of a multi-process run calls `save` and `restore`;
- a save never destroys the previous checkpoint: `path` holds the previous one or the complete
  new one, whatever happens (`_commit.py`).
"""

import os
from dataclasses import dataclass, field
from typing import Any, Dict, Mapping, Optional, Tuple, Union

import jax
import numpy as np
from jax.sharding import PartitionSpec

from .. import __version__
from ._commit import commit_save, remove_leftovers_of
from ._encoding import compare_specs, decode_value, encode_states, live_states, state_spec
from ._layout import StoredStates, name_tensors, read_states, states_metadata
from ._paths import PathList, PathMap
from ._report import CheckpointError, RestoreReport
from ._shards import read_shards, shard_names_of
from ._storage import read_checkpoint, read_metadata_unverified

__all__ = ["save", "load", "restore", "Checkpoint"]

PathLike = Union[str, "os.PathLike[str]"]


def save(path: PathLike, target: Any) -> str:
    """Save the states of a graph to one safetensors file, atomically.

    Args:
      path: the file to write (conventionally `*.safetensors`); missing parent directories are
        created. An existing file is replaced only once the new one is completely on disk.
      target: the graph whose States to save: a model, an optimizer, a dict or list of them
        (`{'model': model, 'opt': opt}` gives keys like `'model.layers.0.weight'`), or a State.

    Sharded states. A value placed on several devices is saved as the pieces each process holds,
    in per-process files `<path>.shard-<i>-of-<n>.<save id>` next to `path`, with its
    `PartitionSpec` and mesh recorded; in a multi-process run every process must call `save` with
    the same path (a directory all of them see).

    Overwriting. Whatever happens (a kill, a full disk), `path` holds either the previous
    checkpoint or the complete new one: the main file is written last and atomically, shard
    files get names of their own, and the previous checkpoint's shard files are removed only
    once the new main file is on disk (the protocol is in `_commit.py`). Temporary files that
    interrupted saves left are removed by the next save (and restore) once their writer is gone.

    Returns:
      The path written, as a string.

    Raises:
      CheckpointError: a state holds something that is not an array or a JAX tracer (save was
        called inside a traced function); or two paths give the same key. Nothing is written then.
      CheckpointWriteError: the operating system refused a write (a full disk, a read-only
        directory, a file-size limit); it names the checkpoint, the file and the reason, and the
        previous checkpoint under `path` is intact. It is an `OSError` too (`err.errno`).
      ImportError: the `safetensors` package is not installed.

    Example:
      >>> import os, tempfile, brainstate, jax.numpy as jnp
      >>> from brainstate import checkpoint
      >>> model = brainstate.nn.Linear(2, 3)
      >>> path = checkpoint.save(os.path.join(tempfile.mkdtemp(), "model.safetensors"), model)
      >>> fresh = brainstate.nn.Linear(2, 3)
      >>> checkpoint.restore(path, fresh).ok
      True
    """
    path = os.fspath(path)
    live = live_states(target, "save")
    specs = [state_spec(state, live.where(i)) for i, state in enumerate(live.states)]
    version = name_tensors(live, specs)
    tensors, spread = encode_states(live.states, specs)
    metadata = {"brainstate_version": __version__, "jax_version": jax.__version__,
                **states_metadata(version, live, specs)}
    leaf_specs = {leaf["tensor"]: leaf for spec in specs for leaf in spec["leaves"]}
    commit_save(path, tensors, metadata, spread, leaf_specs)
    return path


# A reader racing a save of the same path can read the previous main file, then find its shard
# files removed by the save's last step; reading again gives the new checkpoint. Three attempts
# cover a checkpoint overwritten twice while it is being read.
_READ_ATTEMPTS = 3


def _read(path: str) -> Tuple[Dict[str, np.ndarray], StoredStates, Dict[str, str]]:
    """(stored tensors, the states recorded, metadata) of a verified checkpoint file, with the
    tensors of sharded leaves reassembled from their shard files."""
    remove_leftovers_of(path)
    attempt = 1
    while True:
        tensors, metadata = read_checkpoint(path)
        try:
            return _assemble(path, tensors, metadata)
        except CheckpointError:
            if attempt == _READ_ATTEMPTS or _save_id_now(path) == metadata.get("save_id"):
                raise
        attempt += 1


def _save_id_now(path: str) -> Optional[str]:
    """The save id the main file under `path` has now (None if it cannot be read)."""
    try:
        return read_metadata_unverified(path).get("save_id")
    except (OSError, ValueError):
        return None


def _assemble(path: str, tensors: Dict[str, np.ndarray], metadata: Dict[str, str]):
    """Add the tensors of the shard files to those of the main file, and check them all."""
    try:
        stored = read_states(metadata)
        names = shard_names_of(path, metadata)
        tensors = {**tensors, **read_shards(path, stored.specs, names, metadata.get("save_id"))}
        referenced = set()
        for spec in stored.specs:
            for leaf in spec["leaves"]:
                array = tensors[leaf["tensor"]]
                referenced.add(leaf["tensor"])
                if leaf["encoding"] == "raw" and (array.dtype.name != leaf["dtype"] or
                                                  list(array.shape) != list(leaf["shape"])):
                    raise ValueError(f"tensor {leaf['tensor']!r} does not match its metadata")
        if referenced != set(tensors):
            raise ValueError(f"tensors {sorted(set(tensors) - referenced)} belong to no state")
    except CheckpointError:
        raise
    except (KeyError, TypeError, ValueError) as err:
        raise CheckpointError(
            f"The checkpoint file {path!r} has inconsistent metadata ({err!r}); it was not written "
            f"by this version of brainstate.checkpoint or was altered. Nothing was read from it.",
            path=path) from err
    return tensors, stored, metadata


@dataclass(frozen=True)
class Checkpoint:
    """The contents of a checkpoint file, read without a target graph.

    Attributes:
      path: the file read.
      values: state key -> value as NumPy (a single array, or a dict leaf key -> array for a
        state whose value is a PyTree; typed PRNG keys come back as JAX key arrays).
      kinds: state key -> the state's class name when it was saved.
      version: the brainstate version that wrote the file.
      shardings: state key -> how its value was laid out when saved, for the states placed with
        a `NamedSharding`: `{'spec': PartitionSpec, 'mesh': {axis name: size}}` (a dict leaf key
        -> that, or None, for a state whose value is a PyTree).
    """

    path: str
    values: Mapping[str, Any]
    kinds: Mapping[str, str]
    version: str
    shardings: Mapping[str, Any] = field(default_factory=dict)


def _layout(record: Optional[dict]) -> Optional[dict]:
    """A leaf's recorded sharding as `{'spec': PartitionSpec, 'mesh': {axis: size}}`."""
    if record is None:
        return None
    spec = PartitionSpec(*(tuple(e) if isinstance(e, list) else e for e in record["spec"]))
    return {"spec": spec, "mesh": dict(zip(record["mesh_axes"], record["mesh_shape"]))}


def load(path: PathLike) -> Checkpoint:
    """Read a checkpoint file without restoring it into a graph (for inspection or conversion).

    Raises:
      CheckpointError: the file is missing, truncated, corrupted or not a brainstate checkpoint.
    """
    path = os.fspath(path)
    tensors, stored, metadata = _read(path)
    values, sharded, shardings = [], [], []
    for node, spec in zip(stored.nodes, stored.specs):
        value = decode_value(tensors, spec, None)
        values.append(jax.tree_util.tree_map(lambda x: np.array(x) if isinstance(x, np.ndarray) else x, value))
        layouts = {leaf["key"]: _layout(leaf.get("sharding")) for leaf in spec["leaves"]}
        if any(v is not None for v in layouts.values()):
            sharded.append(node)
            shardings.append(layouts[""] if list(layouts) == [""] else layouts)
    table = stored.table
    return Checkpoint(path=path, values=PathMap(table, stored.nodes, values),
                      kinds=PathMap(table, stored.nodes, [spec["kind"] for spec in stored.specs]),
                      version=metadata.get("brainstate_version", "unknown"),
                      shardings=PathMap(table, sharded, shardings))


def _write_all(writes) -> None:
    """Write every (state, value); if one write fails, put back the ones already done."""
    done = []
    try:
        for state, value in writes:
            old = state.value
            state.value = value
            done.append((state, old))
    except BaseException:
        for state, old in reversed(done):
            state.restore_value(old)
        raise


def restore(path: PathLike, target: Any, *, strict: bool = True) -> RestoreReport:
    """Restore the states of a graph from a checkpoint file, matching them by graph path.

    Args:
      path: a file written by `save` (or by `CheckpointManager`).
      target: the graph to restore into, built the same way as the one saved: its existing
        States receive the stored values in place (shared States are written once).
      strict: if True (the default), every path must be in both the file and the target with the
        same kind, leaves, shapes and dtypes; otherwise nothing is restored and one error lists
        every problem. If False, the states that match are restored and the others left as they
        are; the returned report says which were which.

    Returns:
      A `RestoreReport` (`.restored`, `.missing`, `.unexpected`, `.mismatched`).

    Raises:
      CheckpointError: the file is missing, truncated or corrupted (naming the file), or, with
        `strict=True`, the file does not fit the target (listing every missing, unexpected and
        mismatched path; `error.report` holds the report). Nothing is restored then.
    """
    if not isinstance(strict, bool):
        raise TypeError(f"restore: strict must be True or False, got {strict!r}.")
    path = os.fspath(path)
    tensors, stored, _ = _read(path)
    live = live_states(target, "restore", stored.table)  # the target's keys join the file's table
    spec_at = dict(zip(stored.nodes, stored.specs))
    restored, missing, mismatched, whys, writes = [], [], [], [], []
    for i, (node, state) in enumerate(zip(live.nodes, live.states)):
        spec = spec_at.get(node)
        if spec is None:
            missing.append(node)
            continue
        why = compare_specs(spec, state_spec(state, live.where(i)))
        if why:
            mismatched.append(node)
            whys.append(why)
        else:
            restored.append(node)
            writes.append((state, decode_value(tensors, spec, state)))
    in_target = set(live.nodes)
    report = RestoreReport(
        restored=PathList(stored.table, restored),
        missing=PathList(stored.table, missing),
        unexpected=PathList(stored.table, [node for node in stored.nodes if node not in in_target]),
        mismatched=PathMap(stored.table, mismatched, whys))
    if strict and not report.ok:
        count = len(report.missing) + len(report.unexpected) + len(report.mismatched)
        raise CheckpointError(
            f"restore: the checkpoint {path!r} does not fit the target {type(target).__name__} "
            f"({count} problem{'s' * (count != 1)}); nothing was restored.\n{report.problems()}\n"
            f"Build the target the same way as the model that was saved, or pass strict=False to "
            f"restore the states that match and get this report back.", path=path, report=report)
    _write_all(writes)
    return report

