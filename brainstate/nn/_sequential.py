"""`Sequential`: a chain of layers applied one after another.

Layers are Modules or plain callables of one argument (e.g. `jax.nn.relu`), kept in the list
attribute `layers`, so the states of layer `i` live under the path `('layers', i, ...)`.
"""

from typing import Any, Callable, Iterator, Union

from ._module import Module

__all__ = ["Sequential"]


class Sequential(Module):
    """Apply `first`, then each of `layers`, feeding each output to the next.

    `in_size` is taken from the first layer that has one and `out_size` from the last layer
    that has one, so trailing shape-preserving functions (activations) keep the sizes right.

    Args:
      first: the first layer.
      *layers: the following layers.

    Raises:
      TypeError: if a layer is not callable.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> net = brainstate.nn.Sequential(brainstate.nn.Linear(2, 4), jax.nn.relu, brainstate.nn.Linear(4, 1))
      >>> net(jnp.ones((5, 2))).shape, net.in_size, net.out_size
      ((5, 1), (2,), (1,))
    """

    __module__ = "brainstate.nn"

    def __init__(self, first: Callable, *layers: Callable):
        super().__init__()
        all_layers = (first,) + layers
        for i, layer in enumerate(all_layers):
            if not callable(layer):
                raise TypeError(
                    f"Sequential: layer #{i} ({type(layer).__name__} {layer!r}) is not callable. Every "
                    f"layer must be a Module or a function of one argument.")
        self.layers = list(all_layers)
        in_sizes = [s for s in (getattr(layer, "in_size", None) for layer in self.layers) if s is not None]
        out_sizes = [s for s in (getattr(layer, "out_size", None) for layer in self.layers) if s is not None]
        self.in_size = in_sizes[0] if in_sizes else None
        self.out_size = out_sizes[-1] if out_sizes else None

    def update(self, x: Any) -> Any:
        """Run the layers in order on `x`."""
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, key: Union[int, slice]) -> Any:
        """A layer by index, or a new `Sequential` sharing the sliced layers.

        Raises:
          ValueError: if the slice is empty.
        """
        if isinstance(key, slice):
            layers = self.layers[key]
            if not layers:
                raise ValueError(
                    f"Sequential[{key.start}:{key.stop}:{key.step}] selects no layer out of "
                    f"{len(self.layers)}; a Sequential needs at least one layer.")
            return Sequential(*layers)
        return self.layers[key]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.layers)
