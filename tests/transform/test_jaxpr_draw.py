"""`draw`, `draw_dot_graph` and `view_pydot` (pydot is an optional dependency, in the test extra)."""

import sys
import types

import jax
import jax.numpy as jnp
import pytest

import brainstate as bs

T = bs.transform
inner = jax.jit(lambda x: jnp.sin(x) * 2.0)


def all_nodes(graph):
    nodes = {n.get_name(): n for n in graph.get_nodes()}
    for sub in graph.get_subgraphs():
        nodes.update(all_nodes(sub))
    return nodes


def all_subgraphs(graph):
    subs = list(graph.get_subgraphs())
    return subs + [s for sub in subs for s in all_subgraphs(sub)]


def labels(graph):
    return sorted(n.get("label").strip('"') for n in all_nodes(graph).values())


def check_edges_connect_nodes(graph):
    names = set(all_nodes(graph))
    for edge in graph.get_edges():
        assert edge.get_source() in names and edge.get_destination() in names


def test_draws_inputs_equations_literals_and_outputs():
    graph = T.draw_dot_graph(jax.make_jaxpr(lambda x, y: (jnp.sin(x) * 2.0, y))(1.0, jnp.ones(2)))
    assert labels(graph) == ["2.0", "a: float32[]", "b: float32[2]", "mul", "out 0", "out 1", "sin"]
    assert sorted(e.get("label").strip('"') for e in graph.get_edges()) == ["", "a: float32[]", "b: float32[2]",
                                                                             "c: float32[]", "d: float32[]"]
    check_edges_connect_nodes(graph)


def test_show_avals_false_labels_with_names_only():
    graph = T.draw_dot_graph(jax.make_jaxpr(jnp.cos)(1.0), show_avals=False)
    assert labels(graph) == ["a", "cos", "out 0"]


def test_constants_are_drawn():
    closed = jax.make_jaxpr(lambda x: x + jnp.asarray([1.0, 2.0]))(jnp.ones(2))
    graph = T.draw_dot_graph(closed)
    assert [n.get("fillcolor") for n in graph.get_nodes()][:2] == ["lightgrey", "palegreen"]


def test_a_call_of_primitives_collapses_to_one_box():
    closed = jax.make_jaxpr(lambda x: inner(x) + 1.0)(1.0)
    collapsed = T.draw_dot_graph(closed)
    assert all_subgraphs(collapsed) == [] and "jit[<lambda>]" in labels(collapsed)
    expanded = T.draw_dot_graph(closed, collapse_primitives=False)
    assert [s.get("label").strip('"') for s in all_subgraphs(expanded)] == ["jit[<lambda>]", "jaxpr"]
    assert {"sin", "mul", "jit result"} <= set(labels(expanded))
    check_edges_connect_nodes(expanded)


def test_nested_calls_and_control_flow_are_clusters():
    def f(x):
        y = jax.jit(lambda z: inner(z) - 1.0)(x)
        c = jax.lax.cond(x > 0, lambda z: -z, lambda z: z, y)
        s = jax.lax.scan(lambda c, v: (c + v, c), 0.0, jnp.arange(3.0))
        w = jax.lax.while_loop(lambda i: i < 3, lambda i: i + 1, 0)
        return c, s, w

    graph = T.draw(f)(1.0)  # only the outer jit's body holds a call: the rest collapses to boxes
    assert [s.get("label").strip('"') for s in all_subgraphs(graph)] == ["jit[<lambda>]", "jaxpr"]
    assert {"cond", "scan", "while", "jit[<lambda>]"} <= set(labels(graph))
    graph = T.draw(f, collapse_primitives=False)(1.0)
    titles = [s.get("label").strip('"') for s in all_subgraphs(graph)]
    assert {"jit[<lambda>]", "cond", "branches[0]", "branches[1]", "scan", "while", "cond_jaxpr",
            "body_jaxpr"} <= set(titles)
    check_edges_connect_nodes(graph)


def test_draw_wraps_a_function():
    graph = T.draw(lambda x: jnp.exp(x) + 1.0, show_avals=False)(jnp.ones(3))
    assert labels(graph) == ["1.0", "a", "add", "exp", "out 0"]


@pytest.mark.parametrize("call", [lambda: T.draw_dot_graph(jax.make_jaxpr(jnp.sin)(1.0)), lambda: T.draw(jnp.sin)])
def test_missing_pydot_is_named(monkeypatch, call):
    monkeypatch.setitem(sys.modules, "pydot", None)
    with pytest.raises(ModuleNotFoundError, match=r"optional package 'pydot', which is not installed. Install it with "
                                                  r"`pip install pydot`"):
        call()


def test_argument_errors():
    with pytest.raises(TypeError, match=r"draw\(f\) needs a callable, got int"):
        T.draw(1)
    with pytest.raises(TypeError, match=r"draw_dot_graph\(\) takes a jax Jaxpr or ClosedJaxpr, got function"):
        T.draw_dot_graph(lambda x: x)


def test_view_pydot_displays_the_png(monkeypatch):
    shown = []
    display = types.ModuleType("IPython.display")
    display.Image = lambda data: ("image", data)
    display.display = shown.append
    monkeypatch.setitem(sys.modules, "IPython", types.ModuleType("IPython"))
    monkeypatch.setitem(sys.modules, "IPython.display", display)
    T.view_pydot(types.SimpleNamespace(create_png=lambda: b"png-bytes"))
    assert shown == [("image", b"png-bytes")]


def test_view_pydot_without_ipython_is_named(monkeypatch):
    monkeypatch.setitem(sys.modules, "IPython", None)
    # An earlier test of this process may have imported the submodule itself: hide it too.
    monkeypatch.setitem(sys.modules, "IPython.display", None)
    with pytest.raises(ModuleNotFoundError, match=r"view_pydot displays the graph in a Jupyter notebook and needs "
                                                  r"IPython"):
        T.view_pydot(T.draw_dot_graph(jax.make_jaxpr(jnp.sin)(1.0)))
