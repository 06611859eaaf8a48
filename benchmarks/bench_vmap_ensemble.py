"""An ensemble of 32 recurrent cells (hidden size 64) stepped with `vmap` under `jit`.

Each cell has its own recurrent weights and hidden state; both carry the ensemble axis and are
declared in `in_states` (the hidden state is written, so it comes back stacked). The reference
is raw `jax.jit(jax.vmap(...))` with the weights and hidden state threaded by hand. Prints the
per-call times and their ratio (median of interleaved blocks, warm-up excluded); target ≤ 1.1 (the engine issue's).
Run: `python benchmarks/bench_vmap_ensemble.py`.
"""

import jax
import jax.numpy as jnp
import numpy as np

import brainstate as bs

try:
    from ._timing import header, ratio, report
except ImportError:
    from _timing import header, ratio, report

N_CELLS, HIDDEN = 32, 64


def cell(w, u, h, x):
    return jnp.tanh(h @ w + x @ u)


def ensemble_case():
    key_w, key_u, key_x = jax.random.split(jax.random.PRNGKey(0), 3)
    w0 = jax.random.normal(key_w, (N_CELLS, HIDDEN, HIDDEN)) / HIDDEN ** 0.5
    u0 = jax.random.normal(key_u, (N_CELLS, HIDDEN, HIDDEN)) / HIDDEN ** 0.5
    x = jax.random.normal(key_x, (N_CELLS, HIDDEN))

    w = bs.ParamState(w0)
    u = bs.ParamState(u0)
    h = bs.HiddenState(jnp.zeros((N_CELLS, HIDDEN)))

    @bs.transform.jit
    @bs.transform.vmap(in_states=(w, u, h), out_states=h)
    def step(inp):
        h.value = cell(w.value, u.value, h.value, inp)
        return h.value.sum()

    raw = jax.jit(jax.vmap(lambda w, u, h, x: (cell(w, u, h, x), cell(w, u, h, x).sum())))
    box = [jnp.zeros((N_CELLS, HIDDEN))]

    def raw_step():
        box[0], out = raw(w0, u0, box[0], x)
        return out

    # Same numbers first: both ensembles start from zero and take three steps.
    for _ in range(3):
        ours, theirs = step(x), raw_step()
    np.testing.assert_allclose(np.asarray(ours), np.asarray(theirs), rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(np.asarray(h.value), np.asarray(box[0]), rtol=1e-5, atol=1e-5)
    return (lambda: step(x)), raw_step


def main():
    header()
    ours, raw = ensemble_case()
    ta, tb, r = ratio(ours, raw, n=1000, blocks=15)
    report("vmap ensemble 32x64 (jit)", ta, tb, r, 1.1)


if __name__ == "__main__":
    main()
