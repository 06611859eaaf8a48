"""Metrics against NumPy computations, under jit, and their errors."""

import jax.numpy as jnp
import numpy as np
import pytest
from numpy.testing import assert_allclose

import brainstate as bs
from brainstate import nn

RNG = np.random.default_rng(0)
BATCHES = [RNG.normal(size=n).astype(np.float32) for n in (5, 1, 8)]
N_CLASSES = 4
LABELS = [RNG.integers(0, N_CLASSES, size=n) for n in (10, 7)]
PREDS = [np.where(RNG.random(len(l)) < 0.6, l, RNG.integers(0, N_CLASSES, size=len(l))) for l in LABELS]


def test_metric_states_are_long_term_and_metrics_are_not_layers():
    m = nn.AverageMetric()
    assert issubclass(nn.MetricState, bs.LongTermState)
    assert not isinstance(m, nn.Module)
    assert set(bs.graph.states(m)) == {("count",), ("total",)}
    assert all(isinstance(s, nn.MetricState) for s in bs.graph.states(m).values())


@pytest.mark.parametrize("method,kw", [("reset", {}), ("update", {"values": 1.0}), ("compute", {})])
def test_base_metric_methods_must_be_overridden(method, kw):
    with pytest.raises(NotImplementedError, match=f"Metric must implement `{method}"):
        getattr(nn.Metric(), method)(**kw)


def test_average_metric_matches_numpy():
    m = nn.AverageMetric()
    for b in BATCHES:
        m.update(values=jnp.asarray(b))
    m.update(values=2.5)
    everything = np.concatenate(BATCHES + [np.array([2.5])])
    assert_allclose(m.compute(), everything.mean(), rtol=1e-5)
    assert int(m.count.value) == everything.size


def test_average_metric_custom_argname_and_reset():
    m = nn.AverageMetric("loss")
    m.update(loss=4.0, other=1.0)
    m.reset()
    m.update(loss=jnp.array([1.0, 3.0]))
    assert_allclose(m.compute(), 2.0)


def test_average_metric_missing_argument_raises():
    with pytest.raises(TypeError, match=r"AverageMetric.update expects the keyword argument 'loss'.*\['values'\]"):
        nn.AverageMetric("loss").update(values=1.0)


def test_accuracy_metric_matches_numpy():
    m = nn.AccuracyMetric()
    correct = []
    for labels in LABELS:
        logits = RNG.normal(size=(len(labels), N_CLASSES)).astype(np.float32)
        m.update(logits=jnp.asarray(logits), labels=jnp.asarray(labels))
        correct.append(logits.argmax(-1) == labels)
    assert_allclose(m.compute(), np.concatenate(correct).mean(), rtol=1e-6)


def test_accuracy_metric_dimension_mismatch_raises():
    with pytest.raises(ValueError, match=r"one more dimension .* logits of shape \(3,\) and labels of shape \(3,\)"):
        nn.AccuracyMetric().update(logits=jnp.ones(3), labels=jnp.ones(3, int))


def test_accuracy_metric_float_labels_raise():
    with pytest.raises(ValueError, match="integer class labels, got dtype float32"):
        nn.AccuracyMetric().update(logits=jnp.ones((3, 2)), labels=jnp.ones(3))


def test_welford_metric_matches_numpy():
    m = nn.WelfordMetric()
    for b in BATCHES:
        m.update(values=jnp.asarray(b))
    allv = np.concatenate(BATCHES).astype(np.float64)
    stats = m.compute()
    assert_allclose(stats.mean, allv.mean(), rtol=1e-5, atol=1e-6)
    assert_allclose(stats.standard_deviation, allv.std(), rtol=1e-5)
    assert_allclose(stats.standard_error_of_mean, allv.std() / np.sqrt(allv.size), rtol=1e-5)
    m.reset()
    m.update(values=3.0)
    assert_allclose(m.compute().mean, 3.0)


def np_counts(preds, labels, n):
    tp = np.array([np.sum((preds == c) & (labels == c)) for c in range(n)])
    fp = np.array([np.sum((preds == c) & (labels != c)) for c in range(n)])
    fn = np.array([np.sum((preds != c) & (labels == c)) for c in range(n)])
    return tp, fp, fn


def safe(a, b):
    return np.where(b > 0, a / np.where(b > 0, b, 1), 0.0)


def np_scores(preds, labels, n, average):
    tp, fp, fn = np_counts(preds, labels, n)
    support = tp + fn
    p, r = safe(tp, tp + fp), safe(tp, tp + fn)
    f1 = safe(2 * p * r, p + r)
    if average == "micro":
        mp, mr = safe(tp.sum(), tp.sum() + fp.sum()), safe(tp.sum(), tp.sum() + fn.sum())
        return mp, mr, safe(2 * mp * mr, mp + mr)
    if average == "macro":
        return p.mean(), r.mean(), f1.mean()
    w = support / support.sum()
    return (p * w).sum(), (r * w).sum(), (f1 * w).sum()


@pytest.mark.parametrize("average", ["macro", "micro", "weighted"])
def test_precision_recall_f1_match_numpy(average):
    metrics = [cls(N_CLASSES, average) for cls in (nn.PrecisionMetric, nn.RecallMetric, nn.F1ScoreMetric)]
    for preds, labels in zip(PREDS, LABELS):
        for m in metrics:
            m.update(predictions=jnp.asarray(preds), labels=jnp.asarray(labels))
    expected = np_scores(np.concatenate(PREDS), np.concatenate(LABELS), N_CLASSES, average)
    for m, e in zip(metrics, expected):
        assert_allclose(m.compute(), e, rtol=1e-5)


def test_binary_precision_recall_f1_match_numpy():
    preds, labels = np.array([1, 1, 0, 1, 0, 0]), np.array([1, 0, 0, 1, 1, 0])
    tp, fp, fn = 2, 1, 1
    p, r = tp / (tp + fp), tp / (tp + fn)
    for cls, e in ((nn.PrecisionMetric, p), (nn.RecallMetric, r), (nn.F1ScoreMetric, 2 * p * r / (p + r))):
        m = cls()
        m.update(predictions=preds, labels=labels)
        assert_allclose(m.compute(), e, rtol=1e-6)


def test_class_never_predicted_scores_zero_not_nan():
    m = nn.PrecisionMetric(3, "macro")
    m.update(predictions=jnp.array([0, 0]), labels=jnp.array([0, 1]))
    assert_allclose(m.compute(), (0.5 + 0 + 0) / 3, rtol=1e-6)
    f = nn.F1ScoreMetric()
    f.update(predictions=jnp.zeros(3, int), labels=jnp.zeros(3, int))
    assert_allclose(f.compute(), 0.0)


def test_precision_reset():
    m = nn.PrecisionMetric(2)
    m.update(predictions=jnp.array([0, 1]), labels=jnp.array([1, 1]))
    m.reset()
    assert_allclose(m.true_positives.value, [0, 0])
    assert_allclose(m.false_positives.value, [0, 0])


def test_bad_average_raises():
    with pytest.raises(ValueError, match="RecallMetric: average must be 'micro', 'macro' or 'weighted', got 'mean'"):
        nn.RecallMetric(3, average="mean")


def test_bad_num_classes_raises():
    with pytest.raises(ValueError, match=r"F1ScoreMetric: num_classes must be a positive integer or None \(binary\)"):
        nn.F1ScoreMetric(0)
    with pytest.raises(ValueError, match="ConfusionMatrix: num_classes must be a positive integer, got None"):
        nn.ConfusionMatrix(None)


def test_class_count_shape_mismatch_raises():
    with pytest.raises(ValueError, match="PrecisionMetric.update expects predictions and labels with the same number"):
        nn.PrecisionMetric(2).update(predictions=jnp.zeros(3, int), labels=jnp.zeros(2, int))


def test_confusion_matrix_matches_numpy():
    m = nn.ConfusionMatrix(N_CLASSES)
    expected = np.zeros((N_CLASSES, N_CLASSES), int)
    for preds, labels in zip(PREDS, LABELS):
        m.update(predictions=jnp.asarray(preds), labels=jnp.asarray(labels))
        np.add.at(expected, (labels, preds), 1)
    assert_allclose(m.compute(), expected)
    m.reset()
    assert_allclose(m.compute(), np.zeros_like(expected))


@pytest.mark.parametrize("arg", ["predictions", "labels"])
def test_confusion_matrix_out_of_range_raises(arg):
    kw = {"predictions": jnp.array([0, 1]), "labels": jnp.array([1, 0])}
    kw[arg] = jnp.array([0, 3])
    with pytest.raises(ValueError, match=rf"ConfusionMatrix.update: {arg} must be class indices in \[0, 3\), got values from 0 to 3"):
        nn.ConfusionMatrix(3).update(**kw)


def test_confusion_matrix_shape_mismatch_raises():
    with pytest.raises(ValueError, match="ConfusionMatrix.update expects predictions and labels with the same number"):
        nn.ConfusionMatrix(2).update(predictions=jnp.zeros(3, int), labels=jnp.zeros(2, int))


def test_multi_metric_updates_and_computes_all():
    m = nn.MultiMetric(loss=nn.AverageMetric("loss"), accuracy=nn.AccuracyMetric())
    logits, labels = jnp.array([[0.0, 1.0], [2.0, 0.0]]), jnp.array([1, 1])
    m.update(loss=jnp.array([1.0, 2.0]), logits=logits, labels=labels)
    out = m.compute()
    assert set(out) == {"loss", "accuracy"} and m.metric_names == ("loss", "accuracy")
    assert_allclose(out["loss"], 1.5)
    assert_allclose(out["accuracy"], 0.5)
    m.reset()
    assert int(m.loss.count.value) == 0 and int(m.accuracy.count.value) == 0


def test_multi_metric_reserved_name_raises():
    with pytest.raises(ValueError, match="MultiMetric: the name 'update' is reserved"):
        nn.MultiMetric(update=nn.AverageMetric())


def test_multi_metric_non_metric_raises():
    with pytest.raises(TypeError, match="MultiMetric: 'loss' must be a Metric instance, got float"):
        nn.MultiMetric(loss=1.0)


def test_metrics_update_under_jit_like_eager():
    eager = nn.MultiMetric(avg=nn.AverageMetric(), cm=nn.ConfusionMatrix(N_CLASSES), f1=nn.F1ScoreMetric(N_CLASSES))
    jitted = nn.MultiMetric(avg=nn.AverageMetric(), cm=nn.ConfusionMatrix(N_CLASSES), f1=nn.F1ScoreMetric(N_CLASSES))
    step = bs.transform.jit(lambda p, l, v: jitted.update(predictions=p, labels=l, values=v))
    for preds, labels in zip(PREDS, LABELS):
        values = jnp.asarray(preds, jnp.float32)
        eager.update(predictions=jnp.asarray(preds), labels=jnp.asarray(labels), values=values)
        step(jnp.asarray(preds), jnp.asarray(labels), values)
    for key, value in eager.compute().items():
        assert_allclose(jitted.compute()[key], value, rtol=1e-6)
