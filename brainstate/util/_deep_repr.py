"""Iterative rendering of nested reprs, so printing a deeply nested object never recurses.

Python's own `repr` of nested objects recurses once per level, so a module chain a few thousand
levels deep raises `RecursionError` when printed. `render` builds the same text with an explicit
stack instead. A caller describes one level of an object at a time: `expand(obj)` returns a
`Layout`, the object's text as a sequence of literal strings and `Child` placeholders for the
nested objects, or a string, or None for "use `repr(obj)`".

Layout rules, chosen so the output equals the recursive composition exactly:

- every newline inside a string or a fallback `repr` is followed by the current indentation,
  the concatenation of the `indent` of every enclosing `Child`;
- a `Layout` with an `ident` marks that id *active* (in the caller's `active` set) while its
  children are rendered, so `expand` can print a cycle back to an ancestor as `Name(...)`;
- with `max_level`, a deferrable layout nested deeper than `max_level` indenting levels is not
  printed in place: a placeholder naming a numbered section goes there, and the section, headed
  by its path from the enclosing section, is appended after the main text at indentation zero.
  Output size then stays linear in the number of objects, whatever the depth.

`container_layout` gives the layouts of exact lists, tuples and dicts, which print exactly as
Python prints them, so a callback can expand through them.
"""

from typing import Any, Callable, Dict, List, Optional, Sequence, Union

__all__ = ["Child", "Layout", "render", "container_layout"]


class Child:
    """A nested object inside a layout.

    Attributes:
      obj: the object, rendered through `expand` in turn.
      indent: text added after each newline of the object's rendering (a nesting level when
        non-empty).
      step: how the path to this object reads (`.name`, `[0]`), used in section headers.
    """

    __slots__ = ("obj", "indent", "step")

    def __init__(self, obj: Any, indent: str = "", step: str = ""):
        self.obj, self.indent, self.step = obj, indent, step


class Layout:
    """One level of an object's text: literal strings and `Child` entries, in order.

    Attributes:
      parts: the strings and children.
      ident: an id marked active while the children are rendered (None: nothing marked).
      deferrable: whether `render` may move this object to a section when nested too deep.
      placeholder: with `deferrable`, `number -> text` printed in its place.
    """

    __slots__ = ("parts", "ident", "deferrable", "placeholder")

    def __init__(self, parts: Sequence[Union[str, Child]], ident: Optional[int] = None,
                 deferrable: bool = False, placeholder: Optional[Callable[[int], str]] = None):
        self.parts, self.ident, self.deferrable, self.placeholder = parts, ident, deferrable, placeholder


_TEXT, _OBJ, _EXIT = 0, 1, 2


def render(root: Any, expand: Callable[[Any], Union[Layout, str, None]], *, active: Optional[set] = None,
           max_level: Optional[int] = None) -> str:
    """The text of `root`, expanding nested objects with `expand` and an explicit stack.

    Args:
      root: the object to print.
      expand: `obj -> Layout | str | None`; None prints `repr(obj)`.
      active: the set of active ids (shared with nested `repr` calls that print cycles); a new
        set by default. Ids added here are removed again before returning, also on error.
      max_level: defer deferrable layouts nested deeper than this many indenting levels to
        numbered sections after the main text (None: never).

    Example:
      >>> from brainstate.util._deep_repr import container_layout, render
      >>> render([1, (2,), {'a': [3]}], lambda x: container_layout(x, set()))
      "[1, (2,), {'a': [3]}]"
    """
    active = set() if active is None else active
    sections: List[List[str]] = [[]]
    # Entries: (kind, payload, indentation text, level, section, steps); steps link to the
    # parent's steps as (parent, step) pairs and restart at each section.
    stack: list = [(_OBJ, root, "", 0, 0, None)]
    added: List[int] = []
    try:
        while stack:
            kind, x, pad, level, section, steps = stack.pop()
            out = sections[section]
            if kind == _TEXT:
                out.append(x.replace("\n", "\n" + pad) if pad else x)
                continue
            if kind == _EXIT:
                active.discard(x)
                continue
            layout = expand(x)
            if layout is None:
                layout = repr(x)
            if isinstance(layout, str):
                out.append(layout.replace("\n", "\n" + pad) if pad else layout)
                continue
            if layout.deferrable and layout.placeholder is not None and max_level is not None \
                    and level > max_level:
                number = len(sections)
                out.append(layout.placeholder(number))
                where = "root" if section == 0 else f"#{section}"
                sections.append([f"\n#{number} = {where}{_join_steps(steps)}:\n"])
                section, pad, level, steps = number, "", 0, None
            if layout.ident is not None and layout.ident not in active:
                active.add(layout.ident)
                added.append(layout.ident)
                stack.append((_EXIT, layout.ident, pad, level, section, None))
            for part in reversed(layout.parts):
                if isinstance(part, str):
                    stack.append((_TEXT, part, pad, level, section, None))
                else:
                    stack.append((_OBJ, part.obj, pad + part.indent, level + (1 if part.indent else 0), section,
                                  (steps, part.step)))
    finally:
        if stack:  # an error midway: leave `active` as it was found
            for ident in added:
                active.discard(ident)
    return "".join(piece for out in sections for piece in out)


def _join_steps(steps) -> str:
    parts = []
    while steps is not None:
        steps, step = steps
        parts.append(step)
    return "".join(reversed(parts))


def container_layout(x: Any, active: set) -> Optional[Union[Layout, str]]:
    """The layout of an exact `list`, `tuple` or `dict`, printed as Python prints it; else None.

    A container already active (it contains itself) prints as `[...]`, `(...)` or `{...}`.
    """
    kind = type(x)
    if kind is not list and kind is not tuple and kind is not dict:
        return None
    if id(x) in active:
        marks: Dict[type, str] = {list: "[...]", tuple: "(...)", dict: "{...}"}
        return marks[kind]
    parts: List[Union[str, Child]] = []
    if kind is dict:
        parts.append("{")
        for i, (key, value) in enumerate(x.items()):
            key_text = repr(key)
            parts.append((", " if i else "") + key_text + ": ")
            parts.append(Child(value, step=f"[{key_text}]"))
        parts.append("}")
    else:
        parts.append("[" if kind is list else "(")
        for i, value in enumerate(x):
            if i:
                parts.append(", ")
            parts.append(Child(value, step=f"[{i}]"))
        parts.append("]" if kind is list else ("," if len(x) == 1 else "") + ")")
    return Layout(parts, ident=id(x))
