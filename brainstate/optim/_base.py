"""Optimizers as graph nodes: any optax transformation, with its buffers held in States.

An `OptaxOptimizer` is bound to a model's weights once, with `register_trainable_weights`;
from then on `update(grads)` runs one optax step. It reads the weights and the buffers through
`State.value`, asks optax for the updates and writes the new values back, so
`brainstate.transform.jit` threads the buffers like any other state and `graph.states(opt)`
(hence a checkpoint) finds them.

The math is optax's. Around the transformation this module adds only:

- gradient clipping (`grad_clip_norm`, `grad_clip_value`), applied first;
- coupled weight decay (`weight_decay * w` added to the gradient), restricted to the weights a
  `brainstate.util` filter selects (`weight_decay_mask`, called as `filter(path, state)`);
- a learning rate that is either a number kept in a State (so `opt.lr = 0.01` takes effect in
  an already compiled step) or a schedule of the step count (`optax.inject_hyperparams`).

Graph layout, i.e. the paths a checkpoint records:

- `step_count`: an `OptimState` counting the updates applied;
- `opt_state`: optax's state tree with each array in its own `OptimState`. The tree is an
  `optax.named_chain` state: `'clip_by_global_norm'`, `'clip'`, `'weight_decay'` (when enabled)
  and `'optimizer'`; the parts that mirror the weights are keyed by the weights' paths, nested,
  e.g. `('opt_state', 'optimizer', 'inner_state', 0, 'mu', 'layers', 0, 'weight')`. If optax's
  tree holds a node type the graph walk does not enter, the whole tree is one `OptimState`.

The weights are referenced, not owned: they are not part of the optimizer's graph, so saving a
model together with its optimizer stores each weight once, under the model.
"""

import numbers
from collections.abc import Mapping
from typing import Any, Callable, Dict, Hashable, Optional, Tuple, Union

import jax
import jax.numpy as jnp
import optax

from .. import graph
from .._state import LongTermState, State
from ..util import FlattedDict, NestedDict, to_predicate

__all__ = ["OptimState", "Optimizer", "OptaxOptimizer"]

Path = Tuple[Hashable, ...]
LearningRate = Union[float, Callable[[jax.Array], jax.Array]]


class OptimState(LongTermState):
    """A `LongTermState` holding an optimizer buffer: a moment, an accumulator, a step count.

    Args:
      value: the buffer's initial value (an array or a PyTree of arrays).
      name: an optional name, shown in errors.
      **metadata: further metadata, kept as attributes.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> opt = brainstate.optim.Adam(lr=1e-3)
      >>> opt.register_trainable_weights({'w': brainstate.ParamState(jnp.zeros(2))})
      >>> isinstance(opt.step_count, brainstate.optim.OptimState)
      True
    """

    __module__ = "brainstate.optim"


class Optimizer(graph.Node):
    """Base class of optimizers: graph nodes that update registered weights from gradients.

    Subclasses implement `register_trainable_weights(param_states)` and `update(grads)`; their
    buffers should be `OptimState`s so that transforms thread them and checkpoints save them. For an
    optax transformation, subclass (or use) `OptaxOptimizer` instead.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class PlainSGD(brainstate.optim.Optimizer):
      ...     def __init__(self, lr):
      ...         self.lr = lr
      ...     def register_trainable_weights(self, param_states):
      ...         self.weights = dict(param_states)
      ...     def update(self, grads):
      ...         for key, state in self.weights.items():
      ...             state.value = state.value - self.lr * grads[key]
      >>> w = brainstate.ParamState(jnp.ones(2))
      >>> opt = PlainSGD(0.5)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(2)})
      >>> w.value.tolist()
      [0.5, 0.5]
    """

    __module__ = "brainstate.optim"

    def register_trainable_weights(self, param_states: Any) -> None:
        """Bind the optimizer to the weights it will update."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement register_trainable_weights; subclasses of "
            f"Optimizer must. For optax-based optimizers subclass OptaxOptimizer instead.")

    def update(self, grads: Any) -> None:
        """Apply one step to the registered weights, given gradients keyed like them."""
        raise NotImplementedError(
            f"{type(self).__name__} does not implement update; subclasses of Optimizer must. For "
            f"optax-based optimizers subclass OptaxOptimizer instead.")


class _Binding:
    """The registered weights and the built transformation; an opaque leaf to the graph walk."""

    def __init__(self, weights: Dict[Path, State], tx: optax.GradientTransformation):
        self.weights = weights
        self.tx = tx


def _as_path(key: Hashable) -> Path:
    return key if isinstance(key, tuple) else (key,)


def _at(tree: Any, path: Path) -> Any:
    for key in path:
        tree = tree[key]
    return tree


def _nest(owner: str, flat: Dict[Path, Any]) -> NestedDict:
    try:
        return FlattedDict(flat).to_nest()
    except ValueError as err:
        raise ValueError(f"{owner}.register_trainable_weights: the weight keys cannot be nested: {err}") from None


def _check_number(owner: str, name: str, value: Any, *, positive: bool = False) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__} {value!r}.")
    if value < 0 or (positive and value == 0):
        raise ValueError(
            f"{owner}: {name} must be {'positive' if positive else 'non-negative'}, got {value!r}.")
    return float(value)


def _check_betas(owner: str, betas: Tuple[float, float], beta1: Optional[float] = None,
                 beta2: Optional[float] = None) -> Tuple[float, float]:
    """`(beta1, beta2)` from the pair `betas`, either overridden by `beta1` / `beta2`, each in [0, 1)."""
    if not isinstance(betas, (tuple, list)) or len(betas) != 2:
        raise ValueError(f"{owner}: betas must be a pair (beta1, beta2), got {betas!r}.")
    b1 = betas[0] if beta1 is None else beta1
    b2 = betas[1] if beta2 is None else beta2
    for name, b in (("beta1", b1), ("beta2", b2)):
        if _check_number(owner, name, b) >= 1.0:
            raise ValueError(f"{owner}: {name} must be in [0, 1), got {b!r}.")
    return float(b1), float(b2)


def _check_lr(owner: str, lr: Any) -> Any:
    if lr is None or callable(lr):
        return lr
    if not isinstance(lr, numbers.Real) or isinstance(lr, bool):
        raise TypeError(
            f"{owner}: lr must be a number or a schedule (a callable from the step count to the "
            f"learning rate, e.g. brainstate.optim.StepLR or an optax schedule), got "
            f"{type(lr).__name__} {lr!r}.")
    return _check_number(owner, "lr", lr)


class OptaxOptimizer(Optimizer):
    """An optimizer running any optax transformation on States.

    Args:
      tx: either a complete `optax.GradientTransformation` that already contains its learning
        rate (e.g. `optax.adam(1e-3)`; leave `lr` unset), or a factory taking the learning rate
        and returning one (e.g. `optax.adam`, or `lambda learning_rate: optax.sgd(learning_rate,
        0.9)`), used with `lr`.
      lr: the learning rate handed to the factory: a number, or a schedule `count -> lr` (a
        `brainstate.optim` schedule or an optax schedule), `count` being the number of updates
        applied before.
      weight_decay: if positive, `weight_decay * w` is added to each gradient before `tx`.
      weight_decay_mask: a `brainstate.util` filter, called as `filter(path, state)` on the
        registered weights; only those it matches are decayed. Default: all.
      grad_clip_norm: if given, gradients are scaled to this global norm at most.
      grad_clip_value: if given, each gradient element is clipped to `[-value, value]`.

    Example:
      >>> import brainstate, optax, jax.numpy as jnp
      >>> w = brainstate.ParamState(jnp.ones(2))
      >>> opt = brainstate.optim.OptaxOptimizer(optax.sgd, lr=0.5)
      >>> opt.register_trainable_weights({'w': w})
      >>> opt.update({'w': jnp.ones(2)})
      >>> w.value.tolist()
      [0.5, 0.5]
    """

    __module__ = "brainstate.optim"

    # True when the named optimizer hands weight decay (and its mask) to the optax alias itself.
    _own_weight_decay = False

    def __init__(self, tx: Any = None, lr: Optional[LearningRate] = None, *, weight_decay: float = 0.0,
                 weight_decay_mask: Any = None, grad_clip_norm: Optional[float] = None,
                 grad_clip_value: Optional[float] = None):
        owner = type(self).__name__
        if type(self)._transform is OptaxOptimizer._transform:
            if isinstance(tx, optax.GradientTransformation):
                if lr is not None:
                    raise ValueError(
                        f"{owner}: lr={lr!r} was given with a complete optax transformation, which "
                        f"already contains its learning rate. Pass the factory instead, e.g. "
                        f"OptaxOptimizer(optax.adam, lr=...), or leave lr unset.")
            elif callable(tx):
                if lr is None:
                    raise ValueError(
                        f"{owner}: tx={tx!r} is a factory, so it needs a learning rate: pass lr=..., "
                        f"or pass a complete transformation such as optax.adam(1e-3).")
            else:
                raise TypeError(
                    f"{owner}: tx must be an optax.GradientTransformation or a factory taking the "
                    f"learning rate (e.g. optax.adam), got {type(tx).__name__} {tx!r}.")
        elif lr is None:
            raise ValueError(f"{owner}: lr is None; give the learning rate, a number or a schedule.")
        self._tx = tx
        self._lr = _check_lr(owner, lr)
        self.weight_decay = _check_number(owner, "weight_decay", weight_decay)
        self._weight_decay_mask = weight_decay_mask if weight_decay_mask is None else to_predicate(weight_decay_mask)
        self.grad_clip_norm = None if grad_clip_norm is None else _check_number(
            owner, "grad_clip_norm", grad_clip_norm, positive=True)
        self.grad_clip_value = None if grad_clip_value is None else _check_number(
            owner, "grad_clip_value", grad_clip_value, positive=True)
        self.step_count = OptimState(jnp.zeros((), jnp.int32), name="step_count")
        self.opt_state: Any = None
        self._binding: Optional[_Binding] = None

    # -- building the transformation --------------------------------------------------------

    def _transform(self, learning_rate: Any, mask: Any) -> optax.GradientTransformation:
        """The optax optimizer proper, given the learning rate; named optimizers override this.

        `mask` is the weight-decay mask (a NestedDict of bools, or None for all weights); it is
        only used by optimizers whose optax alias applies weight decay itself.
        """
        return self._tx(learning_rate)

    def _build(self, mask: Any) -> optax.GradientTransformation:
        parts = []
        if self.grad_clip_norm is not None:
            parts.append(("clip_by_global_norm", optax.clip_by_global_norm(self.grad_clip_norm)))
        if self.grad_clip_value is not None:
            parts.append(("clip", optax.clip(self.grad_clip_value)))
        if self.weight_decay > 0 and not self._own_weight_decay:
            parts.append(("weight_decay", optax.add_decayed_weights(self.weight_decay, mask)))
        if self._lr is None:
            inner = self._tx
        else:
            inner = optax.inject_hyperparams(lambda learning_rate: self._transform(learning_rate, mask))(
                learning_rate=self._lr)
        parts.append(("optimizer", inner))
        return optax.named_chain(*parts)

    # -- registration -------------------------------------------------------------------------

    def register_trainable_weights(self, param_states: Any) -> None:
        """Bind the optimizer to the weights it will update and create its buffers.

        Args:
          param_states: a dict from key to `State` (e.g. `model.states(brainstate.ParamState)`,
            keyed by path tuples) or a list of States (keyed by position). Gradients given to
            `update` must be keyed the same way.

        Raises:
          RuntimeError: if weights were registered already.
          TypeError: if `param_states` is not a dict or list of States.
          ValueError: if it is empty, or its keys cannot be nested as paths.
        """
        owner = type(self).__name__
        if self._binding is not None:
            raise RuntimeError(
                f"{owner}.register_trainable_weights: weights are registered already "
                f"({len(self._binding.weights)} of them); an optimizer updates one set of weights. "
                f"Create a new optimizer for other weights.")
        if isinstance(param_states, (list, tuple)):
            param_states = dict(enumerate(param_states))
        if not isinstance(param_states, Mapping):
            raise TypeError(
                f"{owner}.register_trainable_weights: expected a dict of States (e.g. "
                f"model.states(brainstate.ParamState)) or a list of States, got "
                f"{type(param_states).__name__}.")
        for key, state in param_states.items():
            if not isinstance(state, State):
                raise TypeError(
                    f"{owner}.register_trainable_weights: the entry {key!r} is a "
                    f"{type(state).__name__}, not a State. Register States (e.g. "
                    f"model.states(brainstate.ParamState)), not their values.")
        if not param_states:
            raise ValueError(
                f"{owner}.register_trainable_weights: no weights given, so there is nothing to "
                f"optimize. Did the filter select no states (e.g. the model has no ParamState)?")
        weights = {_as_path(k): s for k, s in param_states.items()}
        params = _nest(owner, {p: s.value for p, s in weights.items()})
        mask = None
        if self._weight_decay_mask is not None:
            mask = _nest(owner, {p: bool(self._weight_decay_mask(p, s)) for p, s in weights.items()})
        tx = self._build(mask)
        self._hold(tx.init(params))
        self._binding = _Binding(weights, tx)

    def _hold(self, opt_state: Any) -> None:
        """Put optax's state in OptimStates: one per array when the graph walk can see them all."""
        holders = jax.tree_util.tree_map_with_path(
            lambda p, v: OptimState(v, name="opt_state" + jax.tree_util.keystr(p)), opt_state)
        self.opt_state = holders
        created = {id(s) for s in jax.tree.leaves(holders)}
        if not created <= {id(s) for s in graph.states(self).values()}:
            self.opt_state = OptimState(opt_state, name="opt_state")

    def _read_opt_state(self) -> Any:
        holders = self.opt_state
        return jax.tree.unflatten(jax.tree.structure(holders), [s.value for s in jax.tree.leaves(holders)])

    def _write_opt_state(self, new_state: Any) -> None:
        holders = self.opt_state
        treedef: Any = jax.tree.structure(holders)  # PyTreeDef: this jaxlib ships no stub for it
        for state, value in zip(jax.tree.leaves(holders), treedef.flatten_up_to(new_state)):
            state.value = value

    # -- the step -----------------------------------------------------------------------------

    def _bound(self, where: str) -> _Binding:
        if self._binding is None:
            raise RuntimeError(
                f"{type(self).__name__}.{where}: no weights are registered. Call "
                f"opt.register_trainable_weights(model.states(brainstate.ParamState)) first.")
        return self._binding

    def _grad_tree(self, grads: Any, weights: Dict[Path, State]) -> NestedDict:
        owner = f"{type(self).__name__}.update"
        if isinstance(grads, (list, tuple)):
            grads = dict(enumerate(grads))
        if not isinstance(grads, Mapping):
            raise TypeError(
                f"{owner}: grads must be a dict keyed like the registered weights (as returned by "
                f"brainstate.transform.grad(..., grad_states=...)), got {type(grads).__name__}.")
        grads = {_as_path(k): g for k, g in grads.items()}
        missing = [p for p in weights if p not in grads]
        unexpected = [p for p in grads if p not in weights]
        if missing or unexpected:
            raise KeyError(
                f"{owner}: the gradient keys do not match the registered weights: missing {missing}, "
                f"unexpected {unexpected}. Compute the gradients with grad_states= the same dict "
                f"that was registered.")
        for path, state in weights.items():
            value, grad = state.value, grads[path]
            if (jax.tree.structure(grad) != jax.tree.structure(value)  # type: ignore[operator]
                    or [jnp.shape(x) for x in jax.tree.leaves(grad)] != [jnp.shape(x) for x in jax.tree.leaves(value)]):
                raise ValueError(
                    f"{owner}: the gradient for the weight at path {path} has shape "
                    f"{jax.tree.map(jnp.shape, grad)}, but the weight has shape "
                    f"{jax.tree.map(jnp.shape, value)}. Each gradient must match its weight.")
        return FlattedDict(grads).to_nest()

    def update(self, grads: Any, **extra_args: Any) -> None:
        """Apply one optimizer step to the registered weights.

        Args:
          grads: the gradients, keyed like the registered weights (a dict, or a list when a list
            was registered), each with its weight's structure and shapes.
          **extra_args: passed on to optax, for transformations that take extra arguments (e.g.
            `value=loss` for `optax.contrib.reduce_on_plateau`).

        Raises:
          RuntimeError: if no weights were registered.
          TypeError: if `grads` is not a dict or list.
          KeyError: naming the missing and unexpected keys, if the keys differ from the weights'.
          ValueError: naming the path, if a gradient's shape differs from its weight's.
        """
        binding = self._bound("update")
        weights = binding.weights
        grad_tree = self._grad_tree(grads, weights)
        params = FlattedDict({p: s.value for p, s in weights.items()}).to_nest()
        updates, new_state = binding.tx.update(grad_tree, self._read_opt_state(), params, **extra_args)
        new_params = optax.apply_updates(params, updates)
        for path, state in weights.items():
            state.value = _at(new_params, path)
        self._write_opt_state(new_state)
        self.step_count.value = self.step_count.value + 1

    # -- views ----------------------------------------------------------------------------------

    @property
    def param_states(self) -> FlattedDict:
        """The registered weights, keyed by path (empty before registration)."""
        return FlattedDict(self._binding.weights if self._binding is not None else {})

    @property
    def lr(self) -> Optional[jax.Array]:
        """The learning rate of the next step (None when it is inside a complete `tx`).

        Setting it (to a number) takes effect at the next step, also in an already compiled
        function; it cannot be set when the learning rate is a schedule.
        """
        if self._lr is None:
            return None
        if callable(self._lr):
            return jnp.asarray(self._lr(self.step_count.value))
        if self._binding is None:
            return jnp.asarray(self._lr, jnp.float32)
        return self._read_opt_state()["optimizer"].hyperparams["learning_rate"]

    @lr.setter
    def lr(self, value: float) -> None:
        owner = type(self).__name__
        if self._lr is None:
            raise AttributeError(
                f"{owner}: the learning rate is part of the optax transformation given as tx, so it "
                f"cannot be set here. Pass the factory and lr instead, e.g. "
                f"OptaxOptimizer(optax.adam, lr=1e-3).")
        if callable(self._lr):
            raise AttributeError(
                f"{owner}: the learning rate follows the schedule {self._lr!r}, so it cannot be set. "
                f"Build the optimizer with a number as lr to set it during training.")
        value = _check_number(owner, "lr", value)
        if self._binding is None:
            self._lr = value
            return
        opt_state = self._read_opt_state()
        inject = opt_state["optimizer"]
        hyperparams = dict(inject.hyperparams)
        hyperparams["learning_rate"] = jnp.asarray(value, hyperparams["learning_rate"].dtype)
        opt_state["optimizer"] = inject._replace(hyperparams=hyperparams)
        self._write_opt_state(opt_state)
