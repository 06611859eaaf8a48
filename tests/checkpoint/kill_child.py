"""The child process of `test_kill.py` (not a test module itself).

Usage: python kill_child.py <checkpoint path> at <os function> <shard|main> <before|partial|after>
       python kill_child.py <checkpoint path> loop

`at`: overwrite the checkpoint with `make_states(2, sharded=True)` and SIGKILL this process at the
first call of `os.<function>` on a file of that kind (a temporary file for `write`): before the
call runs, after half of a write's bytes, or after the call returned.
`loop`: overwrite it with seeds 2 and 3 in turn, forever, printing READY after the first save; the
parent kills it at a moment of its choosing.
"""

import os
import signal
import sys

from brainstate import checkpoint
from ckpt_models import make_states

path, command = sys.argv[1], sys.argv[2]

if command == "loop":
    states = {seed: make_states(seed, True) for seed in (2, 3)}
    checkpoint.save(path, states[2])
    print("READY", flush=True)
    while True:
        for seed in (3, 2):
            checkpoint.save(path, states[seed])

function, kind, mode = sys.argv[3:6]
real = {name: getattr(os, name) for name in ("open", "close", function)}
names = {}  # file descriptor -> the file's name, for `write`


def is_target(name):
    name = os.path.basename(str(name))
    return (".shard-" in name) == (kind == "shard") and (function != "write" or name.endswith(".tmp"))


def die():
    os.kill(os.getpid(), signal.SIGKILL)


def watched(*args):
    target = is_target(names.get(args[0], "") if function == "write" else args[0])
    if target and mode == "before":
        die()
    if target and mode == "partial":
        real["write"](args[0], bytes(args[1][:len(args[1]) // 2]))
        die()
    result = real[function](*args)
    if target:
        die()
    return result


def open_(file, *args, **kwargs):
    fd = real["open"](file, *args, **kwargs)
    names[fd] = file
    return fd


def close(fd):
    names.pop(fd, None)
    real["close"](fd)


states = make_states(2, True)
os.open, os.close = open_, close
setattr(os, function, watched)
checkpoint.save(path, states)
print("the save finished without reaching the kill point", flush=True)
