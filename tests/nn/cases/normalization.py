"""Conformance cases of the normalization layers (`brainstate/nn/_normalization.py`).

BatchNorm reads `environ` `fit`, so its cases call it through `FitMode`, a wrapper that sets
`fit=True` around the call. Under vmap a BatchNorm with `axis_name` is mapped with the same
name: its statistics are those of the whole mapped batch, so its running statistics stay
unbatched and need no `out_states`.
"""

import jax.numpy as jnp
import numpy as np

import brainstate as bs

from . import Case


class FitMode(bs.nn.Module):
    """Call `layer` with `environ` `fit` set to `fit`."""

    def __init__(self, layer, fit=True):
        super().__init__()
        self.layer, self.fit = layer, fit

    def update(self, *args, **kwargs):
        with bs.environ.context(fit=self.fit):
            return self.layer(*args, **kwargs)


def _x(*shape):
    return lambda: (jnp.sin(jnp.arange(int(np.prod(shape)), dtype=jnp.float32)).reshape(shape),)


_BN = {"BatchNorm0d": (4,), "BatchNorm1d": (5, 4), "BatchNorm2d": (3, 3, 4), "BatchNorm3d": (2, 3, 2, 4)}


def _bn_case(name):
    in_size = _BN[name]
    cls = getattr(bs.nn, name)

    def vmap(layer, batched):
        bn = FitMode(cls(in_size, axis_name="batch"))
        out = bs.transform.vmap(lambda x: bn(x), axis_name="batch")(*batched)
        assert bn.layer.running_mean.value.shape == bn.layer.param_shape
        return out

    def vmap_reference(batched):
        # Statistics over the mapped axis and each lane's own batch: BatchNorm of all samples at once.
        x, = batched
        return FitMode(cls(in_size))(x.reshape((-1,) + x.shape[2:])).reshape(x.shape)

    return Case(name, lambda: FitMode(cls(in_size)), _x(2, *in_size), vmap=vmap, vmap_reference=vmap_reference)


CASES = [_bn_case(name) for name in _BN] + [
    Case("LayerNorm", lambda: bs.nn.LayerNorm((3, 4)), _x(2, 3, 4)),
    Case("RMSNorm", lambda: bs.nn.RMSNorm(4), _x(3, 4)),
    Case("GroupNorm", lambda: bs.nn.GroupNorm((3, 6), num_groups=3), _x(2, 3, 6)),
]
