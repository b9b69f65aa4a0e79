"""Interchangeable executors: serial, a local process pool, a Dask cluster.

Each is a context manager with one method, :meth:`Executor.imap_unordered`, that applies a
module-level function to tasks and yields ``(task, result)`` pairs as they finish, in any order,
keeping at most ``window`` tasks in flight — so the caller can stream results to disk and memory
stays bounded however many tasks there are. If the function raises (or its worker dies), the
pair carries the exception instead of a result, and the other tasks go on. Which executor runs a
task never changes its result: tasks are pure functions of their inputs.

>>> from model.executors import make_executor
>>> with make_executor("serial") as ex:
...     sorted(r for _, r in ex.imap_unordered(abs, [-2, 1, -3]))
[1, 2, 3]

The process pool picks its start method ("forkserver" where the platform has it, else "spawn")
when it is created; nothing is set globally at import.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["Executor", "SerialExecutor", "ProcessExecutor", "DaskExecutor", "make_executor", "default_workers"]

T = TypeVar("T")
R = TypeVar("R")


def default_workers() -> int:
    """All the cores this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not Linux
        return max(1, os.cpu_count() or 1)


class Executor(ABC):
    """Common interface: ``with Executor(...) as ex: for task, result in ex.imap_unordered(fn, tasks)``."""

    name = "executor"

    def __init__(self, workers: int | None = None, window: int | None = None) -> None:
        self.workers = int(workers) if workers else default_workers()
        self.window = int(window) if window else 4 * self.workers

    def __enter__(self) -> Executor:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Release workers (idempotent). Executors without workers have nothing to release."""
        return None

    @abstractmethod
    def imap_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R | BaseException]]:
        """Apply ``fn`` to every task; yield ``(task, result or exception)`` as each finishes."""

    def describe(self) -> str:
        """One line for the progress output."""
        return f"{self.name} ({self.workers} worker{'s' if self.workers != 1 else ''})"


class SerialExecutor(Executor):
    """Runs tasks one after another in this process (debugging, tiny jobs, tests)."""

    name = "serial"

    def __init__(self, workers: int | None = None, window: int | None = None) -> None:
        super().__init__(1, 1)

    def imap_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R | BaseException]]:
        for task in tasks:
            try:
                result: R | BaseException = fn(task)
            except Exception as exc:  # recorded by the caller; the rest go on
                result = exc
            yield task, result


class ProcessExecutor(Executor):
    """A local pool of worker processes (``concurrent.futures.ProcessPoolExecutor``)."""

    name = "processes"

    def __init__(self, workers: int | None = None, window: int | None = None, start_method: str | None = None) -> None:
        super().__init__(workers, window)
        import multiprocessing

        methods = multiprocessing.get_all_start_methods()
        self.start_method = start_method or ("forkserver" if "forkserver" in methods else "spawn")
        self._context = multiprocessing.get_context(self.start_method)
        self._pool: Any = None

    def __enter__(self) -> ProcessExecutor:
        from concurrent.futures import ProcessPoolExecutor

        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context)
        return self

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None

    def _restart_if_broken(self) -> None:
        if self._pool is not None and getattr(self._pool, "_broken", False):
            self._restart()

    def _restart(self) -> None:
        from concurrent.futures import ProcessPoolExecutor

        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
        self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=self._context)

    def imap_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R | BaseException]]:
        """As :meth:`Executor.imap_unordered`; a worker that dies breaks the whole pool, so the pool is
        restarted and the tasks that were in flight are run again one at a time: the one that kills
        its worker alone is reported failed, the others finish normally."""
        from collections import deque
        from concurrent.futures import FIRST_COMPLETED, wait
        from concurrent.futures.process import BrokenProcessPool

        if self._pool is None:
            self.__enter__()
        it = iter(tasks)
        pending: dict[Any, T] = {}
        suspects: deque[T] = deque()  # tasks in flight when a worker died; each runs alone next
        alone = False  # the one task in flight is a suspect running by itself
        exhausted = False
        restarts_without_progress = 0

        def submit(task: T) -> bool:
            try:
                pending[self._pool.submit(fn, task)] = task
            except BrokenProcessPool:  # the pool broke since the last wait: run this one later, alone
                suspects.append(task)
                return False
            return True

        while True:
            if suspects and not pending:
                if restarts_without_progress > 3:
                    raise RuntimeError("the process pool breaks as soon as it starts; try --executor serial")
                self._restart_if_broken()
                alone = submit(suspects.popleft())
                restarts_without_progress += not alone
            while not suspects and not alone and not exhausted and len(pending) < self.window:
                try:
                    task = next(it)
                except StopIteration:
                    exhausted = True
                    break
                if not submit(task):
                    break
            if not pending:
                if suspects:
                    continue
                return
            done, _ = wait(list(pending), return_when=FIRST_COMPLETED)
            broken = False
            for fut in done:
                task = pending.pop(fut)
                try:
                    result: R | BaseException = fut.result()
                except BrokenProcessPool as exc:
                    broken = True
                    if not alone:
                        suspects.append(task)
                        continue
                    result = RuntimeError(f"a worker process died while running this task alone ({exc})")
                except Exception as exc:
                    result = exc
                restarts_without_progress = 0
                yield task, result
            alone = False
            if broken:
                suspects.extend(pending.values())
                pending.clear()
                self._restart()


class DaskExecutor(Executor):
    """A Dask distributed cluster: an existing scheduler (``tcp://host:port``) or a LocalCluster.

    Workers of a remote cluster need this package installed (``pip install safestreets``).
    """

    name = "dask"

    def __init__(self, workers: int | None = None, window: int | None = None, scheduler: str | None = None,
                 processes: bool = True) -> None:
        super().__init__(workers, window)
        self.scheduler = scheduler
        self.processes = processes
        self._client: Any = None
        self._cluster: Any = None

    def __enter__(self) -> DaskExecutor:
        from distributed import Client, LocalCluster

        if self.scheduler:
            self._client = Client(self.scheduler, timeout="20s")
            n = len(self._client.scheduler_info().get("workers", {}))
            threads = sum(w.get("nthreads", 1) for w in self._client.scheduler_info()["workers"].values())
            self.workers = max(1, threads or n)
            self.window = 4 * self.workers
        else:
            self._cluster = LocalCluster(n_workers=self.workers, threads_per_worker=1, processes=self.processes,
                                         dashboard_address=None, silence_logs=40)
            self._client = Client(self._cluster)
        return self

    def close(self) -> None:
        if self._client is not None:
            self._client.close()
            self._client = None
        if self._cluster is not None:
            self._cluster.close()
            self._cluster = None

    def describe(self) -> str:
        where = self.scheduler or f"LocalCluster, {'processes' if self.processes else 'threads'}"
        return f"dask ({where}, {self.workers} worker{'s' if self.workers != 1 else ''})"

    def imap_unordered(self, fn: Callable[[T], R], tasks: Iterable[T]) -> Iterator[tuple[T, R | BaseException]]:
        from distributed import as_completed

        if self._client is None:
            self.__enter__()
        it = iter(tasks)
        pending: dict[str, T] = {}
        queue = as_completed()

        def submit() -> bool:
            try:
                task = next(it)
            except StopIteration:
                return False
            fut = self._client.submit(fn, task, pure=False)
            pending[fut.key] = task
            queue.add(fut)
            return True

        for _ in range(self.window):
            if not submit():
                break
        for fut in queue:
            task = pending.pop(fut.key)
            try:
                result: R | BaseException = fut.result()
            except Exception as exc:
                result = exc
            fut.release()
            yield task, result
            submit()


def make_executor(kind: str = "processes", workers: int | None = None, scheduler: str | None = None,
                  window: int | None = None) -> Executor:
    """The executor for a CLI choice: ``serial``, ``processes`` (default) or ``dask``.

    A ``scheduler`` address implies Dask; ``dask`` without one starts a LocalCluster.
    """
    if scheduler:
        return DaskExecutor(workers, window, scheduler=scheduler)
    if kind == "serial":
        return SerialExecutor()
    if kind == "processes":
        return ProcessExecutor(workers, window)
    if kind == "dask":
        return DaskExecutor(workers, window)
    raise ValueError(f"unknown executor '{kind}' (serial, processes, dask)")
