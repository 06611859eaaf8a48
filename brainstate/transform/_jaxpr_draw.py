"""Drawing a jaxpr as a graphviz graph (with the optional package `pydot`).

Nodes are the jaxpr's inputs (green; constants grey), its equations (boxes named after the
primitive) and its outputs (red); an edge is a value, labelled with its variable name (and
type, with `show_avals`). An equation with sub-jaxprs (jit, cond, while, scan, custom_jvp /
custom_vjp, remat) is drawn as a cluster holding its bodies: dashed edges carry its operands to
the bodies' parameters and the bodies' results to the equation's result node. With
`collapse_primitives`, one whose bodies hold only primitives is a single box instead.
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple

import jax
import numpy as np

from .._compatible_import import AnyJaxpr, JaxprEqn, Literal, Var, is_jaxpr, open_and_consts
from ._jaxpr_rewrite import check_jaxpr_arg, is_used

__all__ = ["draw", "draw_dot_graph", "view_pydot"]

_INPUT = dict(shape="ellipse", style="filled", fillcolor="palegreen")
_CONST = dict(shape="ellipse", style="filled", fillcolor="lightgrey")
_OUTPUT = dict(shape="ellipse", style="filled", fillcolor="lightcoral")
_PARAM = dict(shape="ellipse", style="dashed")
_EQN = dict(shape="box")
_LITERAL = dict(shape="plaintext")


def _pydot(caller: str) -> Any:
    try:
        import pydot
    except ImportError:
        raise ModuleNotFoundError(f"brainstate.transform.{caller} draws with the optional package 'pydot', which is "
                                  f"not installed. Install it with `pip install pydot` (or `pip install "
                                  f"brainstate[viz]`).", name="pydot") from None
    return pydot


def _subjaxprs(eqn: JaxprEqn) -> List[Tuple[str, Any]]:
    found: List[Tuple[str, Any]] = []
    for key, value in eqn.params.items():
        items = value if isinstance(value, tuple) else (value,)
        found.extend((f"{key}[{i}]" if isinstance(value, tuple) else key, v) for i, v in enumerate(items)
                     if is_jaxpr(v))
    return found


def _only_primitives(jaxpr: Any) -> bool:
    body, _ = open_and_consts(jaxpr)
    return not any(_subjaxprs(e) for e in body.eqns)


def _region_inputs(eqn: JaxprEqn, key: str, body: Any) -> Optional[Sequence[Any]]:
    """The operands of `eqn` that feed `body`'s inputs, in order (None: no one-to-one mapping)."""
    ins, p, name = eqn.invars, eqn.params, eqn.primitive.name
    n = len(open_and_consts(body)[0].invars)
    if name == "cond":
        return ins[1:]
    if name == "while":
        nc, nb = p["cond_nconsts"], p["body_nconsts"]
        return ins[:nc] + ins[nc + nb:] if key == "cond_jaxpr" else ins[nc:]
    return ins if n == len(ins) else None


class _Drawer:
    def __init__(self, pydot: Any, collapse: bool, show_avals: bool):
        self.pydot, self.collapse, self.show_avals = pydot, collapse, show_avals
        self.graph = pydot.Dot(graph_type="digraph")
        self.count = 0
        self.names: Dict[Var, str] = {}

    def node(self, container: Any, label: str, style: Dict[str, str]) -> str:
        self.count += 1
        name = f"n{self.count}"
        container.add_node(self.pydot.Node(name, label=label, **style))
        return name

    def var_label(self, var: Any) -> str:
        if var not in self.names:
            n, letters = len(self.names), ""
            while True:
                n, r = divmod(n, 26)
                letters = chr(ord("a") + r) + letters
                if n == 0:
                    break
            self.names[var] = letters
        return f"{self.names[var]}: {var.aval.str_short()}" if self.show_avals else self.names[var]

    def edge(self, src: str, dst: str, label: str = "", **style: str) -> None:
        self.graph.add_edge(self.pydot.Edge(src, dst, label=label, **style))

    def source(self, container: Any, atom: Any, env: Dict[Var, str]) -> str:
        if isinstance(atom, Literal):
            value = np.asarray(atom.val)
            return self.node(container, repr(value.item()) if value.shape == () else f"array{value.shape}", _LITERAL)
        return env[atom]

    def label(self, atom: Any) -> str:
        return "" if isinstance(atom, Literal) else self.var_label(atom)

    def level(self, container: Any, jaxpr: Any, env: Dict[Var, str]) -> None:
        for eqn in jaxpr.eqns:
            subs = _subjaxprs(eqn)
            title = str(eqn.primitive) + (f"[{eqn.params['name']}]" if isinstance(eqn.params.get("name"), str) else "")
            if not subs or (self.collapse and all(_only_primitives(b) for _, b in subs)):
                node = self.node(container, title, _EQN)
                for atom in eqn.invars:
                    self.edge(self.source(container, atom, env), node, self.label(atom))
            else:
                node = self.cluster(container, eqn, title, subs, env)
            env.update((v, node) for v in eqn.outvars if is_used(v))

    def cluster(self, container: Any, eqn: JaxprEqn, title: str, subs: List[Tuple[str, Any]],
                env: Dict[Var, str]) -> str:
        self.count += 1
        outer = self.pydot.Cluster(f"c{self.count}", label=title, style="rounded")
        container.add_subgraph(outer)
        result = self.node(outer, f"{eqn.primitive} result", _EQN)
        fed = set()
        for key, body in subs:
            region = self.pydot.Cluster(f"c{self.count + 1}", label=key, style="dotted")
            self.count += 1
            outer.add_subgraph(region)
            inner, _ = open_and_consts(body)
            inner_env = {v: self.node(region, self.var_label(v), _PARAM) for v in list(inner.constvars) + list(inner.invars)}
            operands = _region_inputs(eqn, key, body)
            if operands is not None:
                for atom, param in zip(operands, inner.invars):
                    self.edge(self.source(container, atom, env), inner_env[param], self.label(atom), style="dashed")
                    fed.add(id(atom))
            self.level(region, inner, inner_env)
            for atom in inner.outvars:
                self.edge(self.source(region, atom, inner_env), result, self.label(atom), style="dashed")
        for atom in eqn.invars:  # operands no body input takes (a cond index, unmatched params) feed the result
            if id(atom) not in fed:
                self.edge(self.source(container, atom, env), result, self.label(atom))
        return result


def draw_dot_graph(fn: AnyJaxpr, collapse_primitives: bool = True, show_avals: bool = True) -> Any:
    """A `pydot.Dot` graph of a jaxpr (see the module notes for what is drawn).

    Args:
      fn: a `Jaxpr` or `ClosedJaxpr`.
      collapse_primitives: draw an equation whose sub-jaxprs hold only primitives as one box.
      show_avals: label edges with the values' types as well as their names.

    Returns:
      A `pydot.Dot`; `graph.to_string()` is its graphviz source, `graph.write_png(path)` renders
      it (with graphviz installed).

    Raises:
      ModuleNotFoundError: `pydot` is not installed.
      TypeError: `fn` is not a jaxpr.

    Example:
      >>> import jax, jax.numpy as jnp, brainstate
      >>> graph = brainstate.transform.draw_dot_graph(jax.make_jaxpr(lambda x: jnp.sin(x) * 2.0)(1.0))
      >>> sorted(n.get("label") for n in graph.get_nodes())
      ['2.0', 'a: float32[]', 'mul', 'out 0', 'sin']
    """
    pydot = _pydot("draw_dot_graph")
    check_jaxpr_arg(fn, "draw_dot_graph")
    drawer = _Drawer(pydot, collapse_primitives, show_avals)
    jaxpr, _ = open_and_consts(fn)
    env = {v: drawer.node(drawer.graph, drawer.var_label(v), _CONST) for v in jaxpr.constvars}
    env.update((v, drawer.node(drawer.graph, drawer.var_label(v), _INPUT)) for v in jaxpr.invars)
    drawer.level(drawer.graph, jaxpr, env)
    for i, atom in enumerate(jaxpr.outvars):
        out = drawer.node(drawer.graph, f"out {i}", _OUTPUT)
        drawer.edge(drawer.source(drawer.graph, atom, env), out, drawer.label(atom))
    return drawer.graph


def draw(f: Callable, collapse_primitives: bool = True, show_avals: bool = True) -> Callable[..., Any]:
    """Wrap `f` so that calling the wrapper draws the jaxpr of `f` on those arguments.

    Args:
      f: a function of arrays (traced with `jax.make_jaxpr`).
      collapse_primitives: as in `draw_dot_graph`.
      show_avals: as in `draw_dot_graph`.

    Returns:
      A function taking `f`'s arguments and returning a `pydot.Dot` graph.

    Raises:
      ModuleNotFoundError: `pydot` is not installed.
      TypeError: `f` is not callable.

    Example:
      >>> import jax.numpy as jnp, brainstate
      >>> graph = brainstate.transform.draw(lambda x: jnp.cos(x) + 1.0)(jnp.ones(3))
      >>> "cos" in graph.to_string()
      True
    """
    _pydot("draw")
    if not callable(f):
        raise TypeError(f"draw(f) needs a callable, got {type(f).__name__}.")

    def drawn(*args: Any, **kwargs: Any) -> Any:
        return draw_dot_graph(jax.make_jaxpr(f)(*args, **kwargs), collapse_primitives, show_avals)

    return drawn


def view_pydot(dot_graph: Any) -> None:
    """Show a pydot graph (from `draw` / `draw_dot_graph`) in a Jupyter notebook as a PNG.

    Needs IPython, and graphviz's `dot` program to render.

    Args:
      dot_graph: a `pydot.Dot`.

    Raises:
      ModuleNotFoundError: IPython is not installed.
    """
    try:
        from IPython.display import Image, display
    except ImportError:
        raise ModuleNotFoundError("brainstate.transform.view_pydot displays the graph in a Jupyter notebook and needs "
                                  "IPython, which is not installed (`pip install ipython`). Elsewhere, write it to "
                                  "a file with `dot_graph.write_png(path)`.", name="IPython") from None
    display(Image(dot_graph.create_png()))
