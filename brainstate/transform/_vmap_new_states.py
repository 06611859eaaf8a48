"""Batched creation: the states a function creates get a leading batch axis.

`vmap_new_states(fun, axis_size=N)` runs `fun` under the mapping recipe (`StatefulMapping`)
while catching the states it creates (`catch_new_states`). The mapped function returns their
values as extra outputs, stacked along the batch axis; after the call every caught state is
given its stacked value (`restore_value`), so the states `fun` left behind (in a module's
attributes, say) are real states holding concrete batched values: an ensemble of N models, or N
independent initialisations. Random streams are split per lane, so random initialisers draw
different values in every lane.

Invariants:
- `fun` runs once per call (it is traced anew every time, never served from a cache), and the
  states that run created are the ones kept;
- a caught state excluded by `state_to_exclude` (or matched by no output axis) is not batched:
  it must hold the same value in every lane and keeps that value;
- the transform is meant for initialisation code, called outside other transforms.
"""

from typing import Callable, Dict, List, Optional, Union

import jax

from .._state import State, catch_new_states
from ._stateful_mapping import StatefulMapping, selectors
from ..typing import MISSING, Missing
from ._vmap import _declared, _spmd

__all__ = ["vmap_new_states", "vmap2_new_states", "pmap2_new_states", "in_new_state_probe"]


class _NewStates:
    """`fun` plus a record of the states its last run created, grouped by output axis."""

    def __init__(self, fun: Callable, axes, state_tag, state_to_exclude):
        self.fun = fun
        self.axes = axes  # [(axis, predicate)] choosing each new state's output axis
        self.groups = sorted({axis for axis, _ in axes})
        self.state_tag = state_tag
        self.state_to_exclude = state_to_exclude
        self.created: List[List[State]] = []
        self.kept: List[State] = []
        self.__name__ = getattr(fun, "__name__", type(fun).__name__)

    def __call__(self, *args, **kwargs):
        with catch_new_states() as every, catch_new_states(self.state_tag, self.state_to_exclude) as caught:
            out = self.fun(*args, **kwargs)
        created = [[] for _ in self.groups]
        batched = set()
        for s in caught.get_states():
            axis = next((a for a, pred in self.axes if pred(s)), None)
            if axis is not None:
                created[self.groups.index(axis)].append(s)
                batched.add(id(s))
        self.created = created
        self.kept = [s for s in every.get_states() if id(s) not in batched]
        return out, tuple([s.value for s in group] for group in created), [s.value for s in self.kept]

    def settle(self, stacked, kept) -> None:
        """Give the states of the last run their concrete values (stacked or kept as they were)."""
        for group, values in zip(self.created, stacked):
            for s, v in zip(group, values):
                s.restore_value(v)
        for s, v in zip(self.kept, kept):
            s.restore_value(v)
        self.created, self.kept = [], []


def _creating(fun, axes, state_tag, state_to_exclude, out_axes, make_mapping):
    creator = _NewStates(fun, axes, state_tag, state_to_exclude)
    mapping: StatefulMapping = make_mapping(creator, (out_axes, tuple(creator.groups), None))

    def run(*args, **kwargs):
        out, stacked, kept = mapping(*args, **kwargs)
        creator.settle(stacked, kept)
        return out

    run.mapping = mapping
    return run


def vmap_new_states(fun: Union[Callable, Missing] = MISSING, *, in_axes=0, out_axes=0, axis_name=None,
                    axis_size: Optional[int] = None, spmd_axis_name=None, state_tag: Optional[str] = None,
                    state_to_exclude=None, in_states=None, out_states=None) -> Callable:
    """Vectorise `fun` so that every state it creates gets a leading batch axis.

    Args:
      fun: the function creating states (a model's initialiser, say). Omit it for a decorator.
      in_axes, out_axes, axis_name, axis_size, spmd_axis_name, in_states, out_states: as in
        `vmap` (pre-existing states follow `vmap`'s rules).
      state_tag: a tag added to every batched new state.
      state_to_exclude: a filter; matching new states are not batched (they must hold the same
        value in every lane).

    Returns:
      The vectorised function; it returns `fun`'s output with the batch axis at `out_axes`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> made = []
      >>> @brainstate.transform.vmap_new_states(axis_size=4)
      ... def build():
      ...     made.append(brainstate.ParamState(brainstate.random.normal(size=2)))
      >>> build()
      >>> made[-1].value.shape
      (4, 2)
    """
    if isinstance(fun, Missing):
        return lambda f: vmap_new_states(f, in_axes=in_axes, out_axes=out_axes, axis_name=axis_name,
                                         axis_size=axis_size, spmd_axis_name=spmd_axis_name, state_tag=state_tag,
                                         state_to_exclude=state_to_exclude, in_states=in_states, out_states=out_states)

    def make(creator, all_out_axes):
        mapping = StatefulMapping(creator, in_axes, all_out_axes, state_in_axes=_declared(in_states, "in_states"),
                                  state_out_axes=_declared(out_states, "out_states"),
                                  unexpected_out_state_mapping="raise", axis_size=axis_size, axis_name=axis_name,
                                  name="vmap_new_states", mapping_kwargs=_spmd(spmd_axis_name),
                                  words=("in_states", "out_states"), random_follows_filters=True,
                                  creates_states=True)
        return mapping

    return _creating(fun, [(0, lambda s: True)], state_tag, state_to_exclude, out_axes, make)


def _init_fn(module, init_kwargs, where: str) -> Callable:
    init = getattr(module, "init_all_states", None) or getattr(module, "init_state", None)
    if init is None:
        raise TypeError(f"{where}: {type(module).__name__} has no init_all_states or init_state method. Pass a "
                        f"Module, or use vmap_new_states on a function that creates the states.")
    kwargs = dict(init_kwargs or {})
    return lambda: init(**kwargs)


def _by_axis(creator_run, axes) -> Dict[int, List[State]]:
    out: Dict[int, List[State]] = {}
    for s in creator_run():
        for axis, pred in axes:
            if pred(s):
                out.setdefault(axis, []).append(s)
                break
    return out


def _module_new_states(module, init_kwargs, state_tag, axis_size, state_out_axes, where, make_mapping):
    if axis_size is None:
        raise ValueError(f"{where} needs axis_size: the number of copies of every new state.")
    axes = selectors(state_out_axes, f"{where} state_out_axes") or [(0, lambda s: True)]
    init = _init_fn(module, init_kwargs, where)
    made = []

    def creating():
        with catch_new_states() as caught:
            init()
        made[:] = caught.get_states()

    run = _creating(creating, axes, state_tag, None, 0, make_mapping)
    run()
    return _by_axis(lambda: made, axes)


def vmap2_new_states(module, init_kwargs: Dict, state_tag: Optional[str] = None, axis_size: Optional[int] = None,
                     state_out_axes=None, spmd_axis_name=None) -> Dict[int, List[State]]:
    """Initialise `module` with `axis_size` copies of every state it creates.

    Calls `module.init_all_states(**init_kwargs)` (or `init_state`) under `vmap_new_states`.

    Args:
      module: the module to initialise.
      init_kwargs: keyword arguments of the initialiser.
      state_tag: a tag added to every new state.
      axis_size: the number of copies (required).
      state_out_axes: `{axis: filter}` or a filter choosing the batch axis of each new state
        (default: every new state along axis 0).
      spmd_axis_name: passed to `jax.vmap`.

    Returns:
      `{axis: [states]}`: the new states, grouped by their batch axis.

    Raises:
      ValueError: without `axis_size`.
    """
    def make(creator, all_out_axes):
        return StatefulMapping(creator, (), all_out_axes, unexpected_out_state_mapping="raise", axis_size=axis_size,
                               name="vmap2_new_states", mapping_kwargs=_spmd(spmd_axis_name), creates_states=True)

    return _module_new_states(module, init_kwargs, state_tag, axis_size, state_out_axes, "vmap2_new_states", make)


def pmap2_new_states(module, init_kwargs: Dict, state_tag: Optional[str] = None, axis_size: Optional[int] = None,
                     state_out_axes=None, axis_name=None) -> Dict[int, List[State]]:
    """Like `vmap2_new_states`, with one copy per device (`jax.pmap`).

    `axis_size` defaults to the number of local devices.
    """
    axis_size = jax.local_device_count() if axis_size is None else axis_size

    def make(creator, all_out_axes):
        return StatefulMapping(creator, (), all_out_axes, unexpected_out_state_mapping="raise", axis_size=axis_size,
                               axis_name=axis_name, name="pmap2_new_states", mapping_fn=jax.pmap,
                               creates_states=True)

    return _module_new_states(module, init_kwargs, state_tag, axis_size, state_out_axes, "pmap2_new_states", make)


def in_new_state_probe() -> bool:
    """Whether the code runs inside a probe pass that only discovers new states.

    The reference release runs a function an extra time to find the states it creates; this
    engine never does (a function runs once per trace), so the answer is always False. Code that
    skips side effects during such a probe can keep calling it.

    Example:
      >>> import brainstate
      >>> brainstate.transform.in_new_state_probe()
      False
    """
    return False
