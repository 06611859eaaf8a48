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

The walk is iterative (no recursion limit) and visits children in the graph's sorted order.
Mutating a list or dict held by a module in place does not move the epoch; assign the attribute
(`model.layers = [...]`) or call `graph._epoch.changed()` so compiled functions see it.
"""

import types
import weakref
from typing import Any, Callable, Dict, Iterator, List, Tuple

from .._state import State
from ._epoch import watch
from ._graphdef import Static
from ._node import Node
from ._node_types import is_tuple_like, node_type, tuple_items

__all__ = ["roots", "Rebinding", "fingerprint", "describe_change"]


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
    if isinstance(x, (State, Node)) or node_type(x) is not None:
        return True
    return is_tuple_like(x) and any(_graph_like(v) for v in x)


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
def fingerprint(objs: List[Any]) -> tuple:
    """A hashable description of the graph below `objs`; watches every node it meets.

    Entries are `(path, token)` pairs in walk order; a State is identified by a weak reference
    (equal while alive), so a fingerprint never keeps a model alive.
    """
    out: list = []
    seen: Dict[int, int] = {}
    stack: List[Tuple[Any, tuple]] = [(obj, (i,)) for i, obj in reversed(list(enumerate(objs)))]
    while stack:
        x, path = stack.pop()
        if isinstance(x, State):
            if id(x) in seen:
                out.append((path, ("ref", seen[id(x)])))
            else:
                seen[id(x)] = len(seen)
                out.append((path, ("state", type(x), weakref.ref(x))))
            continue
        impl = node_type(x)
        if impl is not None:
            if id(x) in seen:
                out.append((path, ("ref", seen[id(x)])))
                continue
            seen[id(x)] = len(seen)
            if isinstance(x, Node):
                watch(x)
            children, aux = impl.flatten(x)
            out.append((path, ("node", type(x), Static(aux), tuple(k for k, _ in children))))
            stack.extend((child, path + (k,)) for k, child in reversed(list(children)))
        elif is_tuple_like(x):
            items = list(tuple_items(x))
            out.append((path, ("tuple", type(x), len(items))))
            stack.extend((child, path + (k,)) for k, child in reversed(items))
        else:
            out.append((path, ("leaf", Static(x))))
    return tuple(out)


def describe_change(old: tuple, new: tuple, names: Callable[[tuple], str]) -> str:
    """The first difference between two fingerprints, in words (`model.training changed ...`)."""
    before = dict(old)
    after = dict(new)
    for path, token in new:
        if path not in before:
            return f"`{names(path)}` was added"
        if before[path] != token:
            return f"`{names(path)}` changed {_show(before[path])} → {_show(token)}"
    for path, _ in old:
        if path not in after:
            return f"`{names(path)}` was deleted"
    return "the model's structure changed"


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
    return kind

