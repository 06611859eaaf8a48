"""Compute-bound cases, where the state machinery must vanish into the noise (target ≤ 1.02):
an SGD step of a large MLP, and `grad` through a 100-step recurrent `for_loop`.
Ratios to raw `jax.jit` with the state threaded by hand, same process.
Run: `python benchmarks/bench_compute.py`.
"""

import jax
import jax.numpy as jnp

import brainstate as bs

try:
    from ._timing import header, ratio, report
except ImportError:
    from _timing import header, ratio, report


def large_mlp_case(width=1024, depth=4, batch=256, lr=1e-3):
    key = jax.random.PRNGKey(0)
    params = []
    for _ in range(depth):
        key, k = jax.random.split(key)
        params.append({"weight": jax.random.normal(k, (width, width)) / width ** 0.5, "bias": jnp.zeros(width)})
    x = jax.random.normal(key, (batch, width))

    def forward(ps, h):
        for p in ps:
            h = jnp.tanh(h @ p["weight"] + p["bias"])
        return jnp.mean(h ** 2)

    states = [bs.ParamState(p) for p in params]

    @bs.transform.jit
    def step():
        grads, loss = bs.transform.grad(lambda: forward([s.value for s in states], x), grad_states=states,
                                        return_value=True)()
        for s, g in zip(states, grads):
            s.value = jax.tree.map(lambda p, g: p - lr * g, s.value, g)
        return loss

    @jax.jit
    def raw_step(ps):
        loss, grads = jax.value_and_grad(forward)(ps, x)
        return jax.tree.map(lambda p, g: p - lr * g, ps, grads), loss

    box = [params]

    def raw():
        box[0], loss = raw_step(box[0])
        return loss

    return step, raw


def recurrent_grad_case(hidden=256, steps=100, batch=32):
    key = jax.random.PRNGKey(1)
    k1, k2, k3 = jax.random.split(key, 3)
    w_rec0 = jax.random.normal(k1, (hidden, hidden)) / hidden ** 0.5
    w_in0 = jax.random.normal(k2, (hidden, hidden)) / hidden ** 0.5
    xs = jax.random.normal(k3, (steps, batch, hidden))
    w_rec, w_in = bs.ParamState(w_rec0), bs.ParamState(w_in0)
    h = bs.HiddenState(jnp.zeros((batch, hidden)))

    def loss_fn():
        h.value = jnp.zeros((batch, hidden))

        def body(x):
            h.value = jnp.tanh(h.value @ w_rec.value + x @ w_in.value)
            return jnp.mean(h.value ** 2)

        return bs.transform.for_loop(body, xs).sum()

    ours = bs.transform.jit(bs.transform.grad(loss_fn, grad_states=[w_rec, w_in]))

    @jax.jit
    def raw_grad(w_rec, w_in):
        def loss(w_rec, w_in):
            def body(h, x):
                h = jnp.tanh(h @ w_rec + x @ w_in)
                return h, jnp.mean(h ** 2)

            _, ys = jax.lax.scan(body, jnp.zeros((batch, hidden)), xs)
            return ys.sum()

        return jax.grad(loss, argnums=(0, 1))(w_rec, w_in)

    return ours, (lambda: raw_grad(w_rec0, w_in0))


CASES = [
    ("large MLP SGD step (1024x4, b256)", large_mlp_case, 1.02, 20),
    ("grad through 100-step for_loop", recurrent_grad_case, 1.02, 20),
]


def main():
    header()
    for name, build, target, n in CASES:
        ours, raw = build()
        report(name, *ratio(ours, raw, n=n, blocks=9, warmup=2), target)


if __name__ == "__main__":
    main()
