"""`Sequential`: a chain of layers applied one after another.

Layers are Modules, plain callables of one argument (e.g. `jax.nn.relu`), or describers
(`nn.Linear.desc(out_size=5)`, see `brainstate.mixin.ParamDesc`) that are built on the spot
with the size flowing out of the previous layer as their `in_size`. They are kept in the list
attribute `layers`, so the states of layer `i` live under the path `('layers', i, ...)`.

Size chaining: the size leaving a layer is its `out_size` when it has one; element-wise
blocks (`nn.ReLU()`, `nn.Dropout(...)`) and plain functions keep the size they receive; any
other Module without an `out_size` makes the size unknown, and a describer placed after it is
an error (give that Module an `in_size`, or build the next layer yourself).
"""

from typing import Any, Callable, Iterable, Iterator, List, Optional, Sequence, Tuple, Union

from ..mixin import ParamDescriber
from ._elementwise import ElementWiseBlock
from ._module import Module

__all__ = ["Sequential"]

Size = Optional[Tuple[int, ...]]


class Sequential(Module):
    """Apply `first`, then each of `layers`, feeding each output to the next.

    `in_size` is that of the first layer; `out_size` is the size flowing out of the last layer
    (see the module docstring for how sizes flow through element-wise layers and functions).

    Args:
      first: the first layer (a Module, a callable, or a describer whose arguments already
        include its `in_size`).
      *layers: the following layers; a describer is built with `in_size=` the size flowing out
        of the layer before it.

    Raises:
      TypeError: if a layer is neither callable nor a describer, or a describer does not build
        a Module.
      ValueError: if a describer follows a layer whose output size is unknown.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> nn = brainstate.nn
      >>> net = nn.Sequential(nn.Linear(2, 4), jax.nn.relu, nn.Linear.desc(out_size=1))
      >>> net(jnp.ones((5, 2))).shape, net.in_size, net.out_size, net[2].in_size
      ((5, 1), (2,), (1,), (4,))
      >>> net.append(nn.Linear.desc(out_size=3))
      >>> net.out_size
      (3,)
    """

    __module__ = "brainstate.nn"

    def __init__(self, first: Callable, *layers: Callable):
        super().__init__()
        self.layers: List[Any] = []
        if isinstance(first, ParamDescriber):
            first = self._build(first, {}, 0, "no layer before it to take an in_size from")
        self._check_callable(first, 0)
        size = _size_after(first, None)
        built = [first]
        for i, layer in enumerate(layers, start=1):
            layer, size = self._format(layer, size, i, built[-1])
            built.append(layer)
        self.layers = built
        self.in_size = getattr(first, "in_size", None)
        self.out_size = size

    # -- building ---------------------------------------------------------------------------
    def _check_callable(self, layer: Any, i: int) -> None:
        if not callable(layer):
            raise TypeError(
                f"Sequential: layer #{i} ({type(layer).__name__} {layer!r}) is not callable. Every "
                f"layer must be a Module, a function of one argument, or a describer such as "
                f"nn.Linear.desc(out_size=10).")

    def _build(self, desc: ParamDescriber, kwargs: dict, i: int, why_no_size: str) -> Module:
        try:
            layer = desc(**kwargs)
        except TypeError as err:
            raise TypeError(f"Sequential: building layer #{i} from {desc!r} failed ({why_no_size}): {err}") from err
        if not isinstance(layer, Module):
            raise TypeError(f"Sequential: the describer {desc!r} at layer #{i} built a {type(layer).__name__}, "
                            f"not a Module; only Module describers can take an in_size.")
        return layer

    def _format(self, layer: Any, size: Size, i: int, previous: Any) -> Tuple[Any, Size]:
        """Build `layer` if it is a describer; return it and the size flowing out of it."""
        if isinstance(layer, ParamDescriber):
            if size is None:
                raise ValueError(
                    f"Sequential: layer #{i} is a describer ({layer!r}) that needs an in_size, but the "
                    f"output size of layer #{i - 1} ({_short(previous)}) is unknown. Give that layer an "
                    f"in_size (or out_size), or build layer #{i} yourself.")
            layer = self._build(layer, {"in_size": size}, i, f"with in_size={size}")
        self._check_callable(layer, i)
        return layer, _size_after(layer, size)

    # -- editing -----------------------------------------------------------------------------
    def append(self, layer: Callable) -> None:
        """Add `layer` at the end (a describer is built with the current `out_size` as in_size).

        Example:
          >>> import brainstate
          >>> seq = brainstate.nn.Sequential(brainstate.nn.Linear(3, 4))
          >>> seq.append(brainstate.nn.ReLU())
          >>> seq.append(brainstate.nn.Linear.desc(out_size=2))
          >>> len(seq), seq.out_size
          (3, (2,))
        """
        layer, size = self._format(layer, self.out_size, len(self.layers), self.layers[-1])
        self.layers.append(layer)
        self.out_size = size

    def extend(self, layers: Iterable[Callable]) -> None:
        """Append each of `layers` in order; nothing is added if any of them fails to build.

        Example:
          >>> import brainstate
          >>> nn = brainstate.nn
          >>> seq = nn.Sequential(nn.Linear(3, 4))
          >>> seq.extend([nn.Tanh(), nn.Linear.desc(out_size=2)])
          >>> [type(layer).__name__ for layer in seq], seq.out_size
          (['Linear', 'Tanh', 'Linear'], (2,))
        """
        size = self.out_size
        added: List[Callable] = []
        for layer in layers:
            previous = added[-1] if added else self.layers[-1]
            layer, size = self._format(layer, size, len(self.layers) + len(added), previous)
            added.append(layer)
        self.layers.extend(added)
        self.out_size = size

    def insert(self, index: int, layer: Callable) -> None:
        """Insert `layer` before position `index` (`-1`: before the last layer; `len(seq)`: at the end).

        A describer is built with the size flowing into that position (for `index=0`, the
        Sequential's `in_size`). Layers after it are kept as they are; `out_size` is recomputed.

        Raises:
          TypeError: `index` is not an int.
          IndexError: `index` is outside `[-len(seq), len(seq)]`.

        Example:
          >>> import brainstate
          >>> nn = brainstate.nn
          >>> seq = nn.Sequential(nn.Linear(3, 4), nn.Linear(4, 2))
          >>> seq.insert(1, nn.ReLU())
          >>> seq.insert(-1, nn.Linear.desc(out_size=4))
          >>> [type(layer).__name__ for layer in seq]
          ['Linear', 'ReLU', 'Linear', 'Linear']
        """
        if isinstance(index, bool) or not isinstance(index, int):
            raise TypeError(f"Sequential.insert: index must be an int, got {type(index).__name__} {index!r}.")
        n = len(self.layers)
        if not -n <= index <= n:
            raise IndexError(f"Sequential.insert: index {index} is out of range for {n} layers; use an index "
                             f"in [{-n}, {n}] ({n} appends, -1 inserts before the last layer).")
        pos = index + n if index < 0 else index
        if pos == 0:
            if isinstance(layer, ParamDescriber):
                layer = self._build(layer, {} if self.in_size is None else {"in_size": self.in_size}, 0,
                                     "inserted first")
            self._check_callable(layer, 0)
        else:
            layer, _ = self._format(layer, _flowing_size(self.layers, pos), pos, self.layers[pos - 1])
        layers = self.layers[:pos] + [layer] + self.layers[pos:]
        if pos == 0:
            self.in_size = getattr(layer, "in_size", None)
        self.layers = layers
        self.out_size = _flowing_size(layers, len(layers))

    # -- running -----------------------------------------------------------------------------
    def update(self, x: Any) -> Any:
        """Run the layers in order on `x`."""
        for layer in self.layers:
            x = layer(x)
        return x

    def __getitem__(self, key: Union[int, slice, List[int], Tuple[int, ...]]) -> Any:
        """A layer by index, or a new `Sequential` sharing the layers picked by a slice or a list.

        Raises:
          ValueError: if the slice or list selects no layer.
        """
        if isinstance(key, (slice, list, tuple)):
            layers = self.layers[key] if isinstance(key, slice) else [self.layers[k] for k in key]
            if not layers:
                raise ValueError(
                    f"Sequential[{_key_text(key)}] selects no layer out of {len(self.layers)}; a "
                    f"Sequential needs at least one layer.")
            return Sequential(*layers)
        return self.layers[key]

    def __len__(self) -> int:
        return len(self.layers)

    def __iter__(self) -> Iterator[Any]:
        return iter(self.layers)


def _size_after(layer: Any, size: Size) -> Size:
    """The size flowing out of `layer` when `size` flows in."""
    out = getattr(layer, "out_size", None) if isinstance(layer, Module) else None
    if out is not None:
        return tuple(out)
    if isinstance(layer, ElementWiseBlock) or not isinstance(layer, Module):
        return size
    return None


def _flowing_size(layers: Sequence[Any], pos: int) -> Size:
    """The size flowing into `layers[pos]` (out of `layers[:pos]`)."""
    size = getattr(layers[0], "in_size", None)
    for layer in layers[:pos]:
        size = _size_after(layer, size)
    return size


def _short(layer: Any) -> str:
    return type(layer).__name__ if isinstance(layer, Module) else repr(layer)


def _key_text(key: Any) -> str:
    if isinstance(key, slice):
        return f"{key.start}:{key.stop}:{key.step}"
    return repr(list(key))
