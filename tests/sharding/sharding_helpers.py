"""Meshes over the simulated CPU devices, shared by the sharding tests (imported by name)."""

import jax
import numpy as np
from jax.sharding import AxisType, Mesh


def auto_mesh(shape, names) -> Mesh:
    """A mesh whose axes let XLA choose the layout of intermediate values (`AxisType.Auto`)."""
    devices = np.array(jax.devices()[:int(np.prod(shape))]).reshape(shape)
    return Mesh(devices, names, axis_types=(AxisType.Auto,) * len(names))
