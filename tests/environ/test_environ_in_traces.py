"""What a compiled function is keyed on when it reads settings: what it reads from outside,
present or not, and nothing it set itself in a context. Trace counts are the oracle."""

import pytest

import brainstate as bs
from brainstate import environ


@pytest.fixture(autouse=True)
def clean_dt():
    environ.set(dt=0.1)
    yield
    environ.set(dt=0.1)
    environ.pop("scale", None)


def test_a_context_inside_the_function_keys_it_on_nothing():
    runs = []

    @bs.transform.jit
    def step(x):
        runs.append(1)
        with environ.context(fit=True, i=3):
            y = x * 2 if environ.get("fit") else x
            y = y + environ.get("i")
        return y

    assert float(step(1.0)) == 5.0
    for k in range(4):
        environ.set(dt=0.1 * (k + 2))  # a setting the function never reads from outside
        assert float(step(1.0)) == 5.0
    assert len(runs) == 1  # one Python execution, no retrace


def test_a_setting_read_from_outside_still_retraces():
    runs = []

    @bs.transform.jit
    def step(x):
        runs.append(1)
        with environ.context(fit=True):
            return x * environ.get("dt")

    assert float(step(1.0)) == pytest.approx(0.1)
    environ.set(dt=0.5)
    assert float(step(1.0)) == pytest.approx(0.5)
    assert len(runs) == 2


def test_an_inner_compiled_function_is_keyed_on_the_outer_context():
    inner_runs = []

    @bs.transform.jit
    def inner(x):
        inner_runs.append(1)
        return x * 2 if environ.get("fit") else x

    @bs.transform.jit
    def outer(x):
        with environ.context(fit=True):
            a = inner(x)
        with environ.context(fit=False):
            b = inner(x)
        return a + b

    assert float(outer(1.0)) == 3.0
    assert float(outer(2.0)) == 6.0
    assert len(inner_runs) == 2  # once per fit value, inside the one trace of outer


def test_the_yielded_and_returned_settings_record_what_is_read():
    @bs.transform.jit
    def f(x):
        with environ.context(fit=True) as settings:
            return x * settings["dt"]

    assert float(f(1.0)) == pytest.approx(0.1)
    environ.set(dt=0.3)
    assert float(f(1.0)) == pytest.approx(0.3)


def test_all_get_of_a_key_unset_when_traced_is_not_stale():
    f = bs.transform.jit(lambda x: x * environ.all().get("scale", 1.0))
    assert float(f(1.0)) == 1.0
    environ.set(scale=3.0)
    assert float(f(1.0)) == 3.0  # the eager call gives 3.0 too


def test_iterating_all_keys_the_function_on_every_setting_it_saw():
    f = bs.transform.jit(lambda x: x * sum(v for v in environ.all().values() if isinstance(v, float)))
    first = float(f(1.0))
    environ.set(dt=0.5)
    assert float(f(1.0)) == pytest.approx(first + 0.4)


def test_settings_pickle_and_copy_as_plain_dicts():
    import copy
    import pickle

    with environ.context(fit=True) as s:
        for c in (copy.deepcopy(s), copy.copy(s), pickle.loads(pickle.dumps(s))):
            assert type(c) is dict and c["fit"] is True and c == dict(s)


def test_settings_behave_as_a_dict_outside_traces():
    with environ.context(fit=True, dt=0.2) as s:
        assert s["fit"] is True and s.get("missing", 7) == 7 and "dt" in s
        assert dict(s)["dt"] == 0.2 and s.copy()["dt"] == 0.2 and type(s.copy()) is dict
        with pytest.raises(KeyError, match="missing"):
            s["missing"]
