"""Log values under torch.distributed: two gloo ranks on the CPU.

Every scenario of ``_dist_worker`` runs in one process group (spawning ranks
costs seconds); each test reads its scenario's outcome on both ranks. A
mismatch is a typed error on every rank, after the same collectives, never a
hang, a signal or an average of different steps.
"""

import pytest
from _dist_worker import every_scenario

from ganlosscore.testing import run_ranks

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def outcomes():
    results = run_ranks(every_scenario, 2, timeout=60)
    for result in results:
        assert result.ok, result
    return [result.value for result in results]


def both(outcomes, scenario):
    return [per_rank[scenario] for per_rank in outcomes]


def test_log_vars_are_averaged_over_ranks_with_a_header_and_one_collective(outcomes):
    for status, log_vars, collectives in both(outcomes, "same"):
        assert status == "ok", log_vars
        assert collectives == 2  # the fixed-size header, then 13 values (12 terms, the total)
        assert log_vars["loss_term_0"] == 2.5  # (1 + 4) / 2
        assert log_vars["loss"] == 30.0  # 12 terms of 2.5
        assert len(log_vars) == 13


@pytest.mark.parametrize(
    ("scenario", "message"),
    [
        ("keys", "logged different sets of values"),
        ("collision", "logged different sets of values"),  # equal CRC-32, different Adler-32
        ("count", r"logged different sets of values in this step \(13 to 14 values\)"),
        ("buffer_size", r"different max_log_vars \(from 32 to 64; this rank: (32|64)\)"),
        ("step", r"read the log values of different steps \(from 1 to 2; this rank: [12]\)"),
        ("skipped_aggregation", r"different steps \(from 1 to 2; this rank: [12]\)"),
    ],
)
def test_ranks_that_disagree_get_a_typed_error_on_every_rank_from_the_header(
    outcomes, scenario, message
):
    import re

    for status, text, collectives in both(outcomes, scenario):
        assert status == "DistributedMismatchError", text
        assert re.search(message, text), text
        assert collectives == 1  # the header only: the values were never sent


def test_more_values_than_max_log_vars_is_an_error_on_every_rank(outcomes):
    for status, text, collectives in both(outcomes, "overflow"):
        assert status == "DistributedMismatchError" and "more than max_log_vars=8" in text
        assert collectives == 1


def test_a_step_where_every_loss_is_skipped_reduces_and_backpropagates(outcomes):
    for status, log_vars, collectives in both(outcomes, "every_loss_skipped"):
        assert status == "ok", log_vars
        assert log_vars == {"loss": 0.0}
        assert collectives == 2


def test_steps_whose_log_values_are_not_read_make_no_collective(outcomes):
    for status, log_vars, collectives in both(outcomes, "lazy_reads"):
        assert status == "ok", log_vars
        # three aggregations, one read: the non-finite check, the header, the values
        assert collectives == 3
        assert log_vars["loss"] == 30.0


def test_a_nan_on_one_rank_under_defer_stops_every_rank(outcomes):
    (status0, text0, _), (status1, text1, _) = both(outcomes, "nan_on_one_rank")
    assert status0 == status1 == "NonFiniteLossError"
    assert "loss_term_0 in 1 step" in text0
    assert "another rank logged non-finite values" in text1


def test_sum_over_ranks_with_buffers_of_different_sizes_is_a_typed_error(outcomes):
    for status, text, collectives in both(outcomes, "sum_sizes"):
        # before, gloo aborted the process: "Received data size doesn't match"
        assert status == "DistributedMismatchError", text
        assert text.startswith("loss_test: ") and "values from 2 to 3" in text
        assert collectives == 1
