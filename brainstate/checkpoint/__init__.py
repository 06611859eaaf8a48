"""Save and restore the states of any graph (a model, an optimizer, both), keyed by graph path.

Checkpoints are safetensors files: tensors plus a JSON header recording, for every state, its
kind, shapes and dtypes, and the brainstate version that wrote it. Saves are atomic (a kill or a
full disk leaves the previous checkpoint or the complete new one, never a broken one), files are
checksummed, and restore is strict by default: it reports every missing, unexpected or
mismatched path at once and restores nothing unless everything fits. Tensors are named by graph
path, except in graphs so deep that the names would outgrow the header (a chain of thousands of
modules): those store their paths once, in a table, and name tensors by index (`_layout.py`).

Example:
  >>> import os, tempfile, brainstate
  >>> from brainstate import checkpoint
  >>> model = brainstate.nn.Sequential(brainstate.nn.Linear(2, 4), brainstate.nn.Linear(4, 1))
  >>> path = os.path.join(tempfile.mkdtemp(), "ckpt.safetensors")
  >>> _ = checkpoint.save(path, {"model": model})
  >>> sorted(checkpoint.load(path).values)
  ['model.layers.0.weight', 'model.layers.1.weight']
  >>> report = checkpoint.restore(path, {"model": model})
  >>> report.ok
  True

The `safetensors` package is imported on first use (`pip install 'brainstate[checkpoint]'`).
"""

from ._manager import CheckpointManager as CheckpointManager
from ._report import (CheckpointError as CheckpointError, CheckpointWriteError as CheckpointWriteError,
                      RestoreReport as RestoreReport)
from ._save_restore import Checkpoint as Checkpoint, load as load, restore as restore, save as save

__all__ = ["CheckpointManager", "CheckpointError", "CheckpointWriteError", "RestoreReport", "Checkpoint", "load",
           "restore", "save"]
