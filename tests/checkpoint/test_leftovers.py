"""Files that interrupted saves leave behind are removed once their writer is gone, never before."""

import functools
import os
import subprocess
import sys

import pytest

from brainstate import checkpoint
from brainstate.checkpoint import _atomic
from ckpt_models import make_states


@functools.lru_cache(maxsize=None)
def gone_pid():
    """The pid of a process that has exited (and been reaped)."""
    proc = subprocess.Popen([sys.executable, "-c", ""])
    proc.wait()
    return proc.pid


def leftover(directory, final, host=None, pid=None, token="0badcafe", size=16):
    """A temporary file as a writer of `final` names it."""
    name = f".{final}~{host or _atomic._HOST}~{pid or gone_pid()}~{token}.tmp"
    (directory / name).write_bytes(b"\0" * size)
    return name


def test_temporary_names_carry_the_host_and_the_pid(tmp_path):
    name = os.path.basename(_atomic.temp_name(str(tmp_path / "a~b.safetensors")))
    match = _atomic.TEMP_FILE.match(name)
    assert match is not None, name
    assert match.group("final") == "a~b.safetensors"  # a '~' in the name itself still parses
    assert (match.group("host"), int(match.group("pid"))) == (_atomic._HOST, os.getpid())


def test_only_temporary_files_of_gone_writers_are_removed(tmp_path):
    final = "ckpt.safetensors"
    dead = leftover(tmp_path, final)
    alive = leftover(tmp_path, final, pid=os.getppid(), token="1")  # the process that runs this test
    elsewhere = leftover(tmp_path, final, host="another-host", token="2")
    mine_idle = leftover(tmp_path, final, pid=os.getpid(), token="3")  # a failed save of this process
    mine_busy = leftover(tmp_path, final, pid=os.getpid(), token="4")  # a save of this process in progress
    foreign = leftover(tmp_path, "other.safetensors", token="5")
    (tmp_path / "notes.tmp").write_bytes(b"")
    _atomic._WRITING.add(str(tmp_path / mine_busy))
    try:
        removed = _atomic.remove_leftovers(str(tmp_path), lambda name: name == final)
    finally:
        _atomic._WRITING.discard(str(tmp_path / mine_busy))
    assert sorted(map(os.path.basename, removed)) == sorted([dead, mine_idle])
    assert sorted(os.listdir(tmp_path)) == sorted([alive, elsewhere, mine_busy, foreign, "notes.tmp"])


def test_on_windows_every_writer_counts_as_alive(tmp_path, monkeypatch):
    monkeypatch.setattr(_atomic.sys, "platform", "win32")  # where probing a pid would end that process
    name = leftover(tmp_path, "ckpt.safetensors")
    assert _atomic.remove_leftovers(str(tmp_path), lambda final: True) == []
    assert os.listdir(tmp_path) == [name]


def test_a_manager_removes_what_killed_saves_left_when_it_starts(tmp_path):
    manager = checkpoint.CheckpointManager(tmp_path, max_to_keep=3)
    manager.save(1, make_states(1, True))
    kept = sorted(os.listdir(tmp_path))
    for k in range(20):  # twenty saves killed while writing their main and shard files
        leftover(tmp_path, f"step_{k + 2:08d}.safetensors", token=f"{k:x}", size=4096)
        leftover(tmp_path, f"step_{k + 2:08d}.safetensors.shard-0-of-1.{k:016x}", token=f"{k:x}", size=4096)
    unrelated = leftover(tmp_path, "notes.txt")
    checkpoint.CheckpointManager(tmp_path)
    assert sorted(os.listdir(tmp_path)) == sorted(kept + [unrelated])


@pytest.mark.parametrize("operation", ["save", "restore"])
def test_save_and_restore_remove_the_leftovers_of_their_checkpoint(tmp_path, operation):
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, True))
    kept = sorted(os.listdir(tmp_path))
    leftover(tmp_path, "ckpt.safetensors")
    leftover(tmp_path, "ckpt.safetensors.shard-0-of-1.00000000000000ab")
    other = leftover(tmp_path, "other.safetensors")
    if operation == "save":
        checkpoint.save(path, make_states(2, True))
        kept = sorted(n for n in os.listdir(tmp_path) if n != other)
    else:
        checkpoint.restore(path, make_states(2, True))
    assert sorted(os.listdir(tmp_path)) == sorted(kept + [other])


def test_a_manager_save_removes_shard_files_no_step_names(tmp_path):
    manager = checkpoint.CheckpointManager(tmp_path, max_to_keep=None)
    manager.save(1, make_states(1, True))
    manager.save(2, make_states(2, True))
    kept = sorted(os.listdir(tmp_path))
    # A save of step 3 killed after writing its shard file, and one of step 1 killed likewise.
    orphans = ["step_00000003.safetensors.shard-0-of-1.00000000000000aa",
               "step_00000001.safetensors.shard-0-of-1.00000000000000bb"]
    for name in orphans:
        (tmp_path / name).write_bytes(b"orphan")
    manager.restore(make_states(3, True))  # a reader cannot tell them from a save in progress
    assert sorted(os.listdir(tmp_path)) == sorted(kept + orphans)
    manager.save(4, make_states(4, True))
    assert all(name in os.listdir(tmp_path) for name in kept)
    assert not any(name in os.listdir(tmp_path) for name in orphans)
    assert manager.all_steps() == [1, 2, 4]
