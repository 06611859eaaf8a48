"""Flax Linen <-> BrainState: `to_linen`, `from_linen` and the two generic wrappers.

Linen keeps a model's values outside the module, in collections of variables passed to
`apply`; BrainState keeps them in States on the module. A conversion moves values between the
two places:

- `to_linen` returns `(linen_module, variables)`. A `Sequential` becomes `linen.Sequential`
  (children named `layers_<i>`), natively mapped layers the Linen layer (`_linen_layers`), and
  any other module a `BrainStateLinen`, which declares one Linen variable per State, named by its
  dotted graph path: `ParamState` in `params`, `BatchState` in `batch_stats`, others in
  `state`; then runs the BrainState computation on them and assigns the new values (so
  `apply(..., mutable=['batch_stats', 'state'])` returns the updates).
- `from_linen` returns a BrainState module; anything without a mapping becomes a `LinenModule`
  holding one State per Linen variable (`params` -> `ParamState`, `batch_stats` -> `BatchState`,
  others -> `ShortTermState`) and calling `apply` with every other collection mutable.
"""

from typing import Any, Dict, List, Mapping, Optional, Tuple

import jax

from .. import environ, graph, nn, random
from .._state import BatchState, ParamState, ShortTermState, State
from ._errors import ConversionError, InteropError, MissingDependencyError, UnsupportedStructureError
from ._functional import Handle, StateBinding, bs_ids, disjoint, path_name
from ._layers import export_mapping, import_mapping
from ._native import output_size

try:
    import flax
    from flax import linen
except ImportError as _err:  # tests/interop/test_registry.py hides flax
    raise MissingDependencyError("flax", "brainstate.interop (Flax Linen)") from _err

__all__ = ["to_linen", "from_linen", "BrainStateLinen", "LinenModule"]

Variables = Dict[str, Any]


def collection_of(kind: type) -> str:
    """The Linen collection of a State class."""
    if issubclass(kind, ParamState):
        return "params"
    if issubclass(kind, BatchState):
        return "batch_stats"
    return "state"


def _state_type(collection: str) -> type:
    return {"params": ParamState, "batch_stats": BatchState}.get(collection, ShortTermState)


class BrainStateLinen(linen.Module):
    """A Linen module running a BrainState module whose states are its Linen variables.

    Built by `to_linen`. Fields: `binding` (the BrainState module), `deterministic` (None:
    `brainstate.environ`'s `fit` applies; True/False: evaluation/training) and `rng_collection`
    (the Linen RNG stream random draws take their key from, `'dropout'` by default).
    """

    binding: Handle
    deterministic: Optional[bool] = None
    rng_collection: str = "dropout"

    @linen.compact
    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        binding = self.binding.value
        handles = [self.variable(collection_of(kind), path_name(path), lambda v=value: v)
                   for path, kind, value in zip(binding.paths, binding.kinds, binding.values(), strict=True)]
        values = binding.conform([h.value for h in handles], f"{binding.owner} apply")
        fit = None if self.deterministic is None else not self.deterministic
        initializing = self.is_initializing()
        if initializing and fit is None and environ.get("fit", default=None) is None:
            fit = False  # `init` only needs the output's shape: do not ask for a mode
        out, new_values, _ = binding(values, args, kwargs, fit=fit, key=lambda: self.make_rng(self.rng_collection),
                                     key_hint=f"Pass rngs={{'{self.rng_collection}': key}} to apply.")
        for handle, old, new in zip(handles, values, new_values, strict=True):
            # `init` returns the module's current values, untouched by the call that shapes the output
            if new is not old and not initializing:
                handle.value = new
        return out

    def variables_of(self) -> Variables:
        """The variables of the wrapped module's current states (what `init` returns)."""
        binding = self.binding.value
        out: Variables = {}
        for path, kind, value in zip(binding.paths, binding.kinds, binding.values(), strict=True):
            out.setdefault(collection_of(kind), {})[path_name(path)] = value
        return out

    def to_brainstate(self, variables: Mapping[str, Any]) -> Any:
        """A copy of the wrapped BrainState module holding the values in `variables`."""
        binding = self.binding.value
        where = f"from_linen({binding.owner})"
        values = []
        for path, kind in zip(binding.paths, binding.kinds, strict=True):
            collection, name = collection_of(kind), path_name(path)
            if name not in variables.get(collection, {}):
                raise ConversionError(f"{where}: the variables have no {collection}/{name!r}. Pass the "
                                      f"variables this module was converted with (or that apply returned).")
            values.append(variables[collection][name])
        module = graph.clone(binding.module)
        live = graph.states(module)
        for path, value in zip(binding.paths, binding.conform(values, where), strict=True):
            live[path].value = value
        return module


def _flatten(tree: Mapping[str, Any], prefix: Tuple[str, ...] = ()) -> List[Tuple[Tuple[str, ...], Any]]:
    out = []
    for k, v in tree.items():
        out.extend(_flatten(v, prefix + (k,)) if isinstance(v, Mapping) else [(prefix + (k,), v)])
    return out


class LinenModule(nn.Module):
    """A BrainState module running a Linen module whose variables it holds as States.

    Built by `from_linen`. `variables` mirrors the Linen variables (`{collection: {...}}`, one
    State per array); each call runs `apply` with every collection but `params` mutable, feeds
    the RNG streams `rng_names` from `brainstate.random`, and writes the updates back.
    """

    def __init__(self, module: Any, variables: Mapping[str, Any], rng_names: Tuple[str, ...] = ()):
        super().__init__()
        self._linen = Handle((module, tuple(rng_names)))
        self.variables: Dict[str, Any] = {}
        for path, value in _flatten(variables):
            node = self.variables
            for key in path[:-1]:
                node = node.setdefault(key, {})
            node[path[-1]] = _state_type(path[0])(value)

    def _values(self) -> Variables:
        return jax.tree_util.tree_map(lambda s: s.value, self.variables, is_leaf=lambda x: isinstance(x, State))

    def update(self, *args: Any, **kwargs: Any) -> Any:
        """`apply` the Linen module to the arguments with the current values; write back updates."""
        module, rng_names = self._linen.value
        mutable = [c for c in self.variables if c != "params"]
        rngs = {name: random.split_key() for name in rng_names}
        try:
            out = module.apply(self._values(), *args, rngs=rngs, mutable=mutable or False, **kwargs)
        except flax.errors.InvalidRngError as err:
            raise InteropError(f"{type(module).__name__} (from_linen) needs a random stream: {err}. Convert it "
                               f"with from_linen(..., rng_names=('dropout',)) (the streams it uses) so each "
                               f"call draws their keys from brainstate.random.") from None
        out, updates = out if mutable else (out, {})
        for path, value in _flatten(updates):
            node: Any = self.variables
            for key in path:
                node = node.get(key) if isinstance(node, dict) else None
            if isinstance(node, State) and value is not node.value:
                node.value = value
        return out

    def to_linen(self) -> Tuple[Any, Variables]:
        """The wrapped Linen module and the States' current values as its variables."""
        return self._linen.value[0], self._values()


# -- conversion ------------------------------------------------------------------------------------
def _to_linen(module: Any) -> Tuple[Any, Variables]:
    if isinstance(module, LinenModule):
        return module.to_linen()
    if type(module) is nn.Sequential and disjoint([bs_ids(l) for l in module.layers]):
        layers: List[Any] = []
        variables: Variables = {}
        for i, layer in enumerate(module.layers):
            child, child_vars = _to_linen(layer) if isinstance(layer, nn.Module) else (layer, {})
            layers.append(child)
            for collection, tree in child_vars.items():
                variables.setdefault(collection, {})[f"layers_{i}"] = tree
        return linen.Sequential(layers), variables
    mapping = export_mapping("linen", type(module))
    if mapping is not None:
        out = mapping.to_foreign(module)
        if out is not None:
            if not (isinstance(out, tuple) and len(out) == 2 and isinstance(out[0], linen.Module)):
                raise ConversionError(f"to_linen: the mapping for {type(module).__name__} returned {out!r}, not "
                                      f"a (linen.Module, variables) pair. Fix its to_foreign function.")
            return out
    wrapper = BrainStateLinen(Handle(StateBinding(module, owner=f"to_linen({type(module).__name__})")))
    return wrapper, wrapper.variables_of()


def to_linen(model: Any) -> Tuple[Any, Variables]:
    """See `brainstate.interop.to_linen`."""
    if not isinstance(model, nn.Module):
        raise UnsupportedStructureError(
            f"to_linen expects a brainstate.nn.Module, got {type(model).__name__}: {model!r}.")
    return _to_linen(model)


def _from_linen(module: Any, variables: Mapping[str, Any], in_size: Optional[Tuple[int, ...]],
                rng_names: Tuple[str, ...]) -> Any:
    if isinstance(module, BrainStateLinen):
        return module.to_brainstate(variables)
    if (type(module) is linen.Sequential and module.layers
            and len({id(l) for l in module.layers}) == len(module.layers)):
        layers = []
        for i, layer in enumerate(module.layers):
            name = f"layers_{i}"
            if isinstance(layer, linen.Module):
                sub = {c: tree[name] for c, tree in variables.items() if name in tree}
                layer = _from_linen(layer, sub, in_size, rng_names)
            layers.append(layer)
            in_size = output_size(layer, in_size)
        return nn.Sequential(*layers)
    mapping = import_mapping("linen", type(module))
    if mapping is not None:
        out = mapping.to_bst((module, variables), in_size)
        if out is not None:
            if not isinstance(out, nn.Module):
                raise ConversionError(f"from_linen: the mapping for {type(module).__name__} returned "
                                      f"{type(out).__name__}, not a brainstate.nn.Module. Fix its to_bst function.")
            return out
    return LinenModule(module, variables, rng_names)


def from_linen(module: Any, params: Any, *, sample_input: Any = None, rng_names: Tuple[str, ...] = ()) -> Any:
    """See `brainstate.interop.from_linen`."""
    if not isinstance(module, linen.Module):
        raise UnsupportedStructureError(
            f"from_linen expects a flax.linen.Module, got {type(module).__name__}: {module!r}.")
    if not isinstance(params, Mapping):
        raise UnsupportedStructureError(
            f"from_linen: params must be the variables dict that module.init returned (or its 'params' "
            f"collection), got {type(params).__name__}.")
    variables = dict(params) if "params" in params else {"params": params}
    in_size = None if sample_input is None else tuple(getattr(sample_input, "shape", sample_input))
    return _from_linen(module, variables, in_size, tuple(rng_names))


from . import _linen_layers  # noqa: E402,F401  (registers the native layer mappings)
