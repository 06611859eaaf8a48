"""`Module`: the base class of models, a `graph.Node` with a call convention.

A Module's States and sub-modules are just its attributes: anything assigned at any time is
found by the graph walk, with no registration step. `module(x)` forwards to `module.update(x)`.
Queries (`states`, `nodes`, `children`, `modules`, `parameters`) are thin views over
`brainstate.graph`, so they report every object once, under its first path in sorted order.

Names built from paths (`named_children`, `named_modules`, `named_parameters`) join the path
elements with '.', e.g. `'layers.0.weight'`.

The parameter-model queries (`param_modules`, `named_param_modules`, `reg_loss`,
`param_precompute`) find the `nn.Param` sub-modules; `Param` is imported on use because it is
itself a Module (defined on top of this file).
"""

import contextlib
import functools
from typing import Any, Iterator, Literal, Optional, Sequence, Tuple, Union, overload

import numpy as np

from .._state import ParamState, initialisation
from .. import graph
from ..mixin import ParamDesc
from ..graph._walk import MAX_LEVEL
from ..util._dicts import FlattedDict, NestedDict

__all__ = ["Module"]

Size = Union[int, Sequence[int]]


def _to_size(size: Any, what: str, owner: str) -> Optional[Tuple[int, ...]]:
    """Normalise a size: None stays None, an int becomes `(int,)`, a sequence a tuple of ints."""
    if size is None:
        return None
    if isinstance(size, (int, np.integer)) and not isinstance(size, bool):
        return (int(size),)
    if isinstance(size, (tuple, list)) and all(isinstance(s, (int, np.integer)) for s in size):
        return tuple(int(s) for s in size)
    raise TypeError(
        f"{owner}: {what} must be an int, a sequence of ints or None, got {size!r}. "
        f"For example {what}=10 or {what}=(28, 28).")


def _join(prefix: str, path: Tuple[Any, ...]) -> str:
    # map(str, ...) runs in C: the names of a deep chain hold millions of path elements together.
    return ".".join([prefix, *map(str, path)] if prefix else map(str, path))


def _initialising(method):
    @functools.wraps(method)
    def wrapper(self, *args: Any, **kwargs: Any) -> Any:
        with initialisation():
            return method(self, *args, **kwargs)

    wrapper._initialising = True  # type: ignore[attr-defined]
    return wrapper


class Module(graph.Node, ParamDesc):
    """Base class of models: holds States and sub-modules as attributes.

    Every Module class is a `brainstate.mixin.ParamDesc`: `Layer.desc(...)` records the class
    and some of its arguments, to build it later (e.g. inside `nn.Sequential`, which supplies
    `in_size`). `x >> module` is `module(x)`.

    Args:
      name: optional name, used in error messages and printing; read-only afterwards.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Counter(brainstate.nn.Module):
      ...     def __init__(self):
      ...         super().__init__()
      ...         self.count = brainstate.ShortTermState(jnp.zeros(()))
      ...     def update(self):
      ...         self.count.value += 1
      ...         return self.count.value
      >>> c = Counter()
      >>> float(c())
      1.0
    """

    __module__ = "brainstate.nn"

    # Class-level defaults so subclasses that skip `super().__init__()` still work.
    _name: Optional[str] = None
    _in_size: Optional[Tuple[int, ...]] = None
    _out_size: Optional[Tuple[int, ...]] = None

    def __init__(self, name: Optional[str] = None):
        if name is not None and not isinstance(name, str):
            raise TypeError(
                f"{type(self).__name__}: name must be a string or None, got {type(name).__name__} "
                f"{name!r}. Pass e.g. name='encoder'.")
        self._name = name

    @property
    def name(self) -> Optional[str]:
        """The module's name (read-only)."""
        return self._name

    @property
    def in_size(self) -> Optional[Tuple[int, ...]]:
        """The input shape without batch dimensions, as a tuple (None if unknown)."""
        return self._in_size

    @in_size.setter
    def in_size(self, size: Optional[Size]) -> None:
        self._in_size = _to_size(size, "in_size", self._label())

    @property
    def out_size(self) -> Optional[Tuple[int, ...]]:
        """The output shape without batch dimensions, as a tuple (None if unknown)."""
        return self._out_size

    @out_size.setter
    def out_size(self, size: Optional[Size]) -> None:
        self._out_size = _to_size(size, "out_size", self._label())

    def _fixed_size(self, which: Literal["in_size", "out_size"]) -> Tuple[int, ...]:
        """`self.in_size` or `self.out_size`, for layers whose shape is fixed when they are built.

        The attributes are Optional because shape-agnostic modules (activations, containers)
        leave them None; a fixed-size layer reads them through here, which fails loudly when
        a subclass forgot to set them.
        """
        size = self._in_size if which == "in_size" else self._out_size
        if size is None:
            raise ValueError(
                f"{self._label()} needs a fixed {which}, but its {which} is None. Pass {which} when "
                f"building it (e.g. {which}=10), or, in a subclass, set `self.{which}` in `__init__` "
                f"before it is used.")
        return size

    def _label(self) -> str:
        """How error messages name this module: `Type` or `Type('name')`."""
        return f"{type(self).__name__}({self._name!r})" if self._name else type(self).__name__

    def _repr_fields(self):
        head = [(k, getattr(self, k)) for k in ("name", "in_size", "out_size") if getattr(self, k) is not None]
        return head + super()._repr_fields()

    # -- calling -------------------------------------------------------------------------------
    def update(self, *args: Any, **kwargs: Any) -> Any:
        """One step of the module; subclasses override it. `module(...)` calls this."""
        raise NotImplementedError(
            f"{self._label()} does not define `update`, so it cannot be called. Subclasses "
            f"implement `update(self, ...)`; `module(x)` forwards to `module.update(x)`.")

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        return self.update(*args, **kwargs)

    def __rrshift__(self, other: Any) -> Any:
        """`x >> module` calls `module(x)`, so pipelines read left to right.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> nn = brainstate.nn
          >>> layer = nn.Linear(2, 3, w_init=jnp.ones((2, 3)))
          >>> (jnp.array([1.0, -2.0]) >> layer >> nn.ReLU()).tolist()
          [0.0, 0.0, 0.0]
        """
        return self(other)

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        # Writes made while (re)initialising may give a state a new shape or batch size (eagerly;
        # inside a transform the write check stays absolute).
        for name in ("init_state", "reset_state"):
            method = cls.__dict__.get(name)
            if method is not None and not getattr(method, "_initialising", False):
                setattr(cls, name, _initialising(method))

    def init_state(self, *args: Any, **kwargs: Any) -> None:
        """Create the module's short-term states (no-op by default; see `nn.init_all_states`)."""

    def reset_state(self, *args: Any, **kwargs: Any) -> None:
        """Reset the module's short-term states (no-op by default; see `nn.reset_all_states`)."""

    # -- graph queries -------------------------------------------------------------------------
    def init_all_states(self, *args: Any, **kwargs: Any) -> "Module":
        """`init_state` on this module and every sub-module (see `brainstate.nn.init_all_states`)."""
        from ._collective import init_all_states

        return init_all_states(self, *args, **kwargs)

    def reset_all_states(self, *args: Any, **kwargs: Any) -> "Module":
        """`reset_state` on this module and every sub-module (see `brainstate.nn.reset_all_states`)."""
        from ._collective import reset_all_states

        return reset_all_states(self, *args, **kwargs)

    # The overloads mirror `graph.states`: one dict for no or one filter, a tuple for several.
    @overload
    def states(self, /, *, allowed_hierarchy: Tuple[int, int] = ...) -> FlattedDict: ...
    @overload
    def states(self, filter: Any, /, *, allowed_hierarchy: Tuple[int, int] = ...) -> FlattedDict: ...
    @overload
    def states(self, filter1: Any, filter2: Any, /, *filters: Any,
               allowed_hierarchy: Tuple[int, int] = ...) -> Tuple[FlattedDict, ...]: ...

    def states(self, *filters: Any,
               allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Union[FlattedDict, Tuple[FlattedDict, ...]]:
        """This module's States and its sub-modules', keyed by path (see `graph.states`)."""
        return graph.states(self, *filters, allowed_hierarchy=allowed_hierarchy)

    @overload
    def state_trees(self, /) -> NestedDict: ...
    @overload
    def state_trees(self, filter: Any, /) -> NestedDict: ...
    @overload
    def state_trees(self, filter1: Any, filter2: Any, /, *filters: Any) -> Tuple[NestedDict, ...]: ...

    def state_trees(self, *filters: Any) -> Union[NestedDict, Tuple[NestedDict, ...]]:
        """Snapshots (`TreefyState`) of this module's States, nested by path (see
        `graph.treefy_states`).

        With filters, one nested dict per filter (a tuple when there are several). A snapshot
        does not follow later writes to the live State.

        Example:
          >>> import brainstate
          >>> net = brainstate.nn.Sequential(brainstate.nn.Linear(2, 3))
          >>> tree = net.state_trees(brainstate.ParamState)
          >>> tree['layers'][0]['weight'].value['weight'].shape
          (2, 3)
          >>> type(brainstate.nn.Linear(2, 3).state_trees().weight).__name__
          'TreefyState'
        """
        return graph.treefy_states(self, *filters)

    @overload
    def nodes(self, /, *, allowed_hierarchy: Tuple[int, int] = ...) -> FlattedDict: ...
    @overload
    def nodes(self, filter: Any, /, *, allowed_hierarchy: Tuple[int, int] = ...) -> FlattedDict: ...
    @overload
    def nodes(self, filter1: Any, filter2: Any, /, *filters: Any,
              allowed_hierarchy: Tuple[int, int] = ...) -> Tuple[FlattedDict, ...]: ...

    def nodes(self, *filters: Any,
              allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Union[FlattedDict, Tuple[FlattedDict, ...]]:
        """This module and every graph node under it, keyed by path (see `graph.nodes`)."""
        return graph.nodes(self, *filters, allowed_hierarchy=allowed_hierarchy)

    def named_children(self) -> Iterator[Tuple[str, "Module"]]:
        """`(name, module)` for each direct sub-module, also those inside lists and dicts."""
        for path, node in graph.iter_node(self, allowed_hierarchy=(1, 1)):
            if isinstance(node, Module):
                yield _join("", path), node

    def children(self) -> Iterator["Module"]:
        """The direct sub-modules."""
        return (m for _, m in self.named_children())

    def named_modules(self, prefix: str = "", include_self: bool = True) -> Iterator[Tuple[str, "Module"]]:
        """`(name, module)` for every sub-module and this module (named `prefix`), children before
        their parents, this module last (the order of `graph.iter_node`)."""
        for path, node in graph.iter_node(self):
            if isinstance(node, Module) and (path or include_self):
                yield _join(prefix, path), node

    def modules(self, include_self: bool = True) -> Iterator["Module"]:
        """Every sub-module and this module, children before their parents (this module last)."""
        return (m for _, m in self.named_modules(include_self=include_self))

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[Tuple[str, ParamState]]:
        """`(name, ParamState)` pairs; with `recurse=False`, only this module's own."""
        hierarchy = (0, MAX_LEVEL if recurse else 0)
        for path, state in graph.states(self, ParamState, allowed_hierarchy=hierarchy).items():
            yield _join(prefix, path), state

    def parameters(self, recurse: bool = True) -> Iterator[ParamState]:
        """The `ParamState`s of this module (and, with `recurse`, of its sub-modules)."""
        return (p for _, p in self.named_parameters(recurse=recurse))

    # -- the parameter model (nn.Param) --------------------------------------------------------
    def named_param_modules(self, allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Iterator[Tuple[str, Any]]:
        """`(name, Param)` for every `nn.Param` in this module (itself included, named `''`).

        Example:
          >>> import brainstate
          >>> class Cell(brainstate.nn.Module):
          ...     def __init__(self):
          ...         super().__init__()
          ...         self.tau = brainstate.nn.Param(10.0, t=brainstate.nn.SoftplusT(0.0))
          >>> [name for name, _ in Cell().named_param_modules()]
          ['tau']
        """
        from ._param import Param

        for path, node in graph.nodes(self, Param, allowed_hierarchy=allowed_hierarchy).items():
            yield _join("", path), node

    def param_modules(self, allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Iterator[Any]:
        """Every `nn.Param` in this module, children before parents (see `named_param_modules`)."""
        return (p for _, p in self.named_param_modules(allowed_hierarchy=allowed_hierarchy))

    def reg_loss(self) -> Any:
        """The sum of `reg_loss()` over every `nn.Param` in this module (0.0 when there is none).

        Example:
          >>> import brainstate
          >>> class Cell(brainstate.nn.Module):
          ...     def __init__(self):
          ...         super().__init__()
          ...         self.w = brainstate.nn.Param(2.0, reg=brainstate.nn.L2Reg(0.5))
          >>> float(Cell().reg_loss())
          2.0
        """
        losses = [p.reg_loss() for p in self.param_modules()]
        return sum(losses[1:], losses[0]) if losses else 0.0

    @contextlib.contextmanager
    def param_precompute(self, allowed_hierarchy: Tuple[int, int] = (0, MAX_LEVEL)) -> Iterator[None]:
        """A context in which every `nn.Param` caches its constrained value (`Param.cache`).

        The caches are filled on entry and cleared on exit (also after an exception). The cache
        is keyed on the raw value itself, so a write inside the block is always seen.

        Example:
          >>> import brainstate
          >>> class Cell(brainstate.nn.Module):
          ...     def __init__(self):
          ...         super().__init__()
          ...         self.tau = brainstate.nn.Param(10.0, t=brainstate.nn.SoftplusT(0.0))
          >>> cell = Cell()
          >>> with cell.param_precompute():
          ...     print(cell.tau.cache_stats['valid'])
          True
          >>> cell.tau.cache_stats['valid']
          False
        """
        params = list(self.param_modules(allowed_hierarchy=allowed_hierarchy))
        try:
            for p in params:
                p.cache()
            yield
        finally:
            for p in params:
                p.clear_cache()
