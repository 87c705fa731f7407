"""Losses and aggregation under FSDP2 (torch.distributed.fsdp.fully_shard), 2 gloo ranks.

Each rank takes half of the batch; FSDP averages the gradients over ranks and
the aggregator averages the log values, so both must equal one process on
the whole batch (every loss here is a mean over samples).
"""

import pytest
import torch
from _rank_bodies import fsdp_disc_step, single_process_disc_step

from ganlosscore.testing import run_ranks

fsdp = pytest.importorskip("torch.distributed.fsdp")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not hasattr(fsdp, "fully_shard"), reason="FSDP2 needs torch >= 2.6"),
]


def _assert_like_one_process(results, with_r1):
    expected = single_process_disc_step(with_r1)
    for result in results:
        assert result.ok, result
        for got, want in zip(result.value["grads"], expected["grads"]):
            torch.testing.assert_close(got, want, rtol=1e-5, atol=1e-6)
        assert result.value["log_vars"] == pytest.approx(expected["log_vars"], rel=1e-5)


@pytest.mark.parametrize("shard_layers", [False, True], ids=["root", "per-layer"])
def test_adversarial_losses_under_fully_shard_equal_one_process(shard_layers):
    results = run_ranks(fsdp_disc_step, 2, args=(shard_layers, False))
    _assert_like_one_process(results, with_r1=False)


def test_r1_with_the_discriminator_sharded_as_one_unit_equals_one_process():
    results = run_ranks(fsdp_disc_step, 2, args=(False, True))
    _assert_like_one_process(results, with_r1=True)


def test_r1_with_every_layer_sharded_equals_one_process():
    # Before, the input gradient's backward freed the last layer's gathered parameters:
    # backward() failed with "setStorage ... size 0" (or that layer got no gradient).
    results = run_ranks(fsdp_disc_step, 2, args=(True, True))
    _assert_like_one_process(results, with_r1=True)
