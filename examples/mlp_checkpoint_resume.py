"""Stop a training run, checkpoint it, resume it in a new process: nothing is lost.

An MLP learns a 1-D regression with Adam on random minibatches. The program trains it three
times from the same seed:

1. straight through, for `steps` steps (the reference run);
2. for the first `stop_at` steps only, then saves the model, the optimizer (Adam's moments and
   step count) and the random stream (which draws the minibatches) with a `CheckpointManager`;
3. in a *new Python process* (this script, run with `--resume DIR`): builds a fresh model and
   optimizer from a different seed, restores the checkpoint into them (a strict restore: every
   path must match), trains the remaining steps and saves the result.

The interrupted run must end with exactly the same bits as the reference run, in every state:
weights, optimizer buffers and random key.

Usage: python examples/mlp_checkpoint_resume.py [--short]
"""

import argparse
import os
import subprocess
import sys
import tempfile

import jax
import jax.numpy as jnp
import numpy as np

import brainstate as bs
from brainstate import checkpoint

X = jnp.linspace(-2.0, 2.0, 256)[:, None]
Y = jnp.sin(2.0 * X) + 0.3 * X ** 2


class MLP(bs.nn.Module):
    def __init__(self, sizes):
        super().__init__()
        self.layers = [bs.nn.Linear(a, b) for a, b in zip(sizes[:-1], sizes[1:])]

    def update(self, x):
        for layer in self.layers[:-1]:
            x = jnp.tanh(layer(x))
        return self.layers[-1](x)


class Trainer:
    """A model, its optimizer and a jitted training step on random minibatches."""

    def __init__(self, seed: int, batch: int = 32, lr: float = 1e-2):
        bs.random.seed(seed)
        self.model = MLP([1, 32, 32, 1])
        self.opt = bs.optim.Adam(lr)
        self.params = self.model.states(bs.ParamState)
        self.opt.register_trainable_weights(self.params)
        self.batch = batch
        self.step = bs.transform.jit(self._step)

    def everything(self):
        """The graph a checkpoint holds: model, optimizer and the minibatch random stream."""
        return {"model": self.model, "opt": self.opt, "rng": bs.random.DEFAULT}

    def loss(self, x, y):
        return jnp.mean((self.model(x) - y) ** 2)

    def _step(self):
        idx = bs.random.randint(0, X.shape[0], (self.batch,))
        grads, loss = bs.transform.grad(self.loss, grad_states=self.params, return_value=True)(X[idx], Y[idx])
        self.opt.update(grads)
        return loss

    def train(self, n: int, verbose: bool, label: str):
        for _ in range(n):
            self.step()
        if verbose:
            print(f"  {label}: step {int(self.opt.step_count.value):4d}  full-data loss {float(self.loss(X, Y)):.5f}")


def resume(directory: str, steps: int, verbose: bool = True) -> None:
    """The second process: restore the latest step into a fresh trainer, finish, save."""
    trainer = Trainer(seed=12345)  # a different seed: everything must come from the checkpoint
    manager = checkpoint.CheckpointManager(directory)
    start = manager.latest_step()
    manager.restore(trainer.everything())  # strict: raises unless every path matches
    if verbose:
        print(f"  [pid {os.getpid()}] restored step {start} from {directory}")
    trainer.train(steps - start, verbose, f"[pid {os.getpid()}] resumed")
    manager.save(steps, trainer.everything())


def flat_values(path: str) -> dict:
    """Every leaf of a checkpoint file as a NumPy array, keyed by path (and leaf key)."""
    out = {}
    for key, value in checkpoint.load(path).values.items():
        for leaf_path, leaf in jax.tree_util.tree_flatten_with_path(value)[0]:
            out[key + jax.tree_util.keystr(leaf_path)] = np.asarray(leaf)
    return out


def main(steps: int = 600, stop_at: int = 250, verbose: bool = True) -> dict:
    """Run the reference and the interrupted runs; return the losses and the comparison."""
    with tempfile.TemporaryDirectory() as work:
        if verbose:
            print(f"uninterrupted: {steps} steps [pid {os.getpid()}]")
        ref = Trainer(seed=0)
        first_loss = float(ref.loss(X, Y))
        ref.train(steps, verbose, "uninterrupted")
        final_loss = float(ref.loss(X, Y))
        ref_path = checkpoint.save(os.path.join(work, "reference.safetensors"), ref.everything())

        if verbose:
            print(f"interrupted: {stop_at} steps, checkpoint, resume in a new process")
        part = Trainer(seed=0)
        part.train(stop_at, verbose, f"[pid {os.getpid()}] first part")
        manager = checkpoint.CheckpointManager(os.path.join(work, "run"), max_to_keep=2)
        manager.save(stop_at, part.everything())
        cmd = [sys.executable, os.path.abspath(__file__), "--resume", manager.directory, "--steps", str(steps)]
        subprocess.run(cmd + ([] if verbose else ["--quiet"]), check=True)

        ref_values, resumed = flat_values(ref_path), flat_values(manager.step_path(steps))
        if ref_values.keys() != resumed.keys():
            raise AssertionError(f"the two runs saved different states: {sorted(ref_values.keys() ^ resumed.keys())}")
        differing = [k for k in ref_values if not np.array_equal(ref_values[k], resumed[k])]
        param_keys = [k for k in ref_values if k.startswith("model.")]
    if verbose:
        print(f"loss {first_loss:.4f} -> {final_loss:.4f}; {len(ref_values)} arrays compared "
              f"({len(param_keys)} parameter arrays), {len(differing)} differ")
    return {"first_loss": first_loss, "final_loss": final_loss, "n_arrays": len(ref_values),
            "n_params": len(param_keys), "differing": differing}


def check(result: dict) -> None:
    if result["differing"]:
        raise SystemExit(f"FAILED: the resumed run differs from the uninterrupted one in {result['differing']}")
    if not result["final_loss"] < 0.5 * result["first_loss"]:
        raise SystemExit(f"FAILED: the loss did not fall enough ({result['first_loss']} -> {result['final_loss']})")
    print("OK: the resumed run is bit-identical to the uninterrupted one")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a fast run for CI")
    parser.add_argument("--steps", type=int, default=None, help="total training steps")
    parser.add_argument("--resume", metavar="DIR", help="(internal) resume the run checkpointed in DIR")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    if args.resume:
        resume(args.resume, args.steps, verbose=not args.quiet)
    else:
        steps = args.steps or (60 if args.short else 600)
        check(main(steps=steps, stop_at=steps * 2 // 5, verbose=not args.quiet))
