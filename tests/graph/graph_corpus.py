"""Shared helpers for the graph tests: a hypothesis strategy of object graphs and a structural
description that is independent of `brainstate.graph`.

The generated graphs cover: the empty module, nested modules, lists/dicts/tuples of modules and
states, shared sub-modules, shared states, cycles (a child pointing back at an ancestor), opaque
leaves, and every State kind.
"""

import jax.numpy as jnp
import numpy as np
from hypothesis import strategies as st

import brainstate

STATE_KINDS = [brainstate.State, brainstate.ShortTermState, brainstate.LongTermState, brainstate.ParamState,
               brainstate.BatchState, brainstate.HiddenState, brainstate.DelayState]


class Box(brainstate.nn.Module):
    """A module with no behaviour; the generator hangs things on it."""


@st.composite
def graphs(draw, max_ops: int = 12):
    """A random graph rooted at a `Box`."""
    root = Box()
    modules = [root]
    states = []
    counter = iter(range(10 ** 6))

    def new_state():
        kind = draw(st.sampled_from(STATE_KINDS))
        size = draw(st.integers(1, 3))
        value = jnp.arange(size, dtype=jnp.float32) + len(states)
        tag = draw(st.sampled_from([None, "tagA", "tagB"]))
        state = kind(value, tag=tag) if tag else kind(value)
        states.append(state)
        return state

    def new_module():
        module = Box()
        modules.append(module)
        return module

    for _ in range(draw(st.integers(0, max_ops))):
        parent = draw(st.sampled_from(modules))
        name = draw(st.sampled_from("abcde")) + str(next(counter))
        op = draw(st.sampled_from(["module", "state", "list", "dict", "tuple", "share_module",
                                   "share_state", "static"]))
        if op == "module":
            value = new_module()
        elif op == "state":
            value = new_state()
        elif op == "list":
            value = [new_module() if draw(st.booleans()) else new_state() for _ in range(draw(st.integers(0, 3)))]
        elif op == "dict":
            keys = draw(st.lists(st.sampled_from(["x", "y", "z", "w"]), unique=True, max_size=3))
            value = {k: new_module() if draw(st.booleans()) else new_state() for k in keys}
        elif op == "tuple":
            value = (new_state(), draw(st.integers(-3, 3)))
        elif op == "share_module":
            value = draw(st.sampled_from(modules))  # may be an ancestor: a cycle
        elif op == "share_state":
            value = draw(st.sampled_from(states)) if states else new_state()
        else:
            value = draw(st.one_of(st.integers(), st.text(max_size=3), st.none()))
        setattr(parent, name, value)
    return root


def describe(root):
    """A hashable-free canonical description: types, keys, values, and sharing by visit number."""
    ids = {}

    def visit(x):
        if isinstance(x, brainstate.State) or isinstance(x, brainstate.graph.Node) or type(x) in (list, dict):
            if id(x) in ids:
                return ("ref", ids[id(x)])
            ids[id(x)] = len(ids)
        if isinstance(x, brainstate.State):
            meta = sorted((k, sorted(v) if isinstance(v, (set, frozenset)) else v) for k, v in x.metadata().items())
            return ("state", type(x), np.asarray(x.value).tolist(), meta)
        if isinstance(x, brainstate.graph.Node):
            return (type(x), tuple((k, visit(v)) for k, v in sorted(vars(x).items())))
        if type(x) is list:
            return (list, tuple(visit(v) for v in x))
        if type(x) is dict:
            return (dict, tuple((k, visit(x[k])) for k in sorted(x)))
        if type(x) is tuple:
            return (tuple, tuple(visit(v) for v in x))
        return ("static", x)

    return visit(root)


def objects(root):
    """Every distinct State, Node, list, dict and tuple reachable from `root`."""
    seen = {}
    stack = [root]
    while stack:
        x = stack.pop()
        if id(x) in seen:
            continue
        if isinstance(x, brainstate.State):
            seen[id(x)] = x
        elif isinstance(x, brainstate.graph.Node):
            seen[id(x)] = x
            stack.extend(vars(x).values())
        elif type(x) in (list, tuple):
            seen[id(x)] = x
            stack.extend(x)
        elif type(x) is dict:
            seen[id(x)] = x
            stack.extend(x.values())
    return list(seen.values())


def identities(root):
    """ids of every State, Node, list and dict reachable from `root` (tuples have no identity)."""
    return {id(x) for x in objects(root) if type(x) is not tuple}


def all_states(root):
    """Every distinct State reachable from `root`, by id."""
    return {id(x): x for x in objects(root) if isinstance(x, brainstate.State)}
