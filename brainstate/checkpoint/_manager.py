"""`CheckpointManager`: numbered checkpoints in one directory, keeping the most recent N.

Each step is one file, `step_<step>.safetensors` (the step zero-padded to 8 digits), written
with `save`, so every step is atomic on its own: a step either exists complete or not at all.
Steps are listed from the directory itself, with no separate index file that could disagree
with it; leftover temporary files of a crashed save are never mistaken for steps.

After a successful save, the steps beyond the `max_to_keep` highest are deleted; the new file
is durable before any older one is removed, so a crash in between only leaves an extra step.
A step of sharded states also has per-process shard files (`step_<step>.safetensors.shard-*`);
a step is deleted main file first, so it stops being listed before its shards go.

Leftovers. A manager removes, when it is created and at each save and restore, the temporary
files in its directory whose writer is gone (`_atomic.py`); after each save it also removes the
shard files that no step names (those of saves interrupted before their commit, and of steps
whose main file is gone). One program at a time saves into a directory; any number may read it.
"""

import os
import re
from typing import Any, List, Optional, Union

from ._atomic import remove_leftovers, remove_quietly
from ._report import CheckpointError, RestoreReport
from ._save_restore import restore, save
from ._shards import main_of, remove_unreferenced_shards, shard_files_of

__all__ = ["CheckpointManager"]

_STEP_FILE = re.compile(r"^step_(\d+)\.safetensors$")


def _check_step(step: Any, where: str) -> int:
    if isinstance(step, bool) or not hasattr(step, "__index__") or step.__index__() < 0:
        raise TypeError(f"{where}: step must be a non-negative integer, got {step!r}.")
    return step.__index__()


class CheckpointManager:
    """Saves numbered checkpoints of a graph into a directory and keeps the last `max_to_keep`.

    Args:
      directory: where the step files live; created on the first save.
      max_to_keep: how many of the highest steps to keep; older ones are deleted after each
        save. None keeps every step.

    Example:
      >>> import tempfile, brainstate
      >>> from brainstate import checkpoint
      >>> model = brainstate.nn.Linear(2, 3)
      >>> manager = checkpoint.CheckpointManager(tempfile.mkdtemp(), max_to_keep=2)
      >>> for step in (10, 20, 30):
      ...     _ = manager.save(step, model)
      >>> manager.all_steps()
      [20, 30]
      >>> manager.restore(brainstate.nn.Linear(2, 3)).restored
      ('weight',)
    """

    def __init__(self, directory: Union[str, "os.PathLike[str]"], max_to_keep: Optional[int] = 5):
        if max_to_keep is not None and (isinstance(max_to_keep, bool) or not isinstance(max_to_keep, int)
                                        or max_to_keep < 1):
            raise ValueError(
                f"CheckpointManager: max_to_keep must be a positive int or None (keep every step), "
                f"got {max_to_keep!r}.")
        self.directory = os.fspath(directory)
        self.max_to_keep = max_to_keep
        self._remove_leftovers()

    def __repr__(self) -> str:
        return f"CheckpointManager({self.directory!r}, max_to_keep={self.max_to_keep})"

    def _remove_leftovers(self) -> None:
        """Remove the temporary files of step files whose writer is gone."""
        remove_leftovers(self.directory, lambda final: _STEP_FILE.match(main_of(final) or final) is not None)

    def _remove_orphan_shards(self) -> None:
        """Remove the shard files that no step's main file names (only while saving: the shard
        files of a save in progress are not named yet; every process of a run may do it)."""
        try:
            names = os.listdir(self.directory)
        except OSError:
            return
        mains = {main for main in map(main_of, names) if main is not None and _STEP_FILE.match(main)}
        for main in sorted(mains):
            remove_unreferenced_shards(os.path.join(self.directory, main))

    def step_path(self, step: int) -> str:
        """The file that holds (or would hold) a step."""
        step = _check_step(step, "CheckpointManager.step_path")
        return os.path.join(self.directory, f"step_{step:08d}.safetensors")

    def all_steps(self) -> List[int]:
        """Every saved step, in increasing order (empty if the directory does not exist yet)."""
        try:
            names = os.listdir(self.directory)
        except FileNotFoundError:
            return []
        return sorted(int(m.group(1)) for m in map(_STEP_FILE.match, names) if m)

    def latest_step(self) -> Optional[int]:
        """The highest saved step, or None if there is none."""
        steps = self.all_steps()
        return steps[-1] if steps else None

    def save(self, step: int, target: Any, *, overwrite: bool = False) -> str:
        """Save the states of `target` as `step`, then delete the steps beyond `max_to_keep`.

        Args:
          step: a non-negative integer, typically the training step.
          target: the graph to save (see `brainstate.checkpoint.save`).
          overwrite: replace an existing file for the same step (atomically).

        Returns:
          The path of the step file.

        Raises:
          CheckpointError: the step exists and `overwrite` is False, or the target cannot be
            saved (see `save`).
        """
        path = self.step_path(step)
        if not overwrite and os.path.exists(path):
            raise CheckpointError(
                f"CheckpointManager.save: step {step} is already saved in {self.directory!r}. Use "
                f"a new step number, or pass overwrite=True to replace it.", path=path)
        self._remove_leftovers()
        save(path, target)
        if self.max_to_keep is not None:
            for old in self.all_steps()[:-self.max_to_keep]:
                # Main file first: the step stops being listed before its shard files go. A file
                # already gone was removed by another process of the same run.
                for file in [self.step_path(old), *shard_files_of(self.step_path(old))]:
                    remove_quietly(file)
        self._remove_orphan_shards()
        return path

    def restore(self, target: Any, step: Optional[int] = None, *, strict: bool = True) -> RestoreReport:
        """Restore `target` from a step (the latest by default); see `brainstate.checkpoint.restore`.

        Raises:
          CheckpointError: there is no checkpoint in the directory, the step is not saved, or
            the restore fails (see `restore`).
        """
        self._remove_leftovers()
        steps = self.all_steps()
        if step is None:
            if not steps:
                raise CheckpointError(
                    f"CheckpointManager.restore: no checkpoint in {self.directory!r} yet. Save one "
                    f"with manager.save(step, target) first, or check the directory.")
            step = steps[-1]
        elif _check_step(step, "CheckpointManager.restore") not in steps:
            raise CheckpointError(
                f"CheckpointManager.restore: step {step} is not saved in {self.directory!r}; the "
                f"saved steps are {steps}. Pass one of them, or None for the latest.",
                path=self.step_path(step))
        return restore(self.step_path(step), target, strict=strict)
