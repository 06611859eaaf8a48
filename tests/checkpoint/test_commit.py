"""The commit protocol: an overwrite killed at any point leaves the previous checkpoint or the new one.

The process is "killed" in-process: from a chosen OS call on, every OS call raises `Killed` (a
`BaseException`, so no handler of the code under test can swallow it), which is what a kill -9
looks like to the files: the call that was running finished or not, and nothing runs after it.
Each OS call of an overwrite is a kill point, before and after it runs (and, for a write, after
half of its bytes). `test_kill.py` does the same with real SIGKILLs of a child process.
"""

import json
import os

import pytest

from brainstate import checkpoint
from brainstate.checkpoint import _atomic, _save_restore
from brainstate.checkpoint._storage import read_metadata_unverified
from ckpt_models import assert_same_bits, make_states, snapshot

# The OS calls a save makes (os.path.exists and friends go through os.stat, which only reads).
PATCHED = ("open", "write", "fsync", "close", "replace", "unlink", "listdir", "mkdir")


class Killed(BaseException):
    """The process died at this OS call."""


class Dying:
    """Records the OS calls of a save; from call number `at` (1-based) on, every call raises."""

    def __init__(self, monkeypatch, at=None, mode="before"):
        self.at, self.mode = at, mode
        self.calls, self.open_fds = [], set()
        self.real = {name: getattr(os, name) for name in PATCHED}
        for name in PATCHED:
            monkeypatch.setattr(os, name, self._wrap(name))

    def _wrap(self, name):
        real = self.real[name]

        def call(*args, **kwargs):
            self.calls.append((name, os.path.basename(str(args[0])) if name != "write" else args[0]))
            if self.at is None or len(self.calls) < self.at:
                result = real(*args, **kwargs)
            elif len(self.calls) > self.at:
                raise Killed(f"the process is already dead (os.{name})")
            elif self.mode == "before":
                raise Killed(f"killed before os.{name} (call {self.at})")
            else:
                if self.mode == "partial":  # a write that got half of its bytes out
                    real(args[0], bytes(args[1][:len(args[1]) // 2]))
                else:
                    result = real(*args, **kwargs)
                    self._note(name, args, result)
                raise Killed(f"killed after os.{name} (call {self.at})")
            self._note(name, args, result)
            return result

        return call

    def _note(self, name, args, result):
        if name == "open":
            self.open_fds.add(result)
        elif name == "close":
            self.open_fds.discard(args[0])

    def close_leaked_fds(self):
        """A dead process's descriptors are closed by the kernel; here, by hand."""
        for fd in self.open_fds:
            self.real["close"](fd)


def committed_files(path):
    """The main file and the shard files it names."""
    names = json.loads(read_metadata_unverified(path).get("shard_names", "[]"))
    return sorted([os.path.basename(path), *names])


LAYOUTS = [(False, False), (True, True), (True, False), (False, True)]  # (old sharded, new sharded)


def overwrite_calls(tmp_path, monkeypatch, old_sharded, new_sharded):
    """The OS calls of an overwrite, and the number of the rename that commits the main file."""
    path = str(tmp_path / "probe" / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, old_sharded))
    with monkeypatch.context() as patch:
        dying = Dying(patch)
        checkpoint.save(path, make_states(2, new_sharded))
    commit = next(i for i, (name, arg) in enumerate(dying.calls, 1)
                  if name == "replace" and arg.startswith(".ckpt.safetensors~"))
    return dying.calls, commit


def kill_points(calls):
    for number, (name, _) in enumerate(calls, 1):
        yield number, "before"
        if name == "write":
            yield number, "partial"
        yield number, "after"


@pytest.mark.parametrize("old_sharded, new_sharded", LAYOUTS, ids=["file-file", "sharded-sharded",
                                                                   "sharded-file", "file-sharded"])
def test_overwrite_killed_at_every_os_call(tmp_path, monkeypatch, old_sharded, new_sharded):
    calls, commit = overwrite_calls(tmp_path, monkeypatch, old_sharded, new_sharded)
    points = list(kill_points(calls))
    assert len(points) > 2 * commit > 2 * 4  # the calls before the commit (a temporary file written), and after
    for number, mode in points:
        directory = tmp_path / f"{number}-{mode}"
        path = str(directory / "ckpt.safetensors")
        old, new = make_states(1, old_sharded), make_states(2, new_sharded)
        checkpoint.save(path, old)
        with monkeypatch.context() as patch:
            dying = Dying(patch, at=number, mode=mode)
            with pytest.raises(Killed, match=r"killed (before|after) os\.\w+ \(call \d+\)|already dead"):
                checkpoint.save(path, new)
            dying.close_leaked_fds()
        assert [c[0] for c in dying.calls[:number]] == [c[0] for c in calls[:number]], "not the probe's OS calls"
        survivor = new if number > commit or (number == commit and mode == "after") else old
        target = make_states(3, old_sharded)
        assert checkpoint.restore(path, target).ok, (number, mode)
        assert_same_bits(snapshot(target), snapshot(survivor))
        # The next save removes everything the killed one left: temporary and orphaned files.
        final = make_states(4, new_sharded)
        checkpoint.save(path, final)
        assert sorted(os.listdir(directory)) == committed_files(path), (number, mode)
        checkpoint.restore(path, target)
        assert_same_bits(snapshot(target), snapshot(final))


def test_overwrite_replaces_the_shard_files_by_new_ones(tmp_path):
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, True))
    first = committed_files(path)
    checkpoint.save(path, make_states(2, True))
    second = committed_files(path)
    assert len(first) == len(second) == 2 and first[1] != second[1]  # a shard name of its own per save
    assert sorted(os.listdir(tmp_path)) == second


def test_a_sharded_checkpoint_overwritten_by_a_single_file_loses_its_shards(tmp_path):
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, True))
    checkpoint.save(path, make_states(2, False))
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_orphaned_shards_of_an_interrupted_save_are_kept_until_the_next_save(tmp_path, monkeypatch):
    # A restore must not remove them: they may belong to a save in progress in another program.
    _, commit = overwrite_calls(tmp_path, monkeypatch, True, True)
    tmp_path = tmp_path / "run"
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, True))
    with monkeypatch.context() as patch:
        Dying(patch, at=commit, mode="before")
        with pytest.raises(Killed, match=r"killed before os.replace|already dead"):
            checkpoint.save(path, make_states(2, True))
    assert len([n for n in os.listdir(tmp_path) if ".shard-" in n]) == 2
    checkpoint.restore(path, make_states(3, True))
    assert len([n for n in os.listdir(tmp_path) if ".shard-" in n]) == 2
    checkpoint.save(path, make_states(4, True))
    assert sorted(os.listdir(tmp_path)) == committed_files(path)


def test_a_reader_racing_an_overwrite_reads_the_new_checkpoint(tmp_path, monkeypatch):
    # The reader reads the old main file; before it reads the shard files, a save replaces the
    # checkpoint and removes them. The reader notices that the main file changed and reads again.
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, True))
    new = make_states(2, True)
    real_read = _save_restore.read_checkpoint
    reads = []

    def read_then_overwrite(file):
        result = real_read(file)
        reads.append(file)
        if len(reads) == 1:
            checkpoint.save(path, new)
        return result

    monkeypatch.setattr(_save_restore, "read_checkpoint", read_then_overwrite)
    target = make_states(3, True)
    assert checkpoint.restore(path, target).ok
    assert reads == [path, path]
    assert_same_bits(snapshot(target), snapshot(new))


def test_a_missing_shard_file_is_reported_after_the_retries(tmp_path):
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, True))
    shard = committed_files(path)[1]
    os.remove(tmp_path / shard)
    with pytest.raises(checkpoint.CheckpointError, match=rf"'{shard}' \(written by process 0\) is missing"):
        checkpoint.restore(path, make_states(2, True))


def test_an_interrupt_just_after_the_commit_keeps_the_new_checkpoint_whole(tmp_path, monkeypatch):
    # Ctrl-C while the directory is flushed after the main file's rename: the process lives on,
    # undoes what it can of the failed save, and must not remove a shard file the new main names.
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, True))
    real_fsync_directory = _atomic.fsync_directory
    calls = []

    def interrupted(directory):
        calls.append(directory)
        real_fsync_directory(directory)
        if len(calls) == 2:  # after the shard file's rename, then after the main file's
            raise KeyboardInterrupt("interrupted after the commit")

    monkeypatch.setattr(_atomic, "fsync_directory", interrupted)
    new = make_states(2, True)
    with pytest.raises(KeyboardInterrupt, match="interrupted after the commit"):
        checkpoint.save(path, new)
    monkeypatch.undo()
    target = make_states(3, True)
    assert checkpoint.restore(path, target).ok
    assert_same_bits(snapshot(target), snapshot(new))
