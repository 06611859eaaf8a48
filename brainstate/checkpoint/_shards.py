"""Per-process shard files: how arrays spread over several devices (and processes) are stored.

An array placed on several devices is never gathered onto one host to be saved. Each process
writes the distinct pieces its own devices hold (`jax.Array.addressable_shards` with
`replica_id == 0`, so a replicated array is written once) together with each piece's index in
the global array, into a file of its own next to the main file, named after the save:

    ckpt.safetensors                                 the metadata of every state, the unsharded
                                                     tensors, and the names of its shard files
    ckpt.safetensors.shard-0-of-2.9f86d081884c7d65   the pieces process 0 holds
    ckpt.safetensors.shard-1-of-2.9f86d081884c7d65   the pieces process 1 holds

The suffix is the save id, drawn by process 0 and broadcast to every process, so a save never
writes over a shard file that an existing checkpoint uses: the order of the writes and the
removal of superseded shard files are the commit protocol's (`_commit.py`). Shard files use the
main file's format (safetensors, checksummed, written atomically), with the metadata `save_id`
and `pieces` (JSON: piece name -> {tensor, index as [start, stop] per dimension}).

Restoring reads the main file and every shard file it names, checks that each carries the main
file's save id and that the pieces cover each array, and reassembles it; the caller then places
it with the target state's sharding, so the mesh shape and the number of processes may differ
from those that saved. Every process reads every piece (host memory bounds the size of one
array), and the files must be visible to every process (a shared file system). Files written
before shard names carried the save id (`<path>.shard-<i>-of-<n>`, no `shard_names` in the main
file's metadata) are still read.
"""

import json
import os
import re
from typing import Dict, Iterable, List, Optional

import jax
import numpy as np

from ._atomic import remove_quietly
from ._encoding import stored_array
from ._report import CheckpointError
from ._storage import read_checkpoint, read_metadata_unverified, write_checkpoint

__all__ = ["shard_name", "is_shard_of", "main_of", "shard_files_of", "shard_names_of",
           "remove_unreferenced_shards", "write_own_shards", "read_shards"]

# '<base>.shard-<i>-of-<n>' then, since shard names carry it, '.<save id>'.
_SHARD_SUFFIX = re.compile(r"\.shard-\d+-of-\d+(\.[0-9a-f]+)?$")


def shard_name(base: str, index: int, count: int, save_id: str) -> str:
    """The file name of the shard file of process `index` out of `count` in the save `save_id` of
    the checkpoint file named `base`."""
    return f"{base}.shard-{index}-of-{count}.{save_id}"


def is_shard_of(base: str, name: str) -> bool:
    """Whether the file name `name` is a shard file of the checkpoint file named `base`."""
    return main_of(name) == base


def main_of(name: str) -> Optional[str]:
    """The name of the checkpoint file whose shard file is named `name` (None if it is none)."""
    match = _SHARD_SUFFIX.search(name)
    return name[:match.start()] if match and match.start() > 0 else None


def shard_files_of(path: str) -> List[str]:
    """The shard files of any save that exist next to the checkpoint `path`."""
    directory, base = os.path.split(os.path.abspath(path))
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    return sorted(os.path.join(directory, n) for n in names if is_shard_of(base, n))


def shard_names_of(path: str, metadata: Dict[str, str]) -> List[str]:
    """The file names of the shard files a main file's metadata names, process 0 first."""
    if "shard_names" in metadata:
        names = json.loads(metadata["shard_names"])
        if not (isinstance(names, list) and all(isinstance(n, str) and os.path.basename(n) == n for n in names)):
            raise ValueError(f"shard_names {names!r} is not a list of file names")
        return names
    count = int(metadata.get("shard_files", "0"))  # written before shard names carried the save id
    return [f"{os.path.basename(path)}.shard-{i}-of-{count}" for i in range(count)]


def remove_unreferenced_shards(path: str, keep: Optional[Iterable[str]] = None) -> List[str]:
    """Remove the shard files next to `path` that its main file does not name; return them.

    `keep` is the names the main file names, when the caller knows them; otherwise they are read
    from its header (no main file: none are kept; an unreadable one: nothing is removed). Only a
    program that is saving `path` may call this: the shard files of a save in progress are not
    named by any main file yet.
    """
    if keep is None:
        try:
            keep = shard_names_of(path, read_metadata_unverified(path))
        except FileNotFoundError:
            keep = ()
        except (OSError, ValueError, TypeError):
            return []  # a main file we cannot read: keep everything that might belong to it
    kept = set(keep)
    return [f for f in shard_files_of(path) if os.path.basename(f) not in kept and remove_quietly(f)]


def _index(shard_index, shape) -> List[List[int]]:
    return [list(s.indices(n)[:2]) for s, n in zip(shard_index, shape)]


def write_own_shards(file: str, spread: Dict[str, jax.Array], leaf_specs: Dict[str, dict], save_id: str) -> None:
    """Write the pieces of `spread` held by this process's devices to the shard file `file`."""
    pieces: Dict[str, np.ndarray] = {}
    where: Dict[str, dict] = {}
    for name, array in spread.items():
        own = [s for s in array.addressable_shards if s.replica_id == 0]
        for k, shard in enumerate(own):
            piece = f"{name}@{k}"
            pieces[piece] = stored_array(np.asarray(shard.data), dict(leaf_specs[name]))
            where[piece] = {"tensor": name, "index": _index(shard.index, array.shape)}
    write_checkpoint(file, pieces, {"save_id": save_id, "pieces": json.dumps(where, sort_keys=True)})


def read_shards(path: str, specs: Iterable[dict], names: List[str], save_id: Optional[str]) -> Dict[str, np.ndarray]:
    """Tensor name -> the stored array reassembled from the shard files `names` of `path`, for
    the states whose `specs` the main file records."""
    leaves = {leaf["tensor"]: leaf for spec in specs for leaf in spec["leaves"]
              if leaf.get("storage") == "shards"}
    if not leaves:
        return {}
    full = {name: np.empty(leaf["stored_shape"], np.dtype(leaf["stored_dtype"])) for name, leaf in leaves.items()}
    covered: Dict[str, Optional[np.ndarray]] = dict.fromkeys(leaves)  # which elements some piece wrote
    directory = os.path.dirname(os.path.abspath(path))
    for i, file_name in enumerate(names):
        file = os.path.join(directory, file_name)
        if not os.path.exists(file):
            raise CheckpointError(
                f"The checkpoint {path!r} keeps its sharded arrays in {len(names)} per-process files, and "
                f"{file_name!r} (written by process {i}) is missing. Keep every shard file the checkpoint "
                f"names ('{os.path.basename(path)}.shard-*') together with it.", path=path)
        pieces, metadata = read_checkpoint(file)
        if metadata.get("save_id") != save_id:
            raise CheckpointError(
                f"{file!r} belongs to another save than the checkpoint {path!r} (a save was interrupted, or "
                f"files of two saves were mixed). Nothing was restored; restore an earlier checkpoint.", path=file)
        try:
            for piece, where in json.loads(metadata["pieces"]).items():
                name, index = where["tensor"], tuple(slice(a, b) for a, b in where["index"])
                mask = covered[name]
                if mask is None:  # pieces index the array's own dimensions, not trailing byte axes
                    mask = covered[name] = np.zeros(full[name].shape[:len(index)], bool)
                full[name][index] = pieces[piece]
                mask[index] = True
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
