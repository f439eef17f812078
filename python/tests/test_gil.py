"""invoke() releases the GIL: two threads invoking two interpreters make progress concurrently.

Deterministic rather than timed: with a switch interval of minutes, CPython hands the GIL to
another thread only when the running one releases it. A thread that held the GIL through its
whole loop of invokes would run it to the end before the other thread ran at all, so the two
threads' events could not interleave; with the GIL released inside invoke() they interleave.
The control (pure Python loops) shows the check can fail.
"""

import sys
import threading

import numpy as np
import pytest

import qdet

ROUNDS = 20


def run_two(work):
    events = []
    barrier = threading.Barrier(2)  # waiting releases the GIL: both threads are started

    def worker(name):
        barrier.wait()
        for i in range(ROUNDS):
            work(name)
            events.append(name)

    old = sys.getswitchinterval()
    sys.setswitchinterval(300.0)
    try:
        threads = [threading.Thread(target=worker, args=(n,)) for n in ("a", "b")]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
    finally:
        sys.setswitchinterval(old)
    return events


def interleaved(events):
    """True when neither thread ran all its rounds before the other started."""
    first = events[0]
    return events[:ROUNDS] != [first] * ROUNDS


@pytest.fixture(scope="module")
def interpreters(yolox):
    x = np.random.default_rng(0).uniform(0, 255, size=(1, 416, 416, 3)).astype(np.float32)
    its = {}
    for name in ("a", "b"):
        it = qdet.Interpreter(str(yolox))
        it.allocate_tensors()
        it.set_tensor(it.get_input_details()[0]["index"], x)
        its[name] = it
    return its


def test_two_interpreters_invoke_concurrently(interpreters):
    events = run_two(lambda name: interpreters[name].invoke())
    assert sorted(events) == ["a"] * ROUNDS + ["b"] * ROUNDS
    assert interleaved(events), events
    a, b = (interpreters[n].get_tensor(interpreters[n].get_output_details()[0]["index"]) for n in "ab")
    np.testing.assert_array_equal(a, b)


def test_control_python_loops_holding_the_gil_do_not_interleave():
    def busy(name):
        s = 0
        for i in range(100000):
            s += i

    events = run_two(busy)
    assert not interleaved(events), events


def test_one_interpreter_from_two_threads_is_serialized(interpreters):
    it = interpreters["a"]
    errors = []

    def call():
        try:
            for _ in range(3):
                it.invoke()
        except Exception as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=call) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
