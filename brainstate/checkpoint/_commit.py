"""The commit protocol of a save: a checkpoint is either the previous one or the complete new one.

A checkpoint is a main file `<path>` plus, when it holds sharded arrays, the shard files its
metadata names (`_shards.py`). Saving over an existing checkpoint runs these steps, in every
process of the run (process 0 alone writes the main file):

1. Remove the temporary files next to `<path>` whose writer is gone (`_atomic.py`).
2. Barrier: every process has looked at what exists before any file is written.
3. Process 0 draws a save id and broadcasts it. Each process writes its pieces to a shard file
   named after the save, `<path>.shard-<i>-of-<n>.<save id>` (a temporary file, fsynced,
   renamed, directory fsynced), so no file of an existing checkpoint is ever written over.
4. Agreement: the processes exchange whether their shard file is on disk. If any failed, each
   removes its new shard file and raises; nothing else was touched.
5. Process 0 writes the main file the same way (temporary file, fsync, atomic rename onto
   `<path>`, directory fsync); its metadata names the save id and every shard file of step 3.
   The rename is the commit point: before it, `<path>` is the previous main file, after it the
   new one.
6. Agreement on process 0's outcome: if the main file could not be written, every process
   removes its new shard file (unless the main file naming it is in place: an interrupt just
   after the rename) and raises; the previous main file and its shards are untouched.
7. Process 0 removes the shard files next to `<path>` that the new main file does not name: the
   previous checkpoint's, and those of earlier saves that were interrupted before their commit.

Invariant: at every instant, the file under `<path>` is a complete, checksummed main file (or
absent, before the first save), and every shard file it names exists complete, because shard
files are only created under names no main file uses yet and are removed only once a main file
that does not name them is durable. A kill at any point therefore leaves either the previous
checkpoint or the complete new one; what it may leave besides (temporary files, shard files of
the interrupted save) is never read, and is removed by the next save of `<path>` (temporary
files of gone writers also by the next restore, and by a `CheckpointManager` when it starts).

A save that fails because the operating system refuses a write (a full disk, a read-only
directory, a file-size limit) raises `CheckpointWriteError` in every process: it names the
checkpoint, the file and the reason, and says that the previous checkpoint is intact. Any other
error (a bug, an interrupt) propagates as it is after the same clean-up. Saves of one path must
not run concurrently from independent programs (the processes of one multi-process run are
coordinated by the barriers above); readers may run at any time (a reader that finds the shard
files of the main file it read removed by step 7 reads the new main file again).
"""

import errno as errno_codes
import json
import os
from typing import Callable, Dict, List, Optional, Sequence, Tuple

import jax
import numpy as np

from ._atomic import remove_leftovers, remove_quietly
from ._report import CheckpointWriteError
from ._shards import is_shard_of, remove_unreferenced_shards, shard_name, write_own_shards
from ._storage import read_metadata_unverified, write_checkpoint

__all__ = ["commit_save", "remove_leftovers_of", "barrier", "new_save_id"]

# errno -> (why, how to fix), for the refusals a save meets in practice.
_REASONS: Dict[int, Tuple[str, str]] = {
    errno_codes.ENOSPC: ("the device is full", "Free some space or save to another disk"),
    getattr(errno_codes, "EDQUOT", errno_codes.ENOSPC): ("the disk quota is exhausted",
                                                         "Free some space or save to another disk"),
    errno_codes.EFBIG: ("the file would exceed the largest file size allowed (the file system's, or this "
                        "process's RLIMIT_FSIZE, see `ulimit -f`)", "Raise the limit or save to another disk"),
    errno_codes.EROFS: ("the file system is read-only", "Save to a writable directory"),
    errno_codes.EACCES: ("permission was denied", "Check the directory's permissions, or save elsewhere"),
    errno_codes.EPERM: ("the operation is not permitted", "Check the directory's permissions, or save elsewhere"),
    errno_codes.ENOTDIR: ("a part of the path is a file, not a directory", "Choose a path made of directories"),
    errno_codes.EEXIST: ("the path exists and is not a directory", "Choose a path made of directories"),
}


def barrier(name: str) -> None:
    """Wait until every process reaches this point (nothing to wait for in a single process)."""
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        multihost_utils.sync_global_devices(name)


def new_save_id() -> str:
    """A random id for one save, the same on every process (drawn by process 0)."""
    token = np.frombuffer(os.urandom(8), np.uint32)
    if jax.process_count() > 1:
        from jax.experimental import multihost_utils

        token = np.asarray(multihost_utils.broadcast_one_to_all(token))
    return token.astype(np.uint32).tobytes().hex()


def _code(failure: Optional[BaseException]) -> int:
    """What a step's outcome is told to the other processes: 0 for success, the errno of a
    refused write, -1 for any other failure."""
    if failure is None:
        return 0
    if isinstance(failure, OSError) and failure.errno:
        return failure.errno
    return -1


def _gather_codes(code: int) -> Sequence[int]:
    """Every process's code, process 0 first (a collective: every process must call it)."""
    if jax.process_count() == 1:
        return [code]
    from jax.experimental import multihost_utils

    return [int(c) for c in np.asarray(multihost_utils.process_allgather(np.array([code], np.int32))).reshape(-1)]


def _attempt(write: Callable[[], None]) -> Optional[BaseException]:
    """Run one write step and return its failure instead of raising it, so that every process
    reaches the next agreement even when its own step failed."""
    try:
        write()
    except BaseException as failure:  # re-raised after the agreement, in `_settle`
        return failure
    return None


def write_error(path: str, doing: str, code: Optional[int], detail: str,
                why: Optional[str] = None) -> CheckpointWriteError:
    """The error of a save whose step `doing` failed with the errno `code` (`detail` says more)."""
    reason, fix = _REASONS.get(code or 0, ("the operating system refused it", "Check the path and the disk"))
    previous = ("The previous checkpoint at this path is intact: nothing it needs was changed."
                if os.path.exists(path) else "No checkpoint existed at this path, and none was written.")
    return CheckpointWriteError(
        f"Could not save the checkpoint {path!r}: {doing} failed because {why or reason} ({detail}). "
        f"{previous} {fix}, then save again.", path=path, errno=code, strerror=os.strerror(code) if code else None)


def _settle(path: str, doing: Callable[[int], str], failure: Optional[BaseException],
            undo: Callable[[], None]) -> None:
    """Agree with every process on a step's outcome; if any process failed, `undo` this
    process's part and raise (the original error in the process where it happened).

    `doing(i)` describes the step of process `i`, for the message.
    """
    codes = _gather_codes(_code(failure))
    if not any(codes):
        return
    undo()
    if failure is not None and not isinstance(failure, OSError):
        raise failure  # not a refused write (a bug, an interrupt): it propagates as it is
    if failure is not None:
        detail = f"[Errno {failure.errno}] {failure.strerror}" if failure.errno else str(failure)
        raise write_error(path, doing(jax.process_index()), failure.errno, detail) from failure
    first = next(i for i, c in enumerate(codes) if c)
    if codes[first] < 0:
        raise write_error(path, f"process {first} {doing(first)}", None, "see that process's output",
                          why="of an error in that process that is not a refused write")
    raise write_error(path, f"process {first} {doing(first)}", codes[first],
                      f"[Errno {codes[first]}] {os.strerror(codes[first])}")


def _names_save(path: str, save_id: str) -> bool:
    """Whether the main file under `path` is the one of the save `save_id` (it was committed)."""
    try:
        return read_metadata_unverified(path).get("save_id") == save_id
    except (OSError, ValueError):
        return False


def remove_leftovers_of(path: str) -> None:
    """Remove the temporary files of the main and shard files of `path` whose writer is gone."""
    directory, base = os.path.split(os.path.abspath(path))
    remove_leftovers(directory, lambda final: final == base or is_shard_of(base, final))


def commit_save(path: str, tensors: Dict[str, np.ndarray], metadata: Dict[str, str],
                spread: Dict[str, jax.Array], leaf_specs: Dict[str, dict]) -> None:
    """Write a checkpoint under `path` by the protocol above (every process calls it)."""
    directory, base = os.path.split(os.path.abspath(path))
    remove_leftovers_of(path)
    _settle(path, lambda i: f"creating the directory {directory!r}",
            _attempt(lambda: os.makedirs(directory, exist_ok=True)), undo=lambda: None)
    barrier(f"brainstate.checkpoint.save begin {path}")
    names: List[str] = []
    own: Optional[str] = None  # this process's new shard file
    save_id = ""

    def undo_unless_committed() -> None:
        """Remove this process's new shard file, unless the main file naming it was renamed into
        place before the failure (an interrupt just after the commit point)."""
        if own is not None and not _names_save(path, save_id):
            remove_quietly(own)

    if spread:
        save_id = new_save_id()
        count = jax.process_count()
        names = [shard_name(base, i, count, save_id) for i in range(count)]
        own = file = os.path.join(directory, names[jax.process_index()])
        metadata = dict(metadata, save_id=save_id, shard_files=str(count), shard_names=json.dumps(names))
        failure = _attempt(lambda: write_own_shards(file, spread, leaf_specs, save_id))
        _settle(path, lambda i: f"writing the shard file {names[i]!r}", failure, undo_unless_committed)
    failure = None
    if jax.process_index() == 0:
        failure = _attempt(lambda: write_checkpoint(path, tensors, metadata))
    _settle(path, lambda i: f"writing the main file {base!r}", failure, undo_unless_committed)
    if jax.process_index() == 0:
        remove_unreferenced_shards(path, keep=names)
