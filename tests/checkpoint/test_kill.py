"""Real SIGKILLs of a process overwriting a sharded checkpoint: the previous checkpoint (or, once
the new main file is in place, the new one) restores bit-exactly, and the next save leaves no
file of the killed one behind. `test_commit.py` covers every OS call in-process; here a child
process (`kill_child.py`) dies for real, at chosen steps and, under `slow`, at random moments."""

import json
import os
import random
import signal
import subprocess
import sys

import pytest

from brainstate import checkpoint
from brainstate.checkpoint._storage import read_metadata_unverified
from ckpt_models import assert_same_bits, make_states, snapshot

pytestmark = pytest.mark.skipif(sys.platform == "win32", reason="needs SIGKILL")

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HANG_LIMIT = 600  # seconds; only a hung child hits it (a save takes well under one)
ENV = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, ROOT]), JAX_PLATFORMS="cpu",
           XLA_FLAGS="--xla_force_host_platform_device_count=8")


def committed_files(path):
    """The main file and the shard files it names."""
    names = json.loads(read_metadata_unverified(path).get("shard_names", "[]"))
    return sorted([os.path.basename(path), *names])


def child(path, *args):
    return subprocess.Popen([sys.executable, os.path.join(HERE, "kill_child.py"), path, *args], env=ENV,
                            cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def check_survivor_then_save_again(path, seeds):
    """The checkpoint restores bit-exactly as one of `seeds`; return it. The next save then
    leaves exactly its own files."""
    target = make_states(9, True)
    assert checkpoint.restore(path, target).ok
    found = [seed for seed in seeds if snapshot(target) == snapshot(make_states(seed, True))]
    assert len(found) == 1, f"restored values match none of the seeds {seeds}"
    assert_same_bits(snapshot(target), snapshot(make_states(found[0], True)))
    checkpoint.save(path, make_states(4, True))
    assert sorted(os.listdir(os.path.dirname(path))) == committed_files(path)
    return found[0]


# (os function, file, when) -> (whether the new checkpoint is committed when the process dies,
# whether files of the killed save remain).
POINTS = {
    ("write", "shard", "partial"): (False, True),
    ("replace", "shard", "after"): (False, True),   # the new shard file is complete, no main file names it
    ("write", "main", "partial"): (False, True),
    ("replace", "main", "before"): (False, True),
    ("replace", "main", "after"): (True, True),     # committed; the previous shard file is still there
    ("unlink", "shard", "after"): (True, False),    # the previous shard file is gone: the save was done
}
# One child per point (a new interpreter starting JAX): three run by default, all under `slow`.
DEFAULT = [("write", "shard", "partial"), ("replace", "shard", "after"), ("replace", "main", "after")]


@pytest.mark.parametrize("point", [p if p in DEFAULT else pytest.param(p, marks=pytest.mark.slow) for p in POINTS],
                         ids=["-".join(p) for p in POINTS])
def test_sigkill_during_a_sharded_overwrite(tmp_path, point):
    path = str(tmp_path / "ckpt.safetensors")
    checkpoint.save(path, make_states(1, True))
    proc = child(path, "at", *point)
    out, err = proc.communicate(timeout=HANG_LIMIT)
    assert proc.returncode == -signal.SIGKILL, f"the child was not killed:\n{out}\n{err}"
    committed, leaves_files = POINTS[point]
    left = [n for n in os.listdir(tmp_path) if n not in committed_files(path)]
    assert bool(left) == leaves_files, left  # a temporary or a shard file, which the next save removes
    assert check_survivor_then_save_again(path, [1, 2]) == (2 if committed else 1)


@pytest.mark.slow
def test_sigkill_at_random_moments_of_repeated_overwrites(tmp_path):
    rng = random.Random(0)
    path = str(tmp_path / "ckpt.safetensors")
    survivors = []
    for trial in range(10):
        proc = child(path, "loop")
        assert proc.stdout.readline().strip() == "READY", proc.stderr.read()
        # The moment varies with the machine's speed, and any moment is valid: that is the test.
        proc.stdout.close()
        try:
            proc.wait(timeout=rng.uniform(0, 0.5))
        except subprocess.TimeoutExpired:
            proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=HANG_LIMIT)
        proc.stderr.close()
        assert proc.returncode == -signal.SIGKILL
        survivors.append(check_survivor_then_save_again(path, [2, 3]))
    assert set(survivors) <= {2, 3}
