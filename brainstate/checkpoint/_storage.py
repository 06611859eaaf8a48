"""The on-disk format: one safetensors file per checkpoint, written atomically and checksummed.

A checkpoint file is a standard safetensors file (a little-endian u64 header length, a JSON
header, then the raw tensor bytes), so any safetensors reader can open it. No pickle is ever
involved. The header's `__metadata__` (string -> string) holds:

- `format` = 'brainstate.checkpoint', `format_version`, `brainstate_version`, `jax_version`;
- `states` (and, in version 2, `paths`): which state each tensor belongs to, with its kind,
  leaves, dtypes and shapes, in the layout the version names (`_layout.py`);
- `checksum`: 'sha256:<hex>' over the other metadata and, per tensor in name order, its name,
  stored dtype, shape and bytes.

safetensors validates the header's structure when reading (a truncated file, offsets that do not
cover the data); the checksum catches everything else, so a damaged file raises
`CheckpointError` naming it and never yields wrong values.

Writes go through `_atomic.write_atomic`: a crash at any point leaves either the previous file
or the complete new one under the final name.

Extension point: this module is the only one that reads and writes checkpoint files (the shard
files of sharded arrays, `_shards.py`, go through the same pair). A different backend would provide
the same pair, `write_checkpoint(path, tensors, metadata)` and `read_checkpoint(path)`, and be
chosen by the callers; the encoding of states into named tensors would stay as it is.
"""

import hashlib
import json
from typing import Dict, Mapping, Tuple

import numpy as np

from ._atomic import write_atomic
from ._report import CheckpointError

__all__ = ["FORMAT", "FORMAT_VERSION", "READABLE_VERSIONS", "write_checkpoint", "read_checkpoint",
           "read_metadata_unverified"]

FORMAT = "brainstate.checkpoint"
# The version written when the metadata names none: shard files, and path-named main files.
FORMAT_VERSION = "1"
# Version 2 is the indexed layout of deep graphs (`_layout.py`); everything else is as in 1.
READABLE_VERSIONS = ("1", "2")
# safetensors refuses headers larger than this (100 MB); a larger length is a damaged file.
_MAX_HEADER = 100_000_000


def _safetensors_numpy():
    """`safetensors.numpy`, imported on first use so that brainstate imports without it."""
    try:
        import safetensors.numpy
    except ImportError as err:
        raise ImportError(
            "brainstate.checkpoint stores checkpoints in the safetensors format, and the "
            "`safetensors` package is not installed. Install it with "
            "`pip install 'brainstate[checkpoint]'` (or `pip install safetensors`).") from err
    return safetensors.numpy


def checksum(tensors: Mapping[str, np.ndarray], metadata: Mapping[str, str]) -> str:
    """'sha256:<hex>' of the metadata and of every tensor's name, dtype, shape and bytes."""
    digest = hashlib.sha256()
    digest.update(json.dumps(dict(metadata), sort_keys=True).encode())
    for name in sorted(tensors):
        arr = np.require(tensors[name], requirements="C")
        digest.update(f"\0{name}\0{arr.dtype.name}\0{list(arr.shape)}\0".encode())
        digest.update(arr.reshape(-1).view(np.uint8).data)
    return "sha256:" + digest.hexdigest()


def write_checkpoint(path: str, tensors: Dict[str, np.ndarray], metadata: Dict[str, str]) -> None:
    """Serialise tensors and metadata to safetensors bytes, checksummed, and write them atomically.

    The metadata's `format_version` is kept if it has one, else it is `FORMAT_VERSION`.
    """
    st = _safetensors_numpy()
    header = {"format_version": FORMAT_VERSION, **metadata, "format": FORMAT}
    header["checksum"] = checksum(tensors, header)
    write_atomic(path, st.save(tensors, metadata=header))


def _corrupted(path: str, why: str) -> CheckpointError:
    return CheckpointError(
        f"The checkpoint file {path!r} is truncated or corrupted: {why}. Nothing was read from it. "
        f"Restore from an earlier checkpoint (CheckpointManager keeps several) or save again.",
        path=path)


def read_checkpoint(path: str) -> Tuple[Dict[str, np.ndarray], Dict[str, str]]:
    """(tensor name -> stored array, metadata) of a checkpoint file, after verifying it whole."""
    st = _safetensors_numpy()
    try:
        with open(path, "rb") as f:
            data = f.read()
    except FileNotFoundError:
        raise CheckpointError(f"There is no checkpoint file at {path!r}. Check the path, or list "
                              f"the saved steps with CheckpointManager.all_steps().", path=path) from None
    except IsADirectoryError:
        raise CheckpointError(f"{path!r} is a directory, not a checkpoint file. To restore from a "
                              f"directory of steps, use CheckpointManager(directory).restore(target).",
                              path=path) from None
    except OSError as err:
        raise CheckpointError(f"Could not read the checkpoint file {path!r}: {err.strerror or err}. "
                              f"Check its permissions and the disk, then restore again.", path=path) from err
    try:
        tensors = st.load(data)
        header_len = int.from_bytes(data[:8], "little")
        metadata = json.loads(data[8:8 + header_len]).get("__metadata__") or {}
    except Exception as err:  # safetensors raises SafetensorError; a bad header can raise others
        raise _corrupted(path, f"safetensors could not read it ({err})") from err
    stored_sum = metadata.get("checksum")
    if stored_sum is None and metadata.get("format") != FORMAT:
        raise CheckpointError(
            f"{path!r} is a safetensors file but not a brainstate checkpoint (its metadata has no "
            f"format={FORMAT!r}), so its states, kinds and shapes are unknown. Save it with "
            f"brainstate.checkpoint.save, or read it with safetensors directly.", path=path)
    rest = {k: v for k, v in metadata.items() if k != "checksum"}
    if stored_sum != checksum(tensors, rest):
        raise _corrupted(path, "its checksum does not match its contents")
    if rest.get("format_version") not in READABLE_VERSIONS:
        raise CheckpointError(
            f"{path!r} uses checkpoint format version {rest.get('format_version')!r} (written by "
            f"brainstate {rest.get('brainstate_version')}); this brainstate reads versions "
            f"{' and '.join(map(repr, READABLE_VERSIONS))}. Restore it with a matching brainstate version.",
            path=path)
    return tensors, rest


def read_metadata_unverified(path: str) -> Dict[str, str]:
    """The metadata of a checkpoint file, from its header alone, without verifying the checksum.

    For housekeeping only (which shard files a main file names); never for restoring values.

    Raises:
      OSError: the file cannot be read (FileNotFoundError if it does not exist).
      ValueError: the header is not a safetensors header.
    """
    with open(path, "rb") as f:
        header_len = int.from_bytes(f.read(8), "little")
        if not 0 < header_len <= _MAX_HEADER:
            raise ValueError(f"header length {header_len}")
        metadata = json.loads(f.read(header_len)).get("__metadata__") or {}
    if not isinstance(metadata, dict):
        raise ValueError("metadata is not a JSON object")
    return metadata
