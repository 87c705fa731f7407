"""MMGeneration's GANLoss: values per type, weighting, the MMGeneration call forms."""

from __future__ import annotations

import pytest
import torch
from _adversarial_values import SP1, SP_1, close
from ganloss_adversarial import GANLoss

from ganlosscore import ConfigError, build_loss

ONES = torch.ones(2, 1, 3, 3)


@pytest.mark.parametrize(
    ("gan_type", "target_is_real", "is_disc", "expected"),
    [
        # vanilla = BCEWithLogits(x=1, target): target 1 -> softplus(-1); target 0 -> softplus(1).
        # Generator terms are weighted by loss_weight=2; discriminator terms never are.
        ("vanilla", True, False, 2 * SP_1),  # 0.6265234
        ("vanilla", False, False, 2 * SP1),
        ("vanilla", True, True, SP_1),
        ("vanilla", False, True, SP1),
        # lsgan = mean((x - target)^2) = (1 - 1)^2 = 0 or (1 - 0)^2 = 1.
        ("lsgan", True, False, 0.0),
        ("lsgan", False, False, 2 * 1.0),
        ("lsgan", False, True, 1.0),
        # wgan: -mean(x) = -1 for real, mean(x) = 1 for fake.
        ("wgan", True, False, 2 * -1.0),
        ("wgan", True, True, -1.0),
        ("wgan", False, True, 1.0),
        # wgan-logistic-ns: softplus(-1) real, softplus(1) fake.
        ("wgan-logistic-ns", True, False, 2 * SP_1),
        ("wgan-logistic-ns", False, True, SP1),
        # hinge disc: relu(1 - 1) = 0 for real, relu(1 + 1) = 2 for fake, NOT weighted.
        ("hinge", True, True, 0.0),
        ("hinge", False, True, 2.0),
        # hinge gen: -mean(x) = -1 whatever target_is_real says, times 2.
        ("hinge", True, False, 2 * -1.0),
        ("hinge", False, False, 2 * -1.0),
    ],
)
def test_values_on_ones_with_loss_weight_2(gan_type, target_is_real, is_disc, expected):
    loss = GANLoss(gan_type, loss_weight=2.0)
    assert close(loss(ONES, target_is_real=target_is_real, is_disc=is_disc), expected)


def test_the_issue_examples():
    # vanilla generator, real target: 2 * softplus(-1) = 2 * 0.3132617 = 0.6265234.
    gen = GANLoss("vanilla", loss_weight=2.0)(torch.ones(4), target_is_real=True)
    assert abs(float(gen) - 0.6265234) < 1e-6
    # hinge discriminator, fake target: relu(1 + 1) = 2, loss_weight not applied.
    disc = GANLoss("hinge", loss_weight=2.0)(torch.ones(4), target_is_real=False, is_disc=True)
    assert float(disc) == 2.0


def test_hinge_disc_real_uses_one_minus_x():
    # relu(1 - 0.5) = 0.5 and relu(1 - 3) = 0: mean 0.25.
    value = GANLoss("hinge")(torch.tensor([0.5, 3.0]), target_is_real=True, is_disc=True)
    assert close(value, 0.25)


def test_label_values_are_the_targets():
    # vanilla, real target 0.9 on x = 1: 0.9 softplus(-1) + 0.1 softplus(1)
    # = softplus(-1) + 0.1 (softplus(1) - softplus(-1)) = softplus(-1) + 0.1.
    vanilla = GANLoss("vanilla", real_label_val=0.9)
    assert close(vanilla(ONES, target_is_real=True), SP_1 + 0.1)
    # lsgan, fake target -1 on x = 1: (1 - (-1))^2 = 4; real target 0.5: (1 - 0.5)^2 = 0.25.
    lsgan = GANLoss("lsgan", real_label_val=0.5, fake_label_val=-1)
    assert close(lsgan(ONES, target_is_real=False, is_disc=True), 4.0)
    assert close(lsgan(ONES, target_is_real=True), 0.25)


def test_matches_torch_reference_losses_on_random_input():
    x = torch.randn(5, 3, generator=torch.Generator().manual_seed(1))
    bce = torch.nn.BCEWithLogitsLoss()(x, torch.zeros_like(x))
    assert torch.allclose(GANLoss("vanilla")(x, False, True), bce)
    mse = torch.nn.MSELoss()(x, torch.ones_like(x))
    assert torch.allclose(GANLoss("lsgan", loss_weight=3.0)(x, True), 3.0 * mse)


def test_called_exactly_as_mmgeneration_calls_it():
    # BaseGAN._get_disc_loss: gan_loss(outputs_dict['disc_pred_fake'], target_is_real=False,
    # is_disc=True); the generator step: gan_loss(disc_pred_fake_g, target_is_real=True,
    # is_disc=False). MMGeneration constructs it positionally or from a config dict.
    gan_loss = build_loss(
        dict(
            type="GANLoss",
            gan_type="vanilla",
            real_label_val=1.0,
            fake_label_val=0.0,
            loss_weight=1.0,
        )
    )
    assert isinstance(gan_loss, GANLoss)
    pred = torch.ones(3, 1)
    # BCEWithLogits(x=1, target 0) = softplus(1); BCEWithLogits(x=1, target 1) = softplus(-1).
    assert close(gan_loss(pred, target_is_real=False, is_disc=True), SP1)
    assert close(gan_loss(pred, target_is_real=True, is_disc=False), SP_1)
    positional = GANLoss("wgan", 1.0, 0.0, 0.5)
    assert close(positional(torch.ones(2), True, False), -0.5)  # -mean(x) * 0.5
    assert close(positional(torch.ones(2), True), -0.5)  # is_disc defaults to False


def test_default_loss_name_and_override():
    assert GANLoss("hinge").loss_name() == "loss_gan"
    assert GANLoss("hinge", loss_name="loss_gan_d").loss_name() == "loss_gan_d"


def test_data_info_reads_input_and_flags_from_outputs():
    loss = GANLoss(
        "vanilla",
        loss_weight=2.0,
        data_info={"input": "disc_pred_fake", "target_is_real": "real", "is_disc": "disc"},
    )
    outputs = {"disc_pred_fake": torch.ones(2), "real": True, "disc": False}
    assert close(loss(outputs), 2 * SP_1)
    assert close(loss(outputs_dict={**outputs, "disc": True}), SP_1)


def test_flags_may_be_one_element_tensors():
    loss = GANLoss("hinge", loss_weight=2.0)
    assert close(loss(ONES, torch.tensor(False), torch.tensor(True)), 2.0)


def test_gradient_reaches_the_input():
    x = torch.tensor([0.0, 2.0], requires_grad=True)
    GANLoss("wgan", loss_weight=3.0)(x, target_is_real=True).backward()
    # d/dx of -3 mean(x) over 2 elements = -1.5 each.
    assert torch.equal(x.grad, torch.tensor([-1.5, -1.5]))


def test_unknown_gan_type_lists_the_valid_ones():
    with pytest.raises(ConfigError) as info:
        GANLoss("Hinge")
    message = str(info.value)
    assert "GANLoss.gan_type" in message
    for name in ("vanilla", "lsgan", "wgan", "hinge", "wgan-logistic-ns"):
        assert repr(name) in message
    assert "Did you mean 'hinge'?" in message


def test_labels_with_a_type_that_ignores_them_are_refused():
    with pytest.raises(ConfigError, match="does not use real_label_val"):
        GANLoss("hinge", real_label_val=0.9)
    with pytest.raises(ConfigError, match="does not use real_label_val"):
        GANLoss("wgan", fake_label_val=0.1)
    GANLoss("hinge", real_label_val=1.0, fake_label_val=0.0)  # MMGeneration's defaults pass


@pytest.mark.parametrize("bad", [True, "0.9", float("nan")])
def test_labels_must_be_finite_numbers(bad):
    with pytest.raises(ConfigError, match="real_label_val"):
        GANLoss("vanilla", real_label_val=bad)


@pytest.mark.parametrize("flag", ["False", 2, torch.tensor([True, False]), None])
def test_flags_that_are_not_bools_are_refused(flag):
    # "False" is truthy: read as a bool it would silently give the real-target loss.
    with pytest.raises(ConfigError, match="target_is_real"):
        GANLoss("vanilla")(ONES, target_is_real=flag)
    with pytest.raises(ConfigError, match="is_disc"):
        GANLoss("vanilla")(ONES, target_is_real=True, is_disc=flag)
