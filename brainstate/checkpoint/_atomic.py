"""Durable, atomic file writes, and the removal of temporary files that crashed writers left.

`write_atomic(path, data)` writes the bytes to a temporary file in the destination's directory,
flushes it to disk (`fsync`), renames it onto `path` with `os.replace` (atomic on POSIX and
Windows) and flushes the directory, so that the rename itself survives a power cut. Whatever
happens, `path` holds either its previous content or all of `data`, never a mixture.

Temporary files are named after their writer:

    .<final name>~<host>~<pid>~<random hex>.tmp

A writer killed mid-write (kill -9, a power cut, the OOM killer) cannot remove its temporary
file; `remove_leftovers(directory, owns)` does it later, for the temporary files whose writer is
gone. A writer is gone when it ran on this host and no process with its pid exists any more, or
when it is this very process and none of its saves is writing the file (the process survived a
failure whose clean-up failed too). Temporary files of live processes and of other hosts are
never touched, so a reader or a writer sweeping a directory cannot break a save in progress.
The assumptions: one pid namespace per host name (a container sharing a directory with its host
under the same host name is not supported), and pid reuse only delays a removal. On Windows,
where a process cannot be probed without side effects, every writer counts as alive.
"""

import os
import re
import secrets
import socket
import sys
import threading
from typing import Callable, List, Set

__all__ = ["write_atomic", "fsync_directory", "remove_quietly", "temp_name", "remove_leftovers",
           "TEMP_FILE"]

# The host name as it appears in temporary names: the characters host names may hold.
_HOST = re.sub(r"[^A-Za-z0-9.-]", "_", socket.gethostname()) or "localhost"

# '<final>' is greedy so that a final name holding '~' still parses: the last three fields are the writer's.
TEMP_FILE = re.compile(r"^\.(?P<final>.+)~(?P<host>[A-Za-z0-9._-]+)~(?P<pid>\d+)~(?P<token>[0-9a-f]+)\.tmp$")

# The temporary files this process is writing right now (absolute paths); guarded by `_LOCK`.
_WRITING: Set[str] = set()
_LOCK = threading.Lock()


def temp_name(path: str) -> str:
    """A fresh temporary file name for `path`, in its directory, naming this host and process."""
    directory, base = os.path.split(os.path.abspath(path))
    return os.path.join(directory, f".{base}~{_HOST}~{os.getpid()}~{secrets.token_hex(4)}.tmp")


def fsync_directory(directory: str) -> None:
    """Flush a directory entry to disk; skipped where directories cannot be opened (Windows)."""
    try:
        fd = os.open(directory, os.O_RDONLY | getattr(os, "O_DIRECTORY", 0))
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass  # some file systems refuse to fsync a directory; the rename is still atomic
    finally:
        os.close(fd)


def remove_quietly(path: str) -> bool:
    """Remove a file if it can be removed; True if it is gone afterwards."""
    try:
        os.unlink(path)
    except FileNotFoundError:
        return True
    except OSError:
        return False  # a read-only directory, say: the file stays a leftover until next time
    return True


def write_atomic(path: str, data: bytes) -> None:
    """Write `data` to `path` so that `path` holds either its old content or all of `data`.

    Raises:
      OSError: the write failed (a full disk, a read-only directory, a file-size limit); `path`
        is unchanged then and the temporary file is removed.
    """
    directory = os.path.dirname(os.path.abspath(path))
    tmp = temp_name(path)
    with _LOCK:
        _WRITING.add(tmp)
    try:
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        fd = os.open(tmp, flags, 0o666)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            remove_quietly(tmp)
            raise
    finally:
        with _LOCK:
            _WRITING.discard(tmp)
    fsync_directory(directory)


def _writer_gone(host: str, pid: int, tmp: str) -> bool:
    """Whether the process that named a temporary file can no longer be writing it."""
    if host != _HOST or sys.platform == "win32":  # on Windows os.kill(pid, 0) would end the process
        return False
    if pid == os.getpid():
        with _LOCK:
            return tmp not in _WRITING
    try:
        os.kill(pid, 0)  # signal 0 only asks whether the process exists
    except ProcessLookupError:
        return True
    except OSError:
        return False  # it exists under another user (EPERM), or cannot be probed
    return False


def remove_leftovers(directory: str, owns: Callable[[str], bool]) -> List[str]:
    """Remove the temporary files in `directory` whose writer is gone and whose final name
    satisfies `owns`; return the paths removed."""
    try:
        names = os.listdir(directory)
    except OSError:
        return []
    removed = []
    for name in names:
        match = TEMP_FILE.match(name)
        if match is None or not owns(match.group("final")):
            continue
        tmp = os.path.join(os.path.abspath(directory), name)
        if _writer_gone(match.group("host"), int(match.group("pid")), tmp) and remove_quietly(tmp):
            removed.append(tmp)
    return removed
