"""Saves the operating system refuses: a CheckpointWriteError that says which checkpoint, which
file and why, and the previous checkpoint intact with nothing of the failed save left behind."""

import errno
import os
import re
import stat
import sys

import pytest

from brainstate import checkpoint
from brainstate.checkpoint import _commit
from ckpt_models import assert_same_bits, make_states, snapshot

REASONS = {
    errno.ENOSPC: "the device is full",
    errno.EDQUOT: "the disk quota is exhausted",
    errno.EFBIG: r"the file would exceed the largest file size allowed \(the file system's, or this process's "
                 r"RLIMIT_FSIZE",
    errno.EROFS: "the file system is read-only",
    errno.EACCES: "permission was denied",
    errno.EPERM: "the operation is not permitted",
    errno.EIO: "the operating system refused it",
}
INTACT = "The previous checkpoint at this path is intact: nothing it needs was changed"


def refuse_writes(monkeypatch, which, code):
    """Make every os.write to the temporary file of a `which` ('shard' or 'main') file fail."""
    real_open, real_close, real_write = os.open, os.close, os.write
    names = {}

    def open_(path, *args, **kwargs):
        fd = real_open(path, *args, **kwargs)
        names[fd] = os.path.basename(str(path))
        return fd

    def close(fd):
        names.pop(fd, None)
        real_close(fd)

    def write(fd, data):
        name = names.get(fd, "")
        if name.endswith(".tmp") and (".shard-" in name) == (which == "shard"):
            raise OSError(code, os.strerror(code))
        return real_write(fd, data)

    monkeypatch.setattr(os, "open", open_)
    monkeypatch.setattr(os, "close", close)
    monkeypatch.setattr(os, "write", write)


@pytest.fixture
def previous(tmp_path):
    """A sharded checkpoint, its files and its values."""
    path = str(tmp_path / "ckpt.safetensors")
    states = make_states(1, True)
    checkpoint.save(path, states)
    return path, sorted(os.listdir(tmp_path)), snapshot(states)


def assert_intact(path, files, values):
    assert sorted(os.listdir(os.path.dirname(path))) == files  # no temporary file, no new shard file
    target = make_states(3, True)
    assert checkpoint.restore(path, target).ok
    assert_same_bits(snapshot(target), values)


@pytest.mark.parametrize("code", sorted(REASONS), ids=[errno.errorcode[c] for c in sorted(REASONS)])
def test_a_refused_main_file_write_names_the_checkpoint_and_the_reason(previous, monkeypatch, code):
    path, files, values = previous
    with monkeypatch.context() as patch:
        refuse_writes(patch, "main", code)
        expected = (rf"Could not save the checkpoint '{re.escape(path)}': writing the main file 'ckpt.safetensors' "
                    rf"failed because {REASONS[code]}.*\[Errno {code}\] .*{INTACT}")
        with pytest.raises(checkpoint.CheckpointWriteError, match=expected) as info:
            checkpoint.save(path, make_states(2, True))
    err = info.value
    assert isinstance(err, OSError) and isinstance(err, checkpoint.CheckpointError)
    assert (err.errno, err.strerror, err.path) == (code, os.strerror(code), path)
    assert isinstance(err.__cause__, OSError) and err.__cause__.errno == code
    assert ".tmp" not in str(err)  # the hidden temporary file is an implementation detail
    assert_intact(path, files, values)


@pytest.mark.parametrize("new_sharded", [True, False])
def test_a_refused_shard_file_write(previous, monkeypatch, new_sharded):
    path, files, values = previous
    with monkeypatch.context() as patch:
        refuse_writes(patch, "shard", errno.ENOSPC)
        if new_sharded:
            with pytest.raises(checkpoint.CheckpointWriteError,
                               match=rf"writing the shard file 'ckpt.safetensors.shard-0-of-1.[0-9a-f]+' failed "
                                     rf"because the device is full .*{INTACT}"):
                checkpoint.save(path, make_states(2, True))
        else:  # a checkpoint without shard files writes none
            checkpoint.save(path, make_states(2, False))
    if new_sharded:
        assert_intact(path, files, values)
    else:
        assert os.listdir(os.path.dirname(path)) == ["ckpt.safetensors"]


def test_a_first_save_that_fails_says_that_nothing_was_written(tmp_path, monkeypatch):
    path = str(tmp_path / "ckpt.safetensors")
    refuse_writes(monkeypatch, "main", errno.ENOSPC)
    with pytest.raises(checkpoint.CheckpointWriteError,
                       match=r"failed because the device is full .*No checkpoint existed at this path, and none "
                             r"was written. Free some space or save to another disk, then save again"):
        checkpoint.save(path, make_states(1, True))
    assert os.listdir(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="RLIMIT_FSIZE is POSIX")
def test_a_file_size_limit_between_the_shard_and_main_sizes(previous):
    import resource

    path, files, values = previous
    sizes = {name: os.path.getsize(os.path.join(os.path.dirname(path), name)) for name in files}
    limit = 8192  # above the shard file, below the main file: the overwrite fails at its commit
    assert sizes["ckpt.safetensors"] > limit > max(v for k, v in sizes.items() if ".shard-" in k)
    soft, hard = resource.getrlimit(resource.RLIMIT_FSIZE)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, hard))  # Python ignores SIGXFSZ: writes fail with EFBIG
    try:
        with pytest.raises(checkpoint.CheckpointWriteError,
                           match=rf"writing the main file 'ckpt.safetensors' failed because the file would "
                                 rf"exceed the largest file size allowed .*File too large.*{INTACT}"):
            checkpoint.save(path, make_states(2, True))
    finally:
        resource.setrlimit(resource.RLIMIT_FSIZE, (soft, hard))
    assert_intact(path, files, values)


def writes_are_refused(directory):
    """Whether the OS refuses to create a file in `directory` (not for root, whom chmod does not stop)."""
    probe = os.path.join(directory, "probe")
    try:
        with open(probe, "wb"):
            pass
    except PermissionError:
        return True
    os.remove(probe)
    return False


@pytest.mark.skipif(sys.platform == "win32", reason="directory permissions are POSIX")
def test_a_read_only_directory(previous, monkeypatch):
    path, files, values = previous
    directory = os.path.dirname(path)
    os.chmod(directory, stat.S_IRUSR | stat.S_IXUSR)
    try:
        if not writes_are_refused(directory):  # running as root: refuse as the kernel would
            real_open = os.open

            def open_(file, flags, *args, **kwargs):
                if flags & os.O_CREAT and os.path.dirname(os.path.abspath(file)) == directory:
                    raise PermissionError(errno.EACCES, os.strerror(errno.EACCES), file)
                return real_open(file, flags, *args, **kwargs)

            monkeypatch.setattr(os, "open", open_)
        with pytest.raises(checkpoint.CheckpointWriteError,
                           match=rf"'{re.escape(path)}': writing the shard file .* failed because permission was "
                                 rf"denied .*{INTACT}\. Check the directory's permissions, or save elsewhere"):
            checkpoint.save(path, make_states(2, True))
    finally:
        monkeypatch.undo()
        os.chmod(directory, stat.S_IRWXU)
    assert_intact(path, files, values)


@pytest.mark.parametrize("below, code, why", [
    ("sub", errno.ENOTDIR, "a part of the path is a file, not a directory"),
    ("", errno.EEXIST, "the path exists and is not a directory")])
def test_a_directory_that_cannot_be_created(tmp_path, below, code, why):
    (tmp_path / "file").write_bytes(b"")
    path = os.path.join(tmp_path, "file", below, "ckpt.safetensors")
    with pytest.raises(checkpoint.CheckpointWriteError,
                       match=rf"creating the directory '.*file{'/' + below if below else ''}' failed because {why} "
                             rf"\(\[Errno {code}\] .*\)\. No checkpoint existed at this path, and none was "
                             rf"written\. Choose a path made of directories, then save again"):
        checkpoint.save(path, make_states(1, False))


def test_an_error_that_is_not_a_refused_write_propagates_as_it_is(previous, monkeypatch):
    path, files, values = previous

    def broken(*args):
        raise RuntimeError("a bug in the writer")

    monkeypatch.setattr(_commit, "write_checkpoint", broken)
    with pytest.raises(RuntimeError, match="a bug in the writer"):
        checkpoint.save(path, make_states(2, True))
    monkeypatch.undo()
    assert_intact(path, files, values)  # the new shard file was removed all the same


@pytest.mark.parametrize("code, detail", [(errno.ENOSPC, r"the device is full \(\[Errno 28\] No space left"),
                                          (-1, r"of an error in that process that is not a refused write \(see "
                                               r"that process's output\)")])
def test_every_process_reports_a_failure_of_another(tmp_path, monkeypatch, code, detail):
    # The other processes learn only the errno of process 1's failure, through the agreement.
    monkeypatch.setattr(_commit, "_gather_codes", lambda own: [own, code])
    path = str(tmp_path / "ckpt.safetensors")
    undone = []
    with pytest.raises(checkpoint.CheckpointWriteError,
                       match=rf"'{re.escape(path)}': process 1 writing the shard file 'shard-1' failed because "
                             rf"{detail}"):
        _commit._settle(path, lambda i: f"writing the shard file 'shard-{i}'", None, lambda: undone.append(True))
    assert undone == [True]  # this process's own part of the failed save is removed too
