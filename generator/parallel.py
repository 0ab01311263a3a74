"""Work over many items in worker processes, results in order, and a clean stop on Ctrl-C or
SIGTERM: what `eksgen new --fleet`, `eksgen validate DIR...` and `eksgen update DIR...` share."""

from __future__ import annotations

import contextlib
import os
import signal
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor
from typing import TypeVar

from generator.errors import EksgenError

INTERRUPTED = "interrupted before it started"

T = TypeVar("T")
R = TypeVar("R")


class Interrupted(EksgenError):
    """Ctrl-C or SIGTERM stopped a run over many repositories; what finished is complete (exit 130, as `eksgen new`)."""

    exit_code = 130


def internal_error(exc: Exception) -> str:
    return f"internal error ({type(exc).__name__}: {exc}); this is a bug"


def default_jobs() -> int:
    """The CPUs this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def worker_count(jobs: int | None, items: int) -> int:
    """How many worker processes `parallel_map` uses for `items` items (1: none, in this process)."""
    return max(1, min(jobs or default_jobs(), items))


def parallel_map(function: Callable[[T], R], items: Sequence[T], jobs: int) -> list[R | None]:
    """`function` over `items`, results in order, in `jobs` worker processes.

    With one job or one item the work runs in this process: a pool would only add start-up time.
    `function` must be a module-level function and must not raise for a failed item (return a
    result that says so), so that one failure never stops the others.

    An interrupt (Ctrl-C, or SIGTERM) stops the run: work not yet started is dropped and its result
    is None; work already started in a worker finishes first (workers ignore Ctrl-C; an item takes
    about a second), so what the interrupt stopped is never half-done. In this process, the item in
    hand is interrupted (scaffold.generate cleans up after itself) and its result is None too.
    """
    results: list[R | None] = [None] * len(items)
    with terminate_as_interrupt():
        if jobs <= 1 or len(items) <= 1:
            try:
                for index, item in enumerate(items):
                    results[index] = function(item)
            except KeyboardInterrupt:
                pass  # scaffold.generate has cleaned up after itself
            return results
        pool = ProcessPoolExecutor(
            max_workers=min(jobs, len(items)), initializer=_worker_started, initargs=(os.getpid(),)
        )
        try:
            futures = [pool.submit(function, item) for item in items]
            try:
                for index, future in enumerate(futures):
                    results[index] = future.result()
            except KeyboardInterrupt:
                for future in futures:
                    future.cancel()
                for index, future in enumerate(futures):
                    if not future.cancelled() and future.exception() is None:
                        results[index] = future.result()
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
    return results


def _worker_started(parent: int) -> None:
    """In each worker: the parent alone decides what an interrupt stops; and no worker outlives it."""
    # A process group of its own: a terminal's Ctrl-C (SIGINT to the foreground group) reaches
    # the parent only. Ignoring SIGINT is not enough, because git installs its own handler to
    # remove its lock files and would die in the middle of its item.
    os.setpgrp()
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)  # not the parent's handler, inherited by the fork
    threading.Thread(target=_exit_with_parent, args=(parent,), name="exit-with-parent", daemon=True).start()


def _exit_with_parent(parent: int) -> None:
    """A worker whose parent was killed (SIGKILL, the OOM killer) would wait for work forever."""
    while os.getppid() == parent:
        time.sleep(1)
    os.kill(os.getpid(), signal.SIGTERM)  # scaffold.generate turns it into a clean-up; otherwise it ends us
    time.sleep(10)
    os._exit(1)


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Treat SIGTERM like Ctrl-C in this process while the work runs (main thread only), so that the
    clean-up an interrupt runs also runs for a SIGTERM."""

    def _raise(signum, frame):  # noqa: ANN001
        raise KeyboardInterrupt

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGTERM, _raise)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


def processes(jobs: int) -> str:
    return "in this process" if jobs <= 1 else f"{jobs} worker processes"
