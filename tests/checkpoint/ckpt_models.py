"""Models and comparison helpers shared by the checkpoint tests and their subprocesses.

`make_net(seed)` builds the same structure for every seed with different values, so a net built
with one seed restored from a checkpoint of another must end up bit-identical to it.
`make_states(seed, sharded)` is a smaller dict of states that, with `sharded=True`, are spread
over a 2 x 2 mesh (so a checkpoint of them has shard files), plus one large unsharded state.
"""

import jax
import jax.numpy as jnp
import ml_dtypes
import numpy as np
from jax.sharding import PartitionSpec as P

import brainstate


class Block(brainstate.nn.Module):
    """A sub-module holding a Linear, a state shared with its parent, and odd dtypes."""

    def __init__(self, shared, seed):
        super().__init__()
        self.linear = brainstate.nn.Linear(4, 4)
        self.shared = shared
        self.count = brainstate.ShortTermState(jnp.asarray(np.int32(seed * 7)))
        self.mask = brainstate.State(jnp.asarray(np.array([True, seed % 2 == 0, False])))
        self.half = brainstate.ParamState(jnp.asarray(((np.arange(6.0).reshape(2, 3) + seed) / 7).astype(jnp.bfloat16)))


class Net(brainstate.nn.Module):
    """Nested modules, a list of blocks, shared states, PyTree values, RNG streams, NumPy leaves."""

    def __init__(self, seed):
        super().__init__()
        self.shared = brainstate.ParamState(jnp.asarray(np.full((2,), 0.25 + seed, np.float32)))
        self.blocks = [Block(self.shared, seed), Block(self.shared, seed + 1)]
        self.seq = brainstate.nn.Sequential(brainstate.nn.Linear(4, 4), brainstate.nn.Linear(4, 4))
        self.rng = brainstate.random.RandomState(seed)
        self.typed_key = brainstate.State(jax.random.wrap_key_data(
            jnp.asarray(np.arange(6, dtype=np.uint32).reshape(3, 2) + seed)))
        self.tree = brainstate.LongTermState({
            "a": (jnp.asarray(np.arange(3, dtype=np.float32) * seed), jnp.asarray(np.int8(seed))),
            "b": [jnp.asarray(np.zeros((0, 2), np.float32)), jnp.asarray(np.float16(seed / 3))]})
        self.exotic = brainstate.State({
            "f8": np.array([0.5, seed, -1.5], dtype=ml_dtypes.float8_e4m3fn),
            "i4": np.array([1, -2, seed % 7], dtype=ml_dtypes.int4),
            "c128": np.array([1 + 2j, seed - 1j], dtype=np.complex128),
            "c64": np.array([seed + 0.5j], dtype=np.complex64),
            "u64": np.array([2 ** 63 + seed], dtype=np.uint64),
            "f64": np.array(np.pi * seed, dtype=np.float64),
        })


def make_net(seed: int) -> Net:
    """A Net whose random initial values come from `seed`."""
    brainstate.random.seed(seed)
    return Net(seed)


def make_states(seed: int, sharded: bool) -> dict:
    """States with values drawn from `seed`; with `sharded`, three are spread over a 2 x 2 mesh."""
    rng = np.random.default_rng(seed)
    states = {
        "w": brainstate.ParamState(jnp.asarray(rng.normal(size=(8, 4)), jnp.float32)),
        "half": brainstate.ParamState(jnp.asarray(rng.normal(size=(8,)), jnp.bfloat16)),
        "keys": brainstate.State(jax.random.split(jax.random.key(seed), 4)),
        # Larger than the shard files together, so a file-size limit can fall between them.
        "local": brainstate.State(jnp.asarray(rng.normal(size=(4096,)), jnp.float32)),
    }
    if sharded:
        mesh = jax.sharding.Mesh(np.array(jax.devices()[:4]).reshape(2, 2), ("data", "model"))
        for key, spec in (("w", P("data", "model")), ("half", P("model")), ("keys", P("data"))):
            value = states[key].value
            states[key].value = jax.device_put(value, jax.sharding.NamedSharding(mesh, spec))
    return states


def _bits(x):
    """(dtype name, shape, raw bytes) of a leaf; typed keys compare by their key data."""
    if isinstance(x, jax.Array) and jax.dtypes.issubdtype(x.dtype, jax.dtypes.prng_key):
        return str(x.dtype), x.shape, np.asarray(jax.random.key_data(x)).tobytes()
    arr = np.asarray(x)
    return arr.dtype.name, arr.shape, arr.tobytes()


def snapshot(target) -> dict:
    """Path -> (dtype, shape, bytes) per leaf of every state of a graph."""
    return {path: [_bits(x) for x in jax.tree_util.tree_leaves(state.value)]
            for path, state in brainstate.graph.states(target).items()}


def assert_same_bits(a, b) -> None:
    """Two snapshots hold the same paths with bit-identical leaves (dtype and shape included)."""
    assert list(a) == list(b)
    for path in a:
        assert len(a[path]) == len(b[path]), path
        for (dtype_a, shape_a, bytes_a), (dtype_b, shape_b, bytes_b) in zip(a[path], b[path]):
            assert (dtype_a, shape_a) == (dtype_b, shape_b), path
            np.testing.assert_array_equal(np.frombuffer(bytes_a, np.uint8), np.frombuffer(bytes_b, np.uint8),
                                          err_msg=str(path))
