"""One of the two processes of `test_multiprocess.py` (not a test module itself).

Usage: python multiprocess_worker.py <process id> <port> <checkpoint path>

Joins the other process with `jax.distributed.initialize` on 127.0.0.1:<port> (loopback only),
trains `multiprocess_case.Regressor` data-parallel over the global mesh of 4 CPU devices (2 per
process), saves a checkpoint (each process writes its own shards), trains on and tries to save
again while process 1's disk is full (an injected ENOSPC), and prints one line `RESULT {json}`
with its losses, parameters, the gathered per-example state and the error of the failed save.
"""

import errno
import json
import os
import sys

process_id, port, checkpoint_path = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
os.environ["XLA_FLAGS"] = "--xla_force_host_platform_device_count=2"
os.environ["JAX_PLATFORMS"] = "cpu"

import jax  # noqa: E402

jax.config.update("jax_cpu_collectives_implementation", "gloo")
# Every time limit is a bound against hangs only (far above JAX's defaults): loaded machines are fine.
jax.distributed.initialize(coordinator_address=f"127.0.0.1:{port}", num_processes=2, process_id=process_id,
                           initialization_timeout=600, heartbeat_timeout_seconds=600,
                           shutdown_timeout_seconds=600)

import numpy as np  # noqa: E402
from jax.experimental import multihost_utils  # noqa: E402
from jax.sharding import AxisType, NamedSharding, PartitionSpec as P  # noqa: E402

import brainstate as bs  # noqa: E402
from brainstate import checkpoint  # noqa: E402
from multiprocess_case import make_model, parameters, run  # noqa: E402

assert jax.process_count() == 2 and jax.device_count() == 4 and jax.local_device_count() == 2
mesh = jax.make_mesh((4,), ("data",), axis_types=(AxisType.Auto,))
model = make_model()
bs.sharding.shard_states(model, mesh)  # parameters replicated, `seen` split over 'data'


def put(batch):  # every process holds the whole batch here; each device receives its rows
    return jax.make_array_from_callback(batch.shape, NamedSharding(mesh, P("data")), lambda index: batch[index])


losses = run(model, put)
kept = all(bs.sharding.has_declared_sharding(s) for s in bs.graph.states(model).values())
# Parameters are replicated: this process's first shard is the whole value.
params = parameters(model, lambda x: np.asarray(x.addressable_shards[0].data))
seen = np.asarray(multihost_utils.process_allgather(model.seen.value, tiled=True))
checkpoint.save(checkpoint_path, model)

run(model, put)  # new values, then a save that process 1 cannot write: the first checkpoint stays
real_write = os.write


def disk_full(fd, data):
    if jax.process_index() == 1 and ".shard-1-of-2." in os.readlink(f"/proc/self/fd/{fd}"):
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
    return real_write(fd, data)


os.write = disk_full
try:
    checkpoint.save(checkpoint_path, model)
    failed_save = None
except checkpoint.CheckpointWriteError as err:
    failed_save = {"message": str(err), "errno": err.errno}
os.write = real_write
print("RESULT " + json.dumps({"process": jax.process_index(), "losses": losses, "kept_sharding": kept,
                              "params": {k: v.tolist() for k, v in params.items()}, "seen": seen.tolist(),
                              "failed_save": failed_save}),
      flush=True)
jax.distributed.shutdown()
