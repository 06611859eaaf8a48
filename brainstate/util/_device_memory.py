"""`clear_buffer_memory`: free the device memory held by live arrays, optionally compiled code.

Long experiment loops in one process can accumulate device buffers and compiled executables.
This deletes every live array on a platform (any later use of such an array raises) and can
drop JAX's compilation caches. It only uses JAX's public `live_arrays` and `clear_caches`.
"""

from typing import Optional

import jax

__all__ = ["clear_buffer_memory"]


def clear_buffer_memory(platform: Optional[str] = None, array: bool = True, compilation: bool = False) -> None:
    """Delete the device buffers of all live arrays and, optionally, the compilation caches.

    Every array of the platform is invalidated, including those held in States and in the
    default random key; re-create what you still need afterwards.

    Args:
      platform: `'cpu'`, `'gpu'`, `'tpu'`, ...; None means the default backend.
      array: delete the live arrays' buffers.
      compilation: also clear JAX's caches of traced and compiled functions.
    """
    if array:
        for buf in jax.live_arrays(platform):
            buf.delete()
    if compilation:
        jax.clear_caches()
