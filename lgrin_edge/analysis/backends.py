"""Where the sweep's cells run: Ray tasks (a local Ray instance, or a cluster with an address) or a
local process pool. Both yield each cell's outcome as it finishes, so the driver can store it at once.

Ray is imported only here and only when asked for: the sweep works without it.
"""

from __future__ import annotations

import concurrent.futures as cf
import multiprocessing
import signal
import sys
from collections.abc import Iterator
from dataclasses import dataclass

from lgrin_edge.analysis.cells import Cell, train_and_test_fold
from lgrin_edge.cli import UserError
from lgrin_edge.optional import installed, missing

BACKENDS = ("auto", "ray", "local")


@dataclass(frozen=True)
class Resources:
    """Per task: CPU threads and GPUs; ``workers``: tasks at once on a local backend."""

    workers: int
    cpus: int = 1
    gpus: float = 0.0

    @property
    def device(self) -> str:
        return "cuda" if self.gpus > 0 else "cpu"


def ray_available() -> bool:
    return installed("ray")


def choose_backend(name: str, address: str | None) -> tuple[str, str, str | None]:
    """The backend to use, a line saying which, and the "skipped ray: ..." line where auto found no Ray.

    Asked for by name (--backend ray, or --address), an absent Ray is refused with that reason."""
    if name == "local" and address is not None:
        raise UserError("--address names a Ray cluster; it needs --backend ray (or auto), not local")
    if name == "ray" or address is not None:
        if not ray_available():
            raise UserError(f"{'--address' if address else '--backend ray'}: {missing('ray')}")
        return "ray", f"backend: Ray ({'cluster at ' + address if address else 'a local Ray instance'})", None
    if name == "auto" and ray_available():
        return "ray", "backend: Ray (a local Ray instance)", None
    skipped = None if name == "local" else f"skipped ray: {missing('ray')}"
    return "local", "backend: local process pool", skipped


Outcome = tuple[Cell, dict | None, BaseException | None]


def _worker_start() -> None:
    """A pool process: Ctrl-C is the driver's to handle (it stops the workers, see run_local), and
    SIGTERM ends the process through Python's exit, which releases what it registered (tqdm's locks)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(128 + signal.SIGTERM))


def run_local(cells: list[Cell], res: Resources) -> Iterator[Outcome]:
    """The cells on a pool of ``res.workers`` fresh processes (spawned: torch's threads do not survive
    a fork safely)."""
    ctx = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=res.workers, mp_context=ctx, initializer=_worker_start) as pool:
        futures = {pool.submit(train_and_test_fold, c, res.cpus, res.device): c for c in cells}
        try:
            for fut in cf.as_completed(futures):
                err = fut.exception()
                yield futures[fut], None if err else fut.result(), err
        except BaseException:
            # Ctrl-C or an error in the driver: queued cells do not start, and running ones stop now
            # rather than at their end (the pool's exit would wait for them, and no one stores them).
            workers = list((getattr(pool, "_processes", None) or {}).values())  # shutdown forgets them
            pool.shutdown(wait=False, cancel_futures=True)
            for proc in workers:
                proc.terminate()
            raise


def run_ray(cells: list[Cell], res: Resources, address: str | None) -> Iterator[Outcome]:
    """The cells as Ray tasks with ``res.cpus`` CPUs and ``res.gpus`` GPUs each. Without an address a
    local Ray instance of ``res.workers * res.cpus`` CPUs is started (and stopped at the end)."""
    import ray

    if address is None:
        ray.init(
            num_cpus=res.workers * res.cpus,
            num_gpus=int(res.gpus * res.workers) or None,
            include_dashboard=False,
            log_to_driver=False,
        )
    else:
        ray.init(address=address, log_to_driver=False)
    try:
        task = ray.remote(num_cpus=res.cpus, num_gpus=res.gpus, max_retries=0)(train_and_test_fold)
        pending = {task.remote(c, res.cpus, res.device): c for c in cells}
        while pending:
            (ref,), _ = ray.wait(list(pending), num_returns=1)
            cell = pending.pop(ref)
            try:
                yield cell, ray.get(ref), None
            except ray.exceptions.RayTaskError as e:
                yield cell, None, e.cause if isinstance(e.cause, BaseException) else e
            except ray.exceptions.RayError as e:  # a worker died, a node was lost
                yield cell, None, e
    finally:
        ray.shutdown()  # with an address this disconnects; the cluster keeps running
