"""Connectivity layers (fixed-number sparse, event-driven dense) and `Projection`."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose, assert_array_equal

import brainstate as bs

N_PRE, N_POST = 6, 5
SPIKES = jnp.array([1.0, 0.0, 1.0, 0.0, 0.0, 1.0])


def _dense(conn):
    """The connectivity as a dense (n_pre, n_post) matrix, built in NumPy from its indices."""
    idx = np.asarray(conn.indices)
    w = conn.weight.value
    w = np.broadcast_to(np.asarray(getattr(w, "mantissa", w)), idx.shape)  # the numbers of a Quantity
    dense = np.zeros((conn.in_size[-1], conn.out_size[-1]))
    for r in range(idx.shape[0]):
        for k in range(idx.shape[1]):
            i, j = (r, idx[r, k]) if conn.efferent_target == "post" else (idx[r, k], r)
            dense[i, j] += w[r, k]
    return dense


@pytest.mark.parametrize("target", ["post", "pre"])
def test_fixed_num_conn_equals_its_dense_matrix(target):
    conn = bs.nn.FixedNumConn(N_PRE, N_POST, 3, bs.nn.init.Normal(), efferent_target=target, seed=2)
    x = bs.random.rand(4, N_PRE)
    assert_allclose(np.asarray(conn(x)), np.asarray(x) @ _dense(conn), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("target", ["post", "pre"])
def test_event_conn_counts_each_spike_once(target):
    conn = bs.nn.EventFixedNumConn(N_PRE, N_POST, 3, bs.nn.init.Normal(), efferent_target=target, seed=2)
    graded = SPIKES * jnp.array([0.5, 9.0, 2.0, 9.0, 9.0, 3.0])  # zeros stay silent, values are ignored
    out = jax.jit(conn)(graded)
    assert_allclose(np.asarray(out), np.asarray(SPIKES) @ _dense(conn), rtol=1e-5, atol=1e-6)


def test_event_conn_boolean_spikes_and_scalar_weight():
    conn = bs.nn.EventFixedProb(N_PRE, N_POST, 0.4, 0.5, seed=3)
    assert conn.conn_num == 2 and conn.weight.value.shape == ()
    out = conn(SPIKES > 0)
    assert_allclose(np.asarray(out), np.asarray(SPIKES) @ _dense(conn), rtol=1e-6)


def test_event_gradient_passes_straight_through():
    conn = bs.nn.EventFixedNumConn(N_PRE, N_POST, 3, 1.0, seed=4)
    g = jax.grad(lambda s: conn(s).sum())(SPIKES)
    assert_allclose(np.asarray(g), _dense(conn).sum(1), rtol=1e-6)


def test_weight_gradient():
    conn = bs.nn.EventFixedNumConn(N_PRE, N_POST, 3, bs.nn.init.Normal(), seed=4)
    grads = bs.transform.grad(lambda: conn(SPIKES).sum(), grad_states=conn.states(bs.ParamState))()
    want = np.broadcast_to(np.asarray(SPIKES)[:, None], (N_PRE, 3))
    assert_allclose(np.asarray(grads[("weight",)]), want)


def test_distinct_targets_without_multi_connections():
    conn = bs.nn.FixedNumConn(8, 8, 8, 1.0, allow_multi_conn=False, seed=5)
    rows = np.sort(np.asarray(conn.indices), axis=1)
    assert (rows == np.arange(8)).all()


def test_same_seed_same_connections():
    a = bs.nn.FixedNumConn(N_PRE, N_POST, 3, 1.0, seed=7)
    b = bs.nn.FixedNumConn(N_PRE, N_POST, 3, 1.0, seed=7)
    assert (np.asarray(a.indices) == np.asarray(b.indices)).all()


def test_afferent_ratio_silences_unselected_neurons():
    conn = bs.nn.FixedNumConn(50, 10, 2, 1.0, afferent_ratio=0.5, seed=8)
    mask = np.asarray(conn.pre_mask)
    assert 0 < mask.sum() < 50
    x = jnp.ones(50)
    assert_allclose(np.asarray(conn(x)), (np.asarray(x) * mask) @ _dense(conn), rtol=1e-6)


def test_zero_connections_give_zeros():
    conn = bs.nn.FixedNumConn(N_PRE, N_POST, 0, 1.0)
    assert_allclose(np.asarray(conn(SPIKES)), np.zeros(N_POST))


def test_event_linear_matches_a_dense_product():
    w = bs.random.normal(size=(N_PRE, N_POST))
    layer = bs.nn.EventLinear(N_PRE, N_POST, w)
    assert_allclose(np.asarray(layer(SPIKES * 3.0)), np.asarray(SPIKES) @ np.asarray(w), rtol=1e-5)
    values = bs.nn.EventLinear(N_PRE, N_POST, w, float_as_event=False)
    assert_allclose(np.asarray(values(SPIKES * 3.0)), 3.0 * np.asarray(SPIKES) @ np.asarray(w), rtol=1e-5)


def test_event_linear_scalar_weight():
    layer = bs.nn.EventLinear(N_PRE, N_POST, 0.25)
    assert_allclose(np.asarray(layer(jnp.stack([SPIKES, 2 * SPIKES]))), np.full((2, N_POST), 0.75))


def test_connectivity_with_units():
    u = pytest.importorskip("brainunit")
    conn = bs.nn.EventFixedProb(N_PRE, N_POST, 0.4, 0.5 * u.nS, seed=3)
    out = conn(SPIKES)
    assert out.unit == u.nS
    assert_allclose(np.asarray(out.mantissa), np.asarray(SPIKES) @ _dense(conn), rtol=1e-6)


# -- Projection -----------------------------------------------------------------------------------
def _post():
    post = bs.nn.LIF(N_POST, tau=10.0)
    post.init_state()
    return post


def test_projection_without_synapse_delivers_the_input_once():
    post = _post()
    comm = bs.nn.EventLinear(N_PRE, N_POST, 2.0)
    proj = bs.nn.Projection(comm, post)
    with bs.environ.context(dt=0.1):
        delivered = proj(SPIKES)
        post()
        V1 = np.asarray(post.V.value)
        post()
    assert_allclose(np.asarray(delivered), np.full(N_POST, 6.0))
    assert_allclose(V1, 6.0 * (1 - np.exp(-0.01)), rtol=1e-5)
    assert_allclose(np.asarray(post.V.value), V1 * np.exp(-0.01), rtol=1e-5)


def test_projection_with_synapse_and_reversal_under_jit_and_for_loop():
    post = _post()
    syn = bs.nn.Expon(N_POST, tau=5.0)
    syn.init_state()
    comm = bs.nn.EventFixedProb(N_PRE, N_POST, 0.4, 0.3, seed=1)
    proj = bs.nn.Projection(comm, post, syn, reversal=2.0)

    @bs.transform.jit
    def run(spikes):
        def step(s):
            g = proj(s)
            V_before = post.V.value
            post()
            return g, V_before, post.V.value

        return bs.transform.for_loop(step, spikes)

    spikes = jnp.zeros((10, N_PRE)).at[0].set(SPIKES)
    with bs.environ.context(dt=0.1):
        g, V_before, V_after = (np.asarray(a) for a in run(spikes))
    assert_allclose(g[0], np.asarray(SPIKES) @ _dense(comm), rtol=1e-6)
    assert_allclose(g[1:], g[:-1] * np.exp(-0.1 / 5.0), rtol=1e-5)
    I = g * (2.0 - V_before)  # conductance-based: g (E - V)
    assert_allclose(V_after, I + (V_before - I) * np.exp(-0.01), rtol=1e-5, atol=1e-7)


def test_two_projections_onto_one_population_add_up():
    post = _post()
    a = bs.nn.Projection(bs.nn.EventLinear(N_PRE, N_POST, 1.0), post)
    b = bs.nn.Projection(bs.nn.EventLinear(N_PRE, N_POST, 0.5), post)
    a(SPIKES)
    b(SPIKES)
    assert_allclose(np.asarray(post.sum_current_inputs(0.0)), np.full(N_POST, 4.5))


# -- errors ---------------------------------------------------------------------------------------
@pytest.mark.parametrize("kwargs, match", [
    ({"efferent_target": "both"}, "efferent_target must be 'pre' or 'post'"),
    ({"afferent_ratio": 1.5}, "afferent_ratio must be in \\[0, 1\\]"),
    ({"conn_num": 1.5}, "a float conn_num is a probability"),
    ({"conn_num": -1}, "conn_num must be a non-negative int"),
    ({"conn_num": 9, "allow_multi_conn": False}, "only 5 candidates exist"),
    ({"conn_weight": None}, "the weight is required"),
])
def test_fixed_num_conn_argument_checks(kwargs, match):
    args = {"in_size": N_PRE, "out_size": N_POST, "conn_num": 2, "conn_weight": 1.0, **kwargs}
    with pytest.raises(ValueError, match=match):
        bs.nn.FixedNumConn(**args)


def test_fixed_num_conn_wrong_input_size():
    with pytest.raises(ValueError, match="FixedNumConn expects inputs whose last dimension is 6"):
        bs.nn.FixedNumConn(N_PRE, N_POST, 2, 1.0)(jnp.ones(4))


def test_event_linear_wrong_input_size():
    with pytest.raises(ValueError, match="EventLinear expects inputs whose last dimension is 6"):
        bs.nn.EventLinear(N_PRE, N_POST, 1.0)(jnp.ones(3))


def test_projection_needs_a_callable_comm():
    with pytest.raises(TypeError, match="comm must be a callable module"):
        bs.nn.Projection(3, _post())


def test_projection_needs_dynamics_post():
    with pytest.raises(TypeError, match="post must be a Dynamics"):
        bs.nn.Projection(bs.nn.Linear(2, 2), bs.nn.Linear(2, 2))


def test_projection_needs_dynamics_syn():
    with pytest.raises(TypeError, match="syn must be a Dynamics"):
        bs.nn.Projection(bs.nn.Linear(2, 2), _post(), syn=bs.nn.Linear(2, 2))


def test_reversal_needs_a_synapse():
    with pytest.raises(ValueError, match="a reversal potential needs a synapse"):
        bs.nn.Projection(bs.nn.Linear(2, 2), _post(), reversal=0.0)


# -- event-driven delivery --------------------------------------------------------------------------
N_NET = 200  # neurons of the small recurrent network below


def _conn(kind, capacity):
    """A recurrent connectivity of `N_NET` neurons of the given kind and event capacity."""
    common = {"seed": 11, "event_capacity": capacity}
    if kind == "linear":
        weight = bs.random.RandomState(12).normal(size=(N_NET, N_NET)) * 0.4
        return bs.nn.EventLinear(N_NET, N_NET, weight, event_capacity=capacity)
    if kind == "sparse":
        rng = np.random.RandomState(12)
        matrix = rng.normal(0.3, 0.6, (N_NET, N_NET)) * (rng.rand(N_NET, N_NET) < 0.04)
        return bs.nn.EventSparseLinear(matrix, event_capacity=capacity)
    target, per_synapse = kind.split("-")
    weight = bs.nn.init.Normal(0.3, 0.6, seed=13) if per_synapse == "synapse" else 0.3
    if target == "values":
        return bs.nn.FixedNumConn(N_NET, N_NET, 8, weight, **common)
    return bs.nn.EventFixedProb(N_NET, N_NET, 8, weight, efferent_target=target, **common)


def _raster(kind, capacity):
    """Spikes `(steps, N_NET)` of a recurrent LIF network; every neuron spikes at the first step."""
    bs.random.seed(0)
    neurons = bs.nn.LIF(N_NET, tau=10.0, V_th=1.0, V_reset=0.0, tau_ref=0.5, V_initializer=1.5)
    neurons.init_state()
    syn = bs.nn.Expon(N_NET, tau=2.0)
    syn.init_state()
    proj = bs.nn.Projection(_conn(kind, capacity), neurons, syn)
    spikes = bs.ShortTermState(jnp.zeros(N_NET))
    rng = np.random.RandomState(14)
    drive = rng.uniform(0.0, 3.0, size=(150, N_NET))
    for step, count in ((40, 40), (70, 10), (100, 2), (120, 6)):  # kicks: above, into and below tier 1
        drive[step, rng.choice(N_NET, count, replace=False)] += 200.0

    def step(x):
        proj(spikes.value)
        spikes.value = neurons(x)
        return spikes.value

    with bs.environ.context(dt=0.1):
        return np.asarray(bs.transform.jit(lambda d: bs.transform.for_loop(step, d))(drive))


@pytest.mark.parametrize("kind", ["post-shared", "post-synapse", "pre-shared", "pre-synapse", "values-synapse",
                                  "linear", "sparse"])
def test_event_delivery_spikes_like_all_synapse_delivery(kind):
    event, every_synapse = _raster(kind, 2), _raster(kind, 0)  # tiers of 2 and 16 neurons, then all
    counts = every_synapse.sum(axis=1)
    assert counts[0] == N_NET  # a step where every neuron spikes (all-synapse fallback)
    assert ((counts >= 1) & (counts <= 2)).any() and ((counts > 2) & (counts <= 16)).any() and (counts > 16).sum() > 1
    assert_array_equal(event, every_synapse)


def test_connectivity_is_a_non_trainable_state():
    conn = bs.nn.EventFixedProb(N_PRE, N_POST, 3, 0.5, efferent_target="pre", seed=1)
    assert isinstance(conn.connectivity, bs.LongTermState) and not isinstance(conn.connectivity, bs.ParamState)
    assert list(conn.states(bs.ParamState).values()) == [conn.weight]
    assert conn.indices is conn.connectivity.value["indices"]
    assert conn.pre_mask is None


def _lowered_size(n):
    # A fixed in-degree keeps two index arrays; a fifth of n as capacity gives one tier at both sizes.
    conn = bs.nn.EventFixedProb(n, n, 20, bs.nn.init.Normal(), efferent_target="pre", seed=0, event_capacity=0.2)
    return len(bs.transform.jit(lambda x: conn(x)).lower(jnp.zeros(n)).as_text())


def test_connectivity_is_an_input_of_the_compiled_program_not_a_constant():
    # 2,000 x 20 indices (or weights) baked in as a constant would add ~100 kB to the program text.
    assert _lowered_size(2000) < _lowered_size(100) + 2000


def test_per_row_weights_are_stored_per_connection():
    w = jnp.arange(N_PRE, dtype=jnp.float32)[:, None]
    conn = bs.nn.EventFixedNumConn(N_PRE, N_POST, 3, w, seed=2)
    assert conn.weight.value.shape == (N_PRE, 3)
    assert_allclose(np.asarray(conn(SPIKES)), np.asarray(SPIKES) @ _dense(conn), rtol=1e-6)


@pytest.mark.parametrize("target", ["post", "pre"])
@pytest.mark.parametrize("weight", [0.7, "normal"])
def test_gradients_through_event_connectivity_equal_the_dense_matrix(target, weight):
    w = bs.nn.init.Normal(seed=3) if weight == "normal" else weight
    conn = bs.nn.EventFixedProb(N_PRE, N_POST, 3, w, efferent_target=target, seed=4, event_capacity=1)
    spikes = SPIKES * 0.5  # graded: the events are 0/1, the gradient passes straight through
    probe = jnp.arange(1.0, N_POST + 1)
    grads = bs.transform.grad(lambda s: jnp.sum(conn(s) * probe), grad_states=conn.states(bs.ParamState),
                              argnums=0)(spikes)
    weight_grad, spike_grad = grads
    assert_allclose(np.asarray(spike_grad), _dense(conn) @ np.asarray(probe), rtol=1e-5)
    idx = np.asarray(conn.indices)
    per_connection = (np.asarray(SPIKES)[:, None] * np.asarray(probe)[idx] if target == "post"
                      else np.asarray(SPIKES)[idx] * np.arange(1.0, N_POST + 1)[:, None])
    want = per_connection.sum() if weight == 0.7 else per_connection
    assert_allclose(np.asarray(weight_grad[("weight",)]), want, rtol=1e-5)


def test_batched_spikes_deliver_each_row():
    conn = bs.nn.EventFixedProb(N_PRE, N_POST, 3, bs.nn.init.Normal(), seed=5, event_capacity=1)
    batch = jnp.stack([SPIKES, SPIKES[::-1], jnp.zeros(N_PRE)])
    out = conn(batch)
    assert_allclose(np.asarray(out), np.asarray(batch) @ _dense(conn), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("capacity", [-1, 1.5, 0.0, True, "all"])
def test_event_capacity_is_checked(capacity):
    with pytest.raises(ValueError, match="event_capacity must be None"):
        bs.nn.EventFixedProb(N_PRE, N_POST, 2, 1.0, event_capacity=capacity)
    with pytest.raises(ValueError, match="event_capacity must be None"):
        bs.nn.EventLinear(N_PRE, N_POST, 1.0, event_capacity=capacity)


@pytest.mark.parametrize("weight", [None, 0.5])
def test_event_sparse_linear_equals_its_matrix(weight):
    from jax.experimental import sparse

    matrix = np.array([[0.0, 2.0, 0.0], [1.5, 0.0, -1.0], [0.0, 0.0, 0.0], [0.0, 4.0, 3.0]])
    pattern = matrix if weight is None else (matrix != 0) * weight
    for given in (matrix, sparse.BCOO.fromdense(jnp.asarray(matrix))):
        layer = bs.nn.EventSparseLinear(given, weight=weight, event_capacity=1)
        x = jnp.array([[1.0, 0.0, 3.0, 2.0], [0.0, 0.0, 0.0, 0.0]])  # events: any non-zero counts once
        assert_allclose(np.asarray(layer(x)), (np.asarray(x) != 0) @ pattern, rtol=1e-6)
    assert layer.weight.value.shape == (() if weight is not None else (5,))


def test_event_sparse_linear_values_multiply_without_events():
    matrix = np.array([[0.0, 2.0], [1.5, 0.0]])
    layer = bs.nn.EventSparseLinear(matrix, float_as_event=False)
    assert_allclose(np.asarray(layer(jnp.array([3.0, 0.5]))), np.array([0.75, 6.0]), rtol=1e-6)


def test_event_sparse_linear_needs_a_matrix():
    with pytest.raises(ValueError, match="spar_mat must be a 2-d"):
        bs.nn.EventSparseLinear(np.ones(3))


def test_event_sparse_linear_wrong_input_size():
    with pytest.raises(ValueError, match="EventSparseLinear expects inputs whose last dimension is 2"):
        bs.nn.EventSparseLinear(np.eye(2))(jnp.ones(3))
