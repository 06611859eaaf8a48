"""Learning-rate schedules: small named wrappers around `optax.schedules`.

A schedule is a callable from the step count (the number of optimizer updates applied before,
starting at 0) to the learning rate of the next update. Pass one as an optimizer's `lr`; the
optimizer keeps the count in a State, so the schedule advances inside compiled steps without
retracing. Any optax schedule works the same way; these classes only give the common ones the
names and arguments of the reference release (which follow PyTorch) and check their arguments.

Unlike the reference's epoch-based schedulers, there is no `step()` to call: the count is the
optimizer's own. Arguments named `*_epochs`, `T_max`, `step_size`, ... count optimizer updates.
"""

import numbers
from typing import Any, Callable, Optional, Sequence

import jax
import jax.numpy as jnp
import optax

__all__ = [
    "LRScheduler", "ConstantLR", "StepLR", "MultiStepLR", "ExponentialLR", "ExponentialDecayLR",
    "CosineAnnealingLR", "CosineAnnealingWarmRestarts", "PolynomialLR", "LinearLR", "WarmupScheduler",
    "WarmupCosineSchedule", "OneCycleLR", "PiecewiseConstantSchedule", "SequentialLR",
]


def _number(owner: str, name: str, value: Any, low: float = 0.0, *, strict: bool = False) -> float:
    if not isinstance(value, numbers.Real) or isinstance(value, bool):
        raise TypeError(f"{owner}: {name} must be a number, got {type(value).__name__} {value!r}.")
    if value < low or (strict and value == low):
        raise ValueError(f"{owner}: {name} must be {'>' if strict else '>='} {low}, got {value!r}.")
    return float(value)


def _count(owner: str, name: str, value: Any, low: int = 1) -> int:
    if not isinstance(value, numbers.Integral) or isinstance(value, bool) or value < low:
        raise ValueError(f"{owner}: {name} must be an integer >= {low} (a number of steps), got {value!r}.")
    return int(value)


def _increasing(owner: str, name: str, steps: Sequence[Any]) -> list:
    steps = [_count(owner, f"each of {name}", s, 0) for s in steps]
    if any(a >= b for a, b in zip(steps, steps[1:])):
        raise ValueError(f"{owner}: {name} must be strictly increasing, got {steps}.")
    return steps


class LRScheduler:
    """Base class: a learning rate as a function of the step count.

    Subclasses set `self._fn`, an optax schedule. Calling the scheduler evaluates it at a count;
    pass it as an optimizer's `lr` and the optimizer evaluates it at its own update count.

    Args:
      base_lr: the starting learning rate, a positive number.

    Example:
      >>> import brainstate
      >>> schedule = brainstate.optim.LRScheduler(0.01)  # constant
      >>> round(float(schedule(100)), 4)
      0.01
    """

    __module__ = "brainstate.optim"

    def __init__(self, base_lr: float = 1e-3):
        self.base_lr = _number(type(self).__name__, "base_lr", base_lr, strict=True)
        self._fn: Callable[[Any], Any] = optax.constant_schedule(self.base_lr)

    def __call__(self, count: Any) -> jax.Array:
        """The learning rate for the update that follows `count` earlier updates."""
        return jnp.asarray(self._fn(count))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({args})"


class ConstantLR(LRScheduler):
    """`base_lr * factor` for the first `total_iters` steps, then `base_lr`.

    Args:
      base_lr: the starting learning rate, a positive number.
      factor: the multiplier during the first steps.
      total_iters: how many steps use the reduced rate.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.ConstantLR(0.3, factor=0.5, total_iters=2)
      >>> [round(float(s(i)), 4) for i in range(4)]
      [0.15, 0.15, 0.3, 0.3]
    """

    def __init__(self, base_lr: float = 1e-3, factor: float = 1.0 / 3, total_iters: int = 5):
        super().__init__(base_lr)
        self.factor = _number("ConstantLR", "factor", factor)
        self.total_iters = _count("ConstantLR", "total_iters", total_iters, 0)
        self._fn = optax.join_schedules(
            [optax.constant_schedule(self.base_lr * self.factor), optax.constant_schedule(self.base_lr)],
            [self.total_iters])


class StepLR(LRScheduler):
    """`base_lr * gamma ** (count // step_size)` (`optax.exponential_decay`, staircase).

    Args:
      base_lr: the starting learning rate, a positive number.
      step_size: the number of updates between decays.
      gamma: the decay factor.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.StepLR(0.1, step_size=2, gamma=0.5)
      >>> [round(float(s(i)), 4) for i in range(5)]
      [0.1, 0.1, 0.05, 0.05, 0.025]
    """

    def __init__(self, base_lr: float = 1e-3, step_size: int = 30, gamma: float = 0.1):
        super().__init__(base_lr)
        self.step_size = _count("StepLR", "step_size", step_size)
        self.gamma = _number("StepLR", "gamma", gamma)
        self._fn = optax.exponential_decay(self.base_lr, self.step_size, self.gamma, staircase=True)


class MultiStepLR(LRScheduler):
    """`base_lr` times `gamma` once for each milestone reached (`optax.piecewise_constant_schedule`).

    Args:
      base_lr: the starting learning rate, a positive number.
      milestones: the update counts at which the rate is multiplied, strictly increasing.
      gamma: the factor applied at each milestone.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.MultiStepLR(1.0, milestones=(2, 4), gamma=0.1)
      >>> [round(float(s(i)), 4) for i in (0, 2, 4)]
      [1.0, 0.1, 0.01]
    """

    def __init__(self, base_lr: float = 1e-3, milestones: Sequence[int] = (30, 60, 90), gamma: float = 0.1):
        super().__init__(base_lr)
        self.milestones = tuple(_increasing("MultiStepLR", "milestones", milestones))
        self.gamma = _number("MultiStepLR", "gamma", gamma)
        self._fn = optax.piecewise_constant_schedule(self.base_lr, {m: self.gamma for m in self.milestones})


class ExponentialLR(LRScheduler):
    """`base_lr * gamma ** count` (`optax.exponential_decay`).

    Args:
      base_lr: the starting learning rate, a positive number.
      gamma: the decay factor per update.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.ExponentialLR(1.0, gamma=0.5)
      >>> [round(float(s(i)), 4) for i in range(3)]
      [1.0, 0.5, 0.25]
    """

    def __init__(self, base_lr: float = 1e-3, gamma: float = 0.95):
        super().__init__(base_lr)
        self.gamma = _number("ExponentialLR", "gamma", gamma)
        self._fn = optax.exponential_decay(self.base_lr, 1, self.gamma)


class ExponentialDecayLR(LRScheduler):
    """`base_lr * decay_rate ** ((count - transition_begin) / decay_steps)`: `optax.exponential_decay`.

    Args:
      base_lr: the starting learning rate, a positive number.
      decay_steps: the number of updates over which the rate is multiplied by `decay_rate`.
      decay_rate: the decay factor per `decay_steps`.
      transition_begin: updates before the decay starts.
      staircase: decay in whole steps of `decay_steps` instead of continuously.
      end_value: a bound the rate does not cross, or None.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.ExponentialDecayLR(1.0, decay_steps=10, decay_rate=0.5)
      >>> round(float(s(10)), 4), round(float(s(20)), 4)
      (0.5, 0.25)
    """

    def __init__(self, base_lr: float = 1e-3, decay_steps: int = 1000, decay_rate: float = 0.96,
                 transition_begin: int = 0, staircase: bool = False, end_value: Optional[float] = None):
        super().__init__(base_lr)
        self.decay_steps = _count("ExponentialDecayLR", "decay_steps", decay_steps)
        self.decay_rate = _number("ExponentialDecayLR", "decay_rate", decay_rate)
        self.transition_begin = _count("ExponentialDecayLR", "transition_begin", transition_begin, 0)
        self.staircase = bool(staircase)
        self.end_value = end_value
        self._fn = optax.exponential_decay(self.base_lr, self.decay_steps, self.decay_rate,
                                           self.transition_begin, self.staircase, end_value)


def _cosine(base_lr: float, steps: int, eta_min: float) -> Callable[[Any], Any]:
    return optax.cosine_decay_schedule(base_lr, steps, alpha=eta_min / base_lr)


class CosineAnnealingLR(LRScheduler):
    """From `base_lr` down to `eta_min` along half a cosine over `T_max` steps, then `eta_min`.

    Args:
      base_lr: the starting learning rate, a positive number.
      T_max: the number of updates of the decay.
      eta_min: the final learning rate.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.CosineAnnealingLR(1.0, T_max=10)
      >>> [round(float(s(i)), 4) for i in (0, 5, 10, 20)]
      [1.0, 0.5, 0.0, 0.0]
    """

    def __init__(self, base_lr: float = 1e-3, T_max: int = 50, eta_min: float = 0.0):
        super().__init__(base_lr)
        self.T_max = _count("CosineAnnealingLR", "T_max", T_max)
        self.eta_min = _number("CosineAnnealingLR", "eta_min", eta_min)
        self._fn = _cosine(self.base_lr, self.T_max, self.eta_min)


class CosineAnnealingWarmRestarts(LRScheduler):
    """Cosine annealing restarted every `T_0` steps, each period `T_mult` times the last (SGDR).

    Args:
      base_lr: the starting learning rate, a positive number.
      T_0: the length of the first period, in updates.
      T_mult: the growth factor of the periods (an int >= 1).
      eta_min: the learning rate at the end of each period.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.CosineAnnealingWarmRestarts(1.0, T_0=4)
      >>> [round(float(s(i)), 4) for i in (0, 2, 4)]
      [1.0, 0.5, 1.0]
    """

    def __init__(self, base_lr: float = 1e-3, T_0: int = 10, T_mult: int = 1, eta_min: float = 0.0):
        super().__init__(base_lr)
        self.T_0 = _count("CosineAnnealingWarmRestarts", "T_0", T_0)
        self.T_mult = _count("CosineAnnealingWarmRestarts", "T_mult", T_mult)
        self.eta_min = _number("CosineAnnealingWarmRestarts", "eta_min", eta_min)
        cosine = _cosine(self.base_lr, self.T_0, self.eta_min)
        if self.T_mult == 1:
            self._fn = lambda count: cosine(jnp.asarray(count) % self.T_0)
        else:
            # Geometric periods: enough of them to cover any int32 step count.
            periods: list = []
            total = 0
            while total < 2 ** 31:
                periods.append(self.T_0 * self.T_mult ** len(periods))
                total += periods[-1]
            starts = [sum(periods[:i]) for i in range(1, len(periods))]
            self._fn = optax.join_schedules([_cosine(self.base_lr, p, self.eta_min) for p in periods], starts)


class PolynomialLR(LRScheduler):
    """`base_lr * (1 - count / total_iters) ** power`, then 0 (`optax.polynomial_schedule`).

    Args:
      base_lr: the starting learning rate, a positive number.
      total_iters: the number of updates of the decay.
      power: the exponent of the decay.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.PolynomialLR(1.0, total_iters=4, power=1.0)
      >>> [round(float(s(i)), 4) for i in (0, 2, 4)]
      [1.0, 0.5, 0.0]
    """

    def __init__(self, base_lr: float = 1e-3, total_iters: int = 5, power: float = 1.0):
        super().__init__(base_lr)
        self.total_iters = _count("PolynomialLR", "total_iters", total_iters)
        self.power = _number("PolynomialLR", "power", power)
        self._fn = optax.polynomial_schedule(self.base_lr, 0.0, self.power, self.total_iters)


class LinearLR(LRScheduler):
    """From `base_lr * start_factor` to `base_lr * end_factor` linearly over `total_iters` steps.

    Args:
      base_lr: the starting learning rate, a positive number.
      start_factor: the multiplier at the start.
      end_factor: the multiplier at the end and after.
      total_iters: the number of updates of the ramp.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.LinearLR(1.0, start_factor=0.5, end_factor=1.0, total_iters=2)
      >>> [round(float(s(i)), 4) for i in range(3)]
      [0.5, 0.75, 1.0]
    """

    def __init__(self, base_lr: float = 1e-3, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5):
        super().__init__(base_lr)
        self.start_factor = _number("LinearLR", "start_factor", start_factor)
        self.end_factor = _number("LinearLR", "end_factor", end_factor)
        self.total_iters = _count("LinearLR", "total_iters", total_iters)
        self._fn = optax.linear_schedule(self.base_lr * self.start_factor, self.base_lr * self.end_factor,
                                         self.total_iters)


class WarmupScheduler(LRScheduler):
    """From `warmup_start_lr` up to `base_lr` linearly over `warmup_epochs` steps, then `base_lr`.

    Args:
      base_lr: the starting learning rate, a positive number. (reached after the warmup).
      warmup_epochs: the number of updates of the warmup.
      warmup_start_lr: the learning rate of the first update.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.WarmupScheduler(1.0, warmup_epochs=4)
      >>> [round(float(s(i)), 4) for i in (0, 2, 4, 8)]
      [0.0, 0.5, 1.0, 1.0]
    """

    def __init__(self, base_lr: float = 1e-3, warmup_epochs: int = 5, warmup_start_lr: float = 0.0):
        super().__init__(base_lr)
        self.warmup_epochs = _count("WarmupScheduler", "warmup_epochs", warmup_epochs)
        self.warmup_start_lr = _number("WarmupScheduler", "warmup_start_lr", warmup_start_lr)
        self._fn = optax.linear_schedule(self.warmup_start_lr, self.base_lr, self.warmup_epochs)


class WarmupCosineSchedule(LRScheduler):
    """Linear warmup to `base_lr`, then cosine decay to `eta_min` at `total_steps`.

    Args:
      base_lr: the starting learning rate, a positive number. (the peak).
      warmup_steps: the number of updates of the warmup.
      total_steps: the number of updates of warmup and decay together (`optax.warmup_cosine_decay_schedule`).
      warmup_start_lr: the learning rate of the first update.
      eta_min: the final learning rate.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.WarmupCosineSchedule(1.0, warmup_steps=2, total_steps=6)
      >>> [round(float(s(i)), 4) for i in (0, 2, 4, 6)]
      [0.0, 1.0, 0.5, 0.0]
    """

    def __init__(self, base_lr: float = 1e-3, warmup_steps: int = 1000, total_steps: int = 10000,
                 warmup_start_lr: float = 0.0, eta_min: float = 0.0):
        super().__init__(base_lr)
        self.warmup_steps = _count("WarmupCosineSchedule", "warmup_steps", warmup_steps, 0)
        self.total_steps = _count("WarmupCosineSchedule", "total_steps", total_steps, self.warmup_steps + 1)
        self.warmup_start_lr = _number("WarmupCosineSchedule", "warmup_start_lr", warmup_start_lr)
        self.eta_min = _number("WarmupCosineSchedule", "eta_min", eta_min)
        self._fn = optax.warmup_cosine_decay_schedule(self.warmup_start_lr, self.base_lr, self.warmup_steps,
                                                      self.total_steps, self.eta_min)


class OneCycleLR(LRScheduler):
    """The one-cycle policy: up from `max_lr / div_factor` to `max_lr`, then down to
    `max_lr / div_factor / final_div_factor`.

    Args:
      max_lr: the peak learning rate.
      total_steps: the number of updates of the cycle; or give
        `epochs` and `steps_per_epoch`.
      epochs, steps_per_epoch: the cycle's length as their product, when `total_steps` is None.
      pct_start: the fraction of the cycle spent increasing (below 1).
      anneal_strategy: `'cos'` (`optax.cosine_onecycle_schedule`) or `'linear'`.
      div_factor: `max_lr / div_factor` is the starting rate.
      final_div_factor: the final rate is the starting rate
        divided by this.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.OneCycleLR(max_lr=1.0, total_steps=10, pct_start=0.5)
      >>> round(float(s(0)), 4), round(float(s(5)), 4)
      (0.04, 1.0)
    """

    def __init__(self, max_lr: float = 0.01, total_steps: Optional[int] = None, epochs: Optional[int] = None,
                 steps_per_epoch: Optional[int] = None, pct_start: float = 0.3, anneal_strategy: str = "cos",
                 div_factor: float = 25.0, final_div_factor: float = 1e4):
        super().__init__(max_lr)
        if total_steps is None:
            if epochs is None or steps_per_epoch is None:
                raise ValueError("OneCycleLR: give total_steps, or both epochs and steps_per_epoch.")
            total_steps = _count("OneCycleLR", "epochs", epochs) * _count("OneCycleLR", "steps_per_epoch",
                                                                            steps_per_epoch)
        self.total_steps = _count("OneCycleLR", "total_steps", total_steps, 2)
        self.pct_start = _number("OneCycleLR", "pct_start", pct_start)
        if self.pct_start >= 1.0:
            raise ValueError(f"OneCycleLR: pct_start must be below 1, got {pct_start!r}.")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}.")
        self.anneal_strategy = anneal_strategy
        self.div_factor = _number("OneCycleLR", "div_factor", div_factor, strict=True)
        self.final_div_factor = _number("OneCycleLR", "final_div_factor", final_div_factor, strict=True)
        if anneal_strategy == "cos":
            self._fn = optax.cosine_onecycle_schedule(self.total_steps, self.base_lr, self.pct_start,
                                                      self.div_factor, self.final_div_factor)
        else:
            start = self.base_lr / self.div_factor
            up = max(1, int(self.pct_start * self.total_steps))
            self._fn = optax.join_schedules(
                [optax.linear_schedule(start, self.base_lr, up),
                 optax.linear_schedule(self.base_lr, start / self.final_div_factor, self.total_steps - up)],
                [up])


class PiecewiseConstantSchedule(LRScheduler):
    """`values[i]` from `boundaries[i - 1]` (inclusive) to `boundaries[i]`.

    Args:
      base_lr: the default first value when `values` is None.
      boundaries: the update counts where the rate changes,
        strictly increasing.
      values: the learning rates themselves, one more than `boundaries`; None: `base_lr` times
        0.1, 0.01, ... per interval.

    Example:
      >>> import brainstate
      >>> s = brainstate.optim.PiecewiseConstantSchedule(boundaries=(2, 4), values=(1.0, 0.5, 0.1))
      >>> [round(float(s(i)), 4) for i in (0, 2, 4)]
      [1.0, 0.5, 0.1]
    """

    def __init__(self, base_lr: float = 1e-3, boundaries: Sequence[int] = (1000, 2000),
                 values: Optional[Sequence[float]] = None):
        super().__init__(base_lr)
        self.boundaries = tuple(_increasing("PiecewiseConstantSchedule", "boundaries", boundaries))
        if values is None:
            values = [self.base_lr * 0.1 ** i for i in range(len(self.boundaries) + 1)]
        self.values = tuple(_number("PiecewiseConstantSchedule", "each of values", v) for v in values)
        if len(self.values) != len(self.boundaries) + 1:
            raise ValueError(
                f"PiecewiseConstantSchedule: values needs one more entry than boundaries (one per "
                f"interval), got {len(self.values)} values for {len(self.boundaries)} boundaries.")
        self._fn = optax.join_schedules([optax.constant_schedule(v) for v in self.values], self.boundaries)


class SequentialLR(LRScheduler):
    """`schedulers[i]` from `milestones[i - 1]` on, each restarted at 0 (`optax.join_schedules`).

    Args:
      schedulers: the schedules, in order (any callables of the count).
      milestones: the update counts where each next schedule starts, one fewer than `schedulers`.

    Example:
      >>> import brainstate
      >>> warm = brainstate.optim.LinearLR(1.0, start_factor=0.5, total_iters=2)
      >>> decay = brainstate.optim.ExponentialLR(1.0, gamma=0.5)
      >>> s = brainstate.optim.SequentialLR([warm, decay], milestones=[2])
      >>> [round(float(s(i)), 4) for i in range(4)]
      [0.5, 0.75, 1.0, 0.5]
    """

    def __init__(self, schedulers: Sequence[Callable[[Any], Any]], milestones: Sequence[int]):
        schedulers = list(schedulers)
        if not schedulers or not all(callable(s) for s in schedulers):
            raise TypeError(f"SequentialLR: schedulers must be a non-empty list of schedules, got {schedulers!r}.")
        self.milestones = tuple(_increasing("SequentialLR", "milestones", milestones))
        if len(self.milestones) != len(schedulers) - 1:
            raise ValueError(
                f"SequentialLR: milestones needs one entry fewer than schedulers (the steps where "
                f"each next one starts), got {len(self.milestones)} for {len(schedulers)} schedulers.")
        self.schedulers = tuple(schedulers)
        self.base_lr = float(schedulers[0](0))
        self._fn = optax.join_schedules(list(self.schedulers), list(self.milestones))

