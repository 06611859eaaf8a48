"""A balanced network of 4,000 spiking neurons: the COBA benchmark of Brette et al. (2007).

3,200 excitatory and 800 inhibitory leaky integrate-and-fire neurons, randomly connected with
2% probability (each neuron projects to 2% of every population), through conductance-based
exponential synapses. In units of the leak conductance and of mV and ms:

    tau dV/dt = (V_rest - V) + g_e (E_e - V) + g_i (E_i - V) + I_bg
    dg_e/dt = -g_e / tau_e    (jumps by w_e = 0.6 at each excitatory spike)
    dg_i/dt = -g_i / tau_i    (jumps by w_i = 6.7 at each inhibitory spike)

with tau = 20 ms, V_rest = V_reset = -60 mV, V_th = -50 mV, 5 ms refractory period,
E_e = 0 mV, E_i = -80 mV, tau_e = 5 ms, tau_i = 10 ms, and a constant background drive
I_bg = 20 mV. The drive alone would make every neuron fire regularly; recurrent inhibition
balances it and the network settles into irregular, asynchronous firing.

Built from the library's parts: `nn.LIF` neurons, `nn.EventFixedProb` connectivity,
`nn.Expon` synapses and `nn.Projection` with a reversal potential (conductance-based input).
The simulation (dt = 0.1 ms) is one `for_loop` under `jit`, with a progress bar. It writes a
spike raster and the population rate to a PNG and checks that the firing rates are in a
physiological range.

Usage: python examples/coba_network.py [--short] [--duration MS] [--out FILE.png]
"""

import argparse
import time

import jax.numpy as jnp
import numpy as np

import brainstate as bs
from brainstate import nn

DT = 0.1  # ms


class COBA(nn.Module):
    """The excitatory and inhibitory populations and the four projections between them."""

    def __init__(self, n_exc: int = 3200, n_inh: int = 800, p: float = 0.02, w_e: float = 0.6, w_i: float = 6.7):
        super().__init__()
        self.n_exc, self.n_inh = n_exc, n_inh
        self.E = self.population(n_exc)
        self.I = self.population(n_inh)

        def connect(pre, post, w, tau, reversal):
            comm = nn.EventFixedProb(pre.in_size, post.in_size, conn_num=p, conn_weight=w)
            return nn.Projection(comm, post, syn=nn.Expon(post.in_size, tau=tau), reversal=reversal)

        self.E2E = connect(self.E, self.E, w_e, tau=5.0, reversal=0.0)
        self.E2I = connect(self.E, self.I, w_e, tau=5.0, reversal=0.0)
        self.I2E = connect(self.I, self.E, w_i, tau=10.0, reversal=-80.0)
        self.I2I = connect(self.I, self.I, w_i, tau=10.0, reversal=-80.0)

    @staticmethod
    def population(n: int) -> nn.LIF:
        return nn.LIF(n, R=1.0, tau=20.0, tau_ref=5.0, V_th=-50.0, V_reset=-60.0, V_rest=-60.0,
                      V_initializer=nn.init.Normal(-55.0, 2.0), spk_reset="hard")

    def init_state(self, batch_size=None):
        # The spikes of the previous step, which the projections deliver in this one.
        self.spk_e = bs.ShortTermState(jnp.zeros(self.n_exc))
        self.spk_i = bs.ShortTermState(jnp.zeros(self.n_inh))

    def update(self, drive):
        self.E2E(self.spk_e.value)
        self.E2I(self.spk_e.value)
        self.I2E(self.spk_i.value)
        self.I2I(self.spk_i.value)
        self.spk_e.value = self.E(drive)
        self.spk_i.value = self.I(drive)
        return self.spk_e.value > 0, self.spk_i.value > 0


def simulate(duration: float, drive: float = 20.0, seed: int = 0, verbose: bool = True):
    """Run the network for `duration` ms; return boolean spike trains `(steps, n)` of E and I."""
    bs.random.seed(seed)
    net = nn.init_all_states(COBA())
    drive_per_step = jnp.full(int(round(duration / DT)), drive)  # could as well vary in time

    @bs.transform.jit
    def run(drives):
        pbar = bs.transform.ProgressBar(count=20, desc=f"simulating {duration:g} ms") if verbose else None
        return bs.transform.for_loop(net, drives, pbar=pbar)  # net(drives[t]) for every step t

    with bs.environ.context(dt=DT):
        spk_e, spk_i = run(drive_per_step)
    return np.asarray(spk_e), np.asarray(spk_i)


def population_rate(spikes: np.ndarray, window: float = 5.0) -> np.ndarray:
    """Instantaneous rate of a population in Hz, smoothed with a `window` ms box filter."""
    rate = spikes.mean(axis=1) / (DT * 1e-3)
    box = np.ones(max(int(round(window / DT)), 1))
    return np.convolve(rate, box, mode="same") / np.convolve(np.ones_like(rate), box, mode="same")


def plot(spk_e: np.ndarray, spk_i: np.ndarray, path: str) -> None:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display needed
    import matplotlib.pyplot as plt

    t = np.arange(spk_e.shape[0]) * DT
    fig, (ax_raster, ax_rate) = plt.subplots(2, 1, sharex=True, figsize=(10, 6),
                                             gridspec_kw={"height_ratios": [3, 1]})
    for spikes, offset, color, label in ((spk_e, 0, "tab:blue", "excitatory"),
                                         (spk_i, spk_e.shape[1], "tab:red", "inhibitory")):
        steps, neurons = np.nonzero(spikes)
        ax_raster.scatter(t[steps], neurons + offset, s=0.3, c=color, marker=".", linewidths=0, label=label)
    ax_raster.set_ylabel("neuron")
    ax_raster.set_ylim(0, spk_e.shape[1] + spk_i.shape[1])
    ax_raster.legend(loc="upper right", markerscale=20)
    ax_raster.set_title(f"COBA network: {spk_e.shape[1]} E + {spk_i.shape[1]} I LIF neurons")
    ax_rate.plot(t, population_rate(spk_e), color="tab:blue", lw=0.8, label="E")
    ax_rate.plot(t, population_rate(spk_i), color="tab:red", lw=0.8, label="I")
    ax_rate.set_xlabel("time (ms)")
    ax_rate.set_ylabel("rate (Hz)")
    ax_rate.legend(loc="upper right")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(duration: float = 1000.0, out: str = "coba_network.png", transient: float = 100.0,
         verbose: bool = True) -> dict:
    """Simulate, plot (unless `out` is None) and return the mean rates after the transient."""
    start = time.perf_counter()
    spk_e, spk_i = simulate(duration, verbose=verbose)
    elapsed = time.perf_counter() - start
    skip = int(round(min(transient, duration / 2) / DT))
    seconds = (spk_e.shape[0] - skip) * DT * 1e-3
    rate_e = float(spk_e[skip:].sum() / spk_e.shape[1] / seconds)
    rate_i = float(spk_i[skip:].sum() / spk_i.shape[1] / seconds)
    silent_e = float((spk_e[skip:].sum(axis=0) == 0).mean())
    if out:
        plot(spk_e, spk_i, out)
    if verbose:
        print(f"{duration:g} ms simulated in {elapsed:.1f} s; mean rates: E {rate_e:.1f} Hz, I {rate_i:.1f} Hz "
              f"({silent_e:.0%} of E neurons silent)" + (f"; plot written to {out}" if out else ""))
    return {"rate_e": rate_e, "rate_i": rate_i, "silent_e": silent_e, "seconds": elapsed}


def check(result: dict) -> None:
    if not 1.0 <= result["rate_e"] <= 50.0 or not 1.0 <= result["rate_i"] <= 100.0:
        raise SystemExit(f"FAILED: rates E {result['rate_e']:.1f} Hz, I {result['rate_i']:.1f} Hz are outside "
                         f"the physiological range (E in [1, 50] Hz, I in [1, 100] Hz)")
    print("OK: excitatory and inhibitory rates are in a physiological range")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--short", action="store_true", help="a fast run for CI (200 ms)")
    parser.add_argument("--duration", type=float, default=None, help="simulated time in ms (default 1000)")
    parser.add_argument("--out", default="coba_network.png", help="the PNG to write")
    args = parser.parse_args()
    check(main(duration=args.duration or (200.0 if args.short else 1000.0), out=args.out))
