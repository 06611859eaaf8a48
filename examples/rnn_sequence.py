"""Train a recurrent network to remember: a GRU echoes its input a few steps later.

The task: a stream of random numbers comes in, one per time step, and the network must output,
at every step `t`, the sum of the inputs it saw at steps `t - delay` and `t - delay - 1`. It can
only do that by holding the last inputs in its hidden state.

What it shows:
- a `GRUCell` whose hidden value is a `HiddenState`, run over time with
  `brainstate.transform.for_loop` (the hidden state rides in the loop's carry, and `grad`
  differentiates through the whole unrolled sequence);
- the training itself is a `for_loop` too, over training steps: each step draws a fresh batch
  from `brainstate.random`, takes the gradient and lets Adam update the weights, all in one
  compiled loop that reports through a progress bar.

Usage: python examples/rnn_sequence.py [--short]
"""

import argparse

import jax.numpy as jnp

import brainstate as bs


class Echo(bs.nn.Module):
    """A GRU cell with a linear readout, one time step per call."""

    def __init__(self, hidden: int):
        super().__init__()
        self.cell = bs.nn.GRUCell(1, hidden)
        self.readout = bs.nn.Linear(hidden, 1)

    def update(self, x):
        return self.readout(self.cell(x))


def make_batch(batch: int, length: int, delay: int):
    """Inputs `(length, batch, 1)` in [-1, 1] and their delayed pairwise sums (0 before the start)."""
    xs = bs.random.uniform(-1.0, 1.0, (length, batch, 1))
    padded = jnp.concatenate([jnp.zeros((delay + 1, batch, 1)), xs], axis=0)
    ys = padded[1:length + 1] + padded[:length]  # ys[t] = xs[t - delay] + xs[t - delay - 1]
    return xs, ys


def main(train_steps: int = 1000, hidden: int = 32, batch: int = 64, length: int = 30, delay: int = 5,
         lr: float = 5e-3, seed: int = 0, verbose: bool = True) -> dict:
    """Train; return the loss before and after training and the variance of the target."""
    bs.random.seed(seed)
    model = Echo(hidden)
    model.cell.init_state(batch)
    params = model.states(bs.ParamState)
    opt = bs.optim.Adam(lr)
    opt.register_trainable_weights(params)

    def loss_fn(xs, ys):
        model.cell.reset_state(batch)  # every sequence starts from a zero hidden state
        outs = bs.transform.for_loop(model, xs)  # model(xs[t]) for t = 0..length-1
        return jnp.mean((outs - ys)[delay + 1:] ** 2)  # score the steps with something to recall

    def train_step():
        xs, ys = make_batch(batch, length, delay)
        grads, loss = bs.transform.grad(loss_fn, grad_states=params, return_value=True)(xs, ys)
        opt.update(grads)
        return loss

    test_xs, test_ys = make_batch(batch, length, delay)  # held out: drawn once, never trained on
    test_loss = lambda: float(loss_fn(test_xs, test_ys))
    before = test_loss()
    show_loss = ("training, loss {loss:.4f}", lambda d: {"loss": float(d["y"])})
    bar = bs.transform.ProgressBar(count=20, desc=show_loss) if verbose else None
    train = bs.transform.jit(lambda: bs.transform.for_loop(train_step, length=train_steps, pbar=bar))
    losses = train()  # one compiled loop over all training steps
    after = test_loss()
    variance = float(jnp.var(test_ys[delay + 1:]))
    if verbose:
        print(f"held-out MSE {before:.4f} -> {after:.4f} (target variance {variance:.4f}; "
              f"last training losses {[round(float(v), 4) for v in losses[-3:]]})")
    return {"loss_before": before, "loss_after": after, "target_variance": variance}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a fast run for CI")
    args = parser.parse_args()
    result = main(train_steps=250 if args.short else 1000)
    threshold = 0.05 if args.short else 0.01
    if not result["loss_after"] < threshold * result["target_variance"]:
        raise SystemExit(f"FAILED: held-out MSE {result['loss_after']:.4f} is not below "
                         f"{threshold} x the target variance {result['target_variance']:.4f}")
    print(f"OK: held-out MSE below {threshold} x the target variance")
