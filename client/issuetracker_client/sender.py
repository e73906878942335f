"""The bounded queue and the daemon thread that empties it, in call order.

Callers only put requests in the queue, without waiting. One worker thread,
started with the first request, takes them one at a time (or creates waiting
together as a batch) and hands them to Delivery, so a comment never reaches the
tracker before the issue it follows.
"""

import contextlib
import queue
import threading
import time

from issuetracker_client.batching import BATCH_MAX
from issuetracker_client.delivery import Delivery, Job
from issuetracker_client.ids import IssueIds
from issuetracker_client.settings import Settings
from issuetracker_client.tally import Tally
from issuetracker_client.transport import Transport


class Sender:
    """Queue, worker, counters. A forked child makes a new one."""

    def __init__(
        self,
        settings: Settings,
        transport: Transport,
        ids: IssueIds,
        *,
        batching: bool,
        closed: bool = False,
    ) -> None:
        self._settings = settings
        self._ids = ids
        self.tally = Tally()
        self._queue: queue.Queue[Job | None] = queue.Queue(maxsize=settings.queue_size)
        self._stopping = threading.Event()
        self._worker: threading.Thread | None = None
        self._closed = closed
        self._delivery = Delivery(
            settings, transport, ids, self.tally, self._stopping, batching=batching
        )

    @property
    def batching(self) -> bool:
        """False once the tracker showed it has no batch endpoint."""
        return self._delivery.batching

    @property
    def closed(self) -> bool:
        return self._closed

    @property
    def worker(self) -> threading.Thread | None:
        with self.tally.lock:
            return self._worker

    # The caller's side

    def enqueue(self, job: Job) -> bool:
        """Queue `job` without waiting; False (counted, logged) when dropped."""
        with self.tally.lock:
            if self._closed:
                reason = "closed"
            else:
                self._start_worker()  # first: it may fail (interpreter shutdown)
                try:
                    self._queue.put_nowait(job)
                except queue.Full:
                    reason = "full"
                else:
                    self.tally.pending += 1
                    return True
        if reason == "closed":
            self.tally.drop("closed", "A report came after close(); it is dropped.")
        else:
            self.tally.drop(
                "full",
                "The issue tracker client's queue is full (%d reports); new "
                "reports are dropped until it drains. Logged once per episode.",
                self._settings.queue_size,
            )
        return False

    def _start_worker(self) -> None:
        """Start the sender thread if there is none (caller holds the lock)."""
        if self._worker is None or not self._worker.is_alive():
            self._worker = threading.Thread(
                target=self._run, name="issuetracker-client", daemon=True
            )
            self._worker.start()

    def shut(self) -> bool:
        """Take no more requests; True the first time."""
        with self.tally.lock:
            first = not self._closed
            self._closed = True
        return first

    def stop(self, deadline: float) -> tuple[int, bool]:
        """Drop what is still queued and stop the worker, waiting for it until
        `deadline` (time.monotonic()). (Requests dropped, one still in flight.)"""
        self._stopping.set()  # cuts a retry's wait short
        left = 0
        while True:
            try:
                job = self._queue.get_nowait()
            except queue.Empty:
                break
            if job is not None:
                left += 1
                self.tally.discard()
        worker = self.worker
        if worker is not None:
            # When full, the worker sees _stopping after its current report.
            with contextlib.suppress(queue.Full):
                self._queue.put_nowait(None)
            if worker is not threading.current_thread():
                worker.join(max(0.0, deadline - time.monotonic()))
        return left, worker is not None and worker.is_alive()

    # The worker thread

    def _run(self) -> None:
        held: list[Job | None] = []  # taken from the queue behind a batch
        while True:
            job = held.pop() if held else self._queue.get()
            if job is None:
                return
            jobs = [job]
            if job.is_create and self._delivery.batching:
                held.extend(self._gather(jobs))
            sent: set[int] = set()
            try:
                if self._stopping.is_set():
                    self.tally.count("dropped", len(jobs))
                elif len(jobs) == 1:
                    if self._delivery.deliver(job):
                        sent.add(id(job))
                else:
                    sent = self._delivery.deliver_batch(jobs)
            except Exception as error:  # noqa: BLE001 - the worker must outlive bugs
                self.tally.count("failed", max(0, len(jobs) - len(sent)))
                # Type and place only: an error's message might quote a header.
                where = error.__traceback__
                while where is not None and where.tb_next is not None:
                    where = where.tb_next
                self.tally.warn_once(
                    "bug",
                    "Issue tracker client bug (%s at %s:%s); the report is lost.",
                    type(error).__name__,
                    where.tb_frame.f_code.co_filename if where else "?",
                    where.tb_lineno if where else "?",
                )
            finally:
                for each in jobs:
                    if each.client_id is not None and id(each) not in sent:
                        self._ids.remember(each.client_id, None)  # follow-ups: drop
                self.tally.done(len(jobs))

    def _gather(self, jobs: list[Job]) -> list[Job | None]:
        """Add the creates waiting right behind `jobs[0]` to `jobs` (at most
        BATCH_MAX); what was taken after them, a follow-up or the stop marker,
        is returned to be handled next, so the order of calls is kept."""
        while len(jobs) < BATCH_MAX:
            try:
                waiting = self._queue.get_nowait()
            except queue.Empty:
                return []
            if waiting is None or not waiting.is_create:
                return [waiting]
            jobs.append(waiting)
        return []
