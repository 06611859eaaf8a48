"""Flax NNX <-> BrainState: `to_nnx`, `from_nnx` and the two generic wrappers.

Both frameworks are object graphs of mutable state, so a conversion keeps the structure and
moves the values:

- `to_nnx`: a `Sequential` becomes `nnx.Sequential`, a layer with a native mapping (`_nnx_layers`)
  the NNX layer, anything else a `BrainStateNnx`: an `nnx.Module` holding each State's value in
  an NNX Variable of the matching kind (`ParamState` -> `nnx.Param`, `BatchState` ->
  `nnx.BatchStat`, any other State -> `StateVariable`) and running the BrainState computation on
  them when called, so `nnx.jit`, `nnx.grad` and `nnx.Optimizer` see ordinary Variables. Its
  `deterministic` attribute (set by `model.train()` / `model.eval()`) sets `environ` `fit`;
  random draws come from its own `rng` key (an `nnx.RngKey`).
- `from_nnx`: the reverse; anything without a mapping becomes an `NnxModule`, a BrainState module
  whose States mirror the NNX Variables (`nnx.Param` -> `ParamState`, `nnx.BatchStat` ->
  `BatchState`, others -> `ShortTermState`) and which calls the NNX module on them.

Converting a wrapper back unwraps it: the original class with the current values.
"""

import contextvars
from typing import Any, Dict, List, Optional, Tuple

import jax

from .. import environ, graph, nn, random
from .._state import BatchState, ParamState, ShortTermState
from ._errors import ConversionError, MissingDependencyError, UnsupportedStructureError
from ._functional import Handle, StateBinding, as_typed_key, bs_ids, disjoint
from ._layers import export_mapping, import_mapping
from ._native import output_size

try:
    from flax import nnx
except ImportError as _err:  # tests/interop/test_registry.py hides flax
    raise MissingDependencyError("flax", "brainstate.interop (Flax NNX)") from _err

__all__ = ["to_nnx", "from_nnx", "BrainStateNnx", "NnxModule", "StateVariable"]


class StateVariable(nnx.Variable):
    """The NNX Variable kind of a BrainState State that is neither a parameter nor a batch
    statistic (hidden states, short-term states, ...); metadata `kind` names its State class."""


def _variable_type(kind: type) -> type:
    if issubclass(kind, ParamState):
        return nnx.Param
    if issubclass(kind, BatchState):
        return nnx.BatchStat
    return StateVariable


def _variable(kind: type, value: Any) -> Any:
    vtype = _variable_type(kind)
    return vtype(value, kind=kind.__name__) if vtype is StateVariable else vtype(value)


def _state_type(variable_type: type) -> type:
    if issubclass(variable_type, nnx.Param):
        return ParamState
    if issubclass(variable_type, nnx.BatchStat):
        return BatchState
    return ShortTermState


def _nest(paths: List[Tuple[str, ...]], leaves: List[Any], owner: str) -> Any:
    """Nested `nnx.Dict`s holding `leaves` at `paths` (string keys)."""
    root: Dict[str, Any] = {}
    for path, leaf in zip(paths, leaves, strict=True):
        node = root
        for i, key in enumerate(path):
            last = i == len(path) - 1
            if key in node and (last or not isinstance(node[key], dict)):
                raise ConversionError(
                    f"{owner}: two states map to the NNX path {'/'.join(path[:i + 1])!r} (NNX keys are "
                    f"strings, so keys such as 0 and '0' of one dict collide). Rename one of them.")
            if last:
                node[key] = leaf
            else:
                node = node.setdefault(key, {})

    def build(d):
        return nnx.Dict({k: build(v) if isinstance(v, dict) else v for k, v in d.items()})

    return build(root)


class BrainStateNnx(nnx.Module):
    """An NNX module running a BrainState module whose states it holds as NNX Variables.

    Built by `to_nnx`; call it as the BrainState module is called. Attributes: `states` (nested
    `nnx.Dict` of Variables keyed by the BrainState graph paths), `rng` (the key random draws
    come from) and `deterministic` (None: `brainstate.environ`'s `fit` applies; True/False:
    evaluation/training, as set by `model.eval()` / `model.train()`).
    """

    def __init__(self, module: Any, key: Any):
        binding = StateBinding(module, owner=f"to_nnx({type(module).__name__})")
        self.binding = Handle(binding)
        self.deterministic: Optional[bool] = None
        leaves = binding.leaves()
        paths = [path for path, _, _ in leaves]
        variables = [_variable(kind, value) for _, kind, value in leaves]
        self.states = _nest(paths, variables, binding.owner)
        self.rng = nnx.RngKey(key, tag="brainstate")
        self._paths = Handle(paths)

    def _variables(self) -> List[Any]:
        out = []
        for path in self._paths.value:
            node = self.states
            for key in path:
                node = node[key]
            out.append(node)
        return out

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        binding = self.binding.value
        variables = self._variables()
        leaves = [v.get_value() for v in variables]
        fit = None if self.deterministic is None else not self.deterministic
        key = self.rng.get_value()
        out, new_values, new_key = binding(binding.from_leaves(leaves), args, kwargs, fit=fit, key=key)
        for variable, old, new in zip(variables, leaves, binding.to_leaves(new_values), strict=True):
            if new is not old:
                variable.set_value(new)
        if new_key is not key:
            self.rng.set_value(as_typed_key(new_key))
        return out

    def to_brainstate(self) -> Any:
        """A copy of the wrapped BrainState module holding the Variables' current values."""
        binding = self.binding.value
        module = graph.clone(binding.module)
        live = graph.states(module)
        values = binding.from_leaves([v.get_value() for v in self._variables()])
        for path, value in zip(binding.paths, values, strict=True):
            live[path].value = value
        return module


class NnxModule(nn.Module):
    """A BrainState module running an NNX module whose Variables it holds as States.

    Built by `from_nnx`. `variables` mirrors the NNX state (nested dicts keyed by the NNX paths).
    While `brainstate.environ`'s `fit` is set, the NNX module is put in training (`train()`) or
    evaluation mode (`eval()`) for the call; unset, its own flags apply.
    """

    def __init__(self, model: Any):
        super().__init__()
        graphdef, state = nnx.split(model)
        flat = list(nnx.to_flat_state(state))
        self._nnx = Handle((graphdef, flat))
        self.variables: Dict[Any, Any] = {}
        for path, variable in flat:
            node = self.variables
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = _state_type(type(variable))(variable.get_value())

    def _states(self) -> List[Any]:
        out = []
        for path, _ in self._nnx.value[1]:
            node = self.variables
            for key in path:
                node = node[key]
            out.append(node)
        return out

    def _build(self, values: List[Any]) -> Any:
        graphdef, flat = self._nnx.value
        pairs = [(path, variable.replace(value)) for (path, variable), value in zip(flat, values, strict=True)]
        return nnx.merge(graphdef, nnx.from_flat_state(pairs))

    def update(self, *args: Any, **kwargs: Any) -> Any:
        """Call the NNX module with the current values and write back the Variables it changed."""
        states = self._states()
        values = [s.value for s in states]
        model = self._build(values)
        fit = environ.get("fit", default=None)
        if fit is not None:
            model.train() if fit else model.eval()
        out = model(*args, **kwargs)
        after = dict(nnx.to_flat_state(nnx.state(model)))
        for (path, _), state, old in zip(self._nnx.value[1], states, values, strict=True):
            new = after[path].get_value() if path in after else old
            if new is not old:
                state.value = new
        return out

    def to_nnx(self) -> Any:
        """A copy of the wrapped NNX module holding the States' current values."""
        return self._build([s.value for s in self._states()])


# -- conversion ------------------------------------------------------------------------------------
# The `rngs` given to `to_nnx`, for native layers that need a stream (nnx.Dropout) while converting.
RNGS: contextvars.ContextVar = contextvars.ContextVar("brainstate_interop_nnx_rngs", default=None)


def new_key(rngs: Any) -> Any:
    """A fresh typed key: from `rngs` if given, else from the BrainState default stream."""
    if rngs is None:
        key = random.split_key()
        return as_typed_key(key)
    return rngs()


def _nnx_ids(layer: Any) -> set:
    if not isinstance(layer, nnx.Module):
        return set()
    return {id(node) for _, node in nnx.iter_graph(layer) if isinstance(node, (nnx.Variable, nnx.Module))}


def _to_nnx(module: Any, rngs: Any) -> Any:
    if isinstance(module, NnxModule):
        return module.to_nnx()
    if type(module) is nn.Sequential and disjoint([bs_ids(l) for l in module.layers]):
        return nnx.Sequential(*[_to_nnx(l, rngs) if isinstance(l, nn.Module) else l for l in module.layers])
    mapping = export_mapping("nnx", type(module))
    if mapping is not None:
        token = RNGS.set(rngs)
        try:
            out = mapping.to_foreign(module)
        finally:
            RNGS.reset(token)
        if out is not None:
            if not isinstance(out, nnx.Module):
                raise ConversionError(f"to_nnx: the mapping for {type(module).__name__} returned "
                                      f"{type(out).__name__}, not an nnx.Module. Fix its to_foreign function.")
            return out
    return BrainStateNnx(module, new_key(rngs))


def to_nnx(model: Any, *, rngs: Any = None) -> Any:
    """See `brainstate.interop.to_nnx`."""
    if not isinstance(model, nn.Module):
        raise UnsupportedStructureError(
            f"to_nnx expects a brainstate.nn.Module, got {type(model).__name__}: {model!r}.")
    if rngs is not None and not isinstance(rngs, nnx.Rngs):
        raise UnsupportedStructureError(f"to_nnx: rngs must be an nnx.Rngs or None, got {type(rngs).__name__}.")
    return _to_nnx(model, rngs)


def _from_nnx(model: Any, in_size: Optional[Tuple[int, ...]]) -> Any:
    if isinstance(model, BrainStateNnx):
        return model.to_brainstate()
    if type(model) is nnx.Sequential and len(model.layers) and disjoint([_nnx_ids(l) for l in model.layers]):
        layers = []
        for layer in model.layers:
            converted = _from_nnx(layer, in_size) if isinstance(layer, nnx.Module) else layer
            layers.append(converted)
            in_size = output_size(converted, in_size)
        return nn.Sequential(*layers)
    mapping = import_mapping("nnx", type(model))
    if mapping is not None:
        out = mapping.to_bst(model, in_size)
        if out is not None:
            if not isinstance(out, nn.Module):
                raise ConversionError(f"from_nnx: the mapping for {type(model).__name__} returned "
                                      f"{type(out).__name__}, not a brainstate.nn.Module. Fix its to_bst function.")
            return out
    return NnxModule(model)


def from_nnx(model: Any, *, sample_input: Any = None) -> Any:
    """See `brainstate.interop.from_nnx`."""
    if not isinstance(model, nnx.Module):
        raise UnsupportedStructureError(f"from_nnx expects a flax.nnx.Module, got {type(model).__name__}: {model!r}.")
    in_size = None if sample_input is None else tuple(getattr(sample_input, "shape", sample_input))
    return _from_nnx(model, in_size)


from . import _nnx_layers  # noqa: E402,F401  (registers the native layer mappings)
