"""Crashes during a save, and damaged files: the last good checkpoint survives, nothing wrong is read."""

import errno
import json
import os
import signal
import subprocess
import sys
import textwrap

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import brainstate
from brainstate import checkpoint
from brainstate.checkpoint import _storage

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))


class SimulatedCrash(Exception):
    """Raised by a patched OS call to stand for the process dying at that point."""


def small(seed):
    return {"w": brainstate.ParamState(jnp.asarray(np.arange(6, dtype=np.float32).reshape(2, 3) + seed)),
            "half": brainstate.State(jnp.asarray(np.array([seed, 0.5], dtype=jnp.bfloat16))),
            "rng": brainstate.random.RandomState(seed)}


def raw(x):
    """The value's bytes; a typed random key compares by its key data."""
    return np.asarray(jax.random.key_data(x) if jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key) else x).tobytes()


def values(target):
    return {k: raw(s.value) for k, s in brainstate.graph.states(target).items()}


def crash_at(monkeypatch, name, call, mode):
    """Make the `call`-th call of `os.<name>` crash: before it runs, after it ran, or (for
    `write`) after writing half of its bytes."""
    real = getattr(os, name)
    count = [0]

    def patched(*args, **kwargs):
        count[0] += 1
        if count[0] != call:
            return real(*args, **kwargs)
        if mode == "partial":
            fd, data = args
            real(fd, bytes(data[:len(data) // 2]))
        elif mode == "after":
            real(*args, **kwargs)
        raise SimulatedCrash(f"crash {mode} os.{name} call {call}")

    monkeypatch.setattr(os, name, patched)


# (os function, which call, when): every step of write_atomic, in order.
STAGES = [
    ("open", 1, "before"),     # creating the temporary file
    ("open", 1, "after"),
    ("write", 1, "partial"),   # half of the bytes written
    ("write", 1, "after"),
    ("fsync", 1, "before"),    # flushing the temporary file
    ("fsync", 1, "after"),
    ("close", 1, "after"),
    ("replace", 1, "before"),  # the rename onto the final name
    ("replace", 1, "after"),
    ("open", 2, "before"),     # opening the directory to flush the rename
    ("fsync", 2, "before"),    # flushing the directory
]


@pytest.mark.parametrize("name,call,mode", STAGES, ids=[f"{n}{c}-{m}" for n, c, m in STAGES])
def test_interrupted_save_keeps_last_good_checkpoint(tmp_path, monkeypatch, name, call, mode):
    path = str(tmp_path / "ckpt.safetensors")
    old, new = small(1), small(2)
    checkpoint.save(path, old)
    with monkeypatch.context() as patch:
        crash_at(patch, name, call, mode)
        with pytest.raises(SimulatedCrash, match=f"os.{name} call {call}"):
            checkpoint.save(path, new)
    renamed = name == "replace" and mode == "after" or call == 2
    target = small(3)
    assert checkpoint.restore(path, target).ok
    assert values(target) == values(new if renamed else old)
    # A crash between the temporary file's creation and `os.open` returning its descriptor leaves
    # the file behind (like a kill); the restore removed it, as this process no longer writes it.
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]


@pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")
def test_killed_save_leaves_previous_step_readable(tmp_path):
    manager = checkpoint.CheckpointManager(str(tmp_path), max_to_keep=3)
    manager.save(1, small(1))
    script = textwrap.dedent(f"""
        import os, signal
        import brainstate
        from brainstate import checkpoint
        from test_faults import small
        real_open, real_write, temp_fds = os.open, os.write, set()
        def open_and_note_temp(path, *args, **kwargs):
            fd = real_open(path, *args, **kwargs)
            if str(path).endswith(".tmp"):
                temp_fds.add(fd)
            return fd
        def write_half_then_die(fd, data):
            if fd not in temp_fds:
                return real_write(fd, data)
            real_write(fd, bytes(data[:len(data) // 2]))
            os.kill(os.getpid(), signal.SIGKILL)
        os.open, os.write = open_and_note_temp, write_half_then_die
        print(os.getpid(), flush=True)
        checkpoint.CheckpointManager({str(tmp_path)!r}, max_to_keep=3).save(2, small(2))
    """)
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, ROOT]), JAX_PLATFORMS="cpu")
    result = subprocess.run([sys.executable, "-c", script], env=env, cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == -signal.SIGKILL, result.stderr
    leftovers = [n for n in os.listdir(tmp_path) if n.endswith(".tmp")]
    assert len(leftovers) == 1 and f"~{int(result.stdout)}~" in leftovers[0]  # the child's partial file
    assert manager.all_steps() == [1] and manager.latest_step() == 1
    target = small(3)
    assert manager.restore(target).ok
    assert values(target) == values(small(1))
    assert os.listdir(tmp_path) == ["step_00000001.safetensors"]  # its writer is gone: removed


# -- damaged files -----------------------------------------------------------------------------
@pytest.fixture
def saved(tmp_path):
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, small(1))
    with open(path, "rb") as f:
        return path, f.read()


def test_truncated_file_names_the_file(saved):
    path, data = saved
    header = 8 + int.from_bytes(data[:8], "little")
    for length in sorted({0, 4, 8, 9, header // 2, header, header + 3, len(data) - 1}):
        with open(path, "wb") as f:
            f.write(data[:length])
        target = small(3)
        before = values(target)
        with pytest.raises(checkpoint.CheckpointError, match=r"ckpt.safetensors' is truncated or corrupted"):
            checkpoint.restore(path, target)
        assert values(target) == before


def test_appended_bytes_are_refused(saved):
    path, data = saved
    with open(path, "wb") as f:
        f.write(data + b"\0\0\0\0")
    with pytest.raises(checkpoint.CheckpointError, match=r"is truncated or corrupted"):
        checkpoint.load(path)


def test_flipped_data_byte_fails_the_checksum(saved):
    path, data = saved
    with open(path, "wb") as f:
        f.write(data[:-3] + bytes([data[-3] ^ 0x10]) + data[-2:])
    target = small(3)
    before = values(target)
    with pytest.raises(checkpoint.CheckpointError, match=r"ckpt.safetensors' is truncated or corrupted: its checksum"):
        checkpoint.restore(path, target)
    assert values(target) == before


def test_any_flipped_bit_gives_an_error_or_the_exact_values(saved):
    # The smallest change, one low bit, is the one most likely to slip past validation (a digit
    # of a shape, a dtype name, an offset): try it at every byte of the file.
    path, data = saved
    expected = {k: raw(v) for k, v in checkpoint.load(path).values.items()}
    errors = 0
    with open(path, "r+b") as f:
        for i in range(len(data)):
            f.seek(i)
            f.write(bytes([data[i] ^ 0x01]))
            f.flush()
            try:
                loaded = checkpoint.load(path)
            except checkpoint.CheckpointError as err:
                assert "ckpt.safetensors" in str(err)
                errors += 1
            else:  # only a flip that changes nothing meaningful (JSON padding) may load
                assert {k: raw(v) for k, v in loaded.values.items()} == expected, i
            f.seek(i)
            f.write(data[i:i + 1])
    assert errors >= len(data) - 8  # all but the header's padding spaces


# -- files that are not (readable) checkpoints -------------------------------------------------
def test_missing_file(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match=r"There is no checkpoint file at .*nothing.safetensors"):
        checkpoint.restore(str(tmp_path / "nothing.safetensors"), small(0))


@pytest.mark.skipif(sys.platform == "win32", reason="reading a directory raises PermissionError there")
def test_directory_instead_of_file(tmp_path):
    with pytest.raises(checkpoint.CheckpointError, match=r"is a directory, not a checkpoint file"):
        checkpoint.load(str(tmp_path))


def test_foreign_safetensors_file(tmp_path):
    import safetensors.numpy

    path = str(tmp_path / "other.safetensors")
    safetensors.numpy.save_file({"w": np.ones(2, np.float32)}, path)
    with pytest.raises(checkpoint.CheckpointError, match=r"is a safetensors file but not a brainstate checkpoint"):
        checkpoint.load(path)


def test_newer_format_version(tmp_path, monkeypatch):
    path = str(tmp_path / "new.safetensors")
    monkeypatch.setattr(_storage, "FORMAT_VERSION", "99")
    checkpoint.save(path, small(0))
    monkeypatch.undo()
    with pytest.raises(checkpoint.CheckpointError, match=r"uses checkpoint format version '99'"):
        checkpoint.load(path)


def test_inconsistent_metadata(tmp_path):
    path = str(tmp_path / "odd.safetensors")
    states = {"w": {"kind": "State", "leaves": [{"key": "", "tensor": "w", "dtype": "float32", "shape": [3],
                                                  "encoding": "raw"}]}}
    _storage.write_checkpoint(path, {"w": np.ones(2, np.float32)}, {"states": json.dumps(states)})
    with pytest.raises(checkpoint.CheckpointError, match=r"has inconsistent metadata .*'w' does not match"):
        checkpoint.load(path)


def test_unreadable_file_names_the_file_and_the_reason(saved, monkeypatch):
    path, _ = saved

    def refused(file, mode="r"):  # as for a file without read permission (root reads those anyway)
        raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), file)

    monkeypatch.setattr(_storage, "open", refused, raising=False)
    with pytest.raises(checkpoint.CheckpointError,
                       match=r"Could not read the checkpoint file '.*ckpt.safetensors': Permission denied\. Check its "
                             r"permissions and the disk"):
        checkpoint.load(path)
