"""`catch_new_states`: collect the states created inside a block.

Used for lazy initialisation and for batching the states a function creates
(`vmap_new_states`). Blocks nest; every enclosing block sees the new state.
"""

import contextlib
from typing import Iterator, List, Optional, Set

from ._state import State
from ._trace import new_state_listeners

__all__ = ["catch_new_states", "NewStateCatcher"]


class NewStateCatcher:
    """The states created inside a `catch_new_states` block, in creation order, each once.

    Also a small sequence: `len`, iteration, indexing, `states` (the list itself), `state_ids`,
    `values`, and `append`/`remove`/`clear` for adjusting what a block caught.
    """

    def __init__(self, state_tag=None, exclude=None):
        self.state_tag = state_tag
        self._exclude = exclude
        self.states: List[State] = []
        self.state_ids: Set[int] = set()

    def __call__(self, state: State) -> None:
        self.append(state)

    def append(self, state: State) -> None:
        """Catch `state` (unless excluded or already caught), tagging it with `state_tag`."""
        if (self._exclude is not None and self._exclude((), state)) or id(state) in self.state_ids:
            return
        if self.state_tag is not None:
            state.add_tag(self.state_tag)
        self.state_ids.add(id(state))
        self.states.append(state)

    def remove(self, state: State) -> None:
        """Forget `state` (ValueError if it was not caught)."""
        self.states.remove(state)
        self.state_ids.discard(id(state))

    def clear(self) -> None:
        self.states.clear()
        self.state_ids.clear()

    def get_states(self) -> List[State]:
        return list(self.states)

    def get_state_values(self) -> list:
        return [s.value for s in self.states]

    @property
    def values(self) -> list:
        return self.get_state_values()

    def get_by_tag(self, tag: str) -> List[State]:
        """The caught states carrying `tag`."""
        return [s for s in self.states if tag in (getattr(s, "tag", None) or ())]

    def __iter__(self):
        return iter(self.states)

    def __len__(self) -> int:
        return len(self.states)

    def __getitem__(self, index):
        return self.states[index]


@contextlib.contextmanager
def catch_new_states(state_tag: Optional[str] = None, state_to_exclude=None) -> Iterator[NewStateCatcher]:
    """Collect every State created inside the block.

    Args:
      state_tag: if given, added as a tag to every caught state.
      state_to_exclude: a filter (see `brainstate.util`); matching states are not caught.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> with brainstate.catch_new_states('init') as catcher:
      ...     s = brainstate.State(jnp.zeros(2))
      >>> catcher.get_states() == [s], s.tag
      (True, {'init'})
    """
    from ..util._filters import to_predicate  # filters sit above the state layer

    exclude = None if state_to_exclude is None else to_predicate(state_to_exclude)
    catcher = NewStateCatcher(state_tag, exclude)
    new_state_listeners().append(catcher)
    try:
        yield catcher
    finally:
        new_state_listeners().remove(catcher)
