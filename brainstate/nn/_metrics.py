"""Metrics: running summaries of a model's outputs, accumulated batch by batch.

A `Metric` has three methods: `update(**kwargs)` folds in one batch, `compute()` returns the
current summary, `reset()` starts over. Every running value is a `MetricState` (a
`LongTermState`), so a metric can be updated inside `transform.jit`, `for_loop` and friends
with no extra code: the transforms find and thread the states like any other.

Metrics are graph nodes (their states show up in `graph.states(metric)` and in the states of a
Module that holds them) but not Modules: they are not layers.

Invariants: counts are int32, sums float (the current precision's float type); `compute()`
never changes a state; a class with no predictions or no support scores 0, never NaN, except
`AverageMetric`/`WelfordMetric` before any update (0 / 0).
"""

import numbers
from typing import Any, Dict, NamedTuple, Optional

import jax
import jax.numpy as jnp

from .. import environ
from .._state import LongTermState
from ..graph import Node

__all__ = ["MetricState", "Metric", "AverageMetric", "AccuracyMetric", "WelfordMetric", "Statistics",
           "PrecisionMetric", "RecallMetric", "F1ScoreMetric", "ConfusionMatrix", "MultiMetric"]


class MetricState(LongTermState):
    """The state kind of a metric's running values (counts, sums, confusion counts).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> count = brainstate.nn.MetricState(jnp.array(0))
      >>> isinstance(count, brainstate.LongTermState)
      True
    """


class Metric(Node):
    """Base class of metrics: `update(**kwargs)`, `compute()`, `reset()`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> class Count(brainstate.nn.Metric):
      ...     def __init__(self):
      ...         self.n = brainstate.nn.MetricState(jnp.array(0))
      ...     def reset(self):
      ...         self.n.value = jnp.array(0)
      ...     def update(self, **kwargs):
      ...         self.n.value = self.n.value + 1
      ...     def compute(self):
      ...         return self.n.value
      >>> c = Count()
      >>> c.update(); c.update()
      >>> int(c.compute())
      2
    """

    def reset(self) -> None:
        """Start over: put every running value back to its initial value."""
        raise NotImplementedError(f"{type(self).__name__} must implement `reset()`.")

    def update(self, **kwargs: Any) -> None:
        """Fold one batch into the running values."""
        raise NotImplementedError(f"{type(self).__name__} must implement `update(**kwargs)`.")

    def compute(self) -> Any:
        """The summary of everything seen since the last reset."""
        raise NotImplementedError(f"{type(self).__name__} must implement `compute()`.")


def _zero_f(shape=()) -> jax.Array:
    return jnp.zeros(shape, environ.dftype())


def _zero_i(shape=()) -> jax.Array:
    return jnp.zeros(shape, jnp.int32)


def _ratio(num: jax.Array, den: jax.Array) -> jax.Array:
    """`num / den`, with 0 where `den == 0`."""
    num = jnp.asarray(num, environ.dftype())
    return jnp.where(den > 0, num / jnp.where(den > 0, den, 1), jnp.zeros_like(num))


def _argument(metric: Metric, argname: str, kwargs: Dict[str, Any]) -> jax.Array:
    if argname not in kwargs:
        raise TypeError(
            f"{type(metric).__name__}.update expects the keyword argument {argname!r} (its argname), got "
            f"{sorted(kwargs)}. Call update({argname}=values) or build the metric with argname=... .")
    return jnp.asarray(kwargs[argname])


class AverageMetric(Metric):
    """The mean of every value passed as `update(<argname>=values)`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.AverageMetric()
      >>> m.update(values=jnp.array([1., 2.]))
      >>> m.update(values=6.)
      >>> float(m.compute())
      3.0
    """

    def __init__(self, argname: str = "values"):
        self.argname = argname
        self.total = MetricState(_zero_f())
        self.count = MetricState(_zero_i())

    def reset(self) -> None:
        self.total.value = _zero_f()
        self.count.value = _zero_i()

    def update(self, **kwargs: Any) -> None:
        """Add `kwargs[argname]` (a number or an array; every element counts once).

        Raises:
          TypeError: if the keyword argument `argname` is missing.
        """
        values = _argument(self, self.argname, kwargs)
        self.total.value = self.total.value + jnp.sum(values)
        self.count.value = self.count.value + values.size

    def compute(self) -> jax.Array:
        return self.total.value / self.count.value


class AccuracyMetric(AverageMetric):
    """The fraction of samples whose arg-max logit is the label: `update(logits=, labels=)`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.AccuracyMetric()
      >>> m.update(logits=jnp.array([[0.1, 0.9], [0.8, 0.2]]), labels=jnp.array([1, 1]))
      >>> float(m.compute())
      0.5
    """

    # Each metric names the keyword arguments it needs; the base `update(**kwargs)` is the protocol.
    def update(self, *, logits: Any, labels: Any, **_: Any) -> None:  # type: ignore[override]
        """Add a batch of `logits` (shape `labels.shape + (classes,)`) and integer `labels`.

        Raises:
          ValueError: if `logits.ndim != labels.ndim + 1` or the labels are not integers.
        """
        logits, labels = jnp.asarray(logits), jnp.asarray(labels)
        if logits.ndim != labels.ndim + 1:
            raise ValueError(
                f"AccuracyMetric.update expects logits with one more dimension (the classes) than "
                f"labels, got logits of shape {logits.shape} and labels of shape {labels.shape}.")
        if not jnp.issubdtype(labels.dtype, jnp.integer):
            raise ValueError(
                f"AccuracyMetric.update expects integer class labels, got dtype {labels.dtype}. Pass "
                f"class indices, e.g. labels.astype(int).")
        super().update(**{self.argname: jnp.argmax(logits, axis=-1) == labels})


class Statistics(NamedTuple):
    """What `WelfordMetric.compute()` returns."""

    mean: jax.Array
    standard_error_of_mean: jax.Array
    standard_deviation: jax.Array


class WelfordMetric(Metric):
    """Running mean and (population) standard deviation, merged batch by batch (Welford/Chan).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.WelfordMetric()
      >>> m.update(values=jnp.array([1.0, 2.0, 3.0]))
      >>> float(m.compute().mean)
      2.0
    """

    def __init__(self, argname: str = "values"):
        self.argname = argname
        self.count = MetricState(_zero_i())
        self.mean = MetricState(_zero_f())
        self.m2 = MetricState(_zero_f())

    def reset(self) -> None:
        self.count.value = _zero_i()
        self.mean.value = _zero_f()
        self.m2.value = _zero_f()

    def update(self, **kwargs: Any) -> None:
        """Merge the batch `kwargs[argname]` into the running moments.

        Raises:
          TypeError: if the keyword argument `argname` is missing.
        """
        values = _argument(self, self.argname, kwargs)
        n_old, n_new = self.count.value, values.size
        n = n_old + n_new
        delta = jnp.mean(values) - self.mean.value
        self.mean.value = self.mean.value + delta * n_new / n
        self.m2.value = self.m2.value + jnp.var(values) * n_new + delta ** 2 * n_old * n_new / n
        self.count.value = n

    def compute(self) -> Statistics:
        std = jnp.sqrt(self.m2.value / self.count.value)
        return Statistics(mean=self.mean.value, standard_error_of_mean=std / jnp.sqrt(self.count.value),
                          standard_deviation=std)


def _check_num_classes(owner: str, num_classes: Any, extra: str = "") -> int:
    """`num_classes` as an int; `extra` names the other values the caller accepts (for the message)."""
    if isinstance(num_classes, bool) or not isinstance(num_classes, numbers.Integral) or num_classes < 1:
        raise ValueError(f"{owner}: num_classes must be a positive integer{extra}, got {num_classes!r}.")
    return int(num_classes)


class _ClassCounts(Metric):
    """Per-class true positives, false positives and false negatives, and the label support.

    With `num_classes=None` the task is binary: class 1 is positive, and every count is a scalar.
    """

    def __init__(self, num_classes: Optional[int] = None, average: str = "macro"):
        name = type(self).__name__
        self.num_classes = None if num_classes is None else _check_num_classes(name, num_classes, " or None (binary)")
        if average not in ("micro", "macro", "weighted"):
            raise ValueError(f"{name}: average must be 'micro', 'macro' or 'weighted', got {average!r}.")
        self.average = average
        shape = () if self.num_classes is None else (self.num_classes,)
        self.true_positives = MetricState(_zero_i(shape))
        self.false_positives = MetricState(_zero_i(shape))
        self.false_negatives = MetricState(_zero_i(shape))
        self.support = MetricState(_zero_i(shape))

    def reset(self) -> None:
        for state in (self.true_positives, self.false_positives, self.false_negatives, self.support):
            state.value = jnp.zeros_like(state.value)

    # Keyword arguments of its own (see AccuracyMetric.update).
    def update(self, *, predictions: Any, labels: Any, **_: Any) -> None:  # type: ignore[override]
        """Count a batch of predicted and true class indices (same shape)."""
        predictions, labels = jnp.ravel(jnp.asarray(predictions)), jnp.ravel(jnp.asarray(labels))
        if predictions.shape != labels.shape:
            raise ValueError(
                f"{type(self).__name__}.update expects predictions and labels with the same number of "
                f"elements, got {predictions.size} and {labels.size}.")
        if self.num_classes is None:
            pred, true = predictions == 1, labels == 1
        else:
            pred = jax.nn.one_hot(predictions, self.num_classes, dtype=jnp.int32)
            true = jax.nn.one_hot(labels, self.num_classes, dtype=jnp.int32)
        pred, true = jnp.asarray(pred, jnp.int32), jnp.asarray(true, jnp.int32)
        tp = jnp.sum(pred * true, axis=0)
        self.true_positives.value = self.true_positives.value + tp
        self.false_positives.value = self.false_positives.value + jnp.sum(pred, axis=0) - tp
        self.false_negatives.value = self.false_negatives.value + jnp.sum(true, axis=0) - tp
        self.support.value = self.support.value + jnp.sum(true, axis=0)

    def _precision(self) -> jax.Array:
        tp = self.true_positives.value
        return _ratio(tp, tp + self.false_positives.value)

    def _recall(self) -> jax.Array:
        tp = self.true_positives.value
        return _ratio(tp, tp + self.false_negatives.value)

    def _average(self, per_class: jax.Array, micro: jax.Array) -> jax.Array:
        if self.num_classes is None:
            return per_class
        if self.average == "micro":
            return micro
        if self.average == "macro":
            return jnp.mean(per_class)
        support = self.support.value
        return _ratio(jnp.sum(per_class * support), jnp.sum(support))


class PrecisionMetric(_ClassCounts):
    """Precision `tp / (tp + fp)`: binary (`num_classes=None`) or averaged over classes.

    `update(predictions=, labels=)` takes class indices. `average`: 'macro' (mean over classes),
    'micro' (from the summed counts) or 'weighted' (by each class's label count).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.PrecisionMetric()
      >>> m.update(predictions=jnp.array([1, 1, 0, 0]), labels=jnp.array([1, 0, 1, 0]))
      >>> round(float(m.compute()), 3)
      0.5
    """

    def compute(self) -> jax.Array:
        tp, fp = jnp.sum(self.true_positives.value), jnp.sum(self.false_positives.value)
        return self._average(self._precision(), _ratio(tp, tp + fp))


class RecallMetric(_ClassCounts):
    """Recall `tp / (tp + fn)`: binary (`num_classes=None`) or averaged over classes (see Precision).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.RecallMetric()
      >>> m.update(predictions=jnp.array([1, 1, 0, 0]), labels=jnp.array([1, 0, 1, 0]))
      >>> round(float(m.compute()), 3)
      0.5
    """

    def compute(self) -> jax.Array:
        tp, fn = jnp.sum(self.true_positives.value), jnp.sum(self.false_negatives.value)
        return self._average(self._recall(), _ratio(tp, tp + fn))


class F1ScoreMetric(_ClassCounts):
    """F1 score `2 p r / (p + r)`: binary (`num_classes=None`) or averaged over classes.

    'macro' and 'weighted' average the per-class F1 scores; 'micro' uses the micro precision and
    recall (which, for single-label data, equal the accuracy).

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.F1ScoreMetric()
      >>> m.update(predictions=jnp.array([1, 1, 0, 0]), labels=jnp.array([1, 0, 1, 0]))
      >>> round(float(m.compute()), 3)
      0.5
    """

    def compute(self) -> jax.Array:
        p, r = self._precision(), self._recall()
        per_class = _ratio(2 * p * r, p + r)
        tp = jnp.sum(self.true_positives.value)
        mp = _ratio(tp, tp + jnp.sum(self.false_positives.value))
        mr = _ratio(tp, tp + jnp.sum(self.false_negatives.value))
        return self._average(per_class, _ratio(2 * mp * mr, mp + mr))


class ConfusionMatrix(Metric):
    """Counts of (true class, predicted class) pairs: `compute()[i, j]` = label i predicted as j.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.ConfusionMatrix(2)
      >>> m.update(predictions=jnp.array([0, 1, 1]), labels=jnp.array([0, 0, 1]))
      >>> m.compute().tolist()
      [[1, 1], [0, 1]]
    """

    def __init__(self, num_classes: int):
        self.num_classes = _check_num_classes("ConfusionMatrix", num_classes)
        self.matrix = MetricState(_zero_i((self.num_classes, self.num_classes)))

    def reset(self) -> None:
        self.matrix.value = jnp.zeros_like(self.matrix.value)

    # Keyword arguments of its own (see AccuracyMetric.update).
    def update(self, *, predictions: Any, labels: Any, **_: Any) -> None:  # type: ignore[override]
        """Count a batch of predicted and true class indices.

        Raises:
          ValueError: if the shapes differ, or (outside a trace) an index is outside
            `[0, num_classes)`.
        """
        predictions = jnp.ravel(jnp.asarray(predictions, jnp.int32))
        labels = jnp.ravel(jnp.asarray(labels, jnp.int32))
        if predictions.shape != labels.shape:
            raise ValueError(
                f"ConfusionMatrix.update expects predictions and labels with the same number of "
                f"elements, got {predictions.size} and {labels.size}.")
        for arg, x in (("predictions", predictions), ("labels", labels)):
            if not isinstance(x, jax.core.Tracer) and x.size and (x.min() < 0 or x.max() >= self.num_classes):
                raise ValueError(
                    f"ConfusionMatrix.update: {arg} must be class indices in [0, {self.num_classes}), "
                    f"got values from {int(x.min())} to {int(x.max())}.")
        pred = jax.nn.one_hot(predictions, self.num_classes, dtype=jnp.int32)
        true = jax.nn.one_hot(labels, self.num_classes, dtype=jnp.int32)
        self.matrix.value = self.matrix.value + true.T @ pred

    def compute(self) -> jax.Array:
        return self.matrix.value


class MultiMetric(Metric):
    """Several metrics updated together; `compute()` returns `{name: result}`.

    Each metric is an attribute named by its keyword; `update(**kwargs)` passes every keyword
    to every metric (each takes what it needs).

    Raises:
      ValueError: if a name is one of the methods ('reset', 'update', 'compute').
      TypeError: if a value is not a `Metric`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> m = brainstate.nn.MultiMetric(accuracy=brainstate.nn.AccuracyMetric(),
      ...                               loss=brainstate.nn.AverageMetric("loss"))
      >>> m.update(logits=jnp.array([[2.0, 0.0], [0.0, 1.0]]), labels=jnp.array([0, 0]), loss=jnp.array(0.5))
      >>> {k: float(v) for k, v in m.compute().items()}
      {'accuracy': 0.5, 'loss': 0.5}
    """

    _RESERVED = frozenset({"reset", "update", "compute", "metric_names"})

    def __init__(self, **metrics: Metric):
        for name, metric in metrics.items():
            if name in self._RESERVED or name.startswith("_"):
                raise ValueError(
                    f"MultiMetric: the name {name!r} is reserved (methods: {sorted(self._RESERVED)}; "
                    f"names may not start with '_'). Choose another keyword for this metric.")
            if not isinstance(metric, Metric):
                raise TypeError(
                    f"MultiMetric: {name!r} must be a Metric instance, got {type(metric).__name__}.")
        self._names = tuple(metrics)
        for name, metric in metrics.items():
            setattr(self, name, metric)

    @property
    def metric_names(self) -> tuple:
        """The metric names, in construction order."""
        return self._names

    def reset(self) -> None:
        for name in self._names:
            getattr(self, name).reset()

    def update(self, **updates: Any) -> None:
        for name in self._names:
            getattr(self, name).update(**updates)

    def compute(self) -> Dict[str, Any]:
        return {name: getattr(self, name).compute() for name in self._names}
