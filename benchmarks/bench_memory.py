"""Compiled memory of a training step, brainstate vs raw JAX (target ≤ 1.05).

Both sides are the same MLP SGD step; raw JAX donates its parameter buffers (what a
performance-minded JAX user writes), brainstate is measured without and with
`donate_states=True`. Numbers from `.lower(...).compile().memory_analysis()`.
Run: `python benchmarks/bench_memory.py`.
"""

import jax
import jax.numpy as jnp

import brainstate as bs


def build(width=512, depth=4, batch=64, lr=1e-3):
    key = jax.random.PRNGKey(0)
    params = []
    for _ in range(depth):
        key, k = jax.random.split(key)
        params.append({"weight": jax.random.normal(k, (width, width)) / width ** 0.5, "bias": jnp.zeros(width)})
    x = jax.random.normal(key, (batch, width))

    def forward(ps):
        h = x
        for p in ps:
            h = jnp.tanh(h @ p["weight"] + p["bias"])
        return jnp.mean(h ** 2)

    return params, forward, lr


def total_bytes(compiled) -> int:
    m = compiled.memory_analysis()
    return (m.argument_size_in_bytes + m.output_size_in_bytes + m.temp_size_in_bytes
            - m.alias_size_in_bytes)


def ours_bytes(donate: bool) -> int:
    params, forward, lr = build()
    states = [bs.ParamState(p) for p in params]

    @bs.transform.jit(donate_states=donate)
    def step():
        grads, loss = bs.transform.grad(lambda: forward([s.value for s in states]), grad_states=states,
                                        return_value=True)()
        for s, g in zip(states, grads):
            s.value = jax.tree.map(lambda p, g: p - lr * g, s.value, g)
        return loss

    return total_bytes(step.lower().compile())


def raw_bytes() -> int:
    params, forward, lr = build()

    @jax.jit
    def step(ps):
        loss, grads = jax.value_and_grad(forward)(ps)
        return jax.tree.map(lambda p, g: p - lr * g, ps, grads), loss

    return total_bytes(jax.jit(step, donate_argnums=0).lower(params).compile())


def main():
    raw = raw_bytes()
    for donate in (False, True):
        ours = ours_bytes(donate)
        target = "≤ 1.05" if donate else "(no donation)"
        print(f"{'training-step memory, donate_states=' + str(donate):42s} {ours / 2**20:8.2f} MiB "
              f"{raw / 2**20:8.2f} MiB {ours / raw:7.3f}   {target}")


if __name__ == "__main__":
    main()
