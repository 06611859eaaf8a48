"""jit's per-call path (`_commit.fast_runner`): read, call, store — and nothing stored when another
store overlapped it, everything put back when a store is interrupted (also for `_commit.store`).

The protocol is tested with a plain Python `program` that performs the overlapping store itself,
so every interleaving is exact; the threaded tests then check the property end to end (no lost
update, no torn read) with a tiny thread switch interval to provoke interleavings. None depends
on timing for its verdict.
"""

import sys
import threading

import jax
import jax.numpy as jnp
import pytest

import brainstate as bs
from brainstate._state import _commit
from brainstate._state._commit import AGAIN, fast_runner

HANG = 120  # seconds: only a guard against a hang, never a speed requirement
SIZES = [1, 3, _commit._UNROLL + 4]  # one state, a few (unrolled), many (the loop)


def _states(n):
    return [bs.State(jnp.array(float(i))) for i in range(n)]


def _adding(states, amount=1.0, also=None):
    """A program writing every state + `amount`; `also()` runs in the middle, like another thread."""

    def program(*flat, **kwargs):  # the states' values, then the call's arguments
        values, args = flat[:len(states)], flat[len(states):]
        if also is not None:
            also()
        return (*[v + amount for v in values], ("out", args, kwargs))

    return program


@pytest.mark.parametrize("n", SIZES)
def test_runner_stores_every_written_state_and_returns_the_output(n):
    states = _states(n)
    run = fast_runner(states, states, _adding(states))
    assert run(1, k=2) == ("out", (1,), {"k": 2})
    assert [float(s.value) for s in states] == [i + 1.0 for i in range(n)]
    assert run() == ("out", (), {})
    assert [float(s.value) for s in states] == [i + 2.0 for i in range(n)]


@pytest.mark.parametrize("n", SIZES)
def test_runner_writes_only_its_write_states(n):
    states = _states(n + 1)
    written = states[1:]  # states[0] is only read

    def program(*values):
        return (*[v * 10 for v in values[1:]], float(values[0]))

    run = fast_runner(states, written, program)
    assert run() == 0.0
    assert [float(s.value) for s in states] == [0.0] + [10.0 * i for i in range(1, n + 1)]


@pytest.mark.parametrize("n", SIZES)
def test_a_store_to_one_of_its_states_meanwhile_stores_nothing(n):
    states = _states(n)

    def other_thread_stores():
        states[-1].value = jnp.array(100.0)

    run = fast_runner(states, states, _adding(states, also=other_thread_stores))
    assert run() is AGAIN
    # Nothing of the run was stored; the other store is kept (the caller runs again on it).
    assert [float(s.value) for s in states] == [float(i) for i in range(n - 1)] + [100.0]


@pytest.mark.parametrize("n", SIZES)
def test_a_store_to_a_read_only_state_meanwhile_stores_nothing(n):
    states = _states(n + 1)
    reader = states[0]

    def program(*values):
        reader.value = jnp.array(-1.0)  # the value this run read is now stale
        return (*[v + 1 for v in values[1:]], None)

    run = fast_runner(states, states[1:], program)
    assert run() is AGAIN
    assert [float(s.value) for s in states] == [-1.0] + [float(i) for i in range(1, n + 1)]


@pytest.mark.parametrize("n", SIZES)
def test_a_read_only_run_overlapping_a_store_of_its_states_reports_it(n):
    states = _states(n)

    def program(*values):
        states[0].value = jnp.array(7.0)
        return (sum(float(v) for v in values),)

    run = fast_runner(states, [], program)
    assert run() is AGAIN  # its read may mix values from before and after that store
    assert float(states[0].value) == 7.0


@pytest.mark.parametrize("n", SIZES)
def test_a_store_to_an_unrelated_state_meanwhile_does_not_matter(n):
    states, unrelated = _states(n), bs.State(jnp.array(0.0))

    def elsewhere():
        unrelated.value = jnp.array(5.0)

    run = fast_runner(states, states, _adding(states, also=elsewhere))
    assert run() == ("out", (), {})
    assert [float(s.value) for s in states] == [i + 1.0 for i in range(n)]
    read_only = fast_runner(states, [], lambda *values: ((elsewhere(), "read")[1],))
    assert read_only() == "read"


@pytest.mark.parametrize("n", SIZES)
def test_a_run_that_started_during_a_store_stores_nothing(n):
    """Another thread is half-way through a store of these states when the run reads them."""
    states = _states(n)
    with _commit.commit_lock:  # what `store` does, stopped after stamping and writing one state
        _commit.seq += 1
        states[0]._version = _commit.seq
        states[0]._value = jnp.array(50.0)

    def the_store_finishes():
        with _commit.commit_lock:
            _commit.seq += 1

    run = fast_runner(states, states, _adding(states, also=the_store_finishes))
    assert _commit.seq & 1  # a store is under way while the run reads
    assert run() is AGAIN
    assert [float(s.value) for s in states] == [50.0] + [float(i) for i in range(1, n)]


class _Exploding(bs.State):
    armed = False

    def __setattr__(self, name, value):
        if name == "_value" and self.armed:
            raise KeyboardInterrupt("interrupted while storing")
        object.__setattr__(self, name, value)


@pytest.mark.parametrize("n", SIZES)
def test_an_interrupted_store_puts_every_state_back(n):
    states = _states(n - 1) + [_Exploding(jnp.array(-1.0))]
    run = fast_runner(states, states, _adding(states))
    states[-1].armed = True
    with pytest.raises(KeyboardInterrupt, match="interrupted while storing"):
        run()
    states[-1].armed = False
    assert [float(s.value) for s in states] == [float(i) for i in range(n - 1)] + [-1.0]
    assert not _commit.seq & 1  # no store left "under way"
    assert run() == ("out", (), {})  # and the next run stores normally
    assert [float(s.value) for s in states] == [i + 1.0 for i in range(n - 1)] + [0.0]


def test_an_interrupted_general_store_puts_every_state_back():
    states = _states(2) + [_Exploding(jnp.array(0.0))] + _states(2)
    states[2].armed = True
    with pytest.raises(KeyboardInterrupt, match="interrupted while storing"):
        _commit.store(states, [jnp.array(4.0)] * 5, [False] * 5)
    states[2].armed = False
    assert [float(s.value) for s in states] == [0.0, 1.0, 0.0, 0.0, 1.0]
    assert not _commit.seq & 1


@pytest.fixture
def frequent_switches():
    before = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)  # switch threads as often as possible: more interleavings
    yield
    sys.setswitchinterval(before)


def _in_threads(n, target):
    start, errors = threading.Barrier(n), []

    def body(k):
        try:
            start.wait(HANG)
            target(k)
        except BaseException as e:  # surfaced below with its thread
            errors.append((k, e))

    threads = [threading.Thread(target=body, args=(k,)) for k in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(HANG)
    assert not errors, errors


@pytest.mark.usefixtures("frequent_switches")
def test_threads_stepping_one_counter_lose_no_update():
    count, other = bs.State(jnp.array(0)), bs.State(jnp.array(0))

    @bs.transform.jit
    def inc():
        count.value = count.value + 1

    inc()

    def steps(k):
        for _ in range(200):
            inc()
            other.value = jnp.array(k)  # unrelated stores from every thread

    _in_threads(4, steps)
    assert int(count.value) == 1 + 4 * 200


@pytest.mark.usefixtures("frequent_switches")
def test_a_compiled_read_never_sees_half_of_a_compiled_store():
    pair = [bs.State(jnp.array(0)) for _ in range(2)]

    @bs.transform.jit
    def step():
        for s in pair:
            s.value = s.value + 1

    difference = bs.transform.jit(lambda: pair[0].value - pair[1].value)
    step(), difference()
    seen = []

    def work(k):
        for _ in range(300):
            if k % 2:
                step()
            else:
                seen.append(int(difference()))

    _in_threads(4, work)
    assert set(seen) == {0}
    assert int(pair[0].value) == int(pair[1].value) == 1 + 2 * 300


# -- the guards in front of the runner --------------------------------------------------------
def _warm_counter():
    count = bs.State(jnp.array(0))

    @bs.transform.jit
    def add(x):
        count.value = count.value + x
        return count.value

    add(1), add(1)  # the second call takes the runner
    return count, add


@pytest.mark.parametrize("raw, x", [(jax.jit, jnp.array(1)), (jax.vmap, jnp.ones(2, int))], ids=["jit", "vmap"])
def test_a_warm_compiled_call_inside_a_raw_transform_never_stores_a_tracer(raw, x):
    count, add = _warm_counter()
    with pytest.raises(bs.TraceContextError, match="raw JAX transform"):
        raw(add)(x)
    assert int(count.value) == 2 and int(add(1)) == 3


def test_a_warm_compiled_call_under_compile_time_eval_runs_as_usual():
    count, add = _warm_counter()
    with jax.ensure_compile_time_eval():  # another EvalTrace than the usual one
        assert int(add(1)) == 3
    assert int(add(1)) == 4 and int(count.value) == 4


# -- the runner's frame: guard, fallback, failures, owner ------------------------------------
@pytest.mark.parametrize("n", SIZES)
def test_a_guard_that_fails_hands_the_call_to_the_fallback_untouched(n):
    states, gate = _states(n), {"open": True}
    calls = []

    def fallback(args, kwargs):
        calls.append((args, kwargs))
        return "fallback"

    run = fast_runner(states, states, _adding(states), fallback=fallback, names={"gate": gate},
                      guard=["if not gate['open']:", "    return FALLBACK"])
    assert run(1, k=2) == ("out", (1,), {"k": 2}) and not calls
    gate["open"] = False
    assert run(3, k=4) == "fallback" and calls == [((3,), {"k": 4})]
    assert [float(s.value) for s in states] == [i + 1.0 for i in range(n)]  # the refused call stored nothing


@pytest.mark.parametrize("n", SIZES)
def test_with_a_fallback_a_contended_commit_calls_it_after_giving_the_lock_back(n):
    states = _states(n)

    def other_thread_stores():
        states[0].value = jnp.array(100.0)

    def fallback(args, kwargs):
        try:
            _commit.commit_lock.take()  # without waiting: IndexError if the runner still held it
        except IndexError:
            return "the lock was still held", args
        _commit.commit_lock.release()
        return "again", args

    run = fast_runner(states, states, _adding(states, also=other_thread_stores), fallback=fallback)
    assert run(7) == ("again", (7,))
    assert [float(s.value) for s in states] == [100.0] + [float(i) for i in range(1, n)]


def test_failures_of_the_program_go_to_failed_and_others_propagate():
    states = _states(2)

    class Retry(Exception):
        pass

    def program(value0, value1, kind):
        raise {"retry": Retry("again"), "other": KeyError("boom")}[kind]

    run = fast_runner(states, states, program, failures=(Retry,),
                      failed=lambda err, args, kwargs: ("failed", type(err).__name__, args))
    assert run("retry") == ("failed", "Retry", ("retry",))
    with pytest.raises(KeyError, match="boom"):
        run("other")
    assert [float(s.value) for s in states] == [0.0, 1.0]
    with _commit.commit_lock:  # and the lock was never left taken
        pass


def test_an_owner_runner_ignores_its_first_argument():
    states = _states(1)
    run = fast_runner(states, states, _adding(states), owner=True)
    assert run("the instance", 5, k=6) == ("out", (5,), {"k": 6})
    assert float(states[0].value) == 1.0


@pytest.mark.parametrize("n", SIZES)
def test_a_runner_with_parameters_passes_them_by_position(n):
    states = _states(n)
    run = fast_runner(states, states, _adding(states), params=(("a",), ("b", "c")), fallback=lambda a, k: ("fb", a, k),
                      guard=["if gate:", "    return FALLBACK"], names={"gate": False})
    assert run(1, 2, 3) == ("out", (1, 2, 3), {})
    assert run(1, c=3, b=2) == ("out", (1, 2, 3), {})  # bound by Python, passed by position
    assert [float(s.value) for s in states] == [i + 2.0 for i in range(n)]
    with pytest.raises(TypeError, match="positional-only arguments passed as keyword"):
        run(a=1, b=2, c=3)
    with pytest.raises(TypeError, match="missing 1 required positional argument: 'c'"):
        run(1, 2)
    gated = fast_runner(states, states, _adding(states), params=((), ("b",)), fallback=lambda a, k: ("fb", a, k),
                        guard=["if gate:", "    return FALLBACK"], names={"gate": True})
    assert gated(b=5) == ("fb", (5,), {})  # the fallback gets them by position too


@pytest.mark.parametrize("names", [("values",), ("seq",), ("k0",), ("r0",), ("v1",), ("gate",), ("program", "out")])
def test_a_parameter_named_like_the_runner_s_own_names_keeps_the_general_signature(names):
    states = _states(2)
    run = fast_runner(states, states, _adding(states), params=((), names),
                      guard=["if gate:", "    return FALLBACK"], names={"gate": False})
    assert run(*range(len(names)), extra=1) == ("out", tuple(range(len(names))), {"extra": 1})
    assert [float(s.value) for s in states] == [1.0, 2.0]


# -- the commit lock --------------------------------------------------------------------------
def test_the_commit_lock_refuses_a_release_it_does_not_hold():
    with pytest.raises(RuntimeError, match="commit_lock released while not held"):
        _commit.commit_lock.release()
    with _commit.commit_lock:  # and still works afterwards
        pass


def test_a_thread_waits_for_the_commit_lock_until_its_holder_gives_it_back():
    order = []

    def other():
        with _commit.commit_lock:
            order.append("other")

    with _commit.commit_lock:
        t = threading.Thread(target=other)
        t.start()
        t.join(0.05)  # time enough to take a free lock; a slow machine only makes this weaker
        order.append("holder")
    t.join(HANG)
    assert order == ["holder", "other"]


# -- installing a runner into a plain function (what `jit` returns) ---------------------------
def _shell():
    return _commit.general_runner(lambda args, kwargs: ("general", args))


def test_an_installed_runner_runs_in_the_function_and_the_general_runner_falls_back():
    states = _states(2)
    public = _shell()
    assert public(1) == ("general", (1,))
    _commit.install(public, fast_runner(states, states, _adding(states), fallback=lambda a, k: ("fallback", a)))
    assert public(5) == ("out", (5,), {})
    assert [float(s.value) for s in states] == [1.0, 2.0]
    _commit.install(public, _shell())
    assert public(6) == ("general", (6,))


@pytest.mark.parametrize("other_n", [3, 2])  # another length, and the same length with another code
def test_a_call_between_the_data_and_the_code_of_an_install_takes_the_general_path(other_n):
    # `install` stores the data, then the code: a call in between (or during another thread's
    # install) runs one runner's code on another's data, and must neither run it nor store.
    states, others = _states(2), _states(other_n)
    fallback = lambda args, kwargs: ("fallback", args)
    first = fast_runner(states, states, _adding(states), fallback=fallback)
    second = fast_runner(others, others[:1], lambda *flat: (flat[0] + 100.0, ("out", flat[other_n:], {})),
                         fallback=fallback, guard=["pass"])  # (a guard line: another code, even at equal length)
    assert first.__code__ is not second.__code__
    public = _shell()
    _commit.install(public, first)
    public.__closure__[0].cell_contents = second.__closure__[0].cell_contents  # the data of `second` only
    assert public(7) == ("fallback", (7,))
    assert [float(s.value) for s in states + others] == [0.0, 1.0] + [float(i) for i in range(other_n)]
    public.__code__ = second.__code__  # the install completed
    assert public(7) == ("out", (7,), {})
    assert float(others[0].value) == 100.0
