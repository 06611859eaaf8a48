import jax.numpy as jnp

import brainstate as bs

from . import Case


def _x(*shape):
    return lambda: (jnp.linspace(-1, 1, int(jnp.prod(jnp.array(shape)))).reshape(shape),)


_ZERO = bs.nn.init.ZeroInit()

CASES = [
    Case("Conv1d", lambda: bs.nn.Conv1d((8, 2), 3, 3, b_init=_ZERO), _x(8, 2)),
    Case("Conv2d", lambda: bs.nn.Conv2d((6, 6, 2), 4, 3, stride=2, b_init=_ZERO), _x(6, 6, 2)),
    Case("Conv3d", lambda: bs.nn.Conv3d((4, 4, 4, 2), 2, 3, padding="VALID"), _x(4, 4, 4, 2)),
    Case("ConvTranspose1d", lambda: bs.nn.ConvTranspose1d((5, 2), 3, 3, stride=2, b_init=_ZERO), _x(5, 2)),
    Case("ConvTranspose2d", lambda: bs.nn.ConvTranspose2d((4, 4, 2), 3, 3, stride=2), _x(4, 4, 2)),
    Case("ConvTranspose3d", lambda: bs.nn.ConvTranspose3d((3, 3, 3, 2), 2, 2, padding="VALID"), _x(3, 3, 3, 2)),
    Case("ScaledWSConv1d", lambda: bs.nn.ScaledWSConv1d((8, 2), 3, 3, b_init=_ZERO), _x(8, 2)),
    Case("ScaledWSConv2d", lambda: bs.nn.ScaledWSConv2d((6, 6, 2), 4, 3, groups=2), _x(6, 6, 2)),
    Case("ScaledWSConv3d", lambda: bs.nn.ScaledWSConv3d((4, 4, 4, 2), 2, 3), _x(4, 4, 4, 2)),
]
