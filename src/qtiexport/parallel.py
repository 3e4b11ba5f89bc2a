"""Worker processes for the stages that work case by case (validation, rendering).

Workers are forked, so they inherit the stage's inputs instead of receiving them pickled,
and they return their results in case order, so the output does not depend on how many
there are: one process or many give the same diagnostics and the same bytes.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
import signal
import threading
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from contextlib import contextmanager
from typing import Any, TypeVar

WORKERS_VARIABLE = "QTIEXPORT_WORKERS"
# What the workers' own memory may add up to, the parent and the pages it shares with them
# taking the rest of 300 MB. Two workers are allowed whatever their steps may take: that
# worst case is measured (tests/test_memory.py).
WORKERS_MEMORY = 200 * 1024 * 1024
WORKER_OVERHEAD = 10 * 1024 * 1024  # pages a worker copies from the parent as it runs
Result = TypeVar("Result")

# The job a forked worker runs, set just before the fork; children find it here.
_job: Callable[[int], Any] | None = None


def worker_count(steps: int, worth_it: bool, step_memory: int = 0) -> int:
    """How many worker processes to use for `steps` independent steps: one per core when
    the work is `worth_it`, or QTIEXPORT_WORKERS; 0 means run in this process. When one
    step may take up to `step_memory` bytes, no more than fit in WORKERS_MEMORY (or two).
    None when called from a thread other than the main one, or within `workers_off`: a
    forked child holds only the forking thread, with any lock another thread held at
    that moment locked for ever."""
    if _workers_off or threading.current_thread() is not threading.main_thread():
        return 0
    setting = os.environ.get(WORKERS_VARIABLE, "").strip()
    default = (os.cpu_count() or 1) if worth_it else 0
    wanted = int(setting) if setting.isdigit() else default
    wanted = min(wanted, steps)
    if step_memory:
        wanted = min(wanted, max(2, WORKERS_MEMORY // (step_memory + WORKER_OVERHEAD)))
    return wanted if wanted > 1 and "fork" in multiprocessing.get_all_start_methods() else 0


_workers_off = False


@contextmanager
def workers_off() -> Iterator[None]:
    """Run every stage in this process within the block: for a command whose own threads
    (`preview`'s server and file watcher) run beside the builds it makes."""
    global _workers_off
    before, _workers_off = _workers_off, True
    try:
        yield
    finally:
        _workers_off = before


@contextmanager
def collector_paused(keep: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a large object graph is built.

    Every collection walks the objects already alive, so making hundreds of thousands of
    objects (the course model, unpickled from the build cache or from the workers) with
    the collector running costs several times the making itself. These graphs make no
    garbage cycles to speak of; the collector resumes when the block ends. With `keep`,
    what is alive then is moved out of its reach (`gc.freeze`) until `release_kept`:
    models read one by one for the whole build, which every later pass would walk again
    (1,000 cached cases of the seed: 0.14 s kept, 0.39-0.53 s paused only per record).
    Memory freed by reference counting is freed all the same.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if keep:
            gc.freeze()
        if was_enabled:
            gc.enable()


def release_kept() -> None:
    """Put what `collector_paused(keep=True)` kept back within the collector's reach (at
    the end of a build, in a process that goes on: tests, a server)."""
    gc.unfreeze()


class WorkerDied(Exception):
    """A worker process ended without finishing its step (killed, out of memory)."""


def _leave_interrupts_to_the_parent() -> None:
    # Ctrl-C reaches every process of the group: the parent stops the build and shuts
    # the workers down; a worker that took it too would only print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


def _run_job(step: int) -> Any:
    assert _job is not None
    return _job(step)


@contextmanager
def forked_pool(job: Callable[[int], Result], workers: int) -> Iterator[ProcessPoolExecutor]:
    """`workers` processes forked now, each able to run `job(step)`. Fork before starting
    any thread: a forked child holds only the thread that forked it.

    A ProcessPoolExecutor, not a multiprocessing Pool: when a worker dies, the Pool
    replaces it and waits forever for the step it had, where the executor fails.
    """
    global _job
    _job = job
    # Objects that exist now are the workers' inputs, shared with this process until
    # written to. The collector would write to every one of them (its bookkeeping sits
    # in each object) and so copy all their pages into each worker: freeze them first.
    gc.freeze()
    try:
        pool = ProcessPoolExecutor(
            workers,
            mp_context=multiprocessing.get_context("fork"),
            initializer=_leave_interrupts_to_the_parent,
        )
        # With fork, the executor starts every worker at the first submit, before its
        # own management thread: submit here, while the heap is frozen, then go on.
        warm = pool.submit(int)
    finally:
        gc.unfreeze()  # in this process; the workers keep theirs frozen
    try:
        warm.result()
        yield pool
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
        _job = None


def in_order(pool: ProcessPoolExecutor, steps: int, ahead: int) -> Iterator[Any]:
    """`job(0)`, `job(1)`… run by the pool, yielded in order, with at most `ahead` results
    waiting to be taken, so that memory stays flat however many steps there are."""
    pending: deque[Future] = deque()
    try:
        for step in range(steps):
            pending.append(pool.submit(_run_job, step))
            if len(pending) >= ahead:
                yield pending.popleft().result()
        while pending:
            yield pending.popleft().result()
    except BrokenProcessPool:
        raise WorkerDied(
            "a worker process ended before finishing its work (killed, or out of memory?); "
            f"{WORKERS_VARIABLE}=1 runs everything in one process"
        ) from None


def run_steps(job: Callable[[int], Result], steps: int, workers: int) -> Iterator[Result]:
    """`job(0)` … `job(steps - 1)` in order: in this process when `workers` is 0, else in
    forked worker processes, at most two steps per worker ahead of the consumer."""
    if not workers:
        yield from (job(step) for step in range(steps))
        return
    with forked_pool(job, workers) as pool:
        yield from in_order(pool, steps, ahead=2 * workers)
