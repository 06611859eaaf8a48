"""What a restore found, and the error raised when a checkpoint cannot be used.

A restore compares the states of a checkpoint file with the live states of a target graph, path
by path, and sorts every path into exactly one group:

- restored: present in both, with the same kind, leaf keys, shapes and dtypes;
- missing: the target has it, the file does not;
- unexpected: the file has it, the target does not;
- mismatched: present in both, but the kind, the tree of leaves, a shape or a dtype differs.

`RestoreReport` carries the four groups; `CheckpointError` is raised for every checkpoint that
cannot be used (a corrupted or truncated file, a strict restore that does not fit, a value that
cannot be saved). A strict-restore error carries the report as `error.report`.
`CheckpointWriteError`, a `CheckpointError` and an `OSError`, is raised when the operating system
refuses a save's write (a full disk, a read-only directory, a file-size limit); the previous
checkpoint under the same path is then intact.
"""

import dataclasses
import itertools
from typing import Iterable, List, Mapping, Optional, Sequence

from .._errors import BrainStateError

__all__ = ["CheckpointError", "CheckpointWriteError", "RestoreReport", "display_path"]

# Problems listed per group in a report's text: a graph of thousands of states that does not
# fit would otherwise give a message of thousands of lines (the report itself keeps them all).
_LISTED = 20


class CheckpointError(BrainStateError, ValueError):
    """A checkpoint could not be written, read or restored.

    Attributes:
      path: the checkpoint file concerned, when there is one.
      report: for a strict restore that does not fit its target, the `RestoreReport` listing
        every missing, unexpected and mismatched path (nothing was restored then); else None.
    """

    def __init__(self, message: str, *, path: Optional[str] = None,
                 report: Optional["RestoreReport"] = None):
        super().__init__(message)
        self.path = path
        self.report = report


class CheckpointWriteError(CheckpointError, OSError):
    """A save failed because a write was refused; the previous checkpoint is intact.

    It is an `OSError` too, with the refused write's `errno` and `strerror` (`errno.ENOSPC` for a
    full disk, `errno.EROFS` for a read-only file system, `errno.EFBIG` past a file-size limit),
    and the original error as `__cause__`; `path` is the checkpoint that was being saved.

    Example:
      >>> import errno, os, tempfile, brainstate, jax.numpy as jnp
      >>> from brainstate import checkpoint
      >>> a_file = os.path.join(tempfile.mkdtemp(), "a_file")
      >>> open(a_file, "w").close()
      >>> try:  # a directory cannot be created inside a file
      ...     checkpoint.save(os.path.join(a_file, "sub", "ckpt.safetensors"), brainstate.State(jnp.zeros(2)))
      ... except checkpoint.CheckpointWriteError as err:
      ...     print(isinstance(err, OSError), err.errno == errno.ENOTDIR)
      True True
    """

    def __init__(self, message: str, *, path: str, errno: Optional[int], strerror: Optional[str]):
        super().__init__(message, path=path)
        self.errno = errno
        self.strerror = strerror

    def __str__(self) -> str:  # OSError would format its errno and strerror instead of the message
        return str(self.args[0])


def _listed(entries: Iterable[str], count: int) -> List[str]:
    """The first `_LISTED` of `count` entries as indented lines, and a line counting the rest."""
    lines = [f"    {entry}" for entry in itertools.islice(entries, _LISTED)]
    if count > _LISTED:
        lines.append(f"    ... and {count - _LISTED} more (the report lists them all)")
    return lines


def display_path(key: str) -> str:
    """How messages show a state path; the root state of a graph has the empty path."""
    return key if key else "<root>"


@dataclasses.dataclass(frozen=True)
class RestoreReport:
    """The outcome of matching a checkpoint against a target graph, path by path.

    Paths are the checkpoint keys: graph path elements joined with '.', e.g.
    `'model.layers.0.weight'`. A report made by `restore` holds them in read-only sequences
    and mappings that build each path's text when it is read (so that a graph thousands of
    levels deep does not spell out every path); they compare equal to tuples and dicts.

    Attributes:
      restored: paths whose values were written into the target (or, in a report attached to a
        strict-restore error, that would have been).
      missing: paths the target has and the checkpoint lacks.
      unexpected: paths the checkpoint has and the target lacks.
      mismatched: path -> what differs (kind, leaves, shape or dtype), for paths in both.

    Example:
      >>> report = RestoreReport(restored=("w",), missing=(), unexpected=("b",), mismatched={})
      >>> report.ok
      False
      >>> print(report)
      RestoreReport: 1 restored, 0 missing, 1 unexpected, 0 mismatched
        unexpected (in the checkpoint, not in the target):
          b
    """

    restored: Sequence[str]
    missing: Sequence[str]
    unexpected: Sequence[str]
    mismatched: Mapping[str, str]

    @property
    def ok(self) -> bool:
        """True when every path of the checkpoint and of the target was restored."""
        return not (self.missing or self.unexpected or self.mismatched)

    def problems(self) -> str:
        """The missing, unexpected and mismatched paths as an indented list, one per line (the
        first 20 of each group, then how many more there are)."""
        lines: List[str] = []
        for title, count, entries in (
                ("missing (in the target, not in the checkpoint)", len(self.missing),
                 (display_path(p) for p in self.missing)),
                ("unexpected (in the checkpoint, not in the target)", len(self.unexpected),
                 (display_path(p) for p in self.unexpected)),
                ("mismatched (in both, but different)", len(self.mismatched),
                 (f"{display_path(p)}: {why}" for p, why in self.mismatched.items()))):
            if count:
                lines.append(f"  {title}:")
                lines.extend(_listed(entries, count))
        return "\n".join(lines)

    def __str__(self) -> str:
        head = (f"RestoreReport: {len(self.restored)} restored, {len(self.missing)} missing, "
                f"{len(self.unexpected)} unexpected, {len(self.mismatched)} mismatched")
        return head + ("\n" + self.problems() if not self.ok else "")
