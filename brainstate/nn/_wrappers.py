"""Modules that run another module under a setting or a mapping transform.

- `EnvironContext(layer, **settings)`: calls `layer` inside `environ.context(**settings)`, e.g.
  a fixed `dt` for a dynamics model inside a larger network.
- `Vmap(module, ...)`: calls `module` under `brainstate.transform.vmap`, mapping the module's
  states selected by a filter along a batch axis.
- `Map(module, init_map_size, ...)`: an ensemble of `init_map_size` copies of `module`:
  `init_all_states()` creates every state with a leading ensemble axis
  (`transform.vmap_new_states`), and calls map inputs and those states together.
- `vmap_call_all_fns(target, fn_name, axis_size=N)`: `call_all_fns` whose newly created
  states get a leading axis of `N`.

The mapping wrappers look the transforms up when they are used, so this module imports even
while `brainstate.transform` lacks them; using one then raises a clear error. Only the
`'vmap'` behaviour of `Map` is implemented (no `'pmap'`).
"""

from typing import Any, Callable, Dict, List, Mapping, Optional, Sequence, TypeVar, Union

from .. import environ
from .._state import State
from ._collective import call_all_fns
from ._module import Module

__all__ = ["EnvironContext", "Vmap", "Map", "vmap_call_all_fns"]

T = TypeVar("T")


def _transform(name: str, user: str):
    from .. import transform

    fn = getattr(transform, name, None)
    if fn is None:
        raise NotImplementedError(
            f"{user} needs brainstate.transform.{name}, which this installation does not provide yet.")
    return fn


class EnvironContext(Module):
    """Call `layer` with `environ` settings overridden, e.g. `EnvironContext(neurons, dt=0.1)`.

    Args:
      layer: the module to call.
      **context: the settings (`dt`, `fit`, ...) in force during each call.

    Raises:
      TypeError: if `layer` is not a Module.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> neu = brainstate.nn.LIF(2)
      >>> neu.init_state()
      >>> run = brainstate.nn.EnvironContext(neu, dt=0.1)
      >>> run(jnp.zeros(2)).tolist()
      [0.0, 0.0]
    """

    def __init__(self, layer: Module, **context: Any):
        super().__init__()
        if not isinstance(layer, Module):
            raise TypeError(f"EnvironContext: layer must be a Module, got {type(layer).__name__}.")
        self.layer = layer
        self.context = dict(context)

    def update(self, *args: Any, context: Optional[Dict[str, Any]] = None, **kwargs: Any) -> Any:
        """Call the layer; `context` adds settings for this call only."""
        with environ.context(**{**self.context, **(context or {})}):
            return self.layer(*args, **kwargs)

    def add_context(self, **context: Any) -> None:
        """Add or change settings for every later call."""
        self.context.update(context)


def _select(module: Module, spec: Any):
    """States for a transform's `in_states`: None, `{axis: filter}` or one filter (axis 0)."""
    if spec is None:
        return None
    if isinstance(spec, dict):
        return {axis: list(module.states(flt).values()) for axis, flt in spec.items()}
    return {0: list(module.states(spec).values())}


class Vmap(Module):
    """Call `module` under `brainstate.transform.vmap`, mapping the selected states too.

    Args:
      module: the module to map.
      in_axes, out_axes, axis_name, axis_size: as in `transform.vmap`.
      vmap_states: a filter (mapped along axis 0) or `{axis: filter}` selecting the module's
        states that carry the batch axis (read and written per lane).
      vmap_out_states: like `vmap_states`, for states only written.

    Raises:
      TypeError: if `module` is not a Module.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> layer = brainstate.nn.Linear(3, 2, w_init=jnp.ones((3, 2)))
      >>> brainstate.nn.Vmap(layer)(jnp.ones((4, 3))).tolist()[0]
      [3.0, 3.0]
    """

    def __init__(self, module: Module, in_axes: Any = 0, out_axes: Any = 0, vmap_states: Any = None,
                 vmap_out_states: Any = None, axis_name: Any = None, axis_size: Optional[int] = None):
        super().__init__()
        if not isinstance(module, Module):
            raise TypeError(f"Vmap: module must be a Module, got {type(module).__name__}.")
        self.module = module
        self.in_axes, self.out_axes, self.axis_name, self.axis_size = in_axes, out_axes, axis_name, axis_size
        self.vmap_states, self.vmap_out_states = vmap_states, vmap_out_states

    def update(self, *args: Any, **kwargs: Any) -> Any:
        """Call the module once per lane of the mapped inputs and states."""
        vmap = _transform("vmap", "Vmap")
        in_states = _select(self.module, self.vmap_states)
        out_states = _select(self.module, self.vmap_out_states) or in_states
        fn = vmap(lambda *a, **k: self.module(*a, **k), in_axes=self.in_axes, out_axes=self.out_axes,
                  axis_name=self.axis_name, axis_size=self.axis_size, in_states=in_states, out_states=out_states)
        return fn(*args, **kwargs)


class Map(Module):
    """An ensemble of `init_map_size` independent copies of `module`, run with `vmap`.

    Args:
      module: the module to replicate.
      init_map_size: the ensemble size (the leading axis of every state).
      init_state_axes: accepted for compatibility; new states are mapped along axis 0.
      state_tag: a tag given to the newly created states.
      in_axes, out_axes, axis_name: how calls map their inputs and outputs.
      spmd_axis_name: accepted for compatibility.
      call_state_axes: accepted for compatibility; the created states are mapped along axis 0.
      behavior: only `'vmap'` is supported.

    Raises:
      ValueError: for a bad `init_map_size` or `behavior`, or calling before `init_all_states`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Cell(brainstate.nn.Module):
      ...     def init_state(self):
      ...         self.h = brainstate.HiddenState(jnp.zeros(2))
      ...     def update(self, x):
      ...         self.h.value = self.h.value + x
      ...         return self.h.value
      >>> ensemble = brainstate.nn.Map(Cell(), init_map_size=3)
      >>> ensemble.init_all_states()
      >>> ensemble(jnp.ones((3, 2))).shape
      (3, 2)
    """

    def __init__(self, module: Module, init_map_size: int, init_state_axes: Any = None, state_tag: Optional[str] = None,
                 in_axes: Any = 0, out_axes: Any = 0, axis_name: Any = None, spmd_axis_name: Any = None,
                 call_state_axes: Any = None, behavior: str = "vmap"):
        super().__init__()
        if not isinstance(init_map_size, int) or init_map_size < 1:
            raise ValueError(f"Map: init_map_size must be a positive int, got {init_map_size!r}.")
        if behavior != "vmap":
            raise ValueError(f"Map: behavior must be 'vmap' (pmap is not supported), got {behavior!r}.")
        self.module, self.init_map_size, self.state_tag = module, init_map_size, state_tag
        self.in_axes, self.out_axes, self.axis_name = in_axes, out_axes, axis_name
        self.init_state_axes, self.spmd_axis_name, self.call_state_axes = init_state_axes, spmd_axis_name, call_state_axes
        self.behavior = behavior
        self._mapped: Optional[List[State]] = None

    # The reference API: keyword arguments only, returning None (unlike Module.init_all_states).
    def init_all_states(self, **kwargs: Any) -> None:  # type: ignore[override]
        """Create every state of the module with a leading axis of `init_map_size`."""
        before = {id(s) for s in self.module.states().values()}
        vmap_call_all_fns(self.module, "init_state", kwargs=kwargs, axis_size=self.init_map_size,
                          state_tag=self.state_tag)
        # The states created now carry the ensemble axis; calls map exactly those.
        self._mapped = [s for s in self.module.states().values() if id(s) not in before]

    def update(self, *args: Any, **kwargs: Any) -> Any:
        """Call every copy of the module on its slice of the inputs."""
        if self._mapped is None:
            raise ValueError("Map was called before Map.init_all_states(): create the ensemble's states first.")
        vmap = _transform("vmap", "Map")
        fn = vmap(lambda *a, **k: self.module(*a, **k), in_axes=self.in_axes, out_axes=self.out_axes,
                  axis_name=self.axis_name, axis_size=self.init_map_size,
                  in_states={0: self._mapped}, out_states={0: self._mapped})
        return fn(*args, **kwargs)


    def map(self, fn: Union[str, Callable], in_axes: Any = 0, out_axes: Any = 0, axis_name: Optional[str] = None,
            state_axes: Optional[Dict[int, Any]] = None) -> Callable:
        """A vectorised version of one method of the wrapped module (or of any function), with its
        own axes.

        Args:
          fn: a method name of the wrapped module, or a callable (called with the arguments as
            given; it reaches the module through its closure).
          in_axes, out_axes: as in `vmap`, for this call.
          axis_name: the mapped axis's name for collectives; the Map's own when None.
          state_axes: `{axis: filter}` for more states fed per lane along `axis` (a State type, a
            tag, a filter, States). The ensemble's own states are always mapped along axis 0.

        Returns:
          The mapped callable.

        Raises:
          AttributeError: `fn` names no method of the wrapped module.
          TypeError: `fn` is neither a name nor callable.
          ValueError: called before `init_all_states`.

        Example:
          >>> import brainstate, jax.numpy as jnp
          >>> class Scale(brainstate.nn.Module):
          ...     def init_state(self):
          ...         self.w = brainstate.ParamState(jnp.ones(2))
          ...     def apply(self, x):
          ...         return x * self.w.value
          >>> ensemble = brainstate.nn.Map(Scale(), init_map_size=3)
          >>> ensemble.init_all_states()
          >>> ensemble.map('apply', in_axes=None)(jnp.array([1., 2.])).shape
          (3, 2)
        """
        if isinstance(fn, str):
            method = getattr(self.module, fn, None)
            if not callable(method):
                raise AttributeError(f"Map.map: the wrapped {type(self.module).__name__} has no method {fn!r}. "
                                     f"Pass the name of one of its methods, or a callable.")
            fn = method
        elif not callable(fn):
            raise TypeError(f"Map.map: fn must be a method name or a callable, got {type(fn).__name__}: {fn!r}.")
        if self._mapped is None:
            raise ValueError("Map.map was called before Map.init_all_states(): create the ensemble's states first.")
        axes: Dict[int, list] = {0: list(self._mapped)}
        for axis, selector in (state_axes or {}).items():
            axes[axis] = axes.get(axis, []) + [selector]
        vmap2 = _transform("vmap2", "Map.map")
        return vmap2(fn, in_axes=in_axes, out_axes=out_axes,
                     axis_name=self.axis_name if axis_name is None else axis_name, axis_size=self.init_map_size,
                     state_in_axes=axes, state_out_axes=axes, unexpected_out_state_mapping="raise")


def vmap_call_all_fns(target: T, fn_name: str, args: Sequence[Any] = (), kwargs: Optional[Mapping[str, Any]] = None,
                      axis_size: Optional[int] = None, node_to_exclude: Any = None, state_tag: Optional[str] = None,
                      fn_if_not_exist: str = "raise") -> T:
    """`call_all_fns`, with every state created during the calls given a leading axis of `axis_size`.

    Raises:
      ValueError: if `axis_size` is not a positive int.
      TypeError: if `kwargs` is not a mapping.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Cell(brainstate.nn.Module):
      ...     def init_state(self):
      ...         self.h = brainstate.HiddenState(jnp.zeros(2))
      ...     def bump(self):
      ...         self.h.value = self.h.value + 1.0
      >>> cell = brainstate.nn.vmap_init_all_states(Cell(), axis_size=4)
      >>> cell = brainstate.nn.vmap_call_all_fns(cell, "bump", axis_size=4)
      >>> cell.h.value.shape, cell.h.value[0].tolist()
      ((4, 2), [1.0, 1.0])
    """
    if not isinstance(axis_size, int) or axis_size <= 0:
        raise ValueError(f"vmap_call_all_fns: axis_size must be a positive int, got {axis_size!r}.")
    if kwargs is not None and not isinstance(kwargs, Mapping):
        raise TypeError(f"vmap_call_all_fns: kwargs must be a mapping, got {type(kwargs).__name__}.")
    args = args if isinstance(args, tuple) else (args,)
    vmap_new_states = _transform("vmap_new_states", "vmap_call_all_fns")

    def call():
        call_all_fns(target, fn_name, args, kwargs, node_to_exclude=node_to_exclude, fn_if_not_exist=fn_if_not_exist)

    vmap_new_states(call, axis_size=axis_size, state_tag=state_tag)()
    return target
