"""Executors: one place where runs go to a process pool, Dask, any Executor or this process.

:func:`run_all` runs a function on every item and hands each result back in this process as it
finishes; compare, experiments, the decomposition and calibration all use it. Workers die with
the process that started them (Linux: the parent-death signal, and a watchdog thread), ignore
Ctrl-C (it is the parent's to handle) and, in a local pool, SIGTERM; on an interrupt the queued
runs are cancelled, the running ones stopped, every finished one handed back, and
:class:`SweepInterrupted` (or ``KeyboardInterrupt``) raised once everything is shut down.
"""

from __future__ import annotations

import contextlib
import ctypes
import logging
import multiprocessing as mp
import numbers
import os
import signal
import sys
import threading
import time
from concurrent.futures import Executor, ProcessPoolExecutor, as_completed

from .parameters import ParameterError, _short

__all__ = ["SweepInterrupted", "progress_bar", "run_all"]

# --- Executors: one place for process pools, Dask and plain executors -------------------------


def _die_with(parent: int) -> None:
    """Make this worker process end when the process that started the pool ends."""
    if sys.platform.startswith("linux"):
        # PR_SET_PDEATHSIG (1): the kernel kills us when our parent process ends.
        with contextlib.suppress(OSError, AttributeError):
            ctypes.CDLL(None, use_errno=True).prctl(1, int(signal.SIGKILL), 0, 0, 0)
    ppid = os.getppid()

    def watch():  # portable fallback, and covers a forkserver in between
        while True:
            time.sleep(0.5)
            try:
                os.kill(parent, 0)
            except ProcessLookupError:
                os._exit(1)
            except PermissionError:  # pragma: no cover - pid reused by another user
                os._exit(1)
            if os.getppid() != ppid:
                os._exit(1)

    threading.Thread(target=watch, daemon=True, name="vraagvolgend-watchdog").start()


def _worker_init(parent: int, ignore_term: bool = False) -> int:
    """Initialise a worker: Ctrl-C is the parent's to handle; die with the parent. A pool's
    workers ignore SIGTERM too (a SIGTERM sent to the whole process group must not break the
    pool before the parent has stored what finished; the parent kills them with SIGKILL).
    Returns the worker's process id."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if ignore_term:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    _die_with(parent)
    return os.getpid()


@contextlib.contextmanager
def _quiet(logger: str):
    """Only errors from ``logger`` inside the block (its level is restored afterwards)."""
    log = logging.getLogger(logger)
    level = log.level
    log.setLevel(logging.CRITICAL)
    try:
        yield
    finally:
        log.setLevel(level)


class _Runner:
    """An executor resolved from the ``executor`` argument, with a way to close it."""

    def __init__(self, executor, workers):
        self.pool = None
        self._close = lambda cancel: None
        if workers is not None and (
            isinstance(workers, bool) or not isinstance(workers, numbers.Integral) or workers < 1
        ):
            raise ParameterError("workers", f"{_short(workers)} must be an integer ≥ 1")
        if executor is None or executor == "processes":
            # An explicit start method: whatever a library may have set globally does not matter.
            method = "forkserver" if "forkserver" in mp.get_all_start_methods() else "spawn"
            pool = ProcessPoolExecutor(
                max_workers=workers,
                mp_context=mp.get_context(method),
                initializer=_worker_init,
                initargs=(os.getpid(), True),
            )
            self.pool = pool
            self._close = lambda cancel: _close_pool(pool, cancel)
        elif executor == "serial":
            pass
        elif executor == "dask" or type(executor).__name__ == "Client":
            self._dask(executor, workers)
        elif isinstance(executor, Executor):
            self.pool = executor
            self._close = lambda cancel: _cancel(self.futures) if cancel else None
        else:
            raise ParameterError(
                "executor",
                f"{executor!r}: 'serial', 'processes', 'dask', a dask Client or an Executor",
            )
        self.futures = []
        self.items = []
        self.handled = set()

    def _dask(self, executor, workers):
        try:
            import dask
            from dask.distributed import Client, LocalCluster
        except ImportError:
            raise ImportError(
                "executor='dask' needs Dask: pip install 'vraagvolgend[experiments]'"
            ) from None
        if executor == "dask":
            # The nanny's MALLOC_TRIM_THRESHOLD_ slows numpy-heavy tasks (measured ~40%).
            dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None})
            cluster = LocalCluster(
                n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=":0"
            )
            client = Client(cluster)
            # Ctrl-C reaches the workers too (one process group): it is this process's to
            # handle, so the workers ignore it (and die with this process, like a pool's).
            pids = list(client.run(_worker_init, os.getpid()).values())

            def close(cancel):
                if not cancel:
                    client.close()
                    cluster.close()
                    return
                # Ctrl-C: stop the running runs now (their results would be thrown away) and
                # close without the cluster's warnings about the workers it lost.
                with _quiet("distributed"):
                    for pid in pids:
                        with contextlib.suppress(OSError):
                            os.kill(pid, signal.SIGKILL)
                    client.close()
                    cluster.close()

            self._close = close
        else:
            client = executor
            self._close = lambda cancel: _cancel(self.futures) if cancel else None
        # Unique task keys (pure=False): a run that failed (e.g. KilledWorker) is not answered
        # from the scheduler's memory of the failure when the experiment is run again.
        self.pool = client.get_executor(pure=False)

    def outcomes(self, function, items, raise_errors: bool = False):
        """Yield (item, (value, error)) as runs finish (or raise a run's exception)."""
        if self.pool is None:
            for item in items:
                yield item, ((function(item), None) if raise_errors else _call(function, item))
            return
        self.futures = [self.pool.submit(function, item) for item in items]
        self.items = items
        self.handled = set()
        index = {f: i for i, f in enumerate(self.futures)}
        for f in as_completed(self.futures):
            self.handled.add(index[f])
            yield items[index[f]], ((f.result(), None) if raise_errors else _result(f))

    def finished_unhandled(self):
        """(item, value) of the runs that finished but were not handed out yet (on Ctrl-C)."""
        for i, f in enumerate(self.futures):
            if i not in self.handled and f.done() and not f.cancelled():
                value, error = _result(f)
                if error is None:
                    yield self.items[i], value

    def close(self, cancel: bool = False) -> None:
        self._close(cancel)


def _cancel(futures) -> None:
    for f in futures:
        f.cancel()


def _close_pool(pool: ProcessPoolExecutor, cancel: bool) -> None:
    if not cancel:
        pool.shutdown()
        return
    # Ctrl-C: drop the queued runs and stop the running ones now (their results would be
    # thrown away); every finished run is already in the store.
    processes = list((getattr(pool, "_processes", None) or {}).values())
    pool.shutdown(wait=False, cancel_futures=True)
    for process in processes:
        process.kill()  # SIGKILL: the workers ignore SIGTERM
    for process in processes:
        process.join(timeout=5)


def run_all(
    function,
    items: list,
    *,
    executor=None,
    workers=None,
    handle,
    bar=None,
    raise_errors: bool = False,
) -> None:
    """Run ``function`` on every item on an executor; call ``handle(item, value, error)`` in
    this process as each finishes (in completion order). With ``raise_errors`` the first run
    that raises stops everything and its exception propagates; otherwise ``error`` names it.

    On Ctrl-C the queued items are cancelled, the running ones stopped, and
    ``KeyboardInterrupt`` is raised once everything is shut down.
    """
    runner = _Runner(executor, workers)
    cancel = True
    try:
        for item, (value, error) in runner.outcomes(function, items, raise_errors):
            handle(item, value, error)
            if bar is not None:
                bar.update()
        cancel = False
    except KeyboardInterrupt:
        for item, value in runner.finished_unhandled():  # keep every finished run
            handle(item, value, None)
        raise
    finally:
        runner.close(cancel=cancel)


class _Reporting:
    """A tqdm bar that also tells a callback how far the work is (``bar`` of :func:`run_all`)."""

    def __init__(self, bar, phase: str, done: int, on_progress):
        self.bar, self.phase, self.on_progress = bar, phase, on_progress
        self.done = done  # counted here: a disabled tqdm bar does not count

    def tell(self) -> None:
        if self.on_progress is not None:
            self.on_progress(self.phase, self.done, self.bar.total)

    def update(self, n: int = 1) -> None:
        self.bar.update(n)
        self.done += n
        self.tell()


@contextlib.contextmanager
def progress_bar(phase: str, total: int, done: int, progress, on_progress=None):
    """A progress bar for :func:`run_all`, on the terminal and to a callback.

    Args:
        phase: What is counted (the bar's description), e.g. ``"replications"``.
        total: Items in all; ``done``: items already finished (stored ones).
        progress: Show the tqdm bar (``None``: only on a terminal).
        on_progress: Called as ``on_progress(phase, done, total)`` once at the start and after
            every finished item (in this process), e.g. to follow the work from a dashboard.
    """
    from tqdm.auto import tqdm

    disable = None if progress is None else not progress
    with tqdm(total=total, initial=done, desc=phase, disable=disable) as bar:
        reporting = _Reporting(bar, phase, done, on_progress)
        reporting.tell()
        yield reporting


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during :func:`run_experiment` or a stored
    :func:`~vraagvolgend.comparison.compare`: every finished run is stored; run it again to
    resume. ``stored`` and ``total`` count runs (or replications: ``unit``), ``folder`` is where
    they are stored, ``during`` names the phase that was interrupted when it is not the runs."""

    def __init__(self, stored: int, total: int, folder, unit: str = "runs", during: str = ""):
        self.stored, self.total, self.folder = stored, total, folder
        self.unit, self.during = unit, during
        super().__init__(
            f"interrupted{' during ' + during if during else ''}: {stored} of {total} {unit} "
            f"are stored in {folder}; run the same command again to resume"
        )


def _call(function, spec):
    try:
        return function(spec), None
    except Exception as err:  # a run that raises is recorded; the sweep goes on
        return None, f"{type(err).__name__}: {err}"


def _result(future):
    try:
        return future.result(), None
    except Exception as err:
        return None, f"{type(err).__name__}: {err}"
