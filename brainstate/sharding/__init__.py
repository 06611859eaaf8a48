"""Running models across devices: states laid out on a device mesh with JAX's own machinery.

A state says how its value is split across devices with a `PartitionSpec` (`sharding`
metadata) or with logical axis names (`logical_axes` metadata) that rules map to mesh axes.
`shard_states` places an existing model on a `jax.sharding.Mesh`; `sharded_init` builds a model
with its states created directly in their sharded layout. `brainstate.transform.jit` then keeps
each state in its layout across calls, and `brainstate.checkpoint` saves and restores sharded
states (each process writing its own shards).

Example:
  >>> import brainstate, jax, jax.numpy as jnp
  >>> mesh = jax.make_mesh((1,), ('model',))
  >>> w = brainstate.ParamState(jnp.ones((4, 8)), logical_axes=('in', 'hidden'))
  >>> placed = brainstate.sharding.shard_states([w], mesh, rules={'in': None, 'hidden': 'model'})
  >>> w.sharding.spec
  P(None, 'model')
"""

from ._logical import check_rules as check_rules, logical_to_mesh_axes as logical_to_mesh_axes
from ._placement import get_sharding as get_sharding, has_declared_sharding as has_declared_sharding, \
    resolve_sharding as resolve_sharding, shard_states as shard_states
from ._sharded_init import sharded_init as sharded_init

__all__ = ["check_rules", "logical_to_mesh_axes", "shard_states", "resolve_sharding", "get_sharding",
           "has_declared_sharding", "sharded_init"]
