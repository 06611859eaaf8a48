"""The public conversions; each imports its framework's module on first use.

`flax` and `equinox` are optional (`pip install 'brainstate[interop]'`): importing
`brainstate.interop` needs neither, and a conversion whose package is missing raises
`MissingDependencyError` naming it.
"""

from typing import Any, Tuple

from ._layers import load_framework

__all__ = ["to_nnx", "from_nnx", "to_linen", "from_linen", "to_equinox", "from_equinox"]


def to_nnx(model: Any, *, rngs: Any = None) -> Any:
    """Convert a BrainState module into a Flax NNX module computing the same thing.

    A `Sequential` becomes `nnx.Sequential`; layers listed by `supported_layers('nnx')` become the
    NNX layer with the same weights; any other module becomes a `BrainStateNnx`, which runs the
    BrainState computation on NNX Variables: `ParamState` -> `nnx.Param`, `BatchState` ->
    `nnx.BatchStat`, other States -> a `StateVariable`. Calling the result gives the same output
    and the same state updates as calling `model`, and it trains with `nnx.grad` / `nnx.Optimizer`.
    `model.train()` / `model.eval()` set `brainstate.environ`'s `fit` for the wrapped modules
    (left alone, the current `fit` applies) and the mode of native `nnx.Dropout`.
    `from_nnx` turns the result back into an equal BrainState model. Convert outside any
    transform; `model` itself is not modified.

    Args:
      model: a `brainstate.nn.Module` whose states exist (call `init_all_states` first for
        layers such as recurrent cells that create them lazily).
      rngs: an `nnx.Rngs` for the random keys of the result (native dropout, the `rng` key of
        wrappers); None draws them from `brainstate.random`.

    Returns:
      An `nnx.Module`.

    Raises:
      UnsupportedStructureError: `model` is not a BrainState module, or `rngs` not an `nnx.Rngs`.
      MissingDependencyError: flax is not installed.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> from brainstate.interop import to_nnx
      >>> model = brainstate.nn.Sequential(brainstate.nn.Linear(3, 4), brainstate.nn.ReLU())
      >>> nnx_model = to_nnx(model)
      >>> type(nnx_model).__name__, type(nnx_model.layers[0]).__name__
      ('Sequential', 'Linear')
      >>> x = jnp.ones((2, 3))
      >>> bool(jnp.array_equal(nnx_model(x), model(x)))
      True
    """
    return load_framework("nnx", "brainstate.interop.to_nnx").to_nnx(model, rngs=rngs)


def from_nnx(model: Any, *, sample_input: Any = None) -> Any:
    """Convert a Flax NNX module into a BrainState module computing the same thing.

    `nnx.Sequential` becomes `Sequential`, natively mapped NNX layers the BrainState layer with the
    same weights, and any other module an `NnxModule` whose States mirror the NNX Variables
    (`nnx.Param` -> `ParamState`, `nnx.BatchStat` -> `BatchState`, others -> `ShortTermState`) and
    which calls the NNX module on them, writing back the Variables the call changed. While
    `brainstate.environ`'s `fit` is set, that module runs in NNX training (`fit=True`) or
    evaluation mode. A module made by `to_nnx` converts back to the original class.

    Args:
      model: an `nnx.Module` (not modified).
      sample_input: one unbatched input, or its shape. Only convolutions need it (their
        BrainState counterparts know their spatial size); without it they are wrapped instead.

    Returns:
      A `brainstate.nn.Module`.

    Raises:
      UnsupportedStructureError: `model` is not an NNX module.
      MissingDependencyError: flax is not installed.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> from flax import nnx
      >>> from brainstate.interop import from_nnx
      >>> layer = from_nnx(nnx.Linear(3, 2, rngs=nnx.Rngs(0)))
      >>> type(layer).__name__, layer.weight.value["weight"].shape
      ('Linear', (3, 2))
    """
    return load_framework("nnx", "brainstate.interop.from_nnx").from_nnx(model, sample_input=sample_input)


def to_linen(model: Any) -> Tuple[Any, Any]:
    """Convert a BrainState module into a Flax Linen module and its variables.

    A `Sequential` becomes `linen.Sequential`, natively mapped layers the Linen layer (`Linear` ->
    `Dense`), any other module a `BrainStateLinen` that runs the BrainState computation on Linen
    variables: `ParamState`s in the `params` collection, `BatchState`s in `batch_stats`, other
    States in `state`, each under its dotted graph path. `module.apply(variables, x)` gives the
    output of `model(x)`; pass `mutable=['batch_stats', 'state']` to get the state updates back,
    and `rngs={'dropout': key}` when the model draws random numbers. `module.init(key, x)`
    returns the same variables. The `deterministic` field of a `BrainStateLinen` (None by
    default: `brainstate.environ`'s `fit` applies) fixes training / evaluation mode.

    Args:
      model: a `brainstate.nn.Module` whose states exist (not modified).

    Returns:
      `(linen_module, variables)`, `variables` a dict of collections.

    Raises:
      UnsupportedStructureError: `model` is not a BrainState module.
      MissingDependencyError: flax is not installed.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> from brainstate.interop import to_linen
      >>> model = brainstate.nn.Linear(3, 2)
      >>> module, variables = to_linen(model)
      >>> sorted(variables["params"])
      ['bias', 'kernel']
      >>> x = jnp.ones((4, 3))
      >>> bool(jnp.allclose(module.apply(variables, x), model(x)))
      True
    """
    return load_framework("linen", "brainstate.interop.to_linen").to_linen(model)


def from_linen(module: Any, params: Any, *, sample_input: Any = None, rng_names: Tuple[str, ...] = ()) -> Any:
    """Convert a Flax Linen module and its variables into a BrainState module.

    `linen.Sequential` becomes `Sequential` and natively mapped layers (`Dense` -> `Linear`, ...)
    the BrainState layer; any other module becomes a `LinenModule` holding one State per
    variable: the `params` collection as `ParamState`s, `batch_stats` as `BatchState`s, any
    other collection as `ShortTermState`s. Calling it runs `module.apply` with every collection
    but `params` mutable and writes the updates back to the States. A module made by
    `to_linen` converts back to the original class.

    Args:
      module: a `flax.linen.Module`.
      params: its variables as `module.init` returns them (`{'params': ..., 'batch_stats': ...}`),
        or the `params` collection alone.
      sample_input: one unbatched input, or its shape; only convolutions need it (without it
        they are wrapped instead).
      rng_names: Linen RNG streams (e.g. `('dropout',)`) the wrapper feeds on each call with keys
        drawn from `brainstate.random`.

    Returns:
      A `brainstate.nn.Module`.

    Raises:
      UnsupportedStructureError: `module` is not a Linen module, or `params` not a mapping.
      MissingDependencyError: flax is not installed.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> from flax import linen
      >>> from brainstate.interop import from_linen
      >>> dense = linen.Dense(2)
      >>> variables = dense.init(jax.random.PRNGKey(0), jnp.ones((1, 3)))
      >>> layer = from_linen(dense, variables)
      >>> type(layer).__name__
      'Linear'
      >>> x = jnp.ones((4, 3))
      >>> bool(jnp.allclose(layer(x), dense.apply(variables, x)))
      True
    """
    return load_framework("linen", "brainstate.interop.from_linen").from_linen(
        module, params, sample_input=sample_input, rng_names=rng_names)


def to_equinox(model: Any, *, key: Any = None) -> Any:
    """Convert a BrainState module into an Equinox module (a PyTree).

    Natively mapped layers become the Equinox layer (weights transposed to Equinox's
    `(out, in)`), and a `Sequential` of such layers (and element-wise ones) an `eqx.nn.Sequential`;
    these act on one sample, as Equinox layers do (map a batch with `jax.vmap`). Any other module
    becomes a `BrainStateEquinox`, called as the BrainState module is (batched): its `ParamState`
    values are array leaves of the PyTree (trained by `eqx.filter_grad`) and any other State lives
    in an `eqx.nn.State`, Equinox's own way of carrying state. Such a module is called
    `out, state = model(x, state)` with `state = eqx.nn.State(model)` at first; `key=` feeds its
    random draws; `eqx.nn.inference_mode` sets evaluation mode (`fit=False`).

    Args:
      model: a `brainstate.nn.Module` whose states exist (not modified).
      key: accepted for compatibility with the reference release; nothing is drawn (weights are
        copied, and Equinox takes random keys at call time: `model(x, key=...)`).

    Returns:
      An `equinox.Module`.

    Raises:
      UnsupportedStructureError: `model` is not a BrainState module.
      MissingDependencyError: equinox is not installed.

    Example:
      >>> import brainstate, jax, jax.numpy as jnp
      >>> from brainstate.interop import to_equinox
      >>> model = brainstate.nn.Linear(3, 2)
      >>> eqx_model = to_equinox(model)
      >>> eqx_model.weight.shape
      (2, 3)
      >>> x = jnp.ones((4, 3))
      >>> bool(jnp.allclose(jax.vmap(eqx_model)(x), model(x)))
      True
    """
    return load_framework("equinox", "brainstate.interop.to_equinox").to_equinox(model, key=key)


def from_equinox(model: Any, *, sample_input: Any = None, state: Any = None) -> Any:
    """Convert an Equinox module into a BrainState module.

    `eqx.nn.Sequential` becomes `Sequential`, natively mapped layers the BrainState layer, any
    other module an `EquinoxModule` whose inexact-array leaves (`eqx.is_inexact_array`) are
    `ParamState`s; its other leaves stay fixed. The result takes what the Equinox model takes (one
    sample); natively converted layers also take batches. While `brainstate.environ`'s `fit` is
    set, the wrapper applies `eqx.nn.inference_mode(model, not fit)`, and it passes a fresh `key`
    from `brainstate.random` to a model whose call takes one. For a stateful module pass its `eqx.nn.State`:
    the wrapper then holds those values as `BatchState`s and threads them through each call.
    A module made by `to_equinox` converts back to the original class (pass the `eqx.nn.State`
    it was run with to keep its non-parameter states).

    Args:
      model: an `equinox.Module`.
      sample_input: one unbatched input, or its shape; only convolutions need it.
      state: the `eqx.nn.State` of a stateful module, or None.

    Returns:
      A `brainstate.nn.Module`.

    Raises:
      UnsupportedStructureError: `model` is not an Equinox module, or `state` not an
        `eqx.nn.State`.
      MissingDependencyError: equinox is not installed.

    Example:
      >>> import jax, jax.numpy as jnp
      >>> import equinox as eqx
      >>> from brainstate.interop import from_equinox
      >>> layer = from_equinox(eqx.nn.Linear(3, 2, key=jax.random.PRNGKey(0)))
      >>> type(layer).__name__, layer.weight.value["weight"].shape
      ('Linear', (3, 2))
    """
    return load_framework("equinox", "brainstate.interop.from_equinox").from_equinox(
        model, sample_input=sample_input, state=state)
