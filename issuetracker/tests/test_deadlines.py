"""One deadline per transaction, and the per-document FIFO queues."""

import threading
import time

import pytest
from google.api_core import exceptions as google_exceptions
from google.cloud import firestore

from issuetracker.deadlines import (
    Deadline,
    DeadlineReached,
    KeyedQueues,
    deadline,
    running_deadline,
)
from issuetracker.errors import StoreUnavailable
from issuetracker.firestore import BoundedTransaction, call_options, run_transaction


def test_a_deadline_inside_an_earlier_one_keeps_the_earlier():
    assert running_deadline() is None
    with deadline(0.5) as outer:
        with deadline(10) as inner:
            assert inner is outer
        with deadline(0.1) as shorter:
            assert shorter is not outer
            assert running_deadline() is shorter
        assert running_deadline() is outer
    assert running_deadline() is None


def test_call_options_give_what_is_left_and_refuse_when_nothing_is(settings):
    settings.FIRESTORE_TIMEOUT = 5
    assert call_options()["timeout"] == 5
    with deadline(0.5):
        assert 0.4 < call_options()["timeout"] <= 0.5
    with deadline(0.01):
        time.sleep(0.02)
        with pytest.raises(DeadlineReached):
            call_options()


def test_queues_serve_first_come_first_served():
    queues = KeyedQueues()
    order: list[int] = []
    limit = Deadline(5)
    with queues.hold(["doc"], within=limit):
        threads = []
        for n in range(5):

            def wait(n: int = n) -> None:
                with queues.hold(["doc"], within=limit):
                    order.append(n)

            thread = threading.Thread(target=wait)
            thread.start()
            threads.append(thread)
            while queues.waiting("doc") < n + 1:  # queued in this order
                time.sleep(0.001)
    for thread in threads:
        thread.join()
    assert order == [0, 1, 2, 3, 4]
    assert queues.waiting("doc") == 0
    assert not queues._queues  # nothing left behind


def test_a_wait_ends_when_the_deadline_leaves_no_time_and_leaves_the_queue():
    queues = KeyedQueues()
    with queues.hold(["doc"], within=Deadline(5)):
        started = time.monotonic()
        with (
            pytest.raises(DeadlineReached),
            queues.hold(["doc"], within=Deadline(0.3), reserve=0.1),
        ):
            pass
        assert 0.15 < time.monotonic() - started < 0.3
        assert queues.waiting("doc") == 0
    with queues.hold(["doc"], within=Deadline(0.1)):  # free again
        pass


def test_a_rerun_that_cannot_fit_in_the_deadline_gives_up_at_once(
    firestore_db, settings, monkeypatch
):
    """An attempt took 0.3 s and lost (Aborted); with 0.2 s left, no second one
    starts: 503 at once, not at or after the deadline."""
    settings.FIRESTORE_TIMEOUT = 0.5

    def lose(self: BoundedTransaction) -> list[object]:
        raise google_exceptions.Aborted("contention")  # type: ignore[no-untyped-call]

    monkeypatch.setattr(BoundedTransaction, "_commit", lose)
    runs: list[float] = []
    ref = firestore_db.collection("things").document("one")

    @firestore.transactional
    def run(transaction: firestore.Transaction) -> None:
        ref.get(transaction=transaction, **call_options())
        time.sleep(0.3)
        runs.append(time.monotonic())

    started = time.monotonic()
    with pytest.raises(StoreUnavailable) as raised:
        run_transaction(firestore_db, run, what="testing", busy="busy")
    elapsed = time.monotonic() - started
    assert len(runs) == 1
    assert elapsed < 0.45, elapsed
    assert raised.value.headers["Retry-After"]


def test_reruns_after_losing_stay_within_the_deadline(
    firestore_db, settings, monkeypatch
):
    settings.FIRESTORE_TIMEOUT = 0.6

    def lose(self: BoundedTransaction) -> list[object]:
        raise google_exceptions.Aborted("contention")  # type: ignore[no-untyped-call]

    monkeypatch.setattr(BoundedTransaction, "_commit", lose)
    runs: list[float] = []

    @firestore.transactional
    def run(transaction: firestore.Transaction) -> None:
        runs.append(time.monotonic())

    started = time.monotonic()
    with pytest.raises(StoreUnavailable):
        run_transaction(firestore_db, run, what="testing", busy="busy", attempts=1000)
    assert time.monotonic() - started < 0.6 + 0.05
    assert len(runs) > 1
