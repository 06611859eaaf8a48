"""Equinox <-> BrainState: `to_equinox`, `from_equinox` and the two generic wrappers.

An Equinox model is an immutable PyTree: its arrays are leaves, trained by transforming the
model itself (`eqx.filter_grad`), and mutable state lives outside it, in an `eqx.nn.State`
threaded through calls (`out, state = model(x, state)`), located by the `eqx.nn.StateIndex`es
in the model. A conversion therefore splits a BrainState module's States in two:

- `to_equinox`: a `Sequential` becomes `eqx.nn.Sequential` (plain functions `eqx.nn.Lambda`),
  natively mapped layers the Equinox layer (`_equinox_layers`), anything else a
  `BrainStateEquinox`: `params` holds the `ParamState` values (array leaves), one `StateIndex`
  holds the other States, whose values therefore live in the `eqx.nn.State`. Such a module is a
  `StatefulLayer`: called `model(x, state)` it returns `(out, state)`, and `eqx.nn.Sequential`
  threads the state through it. Random draws take `key=`; `eqx.nn.inference_mode` sets its
  `inference` field (True: `fit=False`).
- `from_equinox`: anything without a mapping becomes an `EquinoxModule` with one `ParamState`
  per inexact array leaf and, for a stateful model, one `BatchState` per leaf of its
  `eqx.nn.State`, threaded through each call.
"""

import inspect
from typing import Any, Dict, List, Optional, Tuple, cast

import jax

from .. import environ, graph, nn, random
from .._state import BatchState, ParamState
from ._errors import ConversionError, InteropError, MissingDependencyError, UnsupportedLayerError, \
    UnsupportedStructureError
from ._functional import Handle, StateBinding, bs_ids, disjoint, path_name
from ._layers import export_mapping, import_mapping
from ._native import output_size

try:
    import equinox as eqx
except ImportError as _err:  # tests/interop/test_registry.py hides equinox
    raise MissingDependencyError("equinox", "brainstate.interop (Equinox)") from _err

__all__ = ["to_equinox", "from_equinox", "BrainStateEquinox", "EquinoxModule"]


def _is_index(x: Any) -> bool:
    return isinstance(x, eqx.nn.StateIndex)


class BrainStateEquinox(eqx.nn.StatefulLayer):
    """An Equinox module running a BrainState module: parameters as leaves, other states in an
    `eqx.nn.State`.

    Built by `to_equinox`. `params` maps each `ParamState`'s dotted path to its value; `index`
    (None when there is no other State) locates the rest in an `eqx.nn.State`; `inference`
    (None: `brainstate.environ`'s `fit` applies) is set by `eqx.nn.inference_mode`.
    """

    params: Dict[str, Any]
    index: Optional[eqx.nn.StateIndex]
    binding: Handle = eqx.field(static=True)
    inference: Optional[bool] = None

    def is_stateful(self) -> bool:
        return self.index is not None

    def __call__(self, *args: Any, state: Any = None, key: Any = None, **kwargs: Any) -> Any:
        """`out = model(*args)`, or `out, state = model(*args, state)` for a stateful module.

        Raises:
          InteropError: a stateful module called without its `eqx.nn.State`.
          UnsupportedLayerError: the BrainState module writes a parameter during the call.
        """
        if state is None and args and isinstance(args[-1], eqx.nn.State):
            args, state = args[:-1], args[-1]
        binding = self.binding.value
        if self.index is not None and state is None:
            raise InteropError(
                f"{binding.owner} has non-parameter states, which live in an eqx.nn.State: call it as "
                f"`out, state = model(x, state)`, starting from `state = eqx.nn.State(model)`.")
        others = state.get(self.index) if self.index is not None else {}
        values = [self.params[path_name(p)] if issubclass(k, ParamState) else others[path_name(p)]
                  for p, k in zip(binding.paths, binding.kinds, strict=True)]
        fit = None if self.inference is None else not self.inference
        out, new_values, _ = binding(values, args, kwargs, fit=fit, key=key,
                                     key_hint="Pass key=jax.random.key(...) to the call.")
        new_others = {}
        for path, kind, old, new in zip(binding.paths, binding.kinds, values, new_values, strict=True):
            if not issubclass(kind, ParamState):
                new_others[path_name(path)] = new
            elif new is not old:
                raise UnsupportedLayerError(
                    f"{binding.owner} writes its parameter {path_name(path)!r} during the call; an Equinox "
                    f"module is immutable, so the new value would be lost. Keep values a call changes in "
                    f"other States (e.g. ShortTermState).")
        if self.index is None:
            return out
        return out, state.set(self.index, new_others)

    def to_brainstate(self, state: Any = None) -> Any:
        """A copy of the wrapped BrainState module: parameters from this module, other States
        from `state` (or, without it, the values the module was converted with)."""
        binding = self.binding.value
        others: Dict[str, Any]
        if self.index is None:
            others = {}
        else:  # the index was built from the dict of other values in `_wrap`
            others = state.get(self.index) if state is not None else cast(Dict[str, Any], self.index.init)
        values = [self.params[path_name(p)] if issubclass(k, ParamState) else others[path_name(p)]
                  for p, k in zip(binding.paths, binding.kinds, strict=True)]
        module = graph.clone(binding.module)
        live = graph.states(module)
        for path, value in zip(binding.paths, binding.conform(values, f"from_equinox({binding.owner})"),
                               strict=True):
            live[path].value = value
        return module


def _wrap(module: Any) -> BrainStateEquinox:
    binding = StateBinding(module, owner=f"to_equinox({type(module).__name__})")
    params: Dict[str, Any] = {}
    others: Dict[str, Any] = {}
    for path, kind, value in zip(binding.paths, binding.kinds, binding.values(), strict=True):
        (params if issubclass(kind, ParamState) else others)[path_name(path)] = value
    return BrainStateEquinox(params, eqx.nn.StateIndex(others) if others else None, Handle(binding))


class EquinoxModule(nn.Module):
    """A BrainState module running an Equinox module whose arrays it holds as States.

    Built by `from_equinox`. `params` mirrors the model's inexact arrays as `ParamState`s (nested
    by attribute path); `state` holds the leaves of its `eqx.nn.State` as `BatchState`s (empty for
    a stateless model). Each call passes a fresh `key` from `brainstate.random` when the model's
    call takes one, and applies `eqx.nn.inference_mode(model, not fit)` while `environ` `fit` is set.
    """

    def __init__(self, model: Any, state: Any = None):
        super().__init__()
        arrays, static = eqx.partition(model, eqx.is_inexact_array, is_leaf=_is_index)
        flat, treedef = jax.tree_util.tree_flatten_with_path(arrays)
        if state is None and any(_is_index(x) for x in jax.tree_util.tree_leaves(model, is_leaf=_is_index)):
            try:
                state = eqx.nn.State(model)
            except ValueError:  # built by make_with_state, which keeps the initial state apart
                raise UnsupportedStructureError(
                    f"from_equinox: {type(model).__name__} keeps state in an eqx.nn.State: pass it as "
                    f"from_equinox(model, state=state).") from None
        state_leaves, state_def = jax.tree_util.tree_flatten(state) if state is not None else ([], None)
        self._eqx = Handle((static, treedef, state_def, _takes_key(model)))
        self.params: Dict[Any, Any] = {}
        for key_path, leaf in flat:
            node = self.params
            keys = [_key(k) for k in key_path]
            for k in keys[:-1]:
                node = node.setdefault(k, {})
            node[keys[-1] if keys else "value"] = ParamState(leaf)
        self._order = Handle([tuple(_key(k) for k in kp) or ("value",) for kp, _ in flat])
        self.state = [BatchState(leaf) for leaf in state_leaves]

    def _param_states(self) -> List[Any]:
        out = []
        for path in self._order.value:
            node = self.params
            for k in path:
                node = node[k]
            out.append(node)
        return out

    def _model(self) -> Tuple[Any, Any]:
        static, treedef, state_def, _ = self._eqx.value
        arrays = jax.tree_util.tree_unflatten(treedef, [s.value for s in self._param_states()])
        model = eqx.combine(arrays, static, is_leaf=_is_index)
        state = None if state_def is None else jax.tree_util.tree_unflatten(state_def, [s.value for s in self.state])
        return model, state

    def update(self, *args: Any, **kwargs: Any) -> Any:
        """Call the Equinox model with the current values (and its state); write back the new state."""
        model, state = self._model()
        fit = environ.get("fit", default=None)
        if fit is not None:
            model = eqx.nn.inference_mode(model, value=not fit)
        if self._eqx.value[3] and "key" not in kwargs:
            kwargs["key"] = random.split_key()
        if state is None:
            return model(*args, **kwargs)
        old_leaves = jax.tree_util.tree_leaves(state)  # read now: Equinox forbids reading a used state
        out, new_state = model(*args, state, **kwargs)
        for s, old, new in zip(self.state, old_leaves, jax.tree_util.tree_leaves(new_state), strict=True):
            if new is not old:
                s.value = new
        return out

    def to_equinox(self) -> Any:
        """The Equinox model with the current values; its `StateIndex`es start from the current
        state, so `eqx.nn.State(model)` gives it back."""
        model, state = self._model()
        if state is None:
            return model
        indexes = [x for x in jax.tree_util.tree_leaves(model, is_leaf=_is_index) if _is_index(x)]
        return eqx.tree_at(lambda m: [i.init for i in jax.tree_util.tree_leaves(m, is_leaf=_is_index)
                                      if _is_index(i)], model, [state.get(i) for i in indexes])


def _key(k: Any) -> Any:
    tu = jax.tree_util
    if isinstance(k, tu.GetAttrKey):
        return k.name
    if isinstance(k, tu.DictKey):
        return k.key
    if isinstance(k, (tu.SequenceKey, tu.FlattenedIndexKey)):
        return k.idx
    return str(k)


def _takes_key(model: Any) -> bool:
    try:
        return "key" in inspect.signature(model.__call__).parameters
    except (TypeError, ValueError):  # no signature to read: do not pass a key
        return False


# -- conversion ------------------------------------------------------------------------------------
def _has_foreign_state(layer: Any) -> bool:
    """Whether `layer` keeps state in an eqx.nn.State that only the whole model can thread (our own
    wrappers read their part of a shared state by themselves)."""
    if isinstance(layer, BrainStateEquinox):
        return False
    return any(_is_index(x) for x in jax.tree_util.tree_leaves(layer, is_leaf=_is_index))


def _elementwise(layer: Any) -> bool:
    """A stateless element-wise layer computes the same on one sample as on a batch (unless it
    broadcasts over given axes, which would move when the batch axis goes)."""
    return (isinstance(layer, nn.ElementWiseBlock) and not graph.states(layer)
            and not getattr(layer, "broadcast_dims", ()))


def _to_equinox(module: Any) -> Any:
    if isinstance(module, EquinoxModule):
        return module.to_equinox()
    if type(module) is nn.Sequential and disjoint([bs_ids(l) for l in module.layers]):
        layers = [_to_equinox(l) if isinstance(l, nn.Module) else eqx.nn.Lambda(l) for l in module.layers]
        # Equinox layers act on one sample; a wrapped layer that is not element-wise (batch norm, a
        # recurrent cell, ...) needs the batch, so then the whole Sequential is wrapped instead.
        if all(not isinstance(c, BrainStateEquinox) or _elementwise(l) for c, l in zip(layers, module.layers,
                                                                                      strict=True)):
            return eqx.nn.Sequential(layers)
    mapping = export_mapping("equinox", type(module))
    if mapping is not None:
        out = mapping.to_foreign(module)
        if out is not None:
            if not isinstance(out, eqx.Module):
                raise ConversionError(f"to_equinox: the mapping for {type(module).__name__} returned "
                                      f"{type(out).__name__}, not an equinox.Module. Fix its to_foreign function.")
            return out
    return _wrap(module)


def to_equinox(model: Any, *, key: Any = None) -> Any:
    """See `brainstate.interop.to_equinox`."""
    if not isinstance(model, nn.Module):
        raise UnsupportedStructureError(
            f"to_equinox expects a brainstate.nn.Module, got {type(model).__name__}: {model!r}.")
    return _to_equinox(model)


def _from_equinox(model: Any, in_size: Optional[Tuple[int, ...]], state: Any) -> Any:
    if isinstance(model, BrainStateEquinox):
        return model.to_brainstate(state)
    children = list(model.layers) if type(model) is eqx.nn.Sequential else []
    if (children and len({id(l) for l in children}) == len(children)
            and not any(_has_foreign_state(l) for l in children)):
        layers = []
        for child in children:
            layer = child.fn if type(child) is eqx.nn.Lambda else _from_equinox(child, in_size, state)
            layers.append(layer)
            in_size = output_size(layer, in_size)
        return nn.Sequential(*layers)
    mapping = import_mapping("equinox", type(model))
    if mapping is not None:
        out = mapping.to_bst(model, in_size)
        if out is not None:
            if not isinstance(out, nn.Module):
                raise ConversionError(f"from_equinox: the mapping for {type(model).__name__} returned "
                                      f"{type(out).__name__}, not a brainstate.nn.Module. Fix its to_bst function.")
            return out
    return EquinoxModule(model, state)


def from_equinox(model: Any, *, sample_input: Any = None, state: Any = None) -> Any:
    """See `brainstate.interop.from_equinox`."""
    if not isinstance(model, eqx.Module):
        raise UnsupportedStructureError(
            f"from_equinox expects an equinox.Module, got {type(model).__name__}: {model!r}.")
    if state is not None and not isinstance(state, eqx.nn.State):
        raise UnsupportedStructureError(f"from_equinox: state must be an eqx.nn.State or None, got "
                                        f"{type(state).__name__}.")
    in_size = None if sample_input is None else tuple(getattr(sample_input, "shape", sample_input))
    return _from_equinox(model, in_size, state)


from . import _equinox_layers  # noqa: E402,F401  (registers the native layer mappings)
