"""Event-driven delivery: compaction, equality with all-synapse delivery, tiers, batching, gradients."""

import jax
import jax.extend
import jax.numpy as jnp
import numpy as np
import pytest
from hypothesis import given, settings, strategies as st
from numpy.testing import assert_allclose, assert_array_equal

from brainstate.nn._event_compaction import active_indices
from brainstate.nn._event_delivery import (EventSpec, default_capacities, deliver, dense_delivery, pre_major,
                                           transpose_in_degree)

N_IN, N_OUT, K = 40, 30, 5
RNG = np.random.RandomState(0)
TARGETS = jnp.asarray(RNG.randint(0, N_OUT, (N_IN, K)), jnp.int32)
SOURCES = RNG.randint(0, N_IN, (N_OUT, K)).astype(np.int32)
W_ROWS = jnp.asarray(RNG.randn(N_IN, K), jnp.float32)
W_COLS = jnp.asarray(RNG.randn(N_OUT, K), jnp.float32)
W_MATRIX = jnp.asarray(RNG.randn(N_IN, N_OUT), jnp.float32)
# An arbitrary sparse matrix, synapses sorted by pre-synaptic neuron, with uneven rows.
PRE, POST = (a.astype(np.int32) for a in np.nonzero(RNG.rand(N_IN, N_OUT) < RNG.rand(N_IN, 1) * 0.3))
W_SPARSE = jnp.asarray(RNG.randn(PRE.size), jnp.float32)
# First tier holds 2 active neurons, the second 16; beyond that every synapse is used.
TIERS = (2, 16)


def _case(layout, per_synapse):
    """`(weight, conn)` of a layout."""
    if layout == "rows":
        return (W_ROWS if per_synapse else jnp.float32(0.7)), {"targets": TARGETS}
    if layout == "cols":
        conn = {"sources": jnp.asarray(SOURCES), **transpose_in_degree(SOURCES, N_IN, per_synapse)}
        return (W_COLS if per_synapse else jnp.float32(0.7)), conn
    if layout == "sparse":
        conn = {"pre": jnp.asarray(PRE), "post": jnp.asarray(POST), **pre_major(PRE, POST, N_IN, N_OUT, per_synapse)}
        return (W_SPARSE if per_synapse else jnp.float32(0.7)), conn
    return W_MATRIX, {}


CASES = [("rows", True), ("rows", False), ("cols", True), ("cols", False), ("sparse", True), ("sparse", False),
         ("matrix", True)]


def _spikes(*active_counts, n=N_IN, seed=1):
    """0/1 spike vectors with the given numbers of active neurons (one row each)."""
    rng = np.random.RandomState(seed)
    rows = np.zeros((len(active_counts), n), np.float32)
    for row, count in zip(rows, active_counts):
        row[rng.choice(n, count, replace=False)] = 1.0
    return jnp.asarray(rows)


# -- compaction -------------------------------------------------------------------------------------
_compact = jax.jit(active_indices, static_argnums=(1, 2))


@pytest.mark.parametrize("method", ["blocks", "top_k", "auto"])
@settings(max_examples=20, deadline=None)
@given(n=st.sampled_from([1, 16, 17, 300]), capacity=st.sampled_from([0, 3, 40, 320]), p=st.floats(0, 1),
       seed=st.integers(0, 2**16))
def test_active_indices_are_the_first_true_entries_in_order(method, n, capacity, p, seed):
    # A few sizes (block edges, fewer and more slots than neurons), so each compiles once.
    mask = np.random.RandomState(seed).rand(n) < p
    idx, count = _compact(jnp.asarray(mask), capacity, method)
    want = np.nonzero(mask)[0][:capacity]
    assert_array_equal(np.asarray(idx), np.concatenate([want, np.full(capacity - want.size, n)]))
    assert int(count) == mask.sum()


def test_active_indices_of_a_large_population_under_jit():
    mask = np.zeros(100_000, bool)
    mask[[0, 17, 99_999]] = True  # the first and last neuron, and one inside the first block
    idx, count = _compact(jnp.asarray(mask), 5, "blocks")
    assert_array_equal(np.asarray(idx), [0, 17, 99_999, 100_000, 100_000])
    assert int(count) == 3


# -- equality with all-synapse delivery -------------------------------------------------------------
@pytest.mark.parametrize("layout, per_synapse", CASES)
@pytest.mark.parametrize("active", [0, 1, 2, 3, 16, 17, N_IN])  # tier 0, its edge, tier 1, its edge, dense
def test_event_delivery_equals_all_synapse_delivery(layout, per_synapse, active):
    w, conn = _case(layout, per_synapse)
    spec = EventSpec(layout, N_OUT, TIERS)
    x = _spikes(active)[0] * 1.5  # graded values multiply
    want = dense_delivery(spec, x, w, conn)
    got = deliver(spec, x, w, conn)
    if layout in ("rows", "sparse"):
        assert_array_equal(np.asarray(got), np.asarray(want))  # same terms added in the same order
    else:
        assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layout, per_synapse", CASES)
def test_dense_delivery_equals_the_connection_matrix(layout, per_synapse):
    w, conn = _case(layout, per_synapse)
    matrix = np.zeros((N_IN, N_OUT))
    shapes = {"rows": W_ROWS.shape, "cols": W_COLS.shape, "sparse": W_SPARSE.shape, "matrix": W_MATRIX.shape}
    w_np = np.broadcast_to(np.asarray(w), shapes[layout])
    if layout == "rows":
        for i, k in np.ndindex(N_IN, K):
            matrix[i, int(TARGETS[i, k])] += w_np[i, k]
    elif layout == "cols":
        for j, k in np.ndindex(N_OUT, K):
            matrix[SOURCES[j, k], j] += w_np[j, k]
    elif layout == "sparse":
        matrix[PRE, POST] = w_np
    else:
        matrix = w_np
    x = _spikes(7)[0]
    assert_allclose(np.asarray(dense_delivery(EventSpec(layout, N_OUT, ()), x, w, conn)), np.asarray(x) @ matrix,
                    rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("layout, per_synapse", CASES)
def test_lanes_each_take_their_own_events(layout, per_synapse):
    w, conn = _case(layout, per_synapse)
    spec = EventSpec(layout, N_OUT, TIERS)
    x = _spikes(1, 0, 5, 2).reshape(2, 2, N_IN)  # leading axes are lanes; the busiest needs tier 1
    got = deliver(spec, x, w, conn)
    assert got.shape == (2, 2, N_OUT)
    for lane in np.ndindex(2, 2):
        assert_allclose(np.asarray(got[lane]), np.asarray(deliver(spec, x[lane], w, conn)), rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("layout, per_synapse", CASES)
def test_vmap_equals_each_lane(layout, per_synapse):
    w, conn = _case(layout, per_synapse)
    spec = EventSpec(layout, N_OUT, TIERS)
    x = _spikes(1, 20, 3)
    got = jax.vmap(lambda lane: deliver(spec, lane, w, conn))(x)
    for lane in range(3):
        assert_allclose(np.asarray(got[lane]), np.asarray(dense_delivery(spec, x[lane], w, conn)),
                        rtol=1e-5, atol=1e-5)


def test_vmap_over_weights_and_connectivity():
    spec = EventSpec("rows", N_OUT, TIERS)
    x = _spikes(3)[0]
    weights = jnp.stack([W_ROWS, -2 * W_ROWS])
    targets = jnp.stack([TARGETS, TARGETS[::-1]])
    got = jax.vmap(lambda w, t: deliver(spec, x, w, {"targets": t}))(weights, targets)
    for lane in range(2):
        want = dense_delivery(spec, x, weights[lane], {"targets": targets[lane]})
        assert_allclose(np.asarray(got[lane]), np.asarray(want), rtol=1e-6, atol=1e-6)


def _switch_indices(jaxpr):
    """The index operands of every `cond` (switch) in a jaxpr, nested ones included."""
    found = []
    for eqn in jaxpr.eqns:
        if eqn.primitive.name == "cond":
            found.append(eqn.invars[0].aval)
        for sub in jax.extend.core.jaxprs_in_params(eqn.params):
            found.extend(_switch_indices(sub))
    return found


def test_vmap_keeps_one_switch_for_all_lanes():
    # Under vmap a batched switch index would evaluate every tier and the dense path in each step.
    spec = EventSpec("rows", N_OUT, TIERS)
    jaxpr = jax.make_jaxpr(jax.vmap(lambda lane: deliver(spec, lane, W_ROWS, {"targets": TARGETS})))(_spikes(1, 2))
    indices = _switch_indices(jaxpr.jaxpr)
    assert indices and all(aval.shape == () for aval in indices)


# -- gradients ----------------------------------------------------------------------------------------
@pytest.mark.parametrize("layout, per_synapse", CASES)
@pytest.mark.parametrize("active", [2, 10, N_IN])
def test_gradients_equal_the_dense_formulation(layout, per_synapse, active):
    w, conn = _case(layout, per_synapse)
    spec = EventSpec(layout, N_OUT, TIERS)
    x = _spikes(active)[0]
    probe = jnp.asarray(np.random.RandomState(2).randn(N_OUT), jnp.float32)

    def loss(op):
        return lambda x, w: jnp.sum(jnp.tanh(op(spec, x, w, conn)) * probe)

    got = jax.grad(loss(deliver), argnums=(0, 1))(x, w)
    want = jax.grad(loss(dense_delivery), argnums=(0, 1))(x, w)
    for g, h in zip(got, want):
        assert_allclose(np.asarray(g), np.asarray(h), rtol=1e-5, atol=1e-6)
    silent = np.asarray(x) == 0
    assert np.count_nonzero(np.asarray(want[0])[silent]) >= silent.sum() // 2  # so silent neurons are compared too


@pytest.mark.parametrize("layout, per_synapse", CASES)
def test_forward_mode_equals_the_dense_formulation(layout, per_synapse):
    w, conn = _case(layout, per_synapse)
    spec = EventSpec(layout, N_OUT, TIERS)
    x = _spikes(3)[0]
    got = jax.jacfwd(lambda x: deliver(spec, x, w, conn))(x)
    want = jax.jacfwd(lambda x: dense_delivery(spec, x, w, conn))(x)
    assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-6, atol=1e-6)


def _surrogate_network(op, remat=False):
    """A 25-step recurrent spiking loss through `op`, spikes with a sigmoid surrogate gradient."""
    spec = EventSpec("rows", N_IN, (3, 24))
    targets = jnp.asarray(np.random.RandomState(3).randint(0, N_IN, (N_IN, K)), jnp.int32)
    v0 = jnp.asarray(np.random.RandomState(4).rand(N_IN) * 1.5, jnp.float32)

    def loss(w):
        def step(v, _):
            s = jax.nn.sigmoid(4 * (v - 1.0))
            spikes = s + jax.lax.stop_gradient((v >= 1.0).astype(s.dtype) - s)
            v = 0.9 * v + op(spec, spikes, w, {"targets": targets}) + 0.15 - spikes
            return v, spikes.sum()

        v, counts = jax.lax.scan(jax.checkpoint(step) if remat else step, v0, None, length=25)
        return jnp.sum(v ** 2) + counts.sum()

    return loss


@pytest.mark.parametrize("remat", [False, True])
def test_gradient_through_a_simulated_network_equals_dense(remat):
    w = jnp.asarray(np.random.RandomState(5).rand(N_IN, K) * 0.3, jnp.float32)
    got = jax.jit(jax.grad(_surrogate_network(deliver, remat)))(w)
    want = jax.grad(_surrogate_network(dense_delivery, remat))(w)
    assert_allclose(np.asarray(got), np.asarray(want), rtol=1e-4, atol=1e-5)
    assert np.abs(np.asarray(got)).sum() > 0


def test_vmapped_gradients_equal_each_lane():
    loss = _surrogate_network(deliver)
    ws = jnp.asarray(np.random.RandomState(6).rand(3, N_IN, K) * 0.3, jnp.float32)
    got = jax.vmap(jax.grad(loss))(ws)
    for lane in range(3):
        assert_allclose(np.asarray(got[lane]), np.asarray(jax.grad(_surrogate_network(dense_delivery))(ws[lane])),
                        rtol=1e-4, atol=1e-5)


# -- structure and capacities ---------------------------------------------------------------------------
def test_transpose_in_degree_lists_every_synapse_once():
    conn = transpose_in_degree(SOURCES, N_IN, per_synapse=True)
    targets, slots = np.asarray(conn["targets"]), np.asarray(conn["slots"])
    assert targets.shape[1] == np.bincount(SOURCES.reshape(-1), minlength=N_IN).max()
    found = sorted((i, int(t), int(s)) for i in range(N_IN) for t, s in zip(targets[i], slots[i]) if t < N_OUT)
    want = sorted((int(SOURCES.reshape(-1)[s]), s // K, s) for s in range(N_OUT * K))
    assert found == want


@pytest.mark.parametrize("n, capacity, want", [
    (3200, None, (41, 328)),  # n / 128 + 16, then 8 times larger while below n / 4
    (40, None, (17,)),
    (1000, 0, ()),  # 0: always every synapse
    (1000, 10, (10, 80)),
    (1000, 0.02, (20, 160)),
    (5, 100, (5,)),  # never more than the neurons
])
def test_default_capacities(n, capacity, want):
    assert default_capacities(n, capacity) == want
