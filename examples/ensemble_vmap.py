"""Train an ensemble of 16 small MLPs at once, vectorised with `vmap`.

Every member is the same MLP with its own random initialisation and its own Adam buffers. The
program never loops over members:

- `vmap_new_states` builds them: the function that creates one model and its optimizer runs once
  per lane, so every State it creates (weights, Adam moments, step count) gets a leading axis of
  16, and each lane draws its own initial weights from `brainstate.random`;
- the training step (gradient plus Adam update of *one* member) is vectorised with `vmap`,
  declaring the member states as batched (`in_states`, `out_states`), and runs as a compiled
  `for_loop` over training steps with a progress bar.

The members fit the same noisy data; where data is missing (a gap in the middle) they disagree,
so the spread of the ensemble tells where it is uncertain.

Usage: python examples/ensemble_vmap.py [--short]
"""

import argparse

import jax
import jax.numpy as jnp
import numpy as np

import brainstate as bs


class MLP(bs.nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = [bs.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

    def update(self, x):
        for layer in self.layers[:-1]:
            x = jnp.tanh(layer(x))
        return self.layers[-1](x)


def build_ensemble(members: int, lr: float):
    """One model and one Adam optimizer whose every State carries a leading axis of `members`."""
    built = {}

    def build_one():
        model = MLP([1, 32, 32, 1])
        opt = bs.optim.Adam(lr)
        opt.register_trainable_weights(model.states(bs.ParamState))
        built["model"], built["opt"] = model, opt

    bs.transform.vmap_new_states(build_one, axis_size=members)()
    return built["model"], built["opt"]


def make_data(n: int = 96):
    """Noisy samples of a curve on [-3, 3], with no samples in the gap (-0.5, 1)."""
    x = np.linspace(-3.0, 3.0, n)
    x = x[(x < -0.5) | (x > 1.0)]
    y = np.sin(1.5 * x) + 0.1 * np.random.default_rng(0).normal(size=x.shape)
    return jnp.asarray(x[:, None], jnp.float32), jnp.asarray(y[:, None], jnp.float32)


def main(members: int = 16, steps: int = 1000, lr: float = 5e-3, seed: int = 0, verbose: bool = True) -> dict:
    """Train the ensemble; return every member's first and last loss and their disagreement."""
    bs.random.seed(seed)
    model, opt = build_ensemble(members, lr)
    params = model.states(bs.ParamState)
    member_states = list(params.values()) + list(bs.graph.states(opt).values())
    x, y = make_data()

    def loss_fn():
        return jnp.mean((model(x) - y) ** 2)

    @bs.transform.vmap(in_states=member_states, out_states=member_states)
    def member_step():
        # Read the weights here first, so that the nested `grad` already sees this member's slice
        # (works around a vmap bug: nested transforms see the whole batched value while vmap
        # discovers its states).
        [state.value for state in params.values()]
        grads, loss = bs.transform.grad(loss_fn, grad_states=params, return_value=True)()
        opt.update(grads)
        return loss

    member_loss = bs.transform.vmap(loss_fn, in_states=params)
    first = np.asarray(member_loss())
    bar = bs.transform.ProgressBar(count=20) if verbose else None
    losses = bs.transform.jit(lambda: bs.transform.for_loop(member_step, length=steps, pbar=bar))()
    last = np.asarray(member_loss())

    grid = jnp.linspace(-3.0, 3.0, 61)[:, None]
    predict = bs.transform.vmap(lambda: model(grid)[:, 0], in_states=params)
    preds = np.asarray(predict())  # (members, points)
    spread = preds.std(axis=0)
    in_gap = (grid[:, 0] > -0.5) & (grid[:, 0] < 1.0)
    result = {
        "first_loss": first, "last_loss": last, "loss_history": np.asarray(losses),
        "spread_in_gap": float(spread[in_gap].mean()), "spread_on_data": float(spread[~in_gap].mean()),
        "min_param_distance": min_pairwise_distance(params, members),
    }
    if verbose:
        print(f"{members} members, loss per member (first -> last):")
        for i in range(members):
            print(f"  member {i:2d}: {first[i]:.4f} -> {last[i]:.5f}")
        print(f"ensemble spread: {result['spread_on_data']:.4f} where there is data, "
              f"{result['spread_in_gap']:.4f} in the gap; closest two members differ by "
              f"{result['min_param_distance']:.3f} (parameter L2 distance)")
    return result


def min_pairwise_distance(params, members: int) -> float:
    """The smallest L2 distance between the parameter vectors of two members."""
    leaves = jax.tree.leaves([state.value for state in params.values()])
    flat = np.concatenate([np.asarray(leaf).reshape(members, -1) for leaf in leaves], axis=1)
    d = np.linalg.norm(flat[:, None, :] - flat[None, :, :], axis=-1)
    return float(d[~np.eye(members, dtype=bool)].min())


def check(result: dict) -> None:
    fell = result["last_loss"] < 0.2 * result["first_loss"]
    if not fell.all():
        raise SystemExit(f"FAILED: the loss did not fall by 5x for members {np.flatnonzero(~fell).tolist()}")
    if not result["min_param_distance"] > 1e-3:
        raise SystemExit("FAILED: two members ended with (nearly) the same parameters")
    print("OK: every member's loss fell by more than 5x, and no two members are alike")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a fast run for CI")
    args = parser.parse_args()
    check(main(steps=300 if args.short else 1000))
