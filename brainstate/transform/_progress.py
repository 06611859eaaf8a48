"""`ProgressBar`: a progress bar drawn from inside compiled loops.

A loop that takes `pbar=` keeps an int32 step counter in its carry and, after each step, calls
the bar's runner with that counter. The runner decides *in the compiled code* whether this step
is one to report (every `freq` steps and the last one), and only then issues an ordered
`jax.debug.callback` to the host, so a loop of a million steps costs a million integer compares
and `n / freq` host calls. On the host the callback advances a `tqdm` bar when `tqdm` is
installed, and a small plain-text bar on stderr otherwise; nothing else is printed.

Invariants:
- one host bar per run: it opens at the first report of a run and closes at the step `n - 1`,
  so calling the same compiled loop again draws a fresh bar;
- the counter counts steps done, whatever the loop's direction (`reverse=True` included).
"""

import importlib
import sys
import time
from typing import Any, Callable, Dict, Optional, Tuple, Union

import jax

__all__ = ["ProgressBar"]


class ProgressBar:
    """A progress bar for `scan`, `for_loop` and the checkpointed loops (`pbar=`).

    Args:
      freq: report every `freq` steps. Default: every 5% of the loop (20 reports).
      count: report this many times in total instead (mutually exclusive with `freq`).
      desc: the bar's description: a string, or `(format_string, fn)` where `fn` receives a
        dict `{'i': step, 'carry': ..., 'y': ...}` of host values and returns the dict of
        fields to format into `format_string`.
      **kwargs: passed to `tqdm.tqdm` when tqdm is installed.

    `pbar=n` (an int) on a loop is shorthand for `ProgressBar(freq=n)`.

    Example:
      >>> import brainstate, jax.numpy as jnp
      >>> ys = brainstate.transform.for_loop(lambda x: x * 2, jnp.arange(4),
      ...                                    pbar=brainstate.transform.ProgressBar(freq=2))
      >>> ys.tolist()
      [0, 2, 4, 6]
    """

    __module__ = "brainstate.transform"

    def __init__(self, freq: Optional[int] = None, count: Optional[int] = None,
                 desc: Union[Tuple[str, Callable[[Dict], Dict]], str, None] = None, **kwargs: Any):
        for name, val in (("freq", freq), ("count", count)):
            if val is not None and (not isinstance(val, int) or isinstance(val, bool) or val <= 0):
                raise ValueError(f"ProgressBar({name}={val!r}): {name} must be a positive int.")
        if freq is not None and count is not None:
            raise ValueError(
                f"ProgressBar got both freq={freq} and count={count}; give one: freq reports every "
                f"`freq` steps, count reports `count` times in total.")
        if desc is not None and not isinstance(desc, str):
            if not (isinstance(desc, (tuple, list)) and len(desc) == 2 and isinstance(desc[0], str)
                    and callable(desc[1])):
                raise TypeError(
                    f"ProgressBar(desc=...) must be a string or a pair (format_string, fn) where fn "
                    f"maps {{'i', 'carry', 'y'}} to the fields of the format string; got {desc!r}.")
        self.freq = freq
        self.count = count
        self.desc = desc
        self.kwargs = kwargs

    def init(self, n: int) -> "_Run":
        """The runner for a loop of `n` steps."""
        if self.freq is not None:
            freq = self.freq
        elif self.count is not None:
            freq = max(n // self.count, 1)
        else:
            freq = max(n // 20, 1)
        return _Run(self, n, freq)

    def __repr__(self) -> str:
        return f"ProgressBar(freq={self.freq}, count={self.count}, desc={self.desc!r})"


def as_runner(pbar, n: int) -> Optional["_Run"]:
    """The runner for `pbar=` of a loop of `n` steps (None when no bar was asked for)."""
    if pbar is None:
        return None
    if isinstance(pbar, ProgressBar):
        return pbar.init(n)
    if isinstance(pbar, int) and not isinstance(pbar, bool):
        return ProgressBar(freq=pbar).init(n)
    raise TypeError(f"pbar must be a ProgressBar, an int (report every that many steps) or None; "
                    f"got {type(pbar).__name__}: {pbar!r}.")


class _Run:
    """The traced side of one loop's bar: decide in-graph, draw on the host."""

    def __init__(self, bar: ProgressBar, n: int, freq: int):
        self.bar, self.n, self.freq = bar, n, freq
        self.with_data = isinstance(bar.desc, (tuple, list))
        self._host: Any = None  # a tqdm bar (tqdm is untyped) or a PlainBar; None between runs

    def __call__(self, i, carry=None, y=None, stride: int = 1) -> None:
        """Report that step `i` (int32, steps done minus one) finished; `stride` steps just ran."""
        done = i + 1
        report = (done // self.freq != (done - stride) // self.freq) | (done == self.n)
        data = (carry, y) if self.with_data else ()
        jax.lax.cond(report, lambda: jax.debug.callback(self._tick, i, data, ordered=True), lambda: None)

    def _tick(self, i, data) -> None:
        done = int(i) + 1
        host = self._host
        if host is None or done <= host.n:
            if host is not None:
                host.close()
            host = self._host = _open_bar(self.n, self.bar)
        host.update(done - host.n)
        desc = self.bar.desc
        if isinstance(desc, (tuple, list)):  # the same test as `self.with_data`
            fmt, fn = desc
            fields = fn({"i": int(i), "carry": data[0], "y": data[1]})
            if not isinstance(fields, dict):
                raise TypeError(f"The desc function of ProgressBar must return a dict of format "
                                f"fields; it returned {type(fields).__name__}.")
            host.set_description(fmt.format(**fields), refresh=True)
        if done >= self.n:
            host.close()
            self._host = None


def _open_bar(n: int, bar: ProgressBar) -> Any:
    desc = bar.desc if isinstance(bar.desc, str) else (None if bar.desc else f"Running {n:,} steps")
    try:
        tqdm = importlib.import_module("tqdm").tqdm
    except ImportError:
        return PlainBar(total=n, desc=desc, file=bar.kwargs.get("file"))
    return tqdm(total=n, desc=desc, **bar.kwargs)


class PlainBar:
    """A minimal text bar on stderr with the slice of the tqdm API the runner uses."""

    def __init__(self, total: int, desc: Optional[str] = None, file=None, width: int = 25):
        self.total, self.desc, self.width = total, desc, width
        self.file = file if file is not None else sys.stderr
        self.n = 0
        self.start = time.perf_counter()

    def update(self, k: int = 1) -> None:
        self.n += k
        self._draw()

    def set_description(self, desc: Optional[str] = None, refresh: bool = True) -> None:
        self.desc = desc
        if refresh:
            self._draw()

    def close(self) -> None:
        self._draw()
        self.file.write("\n")
        self.file.flush()

    def _draw(self) -> None:
        frac = self.n / self.total if self.total else 1.0
        filled = int(round(frac * self.width))
        elapsed = time.perf_counter() - self.start
        rate = self.n / elapsed if elapsed > 0 else 0.0
        prefix = f"{self.desc}: " if self.desc else ""
        self.file.write(f"\r{prefix}{frac:4.0%}|{'#' * filled}{' ' * (self.width - filled)}| "
                        f"{self.n}/{self.total} [{elapsed:.1f}s, {rate:.1f}it/s]")
        self.file.flush()

