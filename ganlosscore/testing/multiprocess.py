"""Run a function on N ``torch.distributed`` ranks (gloo, CPU) and collect what each returned.

Losses that reduce over ranks need tests with a real process group. This is
the one way to write them::

    from ganlosscore.testing import run_ranks

    def body(rank, world, scale):       # module level, so that spawned ranks can import it
        buffer = torch.tensor([float(rank) * scale])
        return sum_over_ranks(buffer).item()

    def test_sum():
        results = run_ranks(body, 2, args=(10.0,))
        assert [r.value for r in results] == [10.0, 10.0]

Each rank is a fresh ``spawn``-ed process with its own gloo group on a free
local port. A rank that raises reports its exception (``result.error``);
one that dies by a signal or ``os._exit`` reports its exit code; ranks still
running at ``timeout`` are killed and reported as hung, so a test that goes
wrong fails instead of hanging.

Inside a rank, :func:`count_collectives` records the size of every
``torch.distributed.all_reduce`` made in a block, for tests that pin down how
many collectives a step costs::

    def body(rank, world):
        with count_collectives() as sizes:
            aggregator(outputs).log_vars
        return sizes                    # one entry per all_reduce: its numel()

For ranks that take several steps, one of which may fail on purpose (ranks
that disagree, say), a rank returns :func:`step_outcomes` and the test reads
them by rank and step with :func:`outcomes_by_step`::

    def body(rank, world):
        return step_outcomes(lambda it: aggregator({**outputs, "iteration": it}).log_vars, [1, 2])

    def test_steps():
        by_step = outcomes_by_step(run_ranks(body, 2))
        assert by_step[0, 1] == ("ok", {...})   # or ("DistributedMismatchError", message)
"""

from __future__ import annotations

import datetime
import gc
import multiprocessing as mp
import os
import pickle
import queue
import socket
import time
import traceback
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager, suppress
from typing import Any

import attrs

__all__ = ["RankResult", "count_collectives", "outcomes_by_step", "run_ranks", "step_outcomes"]


@attrs.frozen
class RankResult:
    """What one rank of :func:`run_ranks` ended with.

    ``value`` is what the function returned; ``error`` the exception it raised
    (the original when it can be pickled, else a ``RuntimeError`` holding its
    type, message and traceback); ``exitcode`` the process's exit code
    (negative: killed by that signal); ``hung`` whether it was still running
    at the timeout.
    """

    rank: int
    value: Any = None
    error: BaseException | None = None
    exitcode: int | None = None
    hung: bool = False

    @property
    def ok(self) -> bool:
        """Returned normally and exited with status 0."""
        return self.error is None and not self.hung and self.exitcode == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _rank_main(
    target: Callable[..., Any],
    rank: int,
    world: int,
    port: int,
    args: tuple[Any, ...],
    timeout: float,
    results: Any,
) -> None:
    import torch.distributed as dist

    os.environ["MASTER_ADDR"], os.environ["MASTER_PORT"] = "127.0.0.1", str(port)
    dist.init_process_group(
        "gloo", rank=rank, world_size=world, timeout=datetime.timedelta(seconds=timeout)
    )
    try:
        try:
            outcome: tuple[str, Any] = ("value", target(rank, world, *args))
        except BaseException as exc:  # reported to the parent, whatever it is
            outcome = ("error", _portable(exc))
        # Pickled here, by value: a queue would send tensors as shared-memory
        # handles, which die with this process before the parent reads them.
        try:
            payload = pickle.dumps(outcome)
        except Exception as exc:  # a return value that cannot travel
            error = RuntimeError(f"rank {rank} returned an unpicklable value: {exc}")
            payload = pickle.dumps(("error", error))
        results.put((rank, payload))
    finally:
        gc.collect()  # gloo aborts a process whose group's users outlive the group
        dist.destroy_process_group()


def _portable(exc: BaseException) -> BaseException:
    try:
        pickle.loads(pickle.dumps(exc))
        return exc
    except Exception:
        text = "".join(traceback.format_exception(exc))
        return RuntimeError(f"{type(exc).__name__}: {exc}\n{text}")


def run_ranks(
    target: Callable[..., Any],
    world_size: int = 2,
    *,
    args: Sequence[Any] = (),
    timeout: float = 60.0,
) -> list[RankResult]:
    """Run ``target(rank, world_size, *args)`` on ``world_size`` gloo ranks; one result per rank.

    Args:
        target: a module-level function (spawned processes import it by name).
        world_size: the number of ranks.
        args: further arguments, picklable.
        timeout: seconds for the whole run, also the process group's timeout;
            a rank still running 5 s after it is killed and reported with
            ``hung=True`` (one that ends within those 5 s reports as usual).

    Returns:
        The :class:`RankResult` of each rank, in rank order.
    """
    ctx = mp.get_context("spawn")
    results = ctx.Queue()
    port = _free_port()
    procs = [
        ctx.Process(
            target=_rank_main, args=(target, rank, world_size, port, tuple(args), timeout, results)
        )
        for rank in range(world_size)
    ]
    for proc in procs:
        proc.start()
    outcomes: dict[int, tuple[str, Any]] = {}
    deadline = time.monotonic() + timeout
    while len(outcomes) < world_size and time.monotonic() < deadline:
        try:
            rank, payload = results.get(timeout=0.2)
            outcomes[rank] = pickle.loads(payload)
        except queue.Empty:
            if all(not proc.is_alive() for proc in procs) and results.empty():
                break  # every rank ended; those without a result died
    hung = set()
    for rank, proc in enumerate(procs):
        proc.join(timeout=max(0.0, deadline - time.monotonic()) + 5)
        if proc.is_alive():
            hung.add(rank)
            proc.kill()
            proc.join()
    # a rank that ended in the grace after the deadline sent its result after the loop above
    with suppress(queue.Empty):
        while len(outcomes) < world_size:
            rank, payload = results.get(timeout=0.5)
            outcomes.setdefault(rank, pickle.loads(payload))
    return [
        RankResult(
            rank=rank,
            value=outcomes[rank][1] if outcomes.get(rank, ("",))[0] == "value" else None,
            error=outcomes[rank][1] if outcomes.get(rank, ("",))[0] == "error" else None,
            exitcode=proc.exitcode,
            hung=rank in hung,
        )
        for rank, proc in enumerate(procs)
    ]


def step_outcomes(step: Callable[[Any], Any], inputs: Iterable[Any]) -> list[tuple[str, Any]]:
    """``("ok", step(x))`` for each of ``inputs``, up to the first that raises an ``Exception``.

    That one is ``(type name, message)`` and the last: a rank returns what it
    did step by step, a failure included, instead of raising it.
    """
    outcomes: list[tuple[str, Any]] = []
    for item in inputs:
        try:
            outcomes.append(("ok", step(item)))
        except Exception as exc:
            outcomes.append((type(exc).__name__, str(exc)))
            break
    return outcomes


def outcomes_by_step(results: Sequence[RankResult]) -> dict[tuple[int, int], tuple[str, Any]]:
    """``{(rank, step): outcome}`` from ranks that returned :func:`step_outcomes`.

    Raises ``AssertionError`` (naming the results) if a rank did not return normally.
    """
    assert all(r.ok for r in results), results
    return {(r.rank, step): outcome for r in results for step, outcome in enumerate(r.value)}


@contextmanager
def count_collectives() -> Iterator[list[int]]:
    """Record the ``numel()`` of every ``torch.distributed.all_reduce`` made in the block.

    Yields the list, filled as the calls happen (in order, one entry per
    call). It replaces the public ``torch.distributed.all_reduce`` for the
    block and restores it on exit, so code that calls it through the module
    (``dist.all_reduce(...)``, as the core does) is counted; a name bound
    earlier with ``from torch.distributed import all_reduce`` is not.
    """
    import torch.distributed as dist

    sizes: list[int] = []
    original = dist.all_reduce

    def counting_all_reduce(tensor: Any, *args: Any, **kwargs: Any) -> Any:
        sizes.append(tensor.numel())
        return original(tensor, *args, **kwargs)

    dist.all_reduce = counting_all_reduce
    try:
        yield sizes
    finally:
        dist.all_reduce = original
