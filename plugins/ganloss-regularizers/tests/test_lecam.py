from __future__ import annotations

import _lecam_ddp
import pytest
import torch
import torch.distributed as dist
from ganloss_regularizers import LeCamRegularizer, lecam_regularization

from ganlosscore.testing import check_refused, outcomes_by_step, run_ranks

DATA_INFO = {"disc_pred_real": "disc_pred_real", "disc_pred_fake": "disc_pred_fake"}


def outputs(real, fake):
    return {"disc_pred_real": torch.tensor(real), "disc_pred_fake": torch.tensor(fake)}


def test_ema_buffers_are_in_state_dict():
    state = LeCamRegularizer(data_info=DATA_INFO).state_dict()
    assert set(state) == {"ema_real", "ema_fake", "num_updates"}


def test_two_steps_by_hand():
    lecam = LeCamRegularizer(data_info=DATA_INFO)  # decay 0.99, ema_start 1
    # step 1 (decay 0 while num_updates < ema_start): ema_real = mean(1, 3) = 2,
    # ema_fake = mean(-1, -3) = -2.
    #   relu(D(x) + 2)   = (3, 5) -> mean(9, 25) = 17
    #   relu(2 - D(G(z))) = (3, 5) -> 17;  total 34
    assert lecam(outputs([1.0, 3.0], [-1.0, -3.0])).item() == pytest.approx(34.0)
    assert (lecam.ema_real.item(), lecam.ema_fake.item()) == (2.0, -2.0)
    # step 2, batch means 0: ema_real = 0.99 * 2 = 1.98, ema_fake = -1.98.
    #   relu(0 + 1.98)^2 + relu(1.98 - 0)^2 = 2 * 3.9204 = 7.8408
    assert lecam(outputs([0.0], [0.0])).item() == pytest.approx(7.8408)
    assert lecam.ema_real.item() == pytest.approx(1.98)
    assert lecam.ema_fake.item() == pytest.approx(-1.98)
    assert lecam.num_updates.item() == 2


def test_state_dict_round_trip_continues_the_average():
    lecam = LeCamRegularizer(data_info=DATA_INFO)
    lecam(outputs([1.0, 3.0], [-1.0, -3.0]))
    restored = LeCamRegularizer(data_info=DATA_INFO)
    restored.load_state_dict(lecam.state_dict())
    assert restored(outputs([0.0], [0.0])).item() == pytest.approx(7.8408)


def test_ema_start_zero_starts_from_zero():
    # ema_start 0: the first update already decays from 0: 0.99 * 0 + 0.01 * 2 = 0.02.
    lecam = LeCamRegularizer(ema_start=0, data_info=DATA_INFO)
    lecam(outputs([2.0], [-2.0]))
    assert lecam.ema_real.item() == pytest.approx(0.02)
    assert lecam.ema_fake.item() == pytest.approx(-0.02)


def test_relu_variant_versus_plain_squares():
    # anchors ema_real = 1, ema_fake = 1; D(x) = -1 lies below ema_fake, D(G(z)) = 3 above
    # ema_real: relu(-1 - 1) = 0 and relu(1 - 3) = 0, so 0; plain squares 4 + 4 = 8.
    real, fake = torch.tensor([-1.0]), torch.tensor([3.0])
    assert lecam_regularization(real, fake, 1.0, 1.0).item() == 0.0
    assert lecam_regularization(real, fake, 1.0, 1.0, relu=False).item() == 8.0


def test_eval_mode_keeps_the_averages():
    lecam = LeCamRegularizer(data_info=DATA_INFO)
    lecam(outputs([1.0], [-1.0]))
    lecam.eval()
    # anchors stay (1, -1): relu(5 + 1)^2 + relu(1 - (-5))^2 = 72
    assert lecam(outputs([5.0], [-5.0])).item() == 72.0
    assert (lecam.ema_real.item(), lecam.num_updates.item()) == (1.0, 1)


def test_gradients_flow_to_predictions_not_anchors():
    real = torch.tensor([3.0], requires_grad=True)
    fake = torch.tensor([-3.0], requires_grad=True)
    lecam = LeCamRegularizer()
    # anchors become (3, -3): relu(3 + 3)^2 + relu(3 + 3)^2; d/dreal = 2 * 6 = 12, d/dfake = -12
    lecam(real, fake).backward()
    assert (real.grad.item(), fake.grad.item()) == (12.0, -12.0)


def test_with_interval_the_averages_move_only_on_the_steps_the_loss_runs():
    lazy = LeCamRegularizer(interval=2, data_info=DATA_INFO)
    every = LeCamRegularizer(data_info=DATA_INFO)
    steps = [([1.0, 3.0], [-1.0, -3.0]), ([10.0], [-10.0]), ([0.0], [0.0]), ([10.0], [-10.0])]
    values = []
    for iteration, (real, fake) in enumerate(steps):
        batch = {**outputs(real, fake), "iteration": iteration}
        values.append(lazy(batch))
        every(batch)
    # iterations 1 and 3 are skipped (None) and their batches never reach the averages:
    # iteration 0 sets them to (2, -2) (as in test_two_steps_by_hand), iteration 2 moves them
    # to 0.99 * (2, -2) + 0.01 * (0, 0) = (1.98, -1.98), with loss 2 * 1.98^2 = 7.8408.
    assert values[1] is None and values[3] is None
    assert values[0].item() == pytest.approx(34.0)
    assert values[2].item() == pytest.approx(7.8408)
    assert lazy.num_updates.item() == 2
    assert lazy.ema_real.item() == pytest.approx(1.98)
    assert lazy.ema_fake.item() == pytest.approx(-1.98)
    # the same batches every step: 2 -> 0.99 * 2 + 0.1 = 2.08 -> 0.99 * 2.08 = 2.0592
    #   -> 0.99 * 2.0592 + 0.1 = 2.138608
    assert every.num_updates.item() == 4
    assert every.ema_real.item() == pytest.approx(2.138608)


def test_sync_averages_without_a_process_group_is_the_plain_update(monkeypatch):
    monkeypatch.setattr(dist, "all_reduce", lambda *a, **k: pytest.fail("no collective"))
    lecam = LeCamRegularizer(sync_averages=True, data_info=DATA_INFO)
    assert lecam(outputs([1.0, 3.0], [-1.0, -3.0])).item() == pytest.approx(34.0)
    assert (lecam.ema_real.item(), lecam.ema_fake.item()) == (2.0, -2.0)


@pytest.mark.slow  # spawning two processes takes a few seconds
@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")
def test_sync_averages_gives_every_rank_the_averages_of_all_ranks_predictions():
    results = run_ranks(_lecam_ddp.run, 2)
    assert all(r.ok for r in results), results
    # By hand, from _lecam_ddp.BATCHES:
    # step 1 (decay 0): real (1 + 3 + 5 + 7 + 9 + 11) / 6 = 6, fake (-2 - 4 - 6 - 8) / 4 = -5
    #   (per rank: (2, -2) and (8, -6); the mean of those would be (5, -4), not (6, -5)).
    # step 2: real (0 + 2 + 2 + 2) / 4 = 1.5, fake (0 + 1) / 2 = 0.5;
    #   ema_real = 0.99 * 6 + 0.01 * 1.5 = 5.955, ema_fake = 0.99 * -5 + 0.01 * 0.5 = -4.945.
    synced = [(6.0, -5.0), (5.955, -4.945)]
    local = {0: [(2.0, -2.0), (1.98, -1.98)], 1: [(8.0, -6.0), (7.94, -5.93)]}
    for rank, (report, sizes) in enumerate(r.value for r in results):
        # one all-reduce per update (two sums and two counts), after a size header of 2
        assert sizes == [2, 4, 2, 4]
        assert report["synced"] == [pytest.approx(pair) for pair in synced]
        assert report["local"] == [pytest.approx(pair) for pair in local[rank]]
    # rank 0's step-2 loss, batch (0, 0): relu(0 + 4.945)^2 + relu(5.955 - 0)^2
    assert results[0].value[0]["losses"][1] == pytest.approx(4.945**2 + 5.955**2)


@pytest.mark.slow  # spawning two processes takes a few seconds
@pytest.mark.skipif(not dist.is_available(), reason="torch.distributed unavailable")
def test_a_rank_that_skips_the_lazy_loss_still_meets_the_others_collective():
    # A skipped call (interval) takes part in the sync with nothing, so the ranks'
    # collectives stay paired: a per-rank iteration counter is the aggregator's clear
    # DistributedMismatchError on every rank, not a crash or a hang in mismatched collectives.
    by_step = outcomes_by_step(run_ranks(_lecam_ddp.run_lazy, 2))
    for rank in (0, 1):
        # step 0, iteration 1 on both: both skip it, the averages are untouched
        status, detail = by_step[rank, 0]
        assert status == "ok", detail
        assert "loss_lecam" not in detail[0] and detail[1] == (0.0, 0.0)
        # step 1, iteration 2 on both: the first update, over both ranks' first batches
        # (as in the test above): real (1 + 3 + 5 + 7 + 9 + 11) / 6 = 6, fake -20 / 4 = -5
        status, detail = by_step[rank, 1]
        assert status == "ok", detail
        assert detail[1] == (6.0, -5.0)
        # step 2, iteration 0 on rank 0 (runs it), 1 on rank 1 (skips it): the
        # aggregator's key-set check says what is wrong, on both ranks
        status, message = by_step[rank, 2]
        assert status == "DistributedMismatchError", message
        assert "logged different sets of values" in message


def test_every_synced_update_and_skip_sends_the_same_float64_buffer(ganloss_fake_world):
    # Ranks must send the same dtype and size: a float16 rank, a float64 rank and a rank
    # that skipped the loss (interval) all send two sums and two counts in float64.
    lecam = LeCamRegularizer(sync_averages=True, interval=2, data_info=DATA_INFO)
    for dtype, iteration in ((torch.float16, 0), (torch.float64, 2), (torch.float32, 1)):
        batch = {k: v.to(dtype) for k, v in outputs([1.0, 3.0], [-1.0, -3.0]).items()}
        value = lecam({**batch, "iteration": iteration})
        assert (value is None) == (iteration == 1)
    assert (
        ganloss_fake_world == [(torch.int64, "cpu", 2), (torch.float64, "cpu", 4)] * 3
    )  # size header
    # a stand-in world of one: the averages are this process's means, (2, -2)
    assert (lecam.ema_real.item(), lecam.ema_fake.item()) == (2.0, -2.0)
    # in eval mode the averages are not updated, so neither a call nor a skip syncs
    lecam.eval()
    lecam({**outputs([1.0], [1.0]), "iteration": 0})
    lecam({**outputs([1.0], [1.0]), "iteration": 1})
    assert len(ganloss_fake_world) == 6


def test_bad_hyperparameters():
    check_refused(LeCamRegularizer, decay=1.0, ema_start=-1, relu=1, sync_averages="yes")
