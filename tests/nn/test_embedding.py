"""Embedding: lookup, gradients through the table, options, out-of-range ids and errors."""

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs

IDS = np.array([[1, 4], [4, 0]])


def table_of(emb):
    return np.asarray(emb.weight.value)


def table_grad(emb, ids, fn=lambda y: y.sum()):
    grads = bs.transform.grad(lambda: fn(emb(ids)), grad_states=emb.states(bs.ParamState))()
    return np.asarray(grads[("weight",)])


def test_lookup_returns_the_rows():
    emb = bs.nn.Embedding(6, 3)
    assert emb.weight.value.shape == (6, 3) and emb.out_size == (3,)
    assert_allclose(emb(IDS), table_of(emb)[IDS])


def test_multi_dimensional_rows():
    emb = bs.nn.Embedding(5, (2, 3))
    out = emb(jnp.array([0, 3, 3]))
    assert out.shape == (3, 2, 3)
    assert_allclose(out, table_of(emb)[[0, 3, 3]])


def test_initial_table_from_an_array():
    table = np.arange(12.0).reshape(4, 3)
    assert_allclose(bs.nn.Embedding(4, 3, embedding_init=table).weight.value, table)


def test_gradient_counts_each_lookup():
    emb = bs.nn.Embedding(6, 3)
    expected = np.zeros((6, 3))
    np.add.at(expected, IDS.ravel(), 1.0)
    assert_allclose(table_grad(emb, IDS), expected)


def test_gradient_of_a_weighted_loss_matches_numpy():
    emb = bs.nn.Embedding(6, 3)
    coef = np.arange(12.0, dtype=np.float32).reshape(2, 2, 3)
    expected = np.zeros((6, 3), np.float32)
    np.add.at(expected, IDS, coef)
    assert_allclose(table_grad(emb, IDS, lambda y: (y * coef).sum()), expected, rtol=1e-6)


def test_padding_idx_row_is_zero_and_gets_no_gradient():
    emb = bs.nn.Embedding(6, 3, padding_idx=4)
    assert_allclose(table_of(emb)[4], np.zeros(3))
    expected = np.zeros((6, 3))
    expected[[0, 1]] = 1.0
    assert_allclose(table_grad(emb, IDS), expected)


def test_max_norm_bounds_returned_rows_with_a_plain_gradient():
    table = np.array([[3.0, 4.0], [0.3, 0.4], [1.0, 0.0]], np.float32)
    emb = bs.nn.Embedding(3, 2, embedding_init=table, max_norm=1.0)
    out = np.asarray(emb(jnp.array([0, 1, 2])))
    assert_allclose(out, [[0.6, 0.8], [0.3, 0.4], [1.0, 0.0]], rtol=1e-5)
    assert_allclose(table_of(emb), table)  # the table itself is unchanged
    assert_allclose(table_grad(emb, jnp.array([0, 1])), [[1, 1], [1, 1], [0, 0]])


def test_max_norm_with_norm_type_one():
    emb = bs.nn.Embedding(1, 2, embedding_init=np.array([[3.0, 1.0]], np.float32), max_norm=2.0, norm_type=1.0)
    assert_allclose(emb(jnp.array([0])), [[1.5, 0.5]], rtol=1e-5)


def test_scale_grad_by_freq_divides_by_the_count():
    emb = bs.nn.Embedding(6, 3, scale_grad_by_freq=True)
    expected = np.zeros((6, 3))
    expected[[0, 1, 4]] = 1.0  # id 4 occurs twice: 2 / 2
    assert_allclose(table_grad(emb, IDS), expected, rtol=1e-6)
    assert_allclose(emb(IDS), table_of(emb)[IDS], rtol=1e-6)


def test_freeze_stops_the_gradient():
    emb = bs.nn.Embedding(6, 3, freeze=True)
    assert_allclose(table_grad(emb, IDS), np.zeros((6, 3)))


def test_negative_ids_count_from_the_end_and_ids_past_it_are_clamped_inside_jit():
    emb = bs.nn.Embedding(4, 2)
    out = bs.transform.jit(emb)(jnp.array([-3, 7, 2, -1]))
    assert_allclose(out, table_of(emb)[[1, 3, 2, 3]])
    assert_allclose(emb(jnp.array([-3, -1])), table_of(emb)[[1, 3]])  # eager agrees


def test_out_of_range_ids_raise_when_eager():
    emb = bs.nn.Embedding(4, 2, name="tokens")
    with pytest.raises(IndexError, match=r"Embedding\('tokens'\) has 4 rows, so ids must be in \[-4, 4\), got \[7, -5\]"):
        emb(jnp.array([1, 7, -1, -5]))


def test_reference_attributes_are_read_from_the_layer():
    assert bs.nn.Embedding(5, 3).embedding_size == (3,)
    assert bs.nn.Conv2d((8, 8, 3), 4, 3).channels_last
    assert not bs.nn.Conv2d((3, 8, 8), 4, 3, channel_first=True).channels_last
    assert bs.nn.LayerNorm(4).use_bias and not bs.nn.LayerNorm(4, use_bias=False).use_bias
    assert bs.nn.GroupNorm(4, num_groups=2).use_scale and not bs.nn.LayerNorm(4, use_scale=False).use_scale
    assert bs.nn.RMSNorm(4).use_scale and not bs.nn.RMSNorm(4, use_scale=False).use_scale


def test_module_mapper_is_a_deprecated_name_of_map():
    with pytest.warns(DeprecationWarning, match="brainstate.nn.ModuleMapper is deprecated; use brainstate.nn.Map"):
        assert bs.nn.ModuleMapper is bs.nn.Map
    with pytest.raises(AttributeError, match="module 'brainstate.nn' has no attribute 'NoSuchLayer'"):
        bs.nn.NoSuchLayer


def test_float_ids_are_rejected():
    with pytest.raises(TypeError, match="Embedding expects integer ids, got dtype float32"):
        bs.nn.Embedding(4, 2)(jnp.array([1.0]))


@pytest.mark.parametrize("kw, match", [
    (dict(num_embeddings=0), "Embedding: num_embeddings must be a positive int, got 0"),
    (dict(padding_idx=5), r"Embedding: padding_idx must be an int in \[0, 5\), got 5"),
    (dict(max_norm=0.0), "Embedding: max_norm must be positive or None, got 0.0"),
    (dict(embedding_init=np.ones((4, 3))), r"Embedding: embedding_init cannot give a table of shape \(5, 3\)"),
])
def test_constructor_errors(kw, match):
    args = dict(num_embeddings=5, embedding_size=3)
    args.update(kw)
    with pytest.raises(ValueError, match=match):
        bs.nn.Embedding(**args)


def test_bad_embedding_size_is_a_type_error():
    with pytest.raises(TypeError, match="Embedding: out_size must be an int"):
        bs.nn.Embedding(5, "three")


def test_vmap_over_id_batches():
    emb = bs.nn.Embedding(6, 3)
    out = bs.transform.vmap(emb)(jnp.asarray(IDS))
    assert_allclose(out, table_of(emb)[IDS])
    assert jax.tree.leaves(out)[0].shape == (2, 2, 3)


# -- from_pretrained ---------------------------------------------------------------------------
def test_from_pretrained_uses_the_table_exactly_and_freezes():
    table = jnp.arange(6.0).reshape(3, 2)
    emb = bs.nn.Embedding.from_pretrained(table)
    assert (emb.num_embeddings, emb.out_size, emb.freeze) == (3, (2,), True)
    assert_allclose(emb(jnp.array([2, 0])), [[4.0, 5.0], [0.0, 1.0]])
    grad = bs.transform.grad(lambda: emb(jnp.array([1])).sum(), grad_states=emb.weight)()
    assert_allclose(grad, np.zeros((3, 2)))  # frozen: no gradient reaches the table


def test_from_pretrained_unfrozen_trains_and_keeps_the_padding_row():
    table = jnp.ones((3, 2))
    emb = bs.nn.Embedding.from_pretrained(table, padding_idx=1, freeze=False, param_type=bs.ParamState)
    assert_allclose(emb.weight.value, np.ones((3, 2)))  # the padding row is not zeroed
    grad = bs.transform.grad(lambda: emb(jnp.array([0, 1])).sum(), grad_states=emb.weight)()
    assert_allclose(grad, [[1.0, 1.0], [0.0, 0.0], [0.0, 0.0]])


def test_from_pretrained_multi_axis_rows():
    emb = bs.nn.Embedding.from_pretrained(np.zeros((4, 2, 3), np.float32), name="emb")
    assert emb.out_size == (2, 3) and emb(jnp.array([1])).shape == (1, 2, 3)


@pytest.mark.parametrize("table", [np.zeros(3), np.float32(1.0)])
def test_from_pretrained_needs_two_dimensions(table):
    with pytest.raises(ValueError, match=r"from_pretrained: embeddings must have at least two dimensions"):
        bs.nn.Embedding.from_pretrained(table)
