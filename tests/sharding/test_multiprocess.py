"""Two processes on this machine join through jax.distributed, train data-parallel and agree.

Each process simulates 2 CPU devices, so the global mesh has 4. The processes talk over the
loopback address only. Nothing here depends on the machine's speed: the only time limit is a
bound against hangs, far above what the slowest shared machine needs.
"""

import errno
import json
import os
import re
import socket
import subprocess
import sys

import jax
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import brainstate as bs
from brainstate import checkpoint
from brainstate.checkpoint._storage import read_metadata_unverified
from sharding_helpers import auto_mesh
from multiprocess_case import make_model, parameters, run

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
HANG_LIMIT = 900  # seconds for each process; only a hang (a lost peer, a deadlock) comes near it


def free_loopback_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run_two_processes(checkpoint_path: str):
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([HERE, ROOT, os.environ.get("PYTHONPATH", "")]))
    port = free_loopback_port()
    procs = [subprocess.Popen([sys.executable, os.path.join(HERE, "multiprocess_worker.py"), str(i), str(port),
                               checkpoint_path], cwd=HERE, env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.STDOUT, text=True) for i in range(2)]
    outputs = []
    try:
        for proc in procs:
            outputs.append(proc.communicate(timeout=HANG_LIMIT)[0])
    except subprocess.TimeoutExpired:
        for proc in procs:
            proc.kill()
        logs = [proc.communicate()[0] for proc in procs]
        pytest.fail(f"the two processes hung (still running after {HANG_LIMIT} s); output:\n" + "\n---\n".join(logs))
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    results = []
    for proc, out in zip(procs, outputs):
        lines = [line for line in out.splitlines() if line.startswith("RESULT ")]
        assert proc.returncode == 0 and lines, f"a process failed (exit code {proc.returncode}):\n{out}"
        results.append(json.loads(lines[-1][len("RESULT "):]))
    return results


def test_two_processes_train_data_parallel_and_agree(tmp_path):
    path = str(tmp_path / "ckpt.safetensors")
    results = first, second = run_two_processes(path)

    reference = make_model(layout=False)  # the same training on one device of this process
    losses = run(reference)
    ref_params = parameters(reference)

    assert (first["process"], second["process"]) == (0, 1)
    assert first["kept_sharding"] and second["kept_sharding"]
    assert first["losses"] == second["losses"]  # both print the same result
    assert_allclose(first["losses"], losses, rtol=1e-5)
    for key, value in ref_params.items():
        assert_array_equal(first["params"][key], second["params"][key])
        assert_allclose(first["params"][key], value, rtol=1e-5, atol=1e-5)
    assert_allclose(first["seen"], np.asarray(reference.seen.value), rtol=1e-5, atol=1e-5)

    # The second save failed in every process, for process 1's full disk, and left nothing.
    assert first["failed_save"]["errno"] == second["failed_save"]["errno"] == errno.ENOSPC
    shard_1 = r"writing the shard file 'ckpt.safetensors.shard-1-of-2.[0-9a-f]+' failed because the device is full"
    assert re.search(rf"'{re.escape(path)}': process 1 {shard_1}", first["failed_save"]["message"])
    assert re.search(rf"'{re.escape(path)}': {shard_1}", second["failed_save"]["message"])
    assert all("The previous checkpoint at this path is intact" in r["failed_save"]["message"] for r in results)

    # The checkpoint of the first save holds pieces from both processes; restore it onto this
    # process's 8 devices.
    save_id = read_metadata_unverified(path)["save_id"]
    assert sorted(os.listdir(tmp_path)) == ["ckpt.safetensors", f"ckpt.safetensors.shard-0-of-2.{save_id}",
                                            f"ckpt.safetensors.shard-1-of-2.{save_id}"]
    target = make_model()
    bs.sharding.shard_states(target, auto_mesh((8,), ("data",)))
    assert checkpoint.restore(path, target).ok
    for key, value in parameters(target).items():
        assert_allclose(value, first["params"][key], rtol=0, atol=0)
    assert_allclose(np.asarray(target.seen.value), first["seen"], rtol=0, atol=0)
    assert bs.sharding.has_declared_sharding(target.seen)
