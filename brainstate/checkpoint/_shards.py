"""Per-process shard files: how arrays spread over several devices (and processes) are stored.

An array placed on several devices is never gathered onto one host to be saved. Each process
writes the distinct pieces its own devices hold (`jax.Array.addressable_shards` with
`replica_id == 0`, so a replicated array is written once) together with each piece's index in
the global array, into a file of its own next to the main file:

    ckpt.safetensors                the metadata of every state, and the unsharded tensors
    ckpt.safetensors.shard-0-of-2   the pieces process 0 holds
    ckpt.safetensors.shard-1-of-2   the pieces process 1 holds

Shard files use the main file's format (safetensors, checksummed, written atomically), with the
metadata `save_id` and `pieces` (JSON: piece name -> {tensor, index as [start, stop] per dimension}).

Ordering. Every process writes its shard file; after a barrier across processes
(`jax.experimental.multihost_utils.sync_global_devices`), process 0 writes the main file, and a
last barrier ends the save. The main file, written last, is what makes a checkpoint exist: a
crash before it leaves no checkpoint (or the previous one) under the name. A save id drawn by
process 0 and broadcast to every process is written into every file, so shard files left over
from another save are detected and never mixed in.

Restoring reads the main file and every shard file it names, checks that the pieces cover each
array, and reassembles it; the caller then places it with the target state's sharding, so the
mesh shape and the number of processes may differ from those that saved. Every process reads
every piece (host memory bounds the size of one array), and the files must be visible to every
process (a shared file system).
"""

import json
import os
import secrets
from typing import Dict, List, Optional

import jax
import numpy as np

from ._encoding import stored_array
from ._report import CheckpointError
from ._storage import read_checkpoint, write_checkpoint

__all__ = ["shard_file", "shard_files_of", "new_save_id", "barrier", "write_own_shards", "read_shards"]


def shard_file(path: str, index: int, count: int) -> str:
    """The shard file of process `index` out of `count` for the checkpoint `path`."""
    return f"{path}.shard-{index}-of-{count}"


def shard_files_of(path: str) -> List[str]:
    """The shard files that exist next to the checkpoint `path` (for deleting a checkpoint)."""
    directory, base = os.path.split(os.path.abspath(path))
    try:
        names = os.listdir(directory)
    except FileNotFoundError:
        return []
    return [os.path.join(directory, n) for n in names if n.startswith(base + ".shard-")]


def new_save_id() -> str:
    """A random id for one save, the same on every process (drawn by process 0)."""
    token = np.frombuffer(secrets.token_bytes(8), np.uint32)
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        token = np.asarray(multihost_utils.broadcast_one_to_all(token))
    return token.astype(np.uint32).tobytes().hex()


def barrier(name: str) -> None:
    """Wait until every process reaches this point (nothing to wait for in a single process)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def _index(shard_index, shape) -> List[List[int]]:
    return [list(s.indices(n)[:2]) for s, n in zip(shard_index, shape)]


def write_own_shards(path: str, spread: Dict[str, jax.Array], leaf_specs: Dict[str, dict], save_id: str) -> str:
    """Write the pieces of `spread` held by this process's devices to its shard file; return the file."""
    pieces: Dict[str, np.ndarray] = {}
    where: Dict[str, dict] = {}
    for name, array in spread.items():
        own = [s for s in array.addressable_shards if s.replica_id == 0]
        for k, shard in enumerate(own):
            piece = f"{name}@{k}"
            pieces[piece] = stored_array(np.asarray(shard.data), dict(leaf_specs[name]))
            where[piece] = {"tensor": name, "index": _index(shard.index, array.shape)}
    file = shard_file(path, jax.process_index(), jax.process_count())
    write_checkpoint(file, pieces, {"save_id": save_id, "pieces": json.dumps(where, sort_keys=True)})
    return file


def read_shards(path: str, specs: Dict[str, dict], count: int, save_id: Optional[str]) -> Dict[str, np.ndarray]:
    """Tensor name -> the stored array reassembled from the `count` shard files of `path`."""
    leaves = {leaf["tensor"]: leaf for spec in specs.values() for leaf in spec["leaves"]
              if leaf.get("storage") == "shards"}
    if not leaves:
        return {}
    full = {name: np.empty(leaf["stored_shape"], np.dtype(leaf["stored_dtype"])) for name, leaf in leaves.items()}
    covered: Dict[str, Optional[np.ndarray]] = dict.fromkeys(leaves)  # which elements some piece wrote
    for i in range(count):
        file = shard_file(path, i, count)
        if not os.path.exists(file):
            raise CheckpointError(
                f"The checkpoint {path!r} keeps its sharded arrays in {count} per-process files, and "
                f"{os.path.basename(file)!r} (written by process {i}) is missing. Keep every "
                f"'{os.path.basename(path)}.shard-*-of-{count}' file together with the checkpoint.", path=path)
        pieces, metadata = read_checkpoint(file)
        if metadata.get("save_id") != save_id:
            raise CheckpointError(
                f"{file!r} belongs to another save than the checkpoint {path!r} (a save was interrupted, or "
                f"files of two saves were mixed). Nothing was restored; restore an earlier checkpoint.", path=file)
        try:
            for piece, where in json.loads(metadata["pieces"]).items():
                name, index = where["tensor"], tuple(slice(a, b) for a, b in where["index"])
                if covered[name] is None:  # pieces index the array's own dimensions, not trailing byte axes
                    covered[name] = np.zeros(full[name].shape[:len(index)], bool)
                full[name][index] = pieces[piece]
                covered[name][index] = True
        except (KeyError, TypeError, ValueError) as err:
            raise CheckpointError(
                f"The shard file {file!r} does not fit the checkpoint {path!r} ({err!r}). Nothing was restored.",
                path=file) from err
    for name, mask in covered.items():
        if (mask is None and full[name].size) or (mask is not None and not mask.all()):
            raise CheckpointError(
                f"The shard files of {path!r} do not cover the whole of tensor {name!r}: some of its pieces "
                f"were never written. Nothing was restored; restore an earlier checkpoint.", path=path)
    return full
