"""Per-call dispatch of jitted stateful steps, as a ratio to raw `jax.jit` with the state
threaded by hand, measured in the same process.

Cases: the seed's Counter; an SGD step of a small MLP (width 32, 4 layers, batch 8); models
with 300 and 1,500 small states; the Counter while unrelated states are created; and, without a
target, the Counter as a method compiled at class level and the Counter reached through a module
global (the way scripts hold their model). Run: `python benchmarks/bench_dispatch.py`.

`--sync-dispatch` runs both sides with JAX's asynchronous CPU dispatch off
(`jax_cpu_enable_async_dispatch=False`). With it on (JAX's default), a program XLA does not
consider cheap (the MLP step) runs on a worker thread, and the CPU time of a call depends on how
that thread spins and sleeps between calls more than on the Python work between them (see
`benchmarks/README.md`); off, each side's time is its own work.
"""

import sys

import jax

SYNC = "--sync-dispatch" in sys.argv[1:]
if SYNC:  # read when the CPU client starts: before the first array, before importing brainstate
    jax.config.update("jax_cpu_enable_async_dispatch", False)

import jax.numpy as jnp  # noqa: E402

import brainstate as bs  # noqa: E402

try:
    from ._timing import header, ratio, report
except ImportError:
    from _timing import header, ratio, report


def counter_case():
    n = bs.State(jnp.array(0))

    @bs.transform.jit
    def inc():
        n.value += 1
        return n.value

    raw = jax.jit(lambda v: (v + 1, v + 1))
    box = [jnp.array(0)]

    def raw_inc():
        box[0], out = raw(box[0])
        return out

    return inc, raw_inc


def mlp_case(width=32, depth=4, batch=8, lr=0.01):
    key = jax.random.PRNGKey(0)
    sizes = [width] * (depth + 1)
    params = []
    for i in range(depth):
        key, k = jax.random.split(key)
        params.append({"weight": jax.random.normal(k, (sizes[i], sizes[i + 1])) / sizes[i] ** 0.5,
                       "bias": jnp.zeros(sizes[i + 1])})
    x = jax.random.normal(key, (batch, width))
    y = jnp.sin(x)

    def forward(ps, x):
        for i, p in enumerate(ps):
            x = x @ p["weight"] + p["bias"]
            if i < len(ps) - 1:
                x = jax.nn.relu(x)
        return x

    states = [bs.ParamState(p) for p in params]

    def loss_fn(x, y):
        return jnp.mean((forward([s.value for s in states], x) - y) ** 2)

    @bs.transform.jit
    def step(x, y):
        grads, loss = bs.transform.grad(loss_fn, grad_states=states, return_value=True)(x, y)
        for s, g in zip(states, grads):
            s.value = jax.tree.map(lambda p, g: p - lr * g, s.value, g)
        return loss

    @jax.jit
    def raw_step(ps, x, y):
        loss, grads = jax.value_and_grad(lambda ps: jnp.mean((forward(ps, x) - y) ** 2))(ps)
        return jax.tree.map(lambda p, g: p - lr * g, ps, grads), loss

    box = [params]

    def raw_call():
        box[0], loss = raw_step(box[0], x, y)
        return loss

    return (lambda: step(x, y)), raw_call


def many_states_case(n=300):
    states = [bs.State(jnp.ones(4) * i) for i in range(n)]

    @bs.transform.jit
    def step():
        for s in states:
            s.value = s.value * 0.999 + 0.001

    raw = jax.jit(lambda vs: [v * 0.999 + 0.001 for v in vs])
    box = [[s.value for s in states]]

    def raw_call():
        box[0] = raw(box[0])
        return box[0]

    return step, raw_call


class _Counter:
    def __init__(self):
        self.n = bs.State(jnp.array(0))

    @bs.transform.jit
    def inc(self):
        self.n.value += 1
        return self.n.value


def method_case():
    """`c.inc()` with `inc` compiled at class level (`@jit` on the method)."""
    c = _Counter()
    _, raw_inc = counter_case()
    return (lambda: c.inc()), raw_inc


_global_count = None


def _global_inc():
    _global_count.value += 1
    return _global_count.value


def global_case():
    """A jitted function that reaches its state through a module global (checked for rebinding)."""
    global _global_count
    _global_count = bs.State(jnp.array(0))
    inc = bs.transform.jit(_global_inc)
    _, raw_inc = counter_case()
    return inc, raw_inc


def unrelated_states_case():
    """The Counter step while an unrelated State is created before every call (on both sides)."""
    inc, raw_inc = counter_case()
    seed = jnp.zeros(3)

    def ours():
        bs.State(seed)
        return inc()

    def raw():
        bs.State(seed)
        return raw_inc()

    return ours, raw


CASES = [
    ("Counter", counter_case, 1.2, 2000),
    ("MLP SGD step (32x4, batch 8)", mlp_case, 1.05, 1000),
    ("300 small states", many_states_case, 1.1, 200),
    ("1,500 small states", lambda: many_states_case(1500), 1.1, 40),
    ("Counter, new unrelated states", unrelated_states_case, 1.2, 1000),
    ("Counter, class-level @jit method", method_case, None, 2000),
    ("Counter, state in a module global", global_case, None, 2000),
]


def main():
    mode = "synchronous" if SYNC else "default (asynchronous)"
    print(f"jax {jax.__version__} on {jax.devices()[0].platform}, {mode} CPU dispatch; per-call medians")
    header()
    for name, build, target, n in CASES:
        ours, raw = build()
        # many short pairs of blocks: their paired ratios cancel the machine's drift best
        report(name, *ratio(ours, raw, n=max(1, n // 5), blocks=75), target)


if __name__ == "__main__":
    main()
