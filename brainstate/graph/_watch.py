"""Change detection for compiled code: which objects a function reaches, and did they change?

A compiled function bakes in everything Python decided while it was traced: which State
objects it reaches, and every plain attribute it read (`model.training`, `model.scale`). To
stay equal to the eager call at no per-call cost, three pieces work together:

- `_epoch.epoch`, a counter that moves whenever an attribute of a *watched* graph node is set or
  deleted (`Node.__setattr__`/`__delattr__` call `_epoch.changed`). A compiled entry compares it with
  the value it saw last — one integer comparison per call — and only when it moved does it
  recompute the fingerprint. Creating states or modules nobody watches never moves it.
- `roots(fun)`: the objects a function reaches its model through: the bound instance, the
  arguments of a `functools.partial`, closure cells, defaults, and the globals its code names
  (following the user's helper functions). A global can be rebound without any attribute
  changing (`model = Net()` again in a notebook), so a global holding a graph object comes
  with a `Rebinding` check that a compiled entry runs per call (usually none or one).
- `fingerprint(roots)`: a hashable description of the object graph below the roots: node
  types, attribute names, which State objects sit where, the values of plain attributes
  (hashable ones by value, others by identity) and the sharing pattern. Equal fingerprints mean
  the traced program is still valid; a different one selects (or compiles) another entry.
  Every node met is watched from then on.

- `Containers`: the lists and dicts the walk met that hold states or modules. Python gives no
  hook on their mutation (`model.layers[1] = nn.Linear(...)`, `layers.append(...)`), so the
  epoch cannot see it; they are compared with a copy taken at the walk, item by item and by
  identity, at every call of a compiled function that reaches one (a few tens of nanoseconds
  for a list of layers). Lists and dicts of plain values are baked when traced.

The walk is iterative (no recursion limit) and visits children in the graph's sorted order.
"""

import operator
import types
import weakref
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Tuple

from .._state import State
from ._epoch import watch
from ._graphdef import Static
from ._node import Node
from ._node_types import is_tuple_like, node_type, tuple_items

__all__ = ["roots", "Rebinding", "fingerprint", "Containers", "describe_change", "layout", "states_in"]


# -- what a function reaches ------------------------------------------------------------------
class Rebinding:
    """A global name that held the graph object `obj` when the function was traced.

    (Closure cells are not checked: rebinding one needs a `nonlocal` assignment in the defining
    scope after compiling, which no compiled function in JAX sees either.)
    """

    __slots__ = ("holder", "name", "obj")

    def __init__(self, holder: dict, name: str, obj: Any):
        self.holder, self.name, self.obj = holder, name, obj

    def moved(self) -> bool:
        """True if the name now holds another object."""
        return self.holder.get(self.name, _MISSING) is not self.obj


_MISSING = object()
# Functions of these packages never reach a user's model: do not look inside them.
_LIBRARIES = frozenset({"jax", "jaxlib", "numpy", "scipy", "brainstate", "brainunit", "optax", "functools",
                        "builtins", "typing", "abc", "collections", "math", "operator", "itertools"})


def _graph_like(x: Any) -> bool:
    """True for a State or graph node, or a tuple holding one at any depth."""
    stack = [x]
    while stack:
        x = stack.pop()
        if isinstance(x, (State, Node)) or node_type(x) is not None:
            return True
        if is_tuple_like(x):
            stack.extend(x)
    return False


def _user_function(fn: Any) -> bool:
    if not isinstance(fn, types.FunctionType):
        return False
    module = (fn.__globals__.get("__name__") or "").partition(".")[0]
    return module == "__main__" or (module not in _LIBRARIES and "site-packages" not in fn.__code__.co_filename)


def _user_object(obj: Any) -> bool:
    module = (getattr(type(obj), "__module__", None) or "").partition(".")[0]
    return hasattr(obj, "__dict__") and module not in _LIBRARIES


def _user_methods(cls: type) -> List[Any]:
    """The functions defined in the user's classes of `cls`'s MRO (not the library's)."""
    out = []
    for klass in cls.__mro__:
        if (klass.__module__ or "").partition(".")[0] in _LIBRARIES:
            continue
        for value in vars(klass).values():
            value = getattr(value, "__func__", value)  # staticmethod / classmethod
            if _user_function(value):
                out.append(value)
    return out


def _code_names(code: types.CodeType) -> Iterator[str]:
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


def roots(fun: Any, limit: int = 256) -> Tuple[List[Any], List[Rebinding]]:
    """The objects `fun` reaches its model through, and the names that could be rebound.

    Follows bound methods, `functools.partial`, callable graph nodes and user functions named
    by the function (at most `limit` functions, so a large program stays cheap to scan).
    """
    found: Dict[int, Any] = {}
    checks: List[Rebinding] = []
    seen_fns: Dict[int, Any] = {}  # keeps what it saw alive, so ids stay unique
    todo = [fun]
    while todo and len(seen_fns) < limit:
        f = todo.pop()
        if id(f) in seen_fns:
            continue
        seen_fns[id(f)] = f
        if _graph_like(f):
            found.setdefault(id(f), f)
            if isinstance(f, Node):
                todo += _user_methods(type(f))  # `update` may reach globals of its own
            continue
        if isinstance(f, types.MethodType):
            todo += [f.__self__, f.__func__]
            continue
        hook = getattr(f, "__brainstate_roots__", None)  # wrappers that hold their target weakly
        if hook is not None and not isinstance(f, type):
            todo += hook()
            continue
        func = getattr(f, "func", None)  # functools.partial and look-alikes
        if func is not None and hasattr(f, "args") and hasattr(f, "keywords"):
            todo += [func, *f.args, *(f.keywords or {}).values()]
            continue
        wrapped = getattr(f, "__wrapped__", None)
        if wrapped is not None:
            todo.append(wrapped)
        if not isinstance(f, (types.FunctionType, type)) and _user_object(f):
            # A callable object of the user's (a wrapper, a trainer): what it holds, and its __call__.
            todo += [v for v in vars(f).values() if _graph_like(v) or callable(v)]
            todo += _user_methods(type(f))
            continue
        if not _user_function(f):
            continue
        for value in (*(f.__defaults__ or ()), *(f.__kwdefaults__ or {}).values()):
            todo.append(value)
        for cell in f.__closure__ or ():
            try:
                value = cell.cell_contents
            except ValueError:
                continue
            if _graph_like(value) or _user_function(value):
                todo.append(value)
        g = f.__globals__
        for name in set(_code_names(f.__code__)):
            value = g.get(name, _MISSING)
            if value is not _MISSING and (_graph_like(value) or _user_function(value)):
                if _graph_like(value):
                    checks.append(Rebinding(g, name, value))
                todo.append(value)
    return list(found.values()), checks


# -- the fingerprint --------------------------------------------------------------------------
class Containers:
    """The lists and dicts below a function's roots, as when last walked (see `fingerprint`).

    `moved()` is True once one of those that hold the model (a state or module at any depth:
    a list of layers, a dict of heads) or nothing yet holds other objects than then: an item
    replaced, added or removed (a dict's order aside). A list or dict of plain values (sizes,
    a config, the metrics a trainer logs every step) is baked into the program when traced, as
    `jax.jit` bakes closed-over values: compiled code never re-checks data that may change
    every call. Items are compared by identity (an equal but distinct value, `1.0` for `1`, may
    trace differently); where every item compares by identity anyway (states, modules), the
    container's C-level `==` does it in one call (an item put in later whose `==` claims
    equality with a module, like `mock.ANY`, would pass). The copies hold the items, so no id
    is reused while compared.
    """

    __slots__ = ("_found", "live", "copies", "slow")

    def __init__(self, found: List[Any]):
        self._found = tuple(found)
        self.live: list = []
        self.copies: list = []
        self.slow: list = []
        self.refresh()

    def refresh(self) -> None:
        """Copy the containers again: what the function itself did to them while it was traced
        (a trace counter appended to, a pending input popped) is part of what it was compiled
        against, not a change after it.

        Fills `live` and `copies`, lists of the containers compared by their own `==` and of
        their copies (`live == copies` checks them all in one C call), and `slow`, the
        `(container, copy, same)` of the others. The three lists are refilled in place (each in
        one step): jit's per-call runner holds them, not this object.
        """
        live, copies, slow = [], [], []
        for x in self._found:
            if type(x) is list:
                copy: Any = list(x)
                items: Iterable[Any] = copy
                same: Callable[[Any, Any], bool] = _same_items
            else:  # a dict or a dict subclass: its own storage, whatever the subclass overrides
                copy = dict.copy(x)
                items = copy.values()
                same = _same_entries
            if copy and not _holds_model(items):
                continue  # plain data: baked when traced
            if (type(x) is list or type(x) is dict) and all(type(i).__eq__ is object.__eq__ for i in items):
                live.append(x)  # `==` compares by identity
                copies.append(copy)
            else:
                slow.append((x, copy, same))
        self.live[:], self.copies[:], self.slow[:] = live, copies, slow

    def __bool__(self) -> bool:
        return bool(self.live or self.slow)

    def moved(self) -> bool:
        """Whether a container holds other objects than at the last `refresh`."""
        try:
            return self.live != self.copies or (bool(self.slow) and self.moved_slow())
        except Exception:  # an item whose `==` raises (an array put in place of a module)
            return True

    def moved_slow(self) -> bool:
        """`moved` for the containers not compared by their own `==` (may raise)."""
        return any(len(x) != len(copy) or not same(x, copy) for x, copy, same in self.slow)


_is = operator.is_


def _holds_model(items: Iterable[Any]) -> bool:
    """True if a State or graph node sits among `items`, at any depth of lists, dicts, tuples."""
    stack = list(items)
    while stack:
        x = stack.pop()
        if isinstance(x, (State, Node)):
            return True
        if type(x) is list or is_tuple_like(x):
            stack.extend(x)
        elif isinstance(x, dict):
            stack.extend(dict.values(x))
        elif node_type(x) is not None:
            return True
    return False


def _same_items(x: list, copy: list) -> bool:
    return all(map(_is, x, copy))


def _same_entries(x: dict, copy: dict) -> bool:
    return all(map(_is, dict.keys(x), copy)) and all(map(_is, dict.values(x), copy.values()))


def fingerprint(objs: List[Any], containers: Optional[List[Any]] = None) -> tuple:
    """A hashable description of the graph below `objs`; watches every node it meets.

    The lists and dicts met are appended to `containers` if given (see `Containers`).

    Entries are `(parent entry, key, token)` triples in walk order: an object's path is the keys
    from its root entry (whose key is the root's index in `objs`) down to it, kept as a link to
    the parent so the fingerprint of a chain n levels deep has size O(n), not O(n²). A State is
    identified by a weak reference (equal while alive), so a fingerprint never keeps a model
    alive. A state holding a tracer of a finished transform (created inside it, as
    `init_all_states` in a jitted step does) is identified by its type only: no trace can touch
    it (its value is unreadable), so a program compiled with one there runs the same with another
    one there, and a step that makes a new one every call is traced twice in all, not every call. Giving it a value
    eagerly moves the epoch (`State._store`), so the walk then identifies it.
    """
    out: list = []
    seen: Dict[int, int] = {}
    stack: List[Tuple[Any, int, Any]] = [(obj, -1, i) for i, obj in reversed(list(enumerate(objs)))]
    while stack:
        x, parent, key = stack.pop()
        me = len(out)
        if isinstance(x, State):
            if id(x) in seen:
                out.append((parent, key, ("ref", seen[id(x)])))
            elif x._finished():  # no program can touch it: any such state will do (see above)
                seen[id(x)] = len(seen)
                out.append((parent, key, ("finished", type(x))))
            else:
                seen[id(x)] = len(seen)
                out.append((parent, key, ("state", type(x), weakref.ref(x))))
            continue
        impl = node_type(x)
        if impl is not None:
            if id(x) in seen:
                out.append((parent, key, ("ref", seen[id(x)])))
                continue
            seen[id(x)] = len(seen)
            if isinstance(x, Node):
                watch(x)
            elif containers is not None and (type(x) is list or isinstance(x, dict)):
                containers.append(x)
            children, aux = impl.flatten(x)
            out.append((parent, key, ("node", type(x), Static(aux), tuple(k for k, _ in children))))
            stack.extend((child, me, k) for k, child in reversed(list(children)))
        elif is_tuple_like(x):
            items = list(tuple_items(x))
            out.append((parent, key, ("tuple", type(x), len(items))))
            stack.extend((child, me, k) for k, child in reversed(items))
        else:
            out.append((parent, key, ("leaf", Static(x))))
    return tuple(out)


def layout(fp: tuple) -> tuple:
    """`fp` without the identity of its states: equal for two graphs that differ only in which
    State objects sit where (a state swapped for another of its type, `init_all_states` run
    again between calls)."""
    return tuple((parent, key, token[:2] if token[0] == "state" else token) for parent, key, token in fp)


def states_in(fp: tuple) -> Optional[List[Any]]:
    """The states `fp` names, in walk order (None if one has died)."""
    out = [token[2]() for _, _, token in fp if token[0] == "state"]
    return None if any(s is None for s in out) else out


def _path_ids(fp: tuple, numbers: Dict[Tuple[int, Any], int]) -> List[int]:
    """A number per entry of `fp`, equal for entries at equal paths (across fingerprints
    numbered with the same `numbers`)."""
    ids: List[int] = []
    for parent, key, _ in fp:
        ids.append(numbers.setdefault((ids[parent] if parent >= 0 else -1, key), len(numbers)))
    return ids


def _path(fp: tuple, i: int) -> tuple:
    """The path of entry `i`: `(root index, *keys)`."""
    keys = []
    while i >= 0:
        i, key, _ = fp[i]
        keys.append(key)
    return tuple(reversed(keys))


def describe_change(old: tuple, new: tuple, names: Callable[[tuple], str]) -> str:
    """The first difference between two fingerprints, in words (`model.training changed ...`)."""
    numbers: Dict[Tuple[int, Any], int] = {}
    old_ids, new_ids = _path_ids(old, numbers), _path_ids(new, numbers)
    before = {pid: entry[2] for pid, entry in zip(old_ids, old)}
    after = set(new_ids)
    for i, (pid, entry) in enumerate(zip(new_ids, new)):
        if pid not in before:
            return f"`{names(_path(new, i))}` was added"
        if before[pid] != entry[2]:
            return f"`{names(_path(new, i))}` changed {_change(before[pid], entry[2])}"
    for i, pid in enumerate(old_ids):
        if pid not in after:
            return f"`{names(_path(old, i))}` was deleted"
    return "the model's structure changed"


def _change(old: tuple, new: tuple) -> str:
    """`X → Y` for two tokens at one path; for one node that gained or lost children, which."""
    if old[0] == new[0] == "node" and old[1] is new[1] and old[3] != new[3]:
        if old[1] is list:
            return f"{len(old[3])} items → {len(new[3])}"
        added = [k for k in new[3] if k not in old[3]]
        removed = [k for k in old[3] if k not in new[3]]
        parts = ([f"added {', '.join(map(repr, added))}"] if added else []) + \
                ([f"removed {', '.join(map(repr, removed))}"] if removed else [])
        return "its keys: " + ("; ".join(parts) or "reordered")
    if old[0] == new[0] == "state" and old[1] is new[1]:
        return f"{_show(old)} → {_show(new).replace('a ', 'another ', 1)}"
    return f"{_show(old)} → {_show(new)}"


def _show(token: tuple) -> str:
    kind = token[0]
    if kind == "leaf":
        text = repr(token[1].value)
        return text if len(text) <= 40 else text[:37] + "..."
    if kind == "state":
        state = token[2]()
        return f"a {token[1].__name__}" + (f" {state._name!r}" if state is not None and state._name else "")
    if kind == "node":
        return f"a {token[1].__name__}"
    if kind == "ref":
        return "a shared reference"
    if kind == "finished":
        return f"a {token[1].__name__} created in a finished transform"
    return kind

