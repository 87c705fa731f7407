"""ganlosscore.testing.run_ranks: the one helper behind every multi-process test."""

import time

import pytest
from _rank_bodies import (
    counted,
    exits_on_rank_1,
    raises_on_rank_1,
    returns_at,
    summed,
    waits_alone_on_rank_0,
)

from ganlosscore import ConfigError
from ganlosscore.testing import run_ranks

pytestmark = pytest.mark.slow


def test_each_rank_returns_its_value_after_a_collective():
    results = run_ranks(summed, 2, args=(10.0,))
    assert [r.rank for r in results] == [0, 1]
    assert [r.value for r in results] == [10.0, 10.0]  # 0 * 10 + 1 * 10 on both ranks
    assert all(r.ok for r in results)


def test_an_exception_travels_with_its_type_and_place():
    ok, failed = run_ranks(raises_on_rank_1, 2)
    assert ok.ok and ok.value == 0
    assert isinstance(failed.error, ConfigError)
    assert failed.error.where == "disc[0].gamma"
    assert not failed.ok


def test_a_rank_that_dies_reports_its_exit_code():
    ok, died = run_ranks(exits_on_rank_1, 2)
    assert ok.value == 0
    assert died.exitcode == 3 and died.value is None and died.error is None


def test_a_rank_left_alone_in_a_collective_fails_within_the_timeout():
    waiting, done = run_ranks(waits_alone_on_rank_0, 2, timeout=8)
    assert done.ok
    # gloo's own timeout ends the collective with an error, or the helper kills the rank
    assert waiting.hung or waiting.error is not None


def test_a_rank_that_ends_in_the_grace_after_the_timeout_reports_its_value():
    # the timeout (4 s) passes while both ranks sleep until 5 s after the start: they return
    # inside the 5 s the helper still waits for a process after its deadline
    results = run_ranks(returns_at, 2, args=(time.time() + 5.0,), timeout=4)
    assert [(r.value, r.hung, r.exitcode) for r in results] == [(0, False, 0), (1, False, 0)]


def test_count_collectives_records_each_all_reduce_in_the_block_and_restores_it():
    for result in run_ranks(counted, 2):
        assert result.ok, result.error
        assert result.value == ([3, 2, 4], True)
