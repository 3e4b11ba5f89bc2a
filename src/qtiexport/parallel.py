"""Worker processes for the stages that work case by case (validation, rendering).

Workers are forked, so they inherit the stage's inputs instead of receiving them pickled,
and they return their results in case order, so the output does not depend on how many
there are: one process or many give the same diagnostics and the same bytes.
"""

from __future__ import annotations

import gc
import multiprocessing
import os
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from multiprocessing.pool import Pool
from typing import Any, TypeVar

WORKERS_VARIABLE = "QTIEXPORT_WORKERS"
Result = TypeVar("Result")

# The job a forked worker runs, set just before the fork; children find it here.
_job: Callable[[int], Any] | None = None


def worker_count(steps: int, worth_it: bool) -> int:
    """How many worker processes to use for `steps` independent steps: one per core when
    the work is `worth_it`, or QTIEXPORT_WORKERS; 0 means run in this process."""
    setting = os.environ.get(WORKERS_VARIABLE, "").strip()
    default = (os.cpu_count() or 1) if worth_it else 0
    wanted = int(setting) if setting.isdigit() else default
    wanted = min(wanted, steps)
    return wanted if wanted > 1 and "fork" in multiprocessing.get_all_start_methods() else 0


def _run_job(step: int) -> Any:
    assert _job is not None
    return _job(step)


@contextmanager
def forked_pool(job: Callable[[int], Result], workers: int) -> Iterator[Pool]:
    """A pool of `workers` processes forked now, each able to run `job(step)`. Fork before
    starting any thread: a forked child holds only the thread that forked it."""
    global _job
    _job = job
    # Objects that exist now are the workers' inputs, shared with this process until
    # written to. The collector would write to every one of them (its bookkeeping sits
    # in each object) and so copy all their pages into each worker: freeze them first.
    gc.freeze()
    try:
        pool = multiprocessing.get_context("fork").Pool(workers)
    finally:
        gc.unfreeze()  # in this process; the workers keep theirs frozen
    try:
        yield pool
    finally:
        pool.terminate()
        pool.join()
        _job = None


def in_order(pool: Pool, steps: int, ahead: int) -> Iterator[Any]:
    """`job(0)`, `job(1)`… run by the pool, yielded in order, with at most `ahead` results
    waiting to be taken, so that memory stays flat however many steps there are."""
    pending: deque = deque()
    for step in range(steps):
        pending.append(pool.apply_async(_run_job, (step,)))
        if len(pending) >= ahead:
            yield pending.popleft().get()
    while pending:
        yield pending.popleft().get()


def run_steps(job: Callable[[int], Result], steps: int, workers: int) -> Iterator[Result]:
    """`job(0)` … `job(steps - 1)` in order: in this process when `workers` is 0, else in
    a forked pool, at most two steps per worker ahead of the consumer."""
    if not workers:
        yield from (job(step) for step in range(steps))
        return
    with forked_pool(job, workers) as pool:
        yield from in_order(pool, steps, ahead=2 * workers)
